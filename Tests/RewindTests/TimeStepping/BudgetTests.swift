import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

private struct Ramp: TimeSteppingProblem {
    var stateCount: Int { 64 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        for i in s.indices { next[i] = s[i] + p[0] * S.sin(s[(i + 1) % s.count]) }
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s.reduce(0) { $0 + $1 * $1 }
    }
}

/// A step function that changes the state's length: a programming error caught with a message.
private struct Shrinking: TimeSteppingProblem {
    var stateCount: Int { 2 }
    var parameterCount: Int { 0 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) { next = [s[0]] }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S { s[0] }
}

/// A small state, whose step tape costs less than the bookkeeping of a tape: where blocks pay.
private struct Oscillator: TimeSteppingProblem {
    var stateCount: Int { 2 }
    var parameterCount: Int { 1 }
    var hasRunningCost: Bool { true }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        next[0] = s[0] + 0.01 * s[1]
        next[1] = s[1] - 0.01 * p[0] * S.sin(s[0])
    }
    func runningCost<S: SimulationScalar>(_ s: [S], parameters: [S]) -> S { s[0] * s[0] }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        runningCostSum + s[1]
    }
}

@Suite("Memory budget, plans and bad input")
struct BudgetTests {
    let x0 = (0..<64).map { Double($0) / 64 }

    func run(_ strategy: CheckpointStrategy, budget: Int, steps: Int = 50) throws -> GradientResult {
        try TimeStepping.gradient(
            of: Ramp(), initialState: x0, parameters: [0.01], steps: steps,
            options: TimeSteppingOptions(strategy: strategy, memoryBudget: MemoryBudget(bytes: budget)))
    }

    @Test func aBudgetBelowTheMinimumIsRefusedBeforeRunningWithTheMinimumInTheMessage() throws {
        do {
            _ = try run(.auto, budget: 1000)
            Issue.record("a 1000-byte budget was accepted")
        } catch let error as TimeSteppingError {
            guard case .budgetTooSmall(_, let minimum, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(error.description.contains("\(minimum) bytes"))
            // One byte below the minimum is refused, the minimum itself is accepted.
            #expect(throws: TimeSteppingError.self) { try self.run(.auto, budget: minimum - 1) }
            let result = try run(.auto, budget: minimum)
            #expect(result.report.strategy == .revolve)
            #expect(result.report.snapshotsInMemory == 1)
        }
    }

    @Test func autoPicksStoreAllWhenItFitsAndRevolveWhenNot() throws {
        // Where store-all fits, so do snapshots of every block: auto stores all, or (where the
        // sample timed fresh pages dearer than recomputing) records blocks from snapshots taken
        // in one forward pass, never more.
        let roomy = try run(.auto, budget: 1 << 30)
        if roomy.report.strategy != .storeAll {
            #expect(roomy.report.strategy == .revolve)
            #expect(roomy.report.forwardSteps <= 50)
        }
        let tight = try run(.auto, budget: 200_000)
        #expect(tight.report.strategy == .revolve)
        #expect(tight.report.peakTapeBytes < 200_000)
        #expect(tight.report.forwardSteps == tight.report.optimalForwardSteps)
    }

    @Test func storeAllThatDoesNotFitIsRefused() {
        #expect(throws: TimeSteppingError.self) { try self.run(.storeAll, budget: 100_000, steps: 2000) }
    }

    @Test func badInputIsRefusedWithAMessageNamingIt() {
        #expect(throws: TimeSteppingError.invalidSteps(0)) { try self.run(.auto, budget: 1 << 30, steps: 0) }
        #expect(throws: TimeSteppingError.invalidSnapshots(0)) { try self.run(.revolve(snapshots: 0), budget: 1 << 30) }
        var bad = x0
        bad[5] = .nan
        do {
            _ = try TimeStepping.gradient(of: Ramp(), initialState: bad, parameters: [0.01], steps: 3)
            Issue.record("a NaN in the initial state was accepted")
        } catch let error as TimeSteppingError {
            if case .nonFinite(let what, let index, _) = error {
                #expect(what == "the initial state" && index == 5)
            } else {
                Issue.record("unexpected error \(error)")
            }
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: TimeSteppingError.self) {
            _ = try TimeStepping.gradient(of: Ramp(), initialState: x0, parameters: [.infinity], steps: 3)
        }
        #expect(throws: TimeSteppingError.wrongLength(what: "the initial state", expected: 64, actual: 3)) {
            _ = try TimeStepping.gradient(of: Ramp(), initialState: [1, 2, 3], parameters: [0.01], steps: 3)
        }
    }

