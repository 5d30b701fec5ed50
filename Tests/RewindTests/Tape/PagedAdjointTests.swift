import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Paged adjoints: the same sweep in the memory of the live adjoints")
struct PagedAdjointTests {
    /// A long chain of steps over `width` values, each value of a step reading three of the
    /// previous step's and a shared coefficient: identifiers reach back one step, as a time
    /// step's do, and the coefficient reaches back to the start.
    func record(on tape: Tape, width: Int, steps: Int, seed: UInt64) -> (inputs: [Tracked], outputs: [Tracked]) {
        var generator = SeededGenerator(seed: seed)
        return tape.record {
            let inputs = (0..<(width + 1)).map { _ in tape.registerInput(Double.random(in: 0.5...1.5, using: &generator)) }
            let coefficient = inputs[width]
            var state = Array(inputs[0..<width])
            for _ in 0..<steps {
                state = (0..<width).map { i in
                    let left = state[(i + width - 1) % width], right = state[(i + 1) % width]
                    return Tracked.sin(state[i]) * coefficient + 0.25 * (left - right) * right
                }
            }
            return (inputs, state)
        }
    }

    @Test(arguments: [(64, 400), (1000, 60), (5000, 3)])
    func pagedSweepsEqualDenseSweepsBitForBit(width: Int, steps: Int) throws {
        // Pages are released chunk by chunk, so chunks of bounded size (as a spilling tape's).
        let tape = Tape(configuration: .init(initialStatementCapacity: 1024, maximumStatementCapacity: 8192))
        let (inputs, outputs) = record(on: tape, width: width, steps: steps, seed: UInt64(width))
        let seeds = outputs.enumerated().map { ($1, 1.0 + Double($0 % 7)) }
        let dense = AdjointVector()
        tape.reverse(dense, seeding: seeds)
        let paged = PagedAdjointVector()
        paged.prepare(for: tape, keepingBelow: inputs.count + 1)
        for (value, seed) in seeds { paged.seed(value.identifier, seed) }
        tape.reverse(paged)
        #expect(inputs.map { paged[$0.identifier].bitPattern } == inputs.map { dense[$0].bitPattern })
        // Live pages stay a small part of the tape's: the kept inputs and the sweep's span.
        let allPages = tape.identifierCount / PagedAdjointVector.pageSize + 1
        if allPages > 8 { #expect(paged.peakLivePages <= allPages / 2, "\(paged.peakLivePages) of \(allPages) pages") }
        // Released behind the sweep: only the kept pages remain.
        #expect(paged.livePages <= (inputs.count + 1) / PagedAdjointVector.pageSize + 1)
    }

    @Test func preparingAgainFreesEveryPageTheKeptOnesToo() {
        let tape = Tape(configuration: .init(initialStatementCapacity: 1024, maximumStatementCapacity: 8192))
        let (inputs, outputs) = record(on: tape, width: 40_000, steps: 2, seed: 3)
        let paged = PagedAdjointVector()
        paged.prepare(for: tape, keepingBelow: inputs.count + 1)
        for value in outputs { paged.seed(value.identifier, 1) }
        tape.reverse(paged)
        #expect(paged.livePages > 0)   // the inputs' pages, kept for reading
        paged.prepare(for: tape, keepingBelow: inputs.count + 1)
        // `livePages` counts allocations and frees; `prepare` does not reset it, so a page it
        // forgot to free shows here.
        #expect(paged.livePages == 0, "\(paged.livePages) pages left from the last sweep")
    }

    @Test func aSpilledTapeSweptIntoPagesGivesTheDenseGradient() throws {
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        let spilled = Tape()
        spilled.enableSpilling(to: try SpillStore(directory: directory), statementsPerChunk: 4096)
        let (inputs, outputs) = record(on: spilled, width: 2000, steps: 20, seed: 5)
        let paged = PagedAdjointVector()
        paged.prepare(for: spilled, keepingBelow: inputs.count + 1)
        for value in outputs { paged.seed(value.identifier, 1) }
        spilled.reverse(paged)
        #expect(spilled.spillError == nil)
        let tape = Tape()
        let (denseInputs, denseOutputs) = record(on: tape, width: 2000, steps: 20, seed: 5)
        let dense = AdjointVector()
        tape.reverse(dense, seeding: denseOutputs.map { ($0, 1.0) })
        #expect(inputs.map { paged[$0.identifier].bitPattern } == denseInputs.map { dense[$0].bitPattern })
    }
}
