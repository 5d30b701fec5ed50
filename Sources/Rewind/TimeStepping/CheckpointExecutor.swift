/// Carries out a checkpointing schedule on a time-stepping problem: advances run on `Double`,
/// each reversed step is recorded on one reused tape and swept at once.
///
/// The executor is the only place that interprets `CheckpointAction`s, so every schedule
/// (revolve, online, two-level) shares the bookkeeping: the current state, the snapshot
/// slots, the running sum of the objective's running cost, and the adjoints carried from
/// step to step.
///
/// The state arrays are `@exclusivity(unchecked)`: they are only ever touched by the thread
/// running the schedule, and the dynamic exclusivity checks on these class properties took a
/// fifth of a Lorenz run's time (`perf`: `swift_beginAccess`), one per `inout` per step.
@usableFromInline
final class CheckpointExecutor<Problem: TimeSteppingProblem> {
    @usableFromInline let problem: Problem
    @usableFromInline let parameters: [Double]
    /// Steps of the run; for an online run, set when the stopping condition is met.
    @usableFromInline @exclusivity(unchecked) var steps: Int
    @usableFromInline let tape: Tape
    @usableFromInline let adjoints: AdjointVector

    @usableFromInline @exclusivity(unchecked) var current: [Double]
    @usableFromInline @exclusivity(unchecked) var scratch: [Double]
    @usableFromInline @exclusivity(unchecked) var currentStep: Int
    /// Snapshot slots in memory, each holding a state and its step.
    @usableFromInline let slots: SnapshotPool
    @usableFromInline @exclusivity(unchecked) var peakSlots = 0

    /// Running sum of running costs over states x_1 ... x_summedThrough.
    @usableFromInline @exclusivity(unchecked) var runningSum = 0.0
    @usableFromInline @exclusivity(unchecked) var summedThrough = 0

    @usableFromInline @exclusivity(unchecked) var stateAdjoint: [Double]
    @usableFromInline @exclusivity(unchecked) var sumAdjoint = 0.0
    @usableFromInline @exclusivity(unchecked) var parameterAdjoint: [Double]
    @usableFromInline @exclusivity(unchecked) var objective = Double.nan

    @usableFromInline @exclusivity(unchecked) var advances = 0
    @usableFromInline @exclusivity(unchecked) var tapedSteps = 0
    @usableFromInline @exclusivity(unchecked) var peakTapeBytes = 0
    @usableFromInline @exclusivity(unchecked) var nextReverse: Int
    /// The step whose successor state `scratch` already holds (from `peekNext()`), or -1.
    @usableFromInline @exclusivity(unchecked) var scratchHoldsStateAfter = Int.min
    @usableFromInline @exclusivity(unchecked) var recordSeconds = 0.0
    @usableFromInline @exclusivity(unchecked) var reverseSeconds = 0.0
    @usableFromInline @exclusivity(unchecked) var largestTapeStatements = 0
    @usableFromInline @exclusivity(unchecked) var largestTapeBytesInUse = 0
    @usableFromInline var progress: ((Double) -> Void)?
    /// The disk level of two-level checkpointing, when the schedule uses one.
    @usableFromInline var disk: DiskSnapshots?
    @usableFromInline @exclusivity(unchecked) var diskWrites = 0
    @usableFromInline @exclusivity(unchecked) var diskReads = 0
    /// Check mode (`TimeSteppingOptions.checksFinite`).
    @usableFromInline @exclusivity(unchecked) var checksFinite = false
    /// The step recording, its arrays reused from one taped step to the next.
    @usableFromInline @exclusivity(unchecked) var recorded = RecordedSteps.empty

    @inlinable
    init(
        problem: Problem, initialState: [Double], parameters: [Double], steps: Int, tape: Tape, adjoints: AdjointVector,
        snapshotSlots: Int = 4
    ) {
        self.adjoints = adjoints
        slots = SnapshotPool(stateCount: initialState.count, slots: min(snapshotSlots, max(steps, 1)))
        self.problem = problem
        self.parameters = parameters
        self.steps = steps
        self.tape = tape
        current = initialState
        scratch = initialState
        currentStep = 0
        nextReverse = steps - 1
        stateAdjoint = [Double](repeating: 0, count: initialState.count)
        parameterAdjoint = [Double](repeating: 0, count: parameters.count)
    }

    @inlinable
    func run<S: Sequence>(_ schedule: S) throws where S.Element == CheckpointAction {
        for action in schedule { try perform(action) }
        precondition(nextReverse == -1, "the schedule ended before reversing every step")
    }

