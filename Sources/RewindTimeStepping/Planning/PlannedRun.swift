import RewindCore
import RewindStorage

/// Stage one of every run (plan → execute → report): the inputs checked, the step sampled
/// and timed, and the plan chosen — everything decided before the first step of the run.
///
/// `gradient`, `gradient(until:)` and `jacobian` each make one (they sample and plan
/// differently: a run of unknown length plans for its maximum, a Jacobian charges its rows'
/// adjoints), then execute it and complete the report the same way
/// (`RunReport.complete(_:)`).
@usableFromInline
package struct PlannedRun {
    /// Where the run records.
    @usableFromInline package let workspace: TimeSteppingWorkspace
    /// The timed sample the plan was made from.
    @usableFromInline package let sample: RunSample
    /// The plan.
    @usableFromInline package let plan: RunPlan
    /// When the call began (sampling and planning included in the report's `seconds`).
    @usableFromInline package let started: Double
    /// When the run itself began: after sampling and planning.
    @usableFromInline package let runStarted: Double

    @usableFromInline
    package init(workspace: TimeSteppingWorkspace, sample: RunSample, plan: RunPlan, started: Double) {
        self.workspace = workspace
        self.sample = sample
        self.plan = plan
        self.started = started
        runStarted = monotonicSeconds()
    }

    /// Plans a gradient of `steps` steps: checks the inputs and the spill directory, refuses
    /// a budget below the states of one step before allocating anything large, samples the
    /// step, and plans (measuring a block's memory when the plan tapes blocks).
    ///
    /// - Throws: `TimeSteppingError` for bad input or a budget the run cannot fit,
    ///   `SpillError` for an unusable spill directory.
    @inlinable
    package static func gradient<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, options: TimeSteppingOptions
    ) throws -> PlannedRun {
        // On a distributed run every rank checks its inputs, then all agree: a failure on one
        // rank stops every rank here, before the first collective step (`TimeSteppingGroup`).
        var failure: Error?
        var started = 0.0
        do {
            try TimeStepping.validate(
                problem, initialState: initialState, parameters: parameters, steps: steps,
                allowingNonFiniteParameters: options.checksFinite)
            if let block = options.stepsPerBlock, block < 1 { throw TimeSteppingError.invalidStepsPerBlock(block) }
            started = monotonicSeconds()
            if let parent = options.spillDirectory {
                // Refuse an unusable spill directory before running, not when the first spill comes.
                try SpillDirectory(parent: parent, prefix: "rewind-probe").remove()
            }
        } catch {
            failure = error
        }
        if let group = options.group { try group.agree(failure: failure) } else if let failure { throw failure }
        // A floor that needs no sample: the states and leaves of one recorded step. Where that
        // floor is large and the budget below it, refuse before allocating a sample step that
        // would itself blow the budget; small problems are sampled, which gives the exact minimum.
        // (A distributed run plans for its largest part; the budget is already the smallest.)
        let stateCount = options.group.map { Int($0.maximum([Double(problem.stateCount)])[0]) } ?? problem.stateCount
        let floor = RunPlanner.stateArrayBytes(stateCount: stateCount)
        if options.memoryBudget.bytes < floor && floor > RunPlanner.largeStateBytes {
            throw TimeSteppingError.budgetTooSmall(
                budget: options.memoryBudget.bytes, minimum: floor,
                shortfall: .statesAlone(withCallerArrays: false))
        }
        let workspace = options.workspace ?? TimeSteppingWorkspace()
        workspace.tape.checksFinite = false
        workspace.recordsForOneSweep()
        // The sample repeats the step as often as its clock says: on a distributed run its
        // communication stays on each rank (`sampling`), and the ranks then agree on one sample.
        func measure() throws -> RunSample {
            try RunSample.measure(
                problem, initialState: initialState, parameters: parameters, steps: steps, options: options,
                workspace: workspace, floor: floor)
        }
        var sample: RunSample
        if let group = options.group {
            // A spill error in one rank's sample stops every rank, as a bad input does.
            var measured: RunSample?
            do { measured = try group.sampling(measure) } catch { failure = error }
            try group.agree(failure: failure)
            sample = measured!.agreed(in: group)
        } else {
            sample = try measure()
        }
        // Disk snapshots and spilled tapes only where every rank has a spill directory.
        let diskAllowed = options.group.map { $0.maximum([options.spillDirectory == nil ? 1 : 0])[0] == 0 }
            ?? (options.spillDirectory != nil)
        func makePlan() throws -> RunPlan {
            try RunPlanner.plan(
                strategy: options.strategy, budget: options.memoryBudget, steps: steps,
                stateCount: stateCount, sample: sample, diskAllowed: diskAllowed,
                stepsPerBlock: options.stepsPerBlock, maximumSeconds: options.maximumPredictedSeconds)
        }
        var plan = try makePlan()
        if plan.stepsPerBlock > 1 {
            // Charge the block's memory as measured, not as estimated.
            func measureBlock() {
                sample.measureBlockMemory(
                    problem, steps: plan.stepsPerBlock, initialState: initialState, parameters: parameters,
                    tape: workspace.tape, adjoints: workspace.adjoints)
            }
            if let group = options.group {
                group.sampling(measureBlock)
                sample = sample.agreed(in: group)
            } else {
                measureBlock()
            }
            plan = try makePlan()
        }
        keepingStencilPartials(
            &plan, sample: sample, problem: problem, initialState: initialState, parameters: parameters,
            stateCount: stateCount, budget: options.memoryBudget, workspace: workspace, group: options.group)
        fittingWorkspace(to: plan, stateCount: stateCount, workspace: workspace)
        return PlannedRun(workspace: workspace, sample: sample, plan: plan, started: started)
    }

    /// Gives back what the sample's recordings left in the workspace beyond what a
    /// checkpointed `plan` charges for the tape and the adjoints of its blocks, so that the
    /// run starts inside its budget.
    ///
    /// Why: the sample records steps with both stencil storages and blocks of up to two
    /// lengths, and the arena and the adjoint vector keep what the largest recording needed.
    /// A plan of single steps, or one whose blocks keep inputs, is charged less. Burgers 4096
    /// at 1 MiB held 839 KiB of tape and adjoints against the 439 KiB its plan charged, 40 %
    /// over the budget (`ModelBudgetTests`). Where the workspace holds no more than the
    /// charge (blocks measured on the grown arena, as usual), nothing is given back and the
    /// run pays no fresh pages for it.
    @inlinable
    package static func fittingWorkspace(to plan: RunPlan, stateCount: Int, workspace: TimeSteppingWorkspace) {
        switch plan.strategy {
        case .revolve, .online, .twoLevel: break
        default: return
        }
        let charged = plan.stepWorkingSetBytes - RunPlanner.stateArrayBytes(stateCount: stateCount)
        guard workspace.tape.reservedByteCount + workspace.adjoints.byteCount > charged else { return }
        workspace.tape._resetReleasingChunks()
        workspace.adjoints.release()
    }
}
