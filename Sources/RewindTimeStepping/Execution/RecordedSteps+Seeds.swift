import RewindCore
import RewindParallel
import RewindSchedules
/// Reversing recorded steps for several seeds at once: the recording is made once and swept
/// once per seed (concurrently, see `_SeedSweeper`), each seed carrying its own state and
/// parameter adjoints from segment to segment.
///
/// Each lane does exactly what `reverse(on:adjoints:stateAdjoint:sumAdjoint:parameterAdjoint:)`
/// does for one seed without an objective — parameter leaves set to the carried parameter
/// adjoint, the final state's adjoints added, one sweep, the leaves read back — so a lane's
/// result is bitwise that of a one-seed run, and store-all and checkpointed runs agree bitwise
/// for every lane, for the reason given in `RecordedSteps`.
extension RecordedSteps {
    /// Reverses these steps for `lanes` seeds.
    ///
    /// - Parameters:
    ///   - stateAdjoints: `lanes × stateCount` values, lane-major; on entry each lane's adjoint
    ///     of the final state, on exit its adjoint of the initial state.
    ///   - parameterAdjoints: `lanes × parameterCount` values, lane-major, accumulated in place.
    @usableFromInline
    package func reverse(
        on tape: Tape, sweeper: _SeedSweeper, lanes: Int, stateAdjoints: UnsafeMutablePointer<Double>,
        parameterAdjoints: UnsafeMutablePointer<Double>
    ) {
        precondition(objective == nil, "a multi-seed reversal seeds the final state, not an objective")
        let frozen = _FrozenTape(tape)
        let n = stateLeaves.count
        let p = parameterLeaves.count
        let parameterIdentifiers = parameterLeaves.map(\.identifier)
        let stateIdentifiers = stateLeaves.map(\.identifier)
        let finalIdentifiers = finalState.map(\.identifier)
        sweeper.run(
            frozen, lanes: lanes, from: positionBeforeObjective, to: .start,
            seed: { lane, adjoints in
                let carried = parameterAdjoints + lane * p
                for j in 0..<p { adjoints[parameterIdentifiers[j]] = carried[j] }
                let seeds = stateAdjoints + lane * n
                for j in 0..<n where finalIdentifiers[j] != 0 {
                    adjoints[finalIdentifiers[j]] += seeds[j]
                }
            },
            collect: { lane, adjoints in
                let state = stateAdjoints + lane * n
                for j in 0..<n { state[j] = adjoints[stateIdentifiers[j]] }
                let parameters = parameterAdjoints + lane * p
                for j in 0..<p { parameters[j] = adjoints[parameterIdentifiers[j]] }
            })
    }
}

extension CheckpointExecutor {
    /// Carries out `schedule` like `run(_:)`, but reverses each step with `reverseStep(step)`
    /// instead of the one-seed reversal: advances, snapshots and restores are the executor's
    /// own, so a multi-seed run follows the very same schedule. `reverseStep` returns the state
    /// its recording ended in, which the executor checks as `reverse(block:)` does
    /// (`checkReplay`).
    @inlinable
    func run<S: Sequence>(_ schedule: S, reversingWith reverseStep: (Int) -> [Tracked]) throws
    where S.Element == CheckpointAction {
        for action in schedule { try perform(action, reversingWith: reverseStep) }
    }

    @inlinable
    func perform(_ action: CheckpointAction, reversingWith reverseStep: (Int) -> [Tracked]) throws {
        guard case let .reverse(step) = action else {
            try perform(action)
            return
        }
        precondition(stepsPerBlock == 1, "a multi-seed run tapes one step at a time")
        precondition(step == currentStep, "schedule reverses step \(step) but the state is at \(currentStep)")
        precondition(step == nextReverse, "schedule reverses step \(step) out of order (expected \(nextReverse))")
        let start = StateFingerprint(current)
        try checkReplay(ofBlock: step, start: start, end: StateFingerprint(valuesOf: reverseStep(step)))
        tapedSteps += 1
        nextReverse -= 1
        currentStep = -1
        currentSlot = nil
        if let progress, steps >= 100, tapedSteps % max(1, steps / 200) == 0 {
            progress(Double(tapedSteps) / Double(steps))
        }
    }
}