    @inlinable
    func perform(_ action: CheckpointAction) throws {
        switch action {
        case let .advance(from, to):
            precondition(from == currentStep, "schedule advances from step \(from) but the state is at \(currentStep)")
            try advance(to: to)
        case let .store(slot, step, .disk):
            precondition(step == currentStep, "schedule stores step \(step) but the state is at \(currentStep)")
            guard let disk else { preconditionFailure("a two-level schedule needs a disk level") }
            try disk.store(current, slot: slot, step: step)
            diskWrites += 1
        case let .restore(slot, step, .disk):
            guard let disk else { preconditionFailure("a two-level schedule needs a disk level") }
            try disk.restore(slot: slot, step: step, into: &current)
            currentStep = step
            diskReads += 1
        case let .free(slot, .disk):
            try disk?.free(slot: slot)
        case let .store(slot, step, _):
            precondition(step == currentStep, "schedule stores step \(step) but the state is at \(currentStep)")
            slots.store(current, slot: slot, step: step)
            peakSlots = max(peakSlots, slots.peakLiveCount)
        case let .restore(slot, step, _):
            slots.restore(slot: slot, step: step, into: &current)
            currentStep = step
        case let .free(slot, _):
            slots.free(slot: slot)
        case let .reverse(step):
            precondition(step == currentStep, "schedule reverses step \(step) but the state is at \(currentStep)")
            precondition(step == nextReverse, "schedule reverses step \(step) out of order (expected \(nextReverse))")
            try reverse(step: step)
        }
    }

    /// Re-records `step` from `state` in check mode and throws the statement where a NaN or
    /// infinity entered.
    @inlinable
    func diagnose(step: Int, from state: [Double]) throws {
        tape.checksFinite = true
        let recorded = RecordedSteps.record(
            problem, on: tape, state: state, parameters: parameters, steps: 1, runningSum: runningSum, endsRun: false)
        let found = recorded.nonFinite(on: tape, firstStep: step)
        throw TimeSteppingError.nonFiniteInRun(
            step: step, report: found?.report ?? "the state after the step is not finite")
    }

    /// Computes the state after the current one without moving to it, so that an online run
    /// can test its stopping condition before deciding whether the current step is the last.
    /// A following `advance` uses it instead of recomputing.
    @inlinable
    func peekNext() -> [Double] {
        if scratchHoldsStateAfter != currentStep {
            problem.step(current, parameters: parameters, into: &scratch)
            advances += 1
            scratchHoldsStateAfter = currentStep
        }
        return scratch
    }

    /// Ends the forward phase of an online run at `steps` steps (the current state is
    /// `x_{steps-1}`).
    @inlinable
    func endForward(steps: Int) {
        precondition(currentStep == steps - 1, "an online run ends at its last state but one")
        self.steps = steps
        nextReverse = steps - 1
    }

    /// Runs the primal from the current state to `x_target`, adding running costs the first
    /// time each state is reached.
    @inlinable
    func advance(to target: Int) throws {
        while currentStep < target {
            if scratchHoldsStateAfter != currentStep {
                problem.step(current, parameters: parameters, into: &scratch)
                advances += 1
            }
            scratchHoldsStateAfter = Int.min
            swap(&current, &scratch)
            if _slowPath(checksFinite) && current.contains(where: { !$0.isFinite }) {
                try diagnose(step: currentStep, from: scratch)
            }
            currentStep += 1
            if problem.hasRunningCost && currentStep > summedThrough {
                runningSum = runningSum + problem.runningCost(current, parameters: parameters)
                summedThrough = currentStep
            }
        }
    }

    @inlinable
    func reverse(step: Int) throws {
        let endsRun = step == steps - 1
        precondition(!endsRun || !problem.hasRunningCost || summedThrough == step, "running sum incomplete")
        // Phase times from every 16th step (scaled up): reading the clock three times per
        // step cost 7 % of a Lorenz run.
        let timed = tapedSteps % 16 == 0 || steps - tapedSteps < 16
        let weight = timed && steps - tapedSteps >= 16 ? 16.0 : 1.0
        let recordStarted = timed ? monotonicSeconds() : 0
        tape.checksFinite = checksFinite
        // Move the recording out of the class for the step and back after: used in place
        // through the property, the struct of arrays was copied (a retain per array) per call.
        var recording = RecordedSteps.empty
        swap(&recording, &recorded)
        defer { swap(&recording, &recorded) }
        recording.rerecord(
            problem, on: tape, state: current, parameters: parameters, steps: 1,
            runningSum: runningSum, endsRun: endsRun)
        let reverseStarted = timed ? monotonicSeconds() : 0
        recordSeconds += weight * (reverseStarted - recordStarted)
        if endsRun { objective = recording.objective!.value }
        recording.reverse(
            on: tape, adjoints: adjoints, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
            parameterAdjoint: &parameterAdjoint)
        if timed { reverseSeconds += weight * (monotonicSeconds() - reverseStarted) }
        if _slowPath(checksFinite), let found = recording.nonFinite(on: tape, firstStep: step) {
            throw TimeSteppingError.nonFiniteInRun(step: found.step, report: found.report)
        }
        // Step tapes are alike but for the last (with the objective) and the arena only grows,
        // so sampling the size now and then and at the end finds the peak without walking the
        // chunks on every step.
        if timed || endsRun {
            peakTapeBytes = max(peakTapeBytes, tape.reservedByteCount + adjoints.byteCount)
        }
        if tapedSteps == 0 || endsRun {
            let statistics = tape.statistics
            largestTapeStatements = max(largestTapeStatements, statistics.statementCount)
            largestTapeBytesInUse = max(largestTapeBytesInUse, statistics.bytesInUse)
        }
        tapedSteps += 1
        nextReverse -= 1
        currentStep = -1
        if let progress, steps >= 100, tapedSteps % max(1, steps / 200) == 0 {
            progress(Double(tapedSteps) / Double(steps))
        }
    }
}
