import RewindCore
import RewindSchedules
extension TimeStepping {
    /// The gradient of a run whose length is decided by a stopping condition (a final time,
    /// a steady state), reversed with online checkpointing.
    ///
    /// `stop(state, n)` is asked about each new state `x_n` (n ≥ 1) as the primal reaches it;
    /// the run has `N` steps when it first answers true at `x_N`. The online schedule stores
    /// snapshots while the run goes on, without knowing `N`, then reverses it.
    ///
    /// Counting: to know that step `N-1` is the last, `x_N` is computed once untaped before the
    /// reversal tapes step `N-1`; the report's `forwardSteps` include that one evaluation,
    /// which an offline schedule (knowing `N`) does not need.
    ///
    /// ```swift
    /// // Integrate until the energy drops below a threshold.
    /// let result = try TimeStepping.gradient(
    ///     of: model, initialState: x0, parameters: p,
    ///     until: { state, _ in state.reduce(0) { $0 + $1 * $1 } < 1e-3 },
    ///     maximumSteps: 1_000_000, options: TimeSteppingOptions(strategy: .online(snapshots: 20)))
    /// ```
    ///
    /// - Parameters:
    ///   - problem: the step function and objective.
    ///   - initialState: `x₀`, `problem.stateCount` finite values.
    ///   - parameters: `p`, `problem.parameterCount` finite values.
    ///   - stop: asked about each new state and its step number; true ends the run there.
    ///   - maximumSteps: the run ends here if `stop` never answers true; memory is planned for it.
    ///   - options: budget, block length, check mode, progress; the strategy must be
    ///     `.online` or `.auto`.
    /// - Throws: `TimeSteppingError` for bad input or a budget too small, and
    ///   `.lengthUnknownNeedsOnline` for a strategy other than `.online` or `.auto`.
    @inlinable
    public static func gradient<P: TimeSteppingProblem>(
        of problem: P, initialState: [Double], parameters: [Double],
        until stop: (_ state: [Double], _ step: Int) -> Bool, maximumSteps: Int,
        options: TimeSteppingOptions = TimeSteppingOptions(strategy: .online(snapshots: nil))
    ) throws -> GradientResult {
        precondition(options.group == nil, "gradient(until:) plans without the ranks' agreement: it takes no TimeSteppingGroup")
        try validate(problem, initialState: initialState, parameters: parameters, steps: maximumSteps)
        let started = monotonicSeconds()
        let workspace = options.workspace ?? TimeSteppingWorkspace()
        workspace.recordsForOneSweep()
        let sample = RunSample.measure(
            problem, initialState: initialState, parameters: parameters, steps: maximumSteps, tape: workspace.tape,
            adjoints: workspace.adjoints, blockBudget: options.memoryBudget.bytes)
        let requested: Int?
        switch options.strategy {
        case .online(let snapshots): requested = snapshots
        case .auto: requested = nil
        default:
            throw TimeSteppingError.lengthUnknownNeedsOnline(strategy: options.strategy.description)
        }
        // The number of steps is unknown: plan as if it were the maximum, which bounds memory.
        var plan = try RunPlanner.plan(
            strategy: .online(snapshots: requested), budget: options.memoryBudget, steps: maximumSteps,
            stateCount: problem.stateCount, sample: sample, stepsPerBlock: options.stepsPerBlock)
        PlannedRun.keepingStencilPartials(
            &plan, sample: sample, problem: problem, initialState: initialState, parameters: parameters,
            stateCount: problem.stateCount, budget: options.memoryBudget, workspace: workspace, group: nil)
        PlannedRun.fittingWorkspace(to: plan, stateCount: problem.stateCount, workspace: workspace)
        let run = PlannedRun(workspace: workspace, sample: sample, plan: plan, started: started)
        let blockLength = plan.stepsPerBlock
        let executor = CheckpointExecutor(
            problem: problem, initialState: initialState, parameters: parameters, steps: maximumSteps,
            tape: workspace.tape, adjoints: workspace.adjoints, snapshotSlots: plan.snapshots,
            stepsPerBlock: blockLength)
        executor.progress = options.progress
        executor.checksFinite = options.checksFinite
        var schedule = OnlineSchedule(snapshots: plan.snapshots)
        // The forward sweep goes step by step, asking the stopping condition at each state;
        // the schedule hears of block `b` once the run has passed its end (so `b` is not the
        // last), and its snapshot is the block's start, kept until then.
        var n = 0
        var block = 0
        var blockStart = initialState
        var blockStartSum = 0.0
        while blockLength == 1 {
            // Single steps: the state is its own block start, stored (or not) before it moves.
            let next = executor.peekNext()
            if stop(next, n + 1) || n + 1 == maximumSteps { break }
            for action in schedule.forwardActions(atStep: n) { try executor.perform(action) }
            n += 1
            block += 1
        }
        while blockLength > 1 {
            let next = executor.peekNext()
            if stop(next, n + 1) || n + 1 == maximumSteps { break }
            try executor.advance(to: n + 1)
            n += 1
            if n % blockLength == 0 {
                for action in schedule.forwardActions(atStep: block) {
                    switch action {
                    case let .store(slot, step, _): executor.storeBlockStart(blockStart, slot: slot, block: step)
                    case let .free(slot, _): executor.free(slot: slot)
                    case .advance: break   // done step by step above
                    default: preconditionFailure("unexpected online action \(action)")
                    }
                }
                block += 1
                blockStart = executor.current
                blockStartSum = executor.runningSum
            }
        }
        let steps = n + 1
        if blockLength > 1 {
            executor.returnToBlockStart(blockStart, step: block * blockLength, runningSum: blockStartSum)
        }
        executor.endForward(steps: steps)
        try executor.run(schedule.reversal(steps: block + 1))
        var result = executor.result(strategy: .online)
        result.report.complete(run)
        // The plan was made for `maximumSteps`; its time is no prediction of this run.
        result.report.predictedSeconds = 0
        result.report.optimalForwardSteps =
            blockLength * RevolveSchedule.minimumAdvances(steps: block + 1, snapshots: plan.snapshots)
        result.report.plan = "online with \(plan.snapshots) snapshots"
            + (blockLength > 1 ? " over blocks of \(blockLength) steps" : "")
            + "; \(steps) steps decided by the stopping condition"
        options.progress?(1)
        return result
    }
}
