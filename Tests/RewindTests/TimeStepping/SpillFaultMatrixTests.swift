import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// The fault matrix (docs/RELIABILITY.md): every place a run writes or reads the disk × every
/// fault × the moment it strikes (first, middle, last operation of its kind), injected through
/// the `SpillIO` seam. The invariant of every cell: the gradient bitwise equal to store-all in
/// memory, or a `SpillError` naming the file or directory — never a crash, never a different
/// finite gradient — and nothing left in the spill directory.
@Suite("Fault matrix: every spill place × every fault × every moment")
struct SpillFaultMatrixTests {
    /// Where a run touches the disk, and a small run that does it.
    enum Place: String, CaseIterable, Sendable {
        /// The planner's sample times spilling a sample of the tape (`auto` with a spill directory).
        case sample = "planner's sample"
        /// Revolve over steps whose tapes do not fit: each step's tape spills.
        case stepTapes = "spilled step tapes"
        /// `.spill`: the whole store-all tape on disk.
        case storeAllTape = "spilled store-all tape"
        /// Two-level checkpointing: snapshots on disk.
        case diskSnapshots = "disk snapshots"
        /// A step whose dense adjoint vector does not fit either: spilled tape, paged adjoints.
        case pagedAdjoints = "paged adjoints"
    }

    /// One place's run: the problem behind a closure, its store-all reference and its options.
    struct Case {
        var reference: GradientResult
        var options: TimeSteppingOptions
        var run: (TimeSteppingOptions) throws -> GradientResult
        /// What the report's plan must say, so that the place is really the one exercised.
        var planMentions: String?
    }

    static func makeCase(_ place: Place, parent: String) throws -> Case {
        switch place {
        case .sample, .diskSnapshots:
            let problem = DampedRotation()
            let x0 = [1.0, 0.5], p = [0.01, 0.05]
            // The sample spills chunks of budget/800 statements: 3000 steps fill a few at 4 MiB.
            let steps = place == .sample ? 3000 : 57
            let run = { (options: TimeSteppingOptions) in
                try TimeStepping.gradient(of: problem, initialState: x0, parameters: p, steps: steps, options: options)
            }
            let reference = try run(TimeSteppingOptions(strategy: .storeAll))
            let strategy: CheckpointStrategy =
                place == .sample ? .auto : .twoLevel(memorySnapshots: 1, diskSnapshots: 3)
            return Case(
                reference: reference,
                options: TimeSteppingOptions(strategy: strategy, memoryBudget: .mebibytes(4), spillDirectory: parent),
                run: run, planMentions: place == .sample ? nil : "disk")
        case .stepTapes, .storeAllTape:
            let size = 24
            let problem = SpillHeat(m: size)
            let x0 = (0..<(size * size)).map { Double.sin(Double($0)) }
            let steps = place == .stepTapes ? 6 : 12
            let run = { (options: TimeSteppingOptions) in
                try TimeStepping.gradient(of: problem, initialState: x0, parameters: [0.1], steps: steps, options: options)
            }
            let reference = try run(TimeSteppingOptions(strategy: .storeAll))
            if place == .storeAllTape {
                let budget = MemoryBudget(bytes: max(reference.report.peakTapeBytes / 2, 400_000))
                return Case(
                    reference: reference,
                    options: TimeSteppingOptions(strategy: .spill, memoryBudget: budget, spillDirectory: parent), run: run,
                    planMentions: "spilled")
            }
            let budget = try budgetWhosePlan(run, parent: parent, mentions: "spilled to disk")
            return Case(
                reference: reference, options: TimeSteppingOptions(memoryBudget: budget, spillDirectory: parent),
                run: run, planMentions: "spilled to disk")
        case .pagedAdjoints:
            let problem = ElementaryHeat(m: 192)
            let x0 = (0..<(192 * 192)).map { Double.cos(0.01 * Double($0)) }
            let run = { (options: TimeSteppingOptions) in
                try TimeStepping.gradient(of: problem, initialState: x0, parameters: [0.2], steps: 3, options: options)
            }
            let reference = try run(TimeSteppingOptions(strategy: .storeAll))
            let budget = try budgetWhosePlan(run, parent: parent, mentions: "adjoints paged")
            return Case(
                reference: reference, options: TimeSteppingOptions(memoryBudget: budget, spillDirectory: parent), run: run,
                planMentions: "adjoints paged")
        }
    }

    /// The largest budget below the in-memory minimum (from the refusal of a 1-byte budget
    /// without a spill directory), in steps of 7 %, whose plan mentions `text`.
    static func budgetWhosePlan(
        _ run: (TimeSteppingOptions) throws -> GradientResult, parent: String, mentions text: String
    ) throws -> MemoryBudget {
        var minimum = 0
        do {
            _ = try run(TimeSteppingOptions(memoryBudget: MemoryBudget(bytes: 1)))
        } catch let TimeSteppingError.budgetTooSmall(_, needed, _) {
            minimum = needed
        }
        var budget = Double(minimum)
        var plans: [String] = []
        for _ in 0..<40 {
            budget *= 0.93
            let options = TimeSteppingOptions(memoryBudget: MemoryBudget(bytes: Int(budget)), spillDirectory: parent)
            guard let result = try? run(options) else { continue }
            if result.report.plan.contains(text) { return options.memoryBudget }
            plans.append(result.report.plan)
        }
        throw SpillError.io(errno: 0, operation: "finding a plan with \(text) among \(plans)", path: parent)
    }

