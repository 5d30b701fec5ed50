import RewindCore

extension PlannedRun {
    /// Lets the blocks of a checkpointed plan keep their stencils' partials
    /// (`StencilStorage.partials`) where a block of them fits the budget beside the plan's
    /// snapshots; otherwise the tape keeps the stencils' inputs, as the sample measured a
    /// step's memory.
    ///
    /// Why: a checkpointed block is recorded right before its sweep, on a tape the run reuses,
    /// so the tape stays in the cache. Evaluating a kernel once on `Dual`s while recording then
    /// costs less than evaluating it on `Double`s while recording and on `Dual`s again in the
    /// sweep (docs/design-decisions.md, "Which storage a run records"). A store-all or
    /// spilled tape is the run's memory, and a stencil's inputs are a quarter to a sixth of its
    /// partials, so those keep inputs.
    ///
    /// The plan keeps its block length and snapshots; its working set becomes the block
    /// measured with partials. The sample timed its steps and blocks with partials
    /// (`RunSample.measure`), so the prediction holds for either storage's plan only as far as
    /// inputs cost the same: a plan that falls back to inputs runs about a quarter slower a
    /// step for Burgers than predicted.
    @inlinable
    package static func keepingStencilPartials<P: TimeSteppingProblem>(
        _ plan: inout RunPlan, sample: RunSample, problem: P, initialState: [Double], parameters: [Double],
        stateCount: Int, budget: MemoryBudget, workspace: TimeSteppingWorkspace, group: TimeSteppingGroup?
    ) {
        switch plan.strategy {
        case .revolve, .online: break
        default: return
        }
        guard plan.diskSnapshots == 0, plan.spillChunkStatements == nil, !plan.pagedAdjoints else { return }
        let tape = workspace.tape
        guard tape.stencilStorage == .inputs else { return }
        tape.stencilStorage = .partials
        var withPartials = sample
        func measureBlock() {
            withPartials.measureBlockMemory(
                problem, steps: plan.stepsPerBlock, initialState: initialState, parameters: parameters, tape: tape,
                adjoints: workspace.adjoints)
        }
        if let group { group.sampling(measureBlock) } else { measureBlock() }
        let workingSet = RunPlanner.blockWorkingSetBytes(
            steps: plan.stepsPerBlock, sample: withPartials, stateCount: stateCount)
        let snapshots = Int.saturating(plan.snapshots, times: plan.snapshotBytes)
        if Int.saturating(workingSet, plus: snapshots) <= budget.bytes {
            plan.stepWorkingSetBytes = workingSet
        } else {
            tape.stencilStorage = .inputs
        }
    }
}
