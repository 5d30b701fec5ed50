import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Tape spilling: chunks on disk, read back in reverse")
struct SpillingTests {
    /// f(x, y) recorded with chunks of `capacity` statements, spilled or not.
    func gradient(capacity: Int, spilling: Bool) throws -> ([Double], SpillStatistics?) {
        let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity))
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        if spilling { tape.enableSpilling(to: try SpillStore(directory: directory), statementsPerChunk: capacity) }
        let (a, b, f) = tape.record { () -> (Tracked, Tracked, Tracked) in
            let a = tape.registerInput(0.7)
            let b = tape.registerInput(1.3)
            var f = Tracked.sin(a * b) + a / b
            for k in 0..<200 { f = f * 0.99 + Tracked.cos(a * Double(k)) * b }
            return (a, b, f)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(f, 1)])
        #expect(tape.spillError == nil)
        return ([adjoints[a], adjoints[b]], tape.spillStatistics)
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func spilledSweepsGiveTheSameGradientBitForBit(capacity: Int) throws {
        let (inMemory, _) = try gradient(capacity: capacity, spilling: false)
        let (spilled, statistics) = try gradient(capacity: capacity, spilling: true)
        #expect(spilled.map(\.bitPattern) == inMemory.map(\.bitPattern))
        #expect((statistics?.segmentsWritten ?? 0) > 0)
        #expect((statistics?.segmentsRead ?? 0) == (statistics?.segmentsWritten ?? -1))
    }

    /// A tape of `statements` statements with 5 arguments each, whose partials repeat with a
    /// period (as a stencil's constant weights do) or vary in their two lowest bytes only.
    func wideTape(statements: Int, repeating: Bool, spillingTo store: SpillStore?) -> (Tape, [Tracked], Tracked) {
        let tape = Tape()
        if let store { tape.enableSpilling(to: store, statementsPerChunk: 4096) }
        var generator = SeededGenerator(seed: 11)
        let (inputs, output) = tape.record { () -> ([Tracked], Tracked) in
            let inputs = (0..<5).map { tape.registerInput(Double($0) + 0.5) }
            var sum = Tracked(0)
            for k in 0..<statements {
                let weights = (0..<5).map { j in repeating ? [0.25, -1.0, 0.25, 0.125, 0.375][j] : 1 + Double(UInt16.random(in: 0...UInt16.max, using: &generator)) * 0x1p-52 }
                let term = Tracked.applying(value: Double(k), partials: weights, to: inputs)
                sum = sum + term * 1e-3
            }
            return (inputs, sum)
        }
        return (tape, inputs, output)
    }

    @Test(arguments: [true, false])
    func partialsAreShuffledOnlyWhereThatCompressesBetter(repeating: Bool) throws {
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        let (spilledTape, spilledInputs, spilledOutput) = wideTape(
            statements: 20_000, repeating: repeating, spillingTo: try SpillStore(directory: directory))
        let (tape, inputs, output) = wideTape(statements: 20_000, repeating: repeating, spillingTo: nil)
        let spilledAdjoints = AdjointVector()
        spilledTape.reverse(spilledAdjoints, seeding: [(spilledOutput, 1)])
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(output, 1)])
        #expect(spilledTape.spillError == nil)
        #expect(spilledInputs.map { spilledAdjoints[$0].bitPattern } == inputs.map { adjoints[$0].bitPattern })
        // Repeated weights compress better as they are (LZ4 matches whole statements); varying
        // ones better shuffled (their high bytes repeat, their low bytes do not).
        let chosen = try #require((spilledTape.spillSink as? TapeSpillSink)?.partialsTransform)
        if case .none = chosen { #expect(repeating) } else { #expect(!repeating) }
    }

    @Test func aCorruptedSpillFileIsAnErrorNotAGradient() throws {
        let tape = Tape()
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        tape.enableSpilling(to: try SpillStore(directory: directory), statementsPerChunk: 16)
        let (x, y) = tape.record { () -> (Tracked, Tracked) in
            let x = tape.registerInput(0.5)
            var y = x
            for _ in 0..<100 { y = Tracked.sin(y) * x }
            return (x, y)
        }
        // Flip a byte in the payload of every spill file.
        for name in directory.fileNames {
            let path = directory.filePath(name)
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            data[data.count - 9] ^= 0x5A
            try data.write(to: URL(fileURLWithPath: path))
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        #expect(tape.spillError is SpillError, "\(String(describing: tape.spillError))")
        // A caller who reads the adjoints without looking at the error gets NaN, not a sum
        // of the chunks that could be read: dense and paged alike.
        #expect(adjoints[x].isNaN)
        let paged = PagedAdjointVector()
        paged.prepare(for: tape, keepingBelow: Int(x.identifier) + 1)
        paged.seed(y.identifier, 1)
        tape.reverse(paged)
        #expect(paged[x.identifier].isNaN)
    }

    @Test(arguments: [32, 48])
    func heatWithSpillingStepTapesIsBitwiseTheSameAsStoreAll(size: Int) throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-spill-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let problem = SpillHeat(m: size)
        let x0 = (0..<(size * size)).map { Double.sin(Double($0)) }
        let reference = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: [0.1], steps: 6, options: TimeSteppingOptions(strategy: .storeAll))
        // Find the minimum budget in memory, then give a little less: the step tapes must spill.
        var minimum = 0
        do {
            _ = try TimeStepping.gradient(
                of: problem, initialState: x0, parameters: [0.1], steps: 6,
                options: TimeSteppingOptions(memoryBudget: MemoryBudget(bytes: 1)))
        } catch let TimeSteppingError.budgetTooSmall(_, needed, _) {
            minimum = needed
        }
        var spilled: GradientResult?
        var budget = minimum - 1
        while spilled == nil && budget < 4 * minimum {
            do {
                spilled = try TimeStepping.gradient(
                    of: problem, initialState: x0, parameters: [0.1], steps: 6,
                    options: TimeSteppingOptions(memoryBudget: MemoryBudget(bytes: budget), spillDirectory: parent))
            } catch TimeSteppingError.budgetTooSmall {
                budget += minimum / 8
            }
        }
        let result = try #require(spilled)
        #expect(budget < minimum, "a budget below the in-memory minimum ran")
        #expect(result.report.strategy == .revolveSpillingStepTapes)
        #expect(result.report.spilledBytes > 0 && result.report.compressedBytes > 0)
        #expect(result.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern))
        #expect(result.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }
}

