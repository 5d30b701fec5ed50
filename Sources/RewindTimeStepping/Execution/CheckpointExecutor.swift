import RewindCore
import RewindSchedules
/// Carries out a checkpointing schedule on a time-stepping problem: advances run on `Double`,
/// each reversed block of steps is recorded on one reused tape and swept at once.
///
/// Blocks: the schedule's unit is a block of `stepsPerBlock` consecutive steps (the last block
/// may be shorter). Snapshots hold block starts and one tape records a whole block. For
/// small states (Lorenz: three values) a tape per step costs more in bookkeeping — resetting
/// the tape, registering leaves, seeding and reading adjoints — than the step itself; a block
/// of a thousand steps pays it once. The planner chooses the block length from the budget and
/// a timed sample (`RunPlanner`); with `stepsPerBlock == 1` this is classic revolve. Schedule
/// positions in `CheckpointAction`s are block indices; `currentStep` counts steps.
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
package final class CheckpointExecutor<Problem: TimeSteppingProblem> {
    @usableFromInline package let problem: Problem
    @usableFromInline package let parameters: [Double]
    /// Steps of the run; for an online run, set when the stopping condition is met.
    @usableFromInline @exclusivity(unchecked) package var steps: Int
    /// Steps a schedule position stands for (see the type's comment).
    @usableFromInline package let stepsPerBlock: Int
    @usableFromInline package let tape: Tape
    @usableFromInline package let adjoints: AdjointVector

    /// The current state when it is the executor's own (see `currentSlot`).
    @usableFromInline @exclusivity(unchecked) package var ownedState: [Double]
    /// Large states (`SnapshotPool.movesBuffers`): the slot the current state lives in, after
    /// a store moved it there or a restore chose it, or `nil` when `ownedState` holds it. The
    /// next advance reads the slot in place, so no state is copied in or out of a snapshot.
    @usableFromInline @exclusivity(unchecked) package var currentSlot: Int?
    @usableFromInline @exclusivity(unchecked) package var scratch: [Double]
    @usableFromInline @exclusivity(unchecked) package var currentStep: Int
    /// Snapshot slots in memory, each holding a state and its step.
    @usableFromInline package let slots: SnapshotPool
    @usableFromInline @exclusivity(unchecked) package var peakSlots = 0

    /// Running sum of running costs over states x_1 ... x_summedThrough.
    @usableFromInline @exclusivity(unchecked) package var runningSum = 0.0
    @usableFromInline @exclusivity(unchecked) package var summedThrough = 0

    @usableFromInline @exclusivity(unchecked) package var stateAdjoint: [Double]
    @usableFromInline @exclusivity(unchecked) package var sumAdjoint = 0.0
    @usableFromInline @exclusivity(unchecked) package var parameterAdjoint: [Double]
    @usableFromInline @exclusivity(unchecked) package var objective = Double.nan

    @usableFromInline @exclusivity(unchecked) package var advances = 0
    @usableFromInline @exclusivity(unchecked) package var tapedSteps = 0
    @usableFromInline @exclusivity(unchecked) package var peakTapeBytes = 0
    /// The block the schedule must reverse next.
    @usableFromInline @exclusivity(unchecked) package var nextReverse: Int
    /// The step whose successor state `scratch` already holds (from `peekNext()`), or -1.
    @usableFromInline @exclusivity(unchecked) package var scratchHoldsStateAfter = Int.min
    @usableFromInline @exclusivity(unchecked) package var recordSeconds = 0.0
    @usableFromInline @exclusivity(unchecked) package var reverseSeconds = 0.0
    @usableFromInline @exclusivity(unchecked) package var advanceSeconds = 0.0
    @usableFromInline @exclusivity(unchecked) package var largestTapeStatements = 0
    /// Stencil statements of a recorded block, and how many were affine in their neighbours.
    @usableFromInline @exclusivity(unchecked) package var blockStencils = (all: 0, affine: 0)
    @usableFromInline @exclusivity(unchecked) package var largestTapeBytesInUse = 0
    @usableFromInline package var progress: ((Double) -> Void)?
    /// Paged adjoints for the taped blocks, when a block's dense adjoint vector does not fit.
    @usableFromInline package var pagedAdjoints: PagedAdjointVector?
    /// The disk level of two-level checkpointing, when the schedule uses one.
    @usableFromInline package var disk: DiskSnapshots?
    @usableFromInline @exclusivity(unchecked) package var diskWrites = 0
    @usableFromInline @exclusivity(unchecked) package var diskReads = 0
    /// Check mode (`TimeSteppingOptions.checksFinite`).
    @usableFromInline @exclusivity(unchecked) package var checksFinite = false
    /// The step recording, its arrays reused from one taped step to the next.
    @usableFromInline @exclusivity(unchecked) package var recorded = RecordedSteps.empty
    /// The block reversed last and the fingerprint of the state it started from: the state
    /// the next block reversed (the one before it) must end in.
    @usableFromInline @exclusivity(unchecked) package var reversedBlockStart: (block: Int, state: StateFingerprint)?

    @inlinable
    init(
        problem: Problem, initialState: [Double], parameters: [Double], steps: Int, tape: Tape, adjoints: AdjointVector,
        snapshotSlots: Int = 4, stepsPerBlock: Int = 1
    ) {
        precondition(stepsPerBlock >= 1, "a block has at least one step")
        self.stepsPerBlock = stepsPerBlock
        self.adjoints = adjoints
        slots = SnapshotPool(stateCount: initialState.count, slots: min(snapshotSlots, max(steps, 1)))
        self.problem = problem
        self.parameters = parameters
        self.steps = steps
        self.tape = tape
        ownedState = initialState
        scratch = initialState
        currentStep = 0
        nextReverse = Self.blockCount(steps: steps, stepsPerBlock: stepsPerBlock) - 1
        stateAdjoint = [Double](repeating: 0, count: initialState.count)
        parameterAdjoint = [Double](repeating: 0, count: parameters.count)
    }

    /// The state at `currentStep`, wherever it lives.
    @inlinable
    var current: [Double] {
        if let currentSlot { return slots.buffer(ofSlot: currentSlot) }
        return ownedState
    }

    /// The number of blocks: the `steps` of the schedule to run.
    @inlinable
    var blocks: Int { Self.blockCount(steps: steps, stepsPerBlock: stepsPerBlock) }

    /// ⌈steps / stepsPerBlock⌉ without forming `steps + stepsPerBlock - 1`, which overflows
    /// for a step count near `Int.max`.
    @inlinable
    static func blockCount(steps: Int, stepsPerBlock: Int) -> Int {
        steps / stepsPerBlock + (steps % stepsPerBlock == 0 ? 0 : 1)
    }

    /// The step at which `block` starts.
    @inlinable
    func firstStep(ofBlock block: Int) -> Int { block * stepsPerBlock }

    @inlinable
    func run<S: Sequence>(_ schedule: S) throws where S.Element == CheckpointAction {
        for action in schedule { try perform(action) }
        precondition(nextReverse == -1, "the schedule ended before reversing every step")
    }

    @inlinable
    func perform(_ action: CheckpointAction) throws {
        switch action {
        case let .advance(from, to):
            precondition(
                firstStep(ofBlock: from) == currentStep,
                "schedule advances from block \(from) but the state is at step \(currentStep)")
            let started = monotonicSeconds()
            try advance(to: firstStep(ofBlock: to))
            advanceSeconds += monotonicSeconds() - started
        case let .store(slot, block, .disk):
            precondition(
                firstStep(ofBlock: block) == currentStep,
                "schedule stores block \(block) but the state is at step \(currentStep)")
            guard let disk else { preconditionFailure("a two-level schedule needs a disk level") }
            try disk.store(current, slot: slot, step: block)
            diskWrites += 1
        case let .restore(slot, block, .disk):
            guard let disk else { preconditionFailure("a two-level schedule needs a disk level") }
            try disk.restore(slot: slot, step: block, into: &ownedState)
            currentSlot = nil
            currentStep = firstStep(ofBlock: block)
            diskReads += 1
        case let .free(slot, .disk):
            try disk?.free(slot: slot)
        case let .store(slot, block, _):
            precondition(
                firstStep(ofBlock: block) == currentStep,
                "schedule stores block \(block) but the state is at step \(currentStep)")
            storeCurrent(slot: slot, block: block)
        case let .restore(slot, block, _):
            if slots.movesBuffers {
                slots.checkHolds(slot: slot, step: block)
                currentSlot = slot
            } else {
                slots.restore(slot: slot, step: block, into: &ownedState)
            }
            currentStep = firstStep(ofBlock: block)
        case let .free(slot, _):
            free(slot: slot)
        case let .reverse(block):
            precondition(
                firstStep(ofBlock: block) == currentStep,
                "schedule reverses block \(block) but the state is at step \(currentStep)")
            precondition(block == nextReverse, "schedule reverses block \(block) out of order (expected \(nextReverse))")
            try reverse(block: block)
        }
    }

    /// Stores the current state in `slot`: a copy for small states, a move for large ones.
    @inlinable
    func storeCurrent(slot: Int, block: Int) {
        if slots.movesBuffers {
            // Already in a slot (stored twice without a step between): share that slot's
            // buffer; the arrays' copy on write keeps both snapshots intact.
            if let currentSlot { ownedState = slots.buffer(ofSlot: currentSlot) }
            slots.store(moving: &ownedState, slot: slot, step: block)
            currentSlot = slot
        } else {
            slots.store(ownedState, slot: slot, step: block)
        }
        peakSlots = max(peakSlots, slots.peakLiveCount)
    }

    /// Frees `slot`; a current state living there moves back to the executor first.
    @inlinable
    func free(slot: Int) {
        if currentSlot == slot {
            slots.take(slot: slot, into: &ownedState)
            currentSlot = nil
        } else {
            slots.free(slot: slot)
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

    /// Ends the forward phase of an online run at `steps` steps (the current state is the
    /// start of the last block: `x_{steps-1}` for single steps).
    @inlinable
    func endForward(steps: Int) {
        self.steps = steps
        precondition(currentStep == firstStep(ofBlock: blocks - 1), "an online run ends at the start of its last block")
        nextReverse = blocks - 1
    }

    /// Online runs over blocks: the state of block `block`'s start, kept while the block is
    /// advanced step by step (the stopping condition may end the run inside it), is stored in
    /// `slot` once the block is known not to be the last.
    @inlinable
    func storeBlockStart(_ state: [Double], slot: Int, block: Int) {
        if slots.movesBuffers {
            var moved = state
            slots.store(moving: &moved, slot: slot, step: block)
        } else {
            slots.store(state, slot: slot, step: block)
        }
        peakSlots = max(peakSlots, slots.peakLiveCount)
    }

    /// Online runs over blocks: moves back to the start of the last block, whose state and
    /// running sum were kept, to tape it.
    @inlinable
    func returnToBlockStart(_ state: [Double], step: Int, runningSum sum: Double) {
        ownedState = state
        currentSlot = nil
        currentStep = step
        runningSum = sum
        summedThrough = step
        scratchHoldsStateAfter = Int.min
    }

    /// Runs the primal from the current state to `x_target`, adding running costs the first
    /// time each state is reached.
    ///
    /// The loop runs on local arrays and counters, moved out of the executor and back: through
    /// the class's properties each step paid for accesses and retains, and advances ran 45 %
    /// slower than the same primal in a plain loop (Lorenz, 27 → 39 ns a step).
    @inlinable
    func advance(to target: Int) throws {
        guard currentStep < target else { return }
        var state: [Double] = []
        var next: [Double] = []
        swap(&state, &ownedState)
        swap(&next, &scratch)
        // A state living in a slot is read there; the executor's own buffer waits aside to
        // receive the step after the first, so that no step writes into the slot's buffer.
        var waiting: [Double] = []
        if let currentSlot {
            swap(&waiting, &state)
            state = slots.buffer(ofSlot: currentSlot)
            self.currentSlot = nil
        }
        let parameters = self.parameters
        var step = currentStep
        var sum = runningSum
        var summed = summedThrough
        var evaluations = 0
        // `next` may already hold the state after this one (`peekNext`).
        var nextIsComputed = scratchHoldsStateAfter == step
        scratchHoldsStateAfter = Int.min
        defer {
            if !waiting.isEmpty { next = waiting }
            swap(&state, &ownedState)
            swap(&next, &scratch)
            currentStep = step
            runningSum = sum
            summedThrough = summed
            advances += evaluations
        }
        while step < target {
            if !nextIsComputed {
                problem.step(state, parameters: parameters, into: &next)
                evaluations += 1
            }
            nextIsComputed = false
            swap(&state, &next)
            if _slowPath(checksFinite) && state.contains(where: { !$0.isFinite }) {
                try diagnose(step: step, from: next)
            }
            if _slowPath(!waiting.isEmpty) {
                next = waiting
                waiting = []
            }
            step += 1
            if problem.hasRunningCost && step > summed {
                sum = sum + problem.runningCost(state, parameters: parameters)
                summed = step
            }
        }
    }

    /// Throws `replayDiffers` when the recording of `block` ended in another state than the
    /// one the block reversed before it started from; then remembers `start`, the fingerprint
    /// of this block's first state, for the block reversed next.
    ///
    /// Why: the recording replays the block from a snapshot (or from a state an advance
    /// replayed), and the next block's start came from an earlier computation of the same
    /// steps. A step that is not a function of its state and parameters makes them differ, and
    /// the sweep would differentiate a trajectory the run never took (`StateFingerprint`).
    @inlinable
    func checkReplay(ofBlock block: Int, start: StateFingerprint, end: StateFingerprint) throws {
        if let later = reversedBlockStart, later.block == block + 1, end.differs(from: later.state) {
            let first = firstStep(ofBlock: block)
            // `first + stepsPerBlock` could pass `Int.max` on the last block of a run that long.
            throw TimeSteppingError.replayDiffers(firstStep: first, endStep: first + min(stepsPerBlock, steps - first))
        }
        reversedBlockStart = (block, start)
    }

    /// Records the steps of `block` from the current state on the tape and sweeps them,
    /// carrying the adjoints to the block's first state.
    @inlinable
    func reverse(block: Int) throws {
        let first = firstStep(ofBlock: block)
        let count = min(stepsPerBlock, steps - first)
        let endsRun = first + count == steps
        precondition(!endsRun || !problem.hasRunningCost || summedThrough == first, "running sum incomplete")
        // Phase times from every 16th block (scaled up): reading the clock three times per
        // step cost 7 % of a Lorenz run taped step by step.
        // Block 16k stands for blocks 16k ..< 16k + 16 (fewer at the top), so the weights add
        // up to the number of blocks exactly.
        let timed = block % 16 == 0
        let weight = Double(min(16, blocks - block))
        let recordStarted = timed ? monotonicSeconds() : 0
        tape.checksFinite = checksFinite
        // Move the recording out of the class for the block and back after: used in place
        // through the property, the struct of arrays was copied (a retain per array) per call.
        var recording = RecordedSteps.empty
        swap(&recording, &recorded)
        defer { swap(&recording, &recorded) }
        let start = StateFingerprint(current)
        recording.rerecord(
            problem, on: tape, state: current, parameters: parameters, steps: count,
            runningSum: runningSum, endsRun: endsRun)
        // The end state's identifiers are checked for one consecutive run on the same pass,
        // and the verdict handed to the sweep's seeding.
        let (end, consecutive) = StateFingerprint.ofValues(recording.finalState)
        recording.finalStateIsConsecutive = consecutive
        try checkReplay(ofBlock: block, start: start, end: end)
        let reverseStarted = timed ? monotonicSeconds() : 0
        recordSeconds += weight * (reverseStarted - recordStarted)
        if endsRun { objective = recording.objective!.value }
        // A lost spilled chunk ends the run here (the sweep throws it), not after recomputing
        // the rest of the run; a chunk lost while recording is thrown just as well.
        try recording.reverse(
            on: tape, adjoints: adjoints, paged: pagedAdjoints, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
            parameterAdjoint: &parameterAdjoint)
        if timed { reverseSeconds += weight * (monotonicSeconds() - reverseStarted) }
        if _slowPath(checksFinite), let found = recording.nonFinite(on: tape, firstStep: first) {
            throw TimeSteppingError.nonFiniteInRun(step: found.step, report: found.report)
        }
        // Block tapes are alike but for the last (shorter, with the objective) and the arena
        // only grows, so sampling the size now and then and at the end finds the peak without
        // walking the chunks on every block.
        if timed || endsRun {
            peakTapeBytes = max(peakTapeBytes, tape.reservedByteCount + (pagedAdjoints?.peakByteCount ?? adjoints.byteCount))
        }
        if tapedSteps == 0 || endsRun {
            let statistics = tape.statistics
            largestTapeStatements = max(largestTapeStatements, statistics.statementCount)
            largestTapeBytesInUse = max(largestTapeBytesInUse, statistics.bytesInUse)
            if statistics.stencilStatementCount > blockStencils.all {
                blockStencils = (statistics.stencilStatementCount, statistics.affineStencilStatementCount)
            }
        }
        tapedSteps += count
        nextReverse -= 1
        currentStep = -1
        currentSlot = nil
        if let progress, blocks >= 100, (blocks - block) % max(1, blocks / 200) == 0 {
            progress(Double(tapedSteps) / Double(steps))
        }
    }
}
