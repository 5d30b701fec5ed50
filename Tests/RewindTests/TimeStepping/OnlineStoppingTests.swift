import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// A damped rotation: x' = (a·x − b·y, b·x + a·y) with a = 1 − damping, objective |x_N|².
struct DampedRotation: TimeSteppingProblem {
    var stateCount: Int { 2 }
    var parameterCount: Int { 2 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        let a = 1.0 - p[0]
        next[0] = a * s[0] - p[1] * s[1]
        next[1] = p[1] * s[0] + a * s[1]
    }
    var hasRunningCost: Bool { true }
    func runningCost<S: SimulationScalar>(_ s: [S], parameters: [S]) -> S { s[0] * s[0] }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s[0] * s[0] + s[1] * s[1] + 0.1 * runningCostSum
    }
}

@Suite("Online checkpointing with a stopping condition")
struct OnlineStoppingTests {
    let problem = DampedRotation()
    let x0 = [1.0, 0.5]
    let p = [0.01, 0.05]

    /// Stop when the squared norm first drops below 0.5.
    let stop: ([Double], Int) -> Bool = { state, _ in state[0] * state[0] + state[1] * state[1] < 0.5 }

    /// Runs online with `options` until `stop`, and checks that the run stopped where the
    /// condition first held and that its gradient is the offline store-all run's, bit for bit.
    func checkOnlineRun(_ options: TimeSteppingOptions, snapshots: Int) throws -> GradientResult {
        let online = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, until: stop, maximumSteps: 10_000, options: options)
        let steps = online.report.tapedSteps
        #expect(stop(problem.primal(initialState: x0, parameters: p, steps: steps).finalState, steps))
        #expect(!stop(problem.primal(initialState: x0, parameters: p, steps: steps - 1).finalState, steps - 1))
        let offline = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: steps, options: TimeSteppingOptions(strategy: .storeAll))
        #expect(online.objective.bitPattern == offline.objective.bitPattern)
        #expect(online.initialStateGradient.map(\.bitPattern) == offline.initialStateGradient.map(\.bitPattern))
        #expect(online.parameterGradient.map(\.bitPattern) == offline.parameterGradient.map(\.bitPattern))
        #expect(online.report.snapshotsInMemory <= snapshots)
        #expect(online.report.forwardSteps >= online.report.optimalForwardSteps)
        return online
    }

    @Test(arguments: [1, 2, 3, 5, 9])
    func gradientEqualsTheOfflineRunOfTheSameLength(snapshots: Int) throws {
        _ = try checkOnlineRun(TimeSteppingOptions(strategy: .online(snapshots: snapshots)), snapshots: snapshots)
    }

    /// Blocks of steps under online checkpointing: the condition is still asked at every state,
    /// the run may end inside a block, and the gradient is the offline run's, bit for bit.
    @Test(arguments: [(3, 2), (4, 5), (7, 3), (64, 2)])
    func blocksEndWhereTheConditionHolds(stepsPerBlock: Int, snapshots: Int) throws {
        var options = TimeSteppingOptions(strategy: .online(snapshots: snapshots))
        options.stepsPerBlock = stepsPerBlock
        let online = try checkOnlineRun(options, snapshots: snapshots)
        #expect(online.report.stepsPerBlock == stepsPerBlock)
    }

    @Test func anOnlineRunOfASmallStateChoosesBlocksItself() throws {
        let result = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, until: { _, n in n == 50_000 }, maximumSteps: 100_000,
            options: TimeSteppingOptions(strategy: .online(snapshots: nil), memoryBudget: .mebibytes(1)))
        #expect(result.report.tapedSteps == 50_000)
        #expect(result.report.stepsPerBlock > 1, "\(result.report.plan)")
        let offline = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: 50_000, options: TimeSteppingOptions(strategy: .storeAll))
        #expect(result.parameterGradient.map(\.bitPattern) == offline.parameterGradient.map(\.bitPattern))
    }

    @Test func theMaximumStepCountEndsARunWhoseConditionNeverHolds() throws {
        let result = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, until: { _, _ in false }, maximumSteps: 37,
            options: TimeSteppingOptions(strategy: .online(snapshots: 4)))
        #expect(result.report.tapedSteps == 37)
    }

    /// A stopping condition with a strategy that needs the step count in advance is a
    /// caller's mistake the library reports (it used to trap).
    @Test(arguments: [CheckpointStrategy.storeAll, .revolve(snapshots: 3), .spill, .twoLevel(memorySnapshots: 2, diskSnapshots: 2)])
    func aStrategyThatNeedsTheStepCountIsRefusedWithAnError(strategy: CheckpointStrategy) {
        #expect(throws: TimeSteppingError.lengthUnknownNeedsOnline(strategy: strategy.description)) {
            try TimeStepping.gradient(
                of: problem, initialState: x0, parameters: p, until: { _, _ in false }, maximumSteps: 10,
                options: TimeSteppingOptions(strategy: strategy))
        }
    }

    /// The report of a run of unknown length is filled by the same pipeline as the others.
    @Test func theReportOfARunOfUnknownLengthIsComplete() throws {
        let result = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, until: stop, maximumSteps: 10_000,
            options: TimeSteppingOptions(strategy: .online(snapshots: 3)))
        #expect(result.report.strategy == .online)
        #expect(result.report.primalSecondsPerStep > 0)
        #expect(result.report.seconds >= result.report.runSeconds && result.report.runSeconds > 0)
        #expect(result.report.peakResidentBytes > 0)
        #expect(result.report.plan.contains("decided by the stopping condition"))
    }
}