    @Test func aStepThatChangesTheStateLengthTrapsWithAMessage() async {
        await #expect(processExitsWith: .failure) {
            _ = try? TimeStepping.gradient(of: Shrinking(), initialState: [1, 2], parameters: [], steps: 3)
        }
    }

    func runOscillator(
        _ strategy: CheckpointStrategy, budget: Int, steps: Int, stepsPerBlock: Int? = nil
    ) throws -> GradientResult {
        var options = TimeSteppingOptions(strategy: strategy, memoryBudget: MemoryBudget(bytes: budget))
        options.stepsPerBlock = stepsPerBlock
        return try TimeStepping.gradient(
            of: Oscillator(), initialState: [0.5, 0], parameters: [4], steps: steps, options: options)
    }

    @Test func blocksAdvanceByWholeBlocksAndTapeEveryStepOnce() throws {
        let result = try runOscillator(.revolve(snapshots: 3), budget: 1 << 30, steps: 50, stepsPerBlock: 4)
        // 13 blocks, the last of 2 steps; revolve over blocks never advances through the last.
        #expect(result.report.stepsPerBlock == 4)
        #expect(result.report.forwardSteps == 4 * RevolveSchedule.minimumAdvances(steps: 13, snapshots: 3))
        #expect(result.report.optimalForwardSteps == result.report.forwardSteps)
        #expect(result.report.tapedSteps == 50)
        #expect(result.report.snapshotsInMemory <= 3)
        let reference = try runOscillator(.storeAll, budget: 1 << 30, steps: 50)
        #expect(result.initialStateGradient == reference.initialStateGradient)
        #expect(result.parameterGradient == reference.parameterGradient)
        #expect(result.objective == reference.objective)
    }

    @Test func autoTapesSmallStatesInBlocksWithinTheBudget() throws {
        // Store-all would need some 10 MB; a quarter of a mebibyte holds blocks and snapshots.
        let budget = 256 << 10
        let result = try runOscillator(.auto, budget: budget, steps: 100_000)
        #expect(result.report.strategy == .revolve)
        #expect(result.report.stepsPerBlock > 1)
        #expect(result.report.forwardSteps == result.report.optimalForwardSteps)
        #expect(result.report.tapedSteps == 100_000)
        #expect(result.report.peakTapeBytes + result.report.snapshotsInMemory * (2 * 8 + 64) <= budget)
        let reference = try runOscillator(.revolve(snapshots: 40), budget: 1 << 30, steps: 100_000, stepsPerBlock: 1)
        #expect(result.parameterGradient == reference.parameterGradient)
        #expect(result.initialStateGradient == reference.initialStateGradient)
    }

    @Test func blocksAreForRevolveAndOnlineOnly() {
        #expect(throws: TimeSteppingError.blocksNeedRevolve(strategy: "two-level")) {
            try self.runOscillator(
                .twoLevel(memorySnapshots: 2, diskSnapshots: 2), budget: 1 << 30, steps: 50, stepsPerBlock: 4)
        }
        #expect(throws: TimeSteppingError.invalidStepsPerBlock(0)) {
            try self.runOscillator(.revolve(snapshots: 3), budget: 1 << 30, steps: 50, stepsPerBlock: 0)
        }
        // A block whose tape does not fit beside one snapshot is refused with what it needs.
        #expect(throws: TimeSteppingError.self) {
            try self.runOscillator(.revolve(snapshots: 3), budget: 64 << 10, steps: 50_000, stepsPerBlock: 50_000)
        }
    }

    @Test func oneStepRunsAreFine() throws {
        let one = try run(.revolve(snapshots: 1), budget: 1 << 30, steps: 1)
        let reference = try run(.storeAll, budget: 1 << 30, steps: 1)
        #expect(one.parameterGradient == reference.parameterGradient)
        #expect(one.report.forwardSteps == 0)
    }

    // MARK: - Numbers from a command line (issue #11)

    @Test func stepCountsTooLargeToCountAreRefusedNotTrapped() throws {
        for steps in [Int.max, 1 << 62, 4_611_686_018_427_387_904 + 12345] {
            for strategy: CheckpointStrategy in [.auto, .revolve(snapshots: 2), .online(snapshots: nil)] {
                do {
                    _ = try run(strategy, budget: 200_000, steps: steps)
                    Issue.record("\(steps) steps with \(strategy) ran")
                } catch let error as TimeSteppingError {
                    guard case .tooManyEvaluations(let asked, let snapshots, let largest) = error else {
                        Issue.record("unexpected \(error)")
                        continue
                    }
                    #expect(asked == steps && snapshots >= 1 && largest >= 1 && largest < steps)
                    #expect(error.description.contains("at most \(largest) steps"))
                }
            }
            // As many snapshots as Int holds: more bytes than any budget, refused as such.
            #expect(throws: TimeSteppingError.self) { try self.run(.revolve(snapshots: .max), budget: 200_000, steps: steps) }
        }
    }

    @Test func aRunPredictedBeyondTheLimitIsRefusedBeforeItStarts() throws {
        var options = TimeSteppingOptions(strategy: .auto, memoryBudget: MemoryBudget(bytes: 200_000))
        options.maximumPredictedSeconds = 1e-9
        #expect {
            try TimeStepping.gradient(of: Ramp(), initialState: x0, parameters: [0.01], steps: 50, options: options)
        } throws: { error in
            guard case TimeSteppingError.predictedTooLong(let seconds, let limit, let evaluations, _) = error else { return false }
            return seconds > limit && limit == 1e-9 && evaluations >= 50
        }
        options.maximumPredictedSeconds = 3600
        #expect(try TimeStepping.gradient(of: Ramp(), initialState: x0, parameters: [0.01], steps: 50, options: options)
            .initialStateGradient.count == 64)
    }

    @Test func theStoreAllEstimateSaturatesInsteadOfOverflowing() throws {
        // 2^62 steps of store-all: more bytes than Int holds, so it does not fit any budget.
        #expect(throws: TimeSteppingError.self) { try self.run(.storeAll, budget: Int(MemoryBudget.largestBytes), steps: 1 << 62) }
        #expect(throws: TimeSteppingError.self) { try self.run(.spill, budget: 1 << 30, steps: .max) }
    }

    @Test func budgetsFromTextSayWhatIsWrong() {
        #expect(throws: MemoryBudgetError.negative("-1KiB")) { try MemoryBudget(parsing: "-1KiB") }
        #expect(throws: MemoryBudgetError.tooLarge("99999999999999999999PiB")) {
            try MemoryBudget(parsing: "99999999999999999999PiB")
        }
        #expect(throws: MemoryBudgetError.malformed("")) { try MemoryBudget(parsing: "") }
        #expect(throws: MemoryBudgetError.malformed("nanMiB")) { try MemoryBudget(parsing: "nanMiB") }
        #expect(throws: MemoryBudgetError.malformed("infB")) { try MemoryBudget(parsing: "infB") }
        #expect((try? MemoryBudget(parsing: "7000PiB"))?.bytes == 7000 << 50)
        #expect(MemoryBudgetError.tooLarge("9EB").description.contains("largest"))
        #expect(MemoryBudget.format(.max) == "more than 8 EiB")
        #expect(MemoryBudget.format(1 << 60) == "1024.0 PiB")
    }

    @Test func theStateFloorIsCheckedBeforeAnythingIsAllocated() {
        // A heat2d 32768² state: a billion values, refused by arithmetic alone.
        #expect(throws: TimeSteppingError.self) {
            try TimeStepping.checkBudgetHoldsStates(.mebibytes(1024), stateCount: 1 << 30)
        }
        #expect(throws: Never.self) { try TimeStepping.checkBudgetHoldsStates(.mebibytes(1024), stateCount: 1 << 12) }
        do {
            try TimeStepping.checkJacobianBudget(.mebibytes(1024), stateCount: 4096 * 4096, parameterCount: 1, rows: 4096 * 4096)
            Issue.record("every row of heat2d 4096² fits 1 GiB?")
        } catch let error as TimeSteppingError {
            // The refusal names the user's budget, not what is left of it after the rows.
            #expect(error.description.contains("a memory budget of 1.0 GiB"), "\(error)")
        } catch { Issue.record("\(error)") }
    }
}