/// A 5-point diffusion step on an m×m periodic grid, through the stencil API.
struct SpillHeat: TimeSteppingProblem {
    let m: Int
    var stateCount: Int { m * m }
    var parameterCount: Int { 1 }

    struct Kernel: StencilKernel {
        var neighbours: [GridOffset] {
            [GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: 1),
             GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0)]
        }
        func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
            u[4] + p[0] * (((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4])
        }
    }

    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        S.applyStencil(Kernel(), on: .periodic(rows: m, columns: m), to: s, parameters: LocalValues(count: 1) { _ in p[0] }, into: &next)
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s.reduce(0) { $0 + $1 * $1 }
    }
}

@Suite("Store-all with its tape spilled to disk")
struct SpilledStoreAllTests {
    @Test(arguments: [8, 24])
    func gradientIsBitwiseTheSameAsInMemoryAndNothingIsLeft(size: Int) throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-spill-all-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let problem = SpillHeat(m: size)
        let x0 = (0..<(size * size)).map { Double.cos(0.1 * Double($0)) }
        let reference = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: [0.1], steps: 40, options: TimeSteppingOptions(strategy: .storeAll))
        // A budget of half what store-all keeps in memory: the tape must go to disk.
        let budget = MemoryBudget(bytes: max(reference.report.peakTapeBytes / 2, 400_000))
        let spilled = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: [0.1], steps: 40,
            options: TimeSteppingOptions(strategy: .spill, memoryBudget: budget, spillDirectory: parent))
        #expect(spilled.report.strategy == .storeAllSpilled)
        #expect(spilled.report.spilledBytes > 0)
        #expect(spilled.report.compressedBytes < spilled.report.spilledBytes)
        #expect(spilled.report.forwardSteps == 0)
        #expect(spilled.objective.bitPattern == reference.objective.bitPattern)
        #expect(spilled.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern))
        #expect(spilled.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }
}