    static func makeParent() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("rewind-fault-matrix-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func bitwiseEqual(_ a: GradientResult, _ b: GradientResult) -> Bool {
        a.objective.bitPattern == b.objective.bitPattern
            && a.initialStateGradient.map(\.bitPattern) == b.initialStateGradient.map(\.bitPattern)
            && a.parameterGradient.map(\.bitPattern) == b.parameterGradient.map(\.bitPattern)
    }

    @Test(arguments: Place.allCases)
    func everyFaultAtEveryMomentGivesTheGradientOrAnErrorAndLeavesNothing(place: Place) throws {
        let parent = try Self.makeParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let fixture = try Self.makeCase(place, parent: parent)

        // The dry run: no fault, every operation counted; it must give the reference.
        let counting = FaultInjectingIO(fault: .counting)
        var options = fixture.options
        options._spillIO = counting.io
        let clean = try fixture.run(options)
        #expect(Self.bitwiseEqual(clean, fixture.reference), "\(place): the fault-free run differs from store-all")
        if let mention = fixture.planMentions {
            #expect(clean.report.plan.contains(mention), "\(place): ran as '\(clean.report.plan)'")
        }
        let counts = counting.counts
        #expect(counts.writes > 0 && counts.fileReads > 0, "\(place) touched no disk: \(counts)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)

        var struck = 0
        for fault in FaultInjectingIO.Fault.allCases where fault != .counting {
            let available = counts.count(of: fault.operation)
            let moments: [FaultInjectingIO.Moment] = fault.operation == .none ? [.first] : FaultInjectingIO.Moment.allCases
            if fault.operation != .none && available == 0 { continue }   // e.g. no name is written twice: no replay
            for moment in moments {
                let cell = "\(place.rawValue) × \(fault.rawValue) × \(moment.rawValue)"
                let injector = FaultInjectingIO(
                    fault: fault, target: FaultInjectingIO.index(of: moment, among: available))
                options._spillIO = injector.io
                do {
                    let result = try fixture.run(options)
                    #expect(Self.bitwiseEqual(result, fixture.reference), "\(cell): exit 0 with a different gradient")
                } catch let error as SpillError {
                    #expect(injector.injected, "\(cell): \(error) without a fault")
                    #expect(String(describing: error).contains(parent), "\(cell): the message names no path: \(error)")
                    if fault == .diskFull, case .diskFull = error {} else if fault == .diskFull {
                        Issue.record("\(cell): the cause (no space left) is lost behind its consequence: \(error)")
                    }
                } catch {
                    Issue.record("\(cell): \(error) is not a SpillError")
                }
                if injector.injected { struck += 1 }
                let left = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
                #expect(left.isEmpty, "\(cell): left \(left)")
                for name in left { try? FileManager.default.removeItem(atPath: parent + "/" + name) }
            }
        }
        #expect(struck >= 15, "\(place): only \(struck) cells injected a fault")
    }

    /// The cells that must fail (every byte of a spill file is used), at each place that
    /// rewrites a name: an older intact copy put back is refused, never swept.
    @Test(arguments: [Place.stepTapes, .diskSnapshots])
    func anOlderIntactCopyIsRefused(place: Place) throws {
        let parent = try Self.makeParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let fixture = try Self.makeCase(place, parent: parent)
        let counting = FaultInjectingIO(fault: .counting)
        var options = fixture.options
        options._spillIO = counting.io
        _ = try fixture.run(options)
        #expect(counting.counts.replayableReads > 0, "\(place) rewrites no name")
        for moment in FaultInjectingIO.Moment.allCases {
            let injector = FaultInjectingIO(
                fault: .replay, target: FaultInjectingIO.index(of: moment, among: counting.counts.replayableReads))
            options._spillIO = injector.io
            #expect(throws: SpillError.self, "\(place) × replay × \(moment)") { _ = try fixture.run(options) }
            #expect(injector.injected)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }
}

/// heat on an m×m periodic grid written point by point (no stencil statements), so that a
/// spilled step tape can be swept into paged adjoints.
struct ElementaryHeat: TimeSteppingProblem {
    let m: Int
    var stateCount: Int { m * m }
    var parameterCount: Int { 1 }

    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        for i in 0..<m {
            for j in 0..<m {
                let up = s[((i + m - 1) % m) * m + j], down = s[((i + 1) % m) * m + j]
                let left = s[i * m + (j + m - 1) % m], right = s[i * m + (j + 1) % m]
                let centre = s[i * m + j]
                next[i * m + j] = centre + p[0] * (((up + down) + (left + right)) - 4.0 * centre)
            }
        }
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s.reduce(0) { $0 + $1 * $1 }
    }
}
