import RewindCore
import RewindSchedules
import RewindStorage
/// Chooses how to run a time-stepping gradient inside a memory budget (a `RunPlan`), from a measured
/// sample of the problem: one step recorded and timed, and a few primal steps timed.
///
/// The memory model (all bytes, all measured on the sample except the snapshot size):
/// - the *step working set* `W`: the tape of one recorded step as its arena reserves it,
///   its adjoint vector, and the state arrays of the recording and the executor;
/// - a *snapshot* `B = 8·n + 64` bytes for a state of `n` values (the state in the snapshot
///   pool, its step, and the slot's frame in revolve's schedule stack);
/// - store-all: `N` times the column bytes one step's statements need (1 byte a statement, 12
///   a partial: the identifier column is as long as the partial column), plus the slack of the
///   arena's doubling chunks (at most as much again, at most one maximal chunk), plus the
///   adjoint vector for all of them.
/// The sample step is recorded with the objective, as the last step is, so that `W` covers the
/// largest step tape of the run.
/// The minimum budget for a checkpointed run is `W + B` (one snapshot, of `x_0`). `auto` takes
/// the fastest predicted plan among those that fit: store-all, revolve with up to
/// `c = ⌊(budget − W)/B⌋` snapshots (capped at `N`), and with a spill directory two-level
/// revolve, spilled step tapes or the whole tape on disk.
///
/// Blocks (`auto` and `revolve` without a snapshot count): revolve may schedule blocks of `L`
/// steps taped together instead of single steps (see `CheckpointExecutor`). For each `L` in
/// 1, 2, 4, … up to `largestBlock` (the block's tape at most 1 MiB, a core's L2,
/// and its working set `W(L)` at most half the budget) the planner predicts
/// `L·t(⌈N/L⌉, c(L))·advance + N·taped(L)` seconds, where `c(L) = ⌊(budget − W(L))/B⌋` and
/// `taped(L)` is interpolated between one step and blocks timed on their own tapes at a
/// quarter of the cache and at all of it (`RunSample.tapedSecondsPerStep(stepsPerBlock:)`:
/// a per-tape part divided by `L` plus a per-step part on each segment); it takes the
/// fastest. The chosen block's `W(L)` is then measured by recording one.
///
/// Fresh memory: every prediction adds the first touch of the memory it needs beyond what the
/// workspace already holds, at the measured cost of a fresh page. Where store-all fits, `auto`
/// still takes blocked revolve if that is predicted faster: on this project's machines a
/// fresh page costs 1–4 µs, so Lorenz's 330 MB store-all tape takes longer than recomputing
/// the whole primal once and taping it in blocks that stay in cache.
@usableFromInline
package enum RunPlanner {
    /// Chunk-sized buffers resident while a tape spills: the chunk being recorded, the
    /// `SpillStore`'s two write staging buffers, its compressed frame and file input buffer, its
    /// two read buffers, and the tape's buffer the sweep reads from.
    @usableFromInline
    package static let spillBufferChunks = 8

    /// States whose recording arrays (`stateArrayBytes`) take more than this are "large": a
    /// budget below them is refused before any sample, and a tight budget samples them spilling.
    @usableFromInline
    package static let largeStateBytes = 8 << 20

    /// Recording arrays of tracked values (the leaves and the two state buffers) and of plain
    /// ones (the executor's two states, the state's adjoint, a stencil's copy of its inputs
    /// and, when it keeps partials, of its outputs).
    @usableFromInline
    package static func stateArrayBytes(stateCount: Int) -> Int {
        .saturating(stateCount, times: 3 * MemoryLayout<Tracked>.stride + 5 * MemoryLayout<Double>.stride)
    }

    /// Bytes one taped block of `steps` steps holds while it is recorded and swept: its tape
    /// as the arena reserves it, its adjoint vector and the state arrays. Measured for one step
    /// and for the block the sample recorded; otherwise bounded from the per-step counts (the
    /// arena's doubling chunks reserve at most twice what they hold, plus the first chunk).
    @usableFromInline
    package static func blockWorkingSetBytes(steps: Int, sample: RunSample, stateCount: Int) -> Int {
        let stateArrays = stateArrayBytes(stateCount: stateCount)
        // A measured block first, one step included: a step that keeps its stencils' partials
        // needs more than the sample's step, which kept inputs.
        if let measured = sample.measuredBlock, measured.steps == steps { return measured.reservedBytes + stateArrays }
        let oneStep = sample.stepTapeReservedBytes + stateArrays
        if steps == 1 { return oneStep }
        let arena = arenaBytes(
            statements: .saturating(steps, times: sample.statementsPerStep),
            partials: .saturating(steps, times: sample.partialsPerStep))
        let oneStepAdjoints = sample.stepTapeReservedBytes - sample.stepTapeOnlyBytes
        let adjoints = Int.saturating(
            .saturating(steps - 1, times: sample.identifiersPerStep * MemoryLayout<Double>.stride), plus: oneStepAdjoints)
        return max(oneStep, .saturating(.saturating(arena, plus: adjoints), plus: stateArrays))
    }

    /// At most what the arena reserves for a recording of `statements` statements with
    /// `partials` partials: its doubling chunks hold at most twice that, plus the first chunk.
    @usableFromInline
    package static func arenaBytes(statements: Int, partials: Int) -> Int {
        let configuration = TapeConfiguration.default
        let arguments = configuration.argumentsPerStatement
        let capacity = max(statements, partials / arguments + (partials % arguments == 0 ? 0 : 1))
        return Int.saturating(
            .saturating(.saturating(2, times: capacity), plus: configuration.initialStatementCapacity),
            times: 1 + arguments * 12)
    }

    /// Statements per chunk for a sample step recorded while spilling (`RunSample`): the
    /// spill buffers within a quarter of what the budget leaves beside `floor`, since the
    /// step's adjoint vector is not known yet and must fit there too.
    @usableFromInline
    package static func sampleSpillChunkStatements(budget: Int, floor: Int) -> Int {
        let bytesPerStatement = 1 + TapeConfiguration.default.argumentsPerStatement * 12
        return max(256, (budget - floor) / (4 * spillBufferChunks) / bytesPerStatement)
    }

    /// Tape sizes at which the sample times a block: a quarter of a core's L2 here and all of
    /// it. Past the first, a block starts to leave the cache; up to the second it may still
    /// pay (a Burgers step's tape is 135 KB, so only the second allows blocks at all: 4 steps
    /// run 10.4× the primal against 12.3× one step a tape). Which wins is measured.
    @usableFromInline
    package static let blockCacheBytes = [1 << 18, 1 << 20]

    /// The longest block worth considering: its tape at most `cacheBytes` and its working set
    /// at most half the budget; a power of two, at least 1, at most 4096 steps.
    @usableFromInline
    package static func largestBlock(sample: RunSample, budget: Int, stateCount: Int, cacheBytes: Int) -> Int {
        var steps = 1
        while steps < 4096 && 2 * steps * max(1, sample.stepTapeUsedBytes) <= cacheBytes
            && 2 * blockWorkingSetBytes(steps: 2 * steps, sample: sample, stateCount: stateCount) <= budget
        {
            steps *= 2
        }
        return steps
    }

    /// The plan for `strategy` inside `budget`, refused (`TimeSteppingError.predictedTooLong`)
    /// when its predicted time exceeds `maximumSeconds`, and refused
    /// (`TimeSteppingError.tooManyEvaluations`) when its count of step evaluations does not
    /// fit in `Int`: every count here is computed with overflow checks, since steps, snapshots
    /// and blocks may come straight from a command line.
    @usableFromInline
    package static func plan(
        strategy: CheckpointStrategy, budget: MemoryBudget, steps: Int, stateCount: Int, sample: RunSample,
        diskAllowed: Bool = false, stepsPerBlock requestedBlock: Int? = nil, maximumSeconds: Double? = nil
    ) throws -> RunPlan {
        let plan = try planInsideBudget(
            strategy: strategy, budget: budget, steps: steps, stateCount: stateCount, sample: sample,
            diskAllowed: diskAllowed, stepsPerBlock: requestedBlock)
        try checkDuration(of: plan, steps: steps, maximumSeconds: maximumSeconds)
        return plan
    }

    /// Throws `predictedTooLong` when `plan` is predicted to take longer than `maximumSeconds`.
    @usableFromInline
    package static func checkDuration(of plan: RunPlan, steps: Int, maximumSeconds: Double?) throws {
        guard let maximumSeconds, plan.predictedSeconds > maximumSeconds else { return }
        throw TimeSteppingError.predictedTooLong(
            seconds: plan.predictedSeconds, limit: maximumSeconds,
            evaluations: .saturating(steps, plus: plan.predictedAdvances), plan: plan.summary)
    }

    @usableFromInline
    package static func planInsideBudget(
        strategy: CheckpointStrategy, budget: MemoryBudget, steps: Int, stateCount: Int, sample: RunSample,
        diskAllowed: Bool, stepsPerBlock requestedBlockAsked: Int?
    ) throws -> RunPlan {
        // A block longer than the run is the run.
        let requestedBlock = requestedBlockAsked.map { min($0, steps) }
        if let requestedBlock, requestedBlock > 1 {
            switch strategy {
            case .auto, .revolve, .online: break
            default: throw TimeSteppingError.blocksNeedRevolve(strategy: strategy.description)
            }
        }
        // A slot holds the state (8 bytes a value), its step (8) in the pool, and a frame of
        // revolve's schedule stack (32), plus 24 bytes of allocator slack.
        let snapshotBytes = stateCount * MemoryLayout<Double>.stride + 64
        // Recording arrays (leaves, outputs, scratch) of tracked values and executor states.
        let stateArrays = stateArrayBytes(stateCount: stateCount)
        // The reserved figure already includes the adjoint vector of the largest step tape.
        let workingSet = sample.stepTapeReservedBytes + stateArrays
        let maximalChunkBytes = TapeConfiguration.default.maximumStatementCapacity
            * (1 + TapeConfiguration.default.argumentsPerStatement * 12)
        let storeAllUsed = Int.saturating(steps, times: sample.stepTapeUsedBytes)
        let firstChunkBytes = TapeConfiguration.default.initialStatementCapacity
            * (1 + TapeConfiguration.default.argumentsPerStatement * 12)
        // Saturating: a store-all tape of more than Int.max bytes fits no budget.
        let storeAllSum = Int.saturating(
            .saturating(
                max(.saturating(storeAllUsed, plus: min(storeAllUsed, maximalChunkBytes)), firstChunkBytes),
                plus: .saturating(steps, times: sample.identifiersPerStep * MemoryLayout<Double>.stride)),
            plus: stateArrays)
        let storeAllBytes = storeAllSum == .max ? .max : storeAllSum / 20 * 21
        let minimum = workingSet + snapshotBytes
        let available = budget.bytes - workingSet

        /// The snapshot count of the last revolve candidate whose advances did not fit in
        /// `Int`, for the refusal when no candidate is left.
        var uncountable: Int?
        /// The refusal when every revolve candidate that fits the memory has too many advances
        /// to count.
        func tooManyEvaluations() -> TimeSteppingError {
            let snapshots = uncountable ?? 1
            return .tooManyEvaluations(
                steps: steps, snapshots: snapshots,
                largestSteps: RevolveSchedule.largestSteps(snapshots: snapshots, evaluations: .max))
        }

        /// Revolve over blocks of `length` steps with `requested` snapshots, or with as many
        /// as the budget holds beside the block's working set; nil when not one fits, or when
        /// its advances do not fit in `Int` (then `uncountable` says with how many snapshots).
        func revolvePlan(snapshots requested: Int?, stepsPerBlock length: Int, online: Bool = false) -> RunPlan? {
            let blockWorkingSet = blockWorkingSetBytes(steps: length, sample: sample, stateCount: stateCount)
            let blocks = steps / length + (steps % length == 0 ? 0 : 1)
            let most = min(requested ?? (budget.bytes - blockWorkingSet) / snapshotBytes, blocks)
            guard most >= 1 else { return nil }
            func predictedSeconds(_ snapshots: Int) -> (advances: Int, seconds: Double)? {
                guard let blockAdvances = RevolveSchedule.checkedMinimumAdvances(steps: blocks, snapshots: snapshots)
                else { return nil }
                let (advances, overflow) = length.multipliedReportingOverflow(by: blockAdvances)
                guard !overflow else { return nil }
                let seconds = Double(advances) * sample.advanceSecondsPerStep
                    + Double(steps) * sample.tapedSecondsPerStep(stepsPerBlock: length)
                    // Each half at most Int.max / 2, so that their sum in the sample stays in Int.
                    + sample.freshMemorySeconds(
                        min(blockWorkingSet, .max / 2), plus: min(.saturating(snapshots, times: snapshotBytes), .max / 2))
                return (advances, seconds)
            }
            // Fewer snapshots than fit, when their fresh pages cost more than the advances
            // they save (large states: a Burgers snapshot of 4096 points is 8 pages): the
            // fastest of c, c/2, c/4, … (only when the count is the planner's to choose).
            var snapshots = most
            guard var (advances, seconds) = predictedSeconds(most) else {
                uncountable = most
                return nil
            }
            var candidate = most / 2
            while requested == nil && candidate >= 1 {
                // Fewer snapshots whose advances cannot be counted are no candidates.
                guard let (candidateAdvances, candidateSeconds) = predictedSeconds(candidate) else { break }
                if candidateSeconds < seconds {
                    (snapshots, advances, seconds) = (candidate, candidateAdvances, candidateSeconds)
                }
                candidate /= 2
            }
            return RunPlan(
                strategy: online ? .online(snapshots: snapshots) : .revolve(snapshots: snapshots),
                snapshots: snapshots, predictedAdvances: advances, predictedSeconds: seconds,
                stepWorkingSetBytes: blockWorkingSet, snapshotBytes: snapshotBytes, storeAllBytes: storeAllBytes,
                stepsPerBlock: length, snapshotsThatFit: most)
        }
        /// Revolve over the requested block length, or over the one that the cost model
        /// predicts fastest (see the type's comment): single steps when no block was sampled.
        func fastestRevolvePlan(online: Bool = false) -> RunPlan? {
            var lengths = [1]
            if let requestedBlock {
                lengths = [requestedBlock]
            } else if sample.longestTimedBlock > 1 {
                let longest = min(
                    steps,
                    largestBlock(
                        sample: sample, budget: budget.bytes, stateCount: stateCount,
                        cacheBytes: blockCacheBytes.last!))
                while 2 * lengths.last! <= longest { lengths.append(2 * lengths.last!) }
            }
            return lengths.compactMap { revolvePlan(snapshots: nil, stepsPerBlock: $0, online: online) }
                .min { $0.predictedSeconds < $1.predictedSeconds }
        }
        let storeAll = RunPlan(
            strategy: .storeAll, snapshots: 0, predictedAdvances: 0,
            predictedSeconds: Double(steps) * sample.tapedSecondsPerStep(stepsPerBlock: steps)
                + sample.freshMemorySeconds(storeAllBytes),
            stepWorkingSetBytes: workingSet,
            snapshotBytes: snapshotBytes, storeAllBytes: storeAllBytes)

        /// Store-all with its tape on disk: the adjoint vector of the whole run, the states and
        /// the spill buffers stay in memory. Predicted time: per phase, the in-memory work or the
        /// I/O when that is longer — writes and reads run on the I/O queue, on the other core,
        /// so only what they do not hide shows (`RunSample.spillWriteSecondsPerByte`,
        /// `RunSample.spillReadSecondsPerByte`).
        func spillPlan() -> Result<RunPlan, TimeSteppingError> {
            let bytesPerStatement = 1 + TapeConfiguration.default.argumentsPerStatement * 12
            let adjointBytes = Int.saturating(
                .saturating(.saturating(steps, times: sample.identifiersPerStep), plus: stateCount + 64),
                times: MemoryLayout<Double>.stride)
            let resident = Int.saturating(adjointBytes, plus: stateArrays)
            let minimumChunk = 256 * bytesPerStatement
            let needed = Int.saturating(resident, plus: spillBufferChunks * minimumChunk)
            guard budget.bytes >= needed else {
                return .failure(
                    .budgetTooSmall(
                        budget: budget.bytes, minimum: needed,
                        shortfall: .spilledStoreAll(adjointBytes: adjointBytes)))
            }
            var plan = storeAll
            plan.strategy = .spill
            let chunkBytes = min(
                max(minimumChunk, (budget.bytes - resident) / spillBufferChunks),
                TapeConfiguration.default.maximumStatementCapacity * bytesPerStatement)
            plan.spillChunkStatements = chunkBytes / bytesPerStatement
            plan.stepWorkingSetBytes = resident + spillBufferChunks * chunkBytes
            let computing = Double(steps) * sample.tapedSecondsPerStep(stepsPerBlock: steps)
            let recording = computing * sample.recordingShareOfTaped
            let bytes = Double(steps) * (sample.spilledBytesPerStep ?? Double(sample.stepTapeUsedBytes))
            // Writes overlap the recording and reads the sweep, never each other: each phase
            // takes the longer of its work and its I/O. (One `max` over the whole run predicted
            // spilled runs 2.8× low where the sweep waited for reads, issue 13.)
            plan.predictedSeconds = max(recording, bytes * sample.spillWriteSecondsPerByte)
                + max(computing - recording, bytes * sample.spillReadSecondsPerByte)
                + sample.freshMemorySeconds(plan.stepWorkingSetBytes)
            return .success(plan)
        }

        /// Enough snapshots in all that no step is advanced more than twice (repetition ≤ 2).
        func twoLevelPlan(memory: Int, disk requestedDisk: Int?) throws -> RunPlan {
            var total = memory
            if let requestedDisk {
                total = min(steps, Int.saturating(memory, plus: requestedDisk))
            } else {
                while total < steps && RevolveSchedule.repetitionNumber(steps: steps, snapshots: total) > 2 {
                    total = min(steps, Int.saturating(total, times: 2))
                }
            }
            guard var plan = revolvePlan(snapshots: total, stepsPerBlock: 1) else { throw tooManyEvaluations() }
            plan.strategy = .twoLevel(memorySnapshots: memory, diskSnapshots: total - memory)
            plan.snapshots = total
            plan.diskSnapshots = total - memory
            return plan
        }

        switch strategy {
        case .twoLevel(let memory, let disk):
            if let memory, memory < 1 { throw TimeSteppingError.invalidSnapshots(memory) }
            let inMemory = memory ?? max(1, available / snapshotBytes)
            let needed = Int.saturating(workingSet, plus: .saturating(min(inMemory, steps), times: snapshotBytes))
            guard budget.bytes >= needed else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: needed,
                    shortfall: .stepAndSnapshots(
                        stepsPerBlock: 1, workingSetBytes: workingSet, snapshots: inMemory, snapshotBytes: snapshotBytes))
            }
            return try twoLevelPlan(memory: min(inMemory, steps), disk: disk)
        case .spill:
            return try spillPlan().get()
        case .storeAll:
            guard storeAllBytes <= budget.bytes else {
                throw TimeSteppingError.storeAllDoesNotFit(budget: budget.bytes, needed: storeAllBytes)
            }
            return storeAll
        case .auto:
            if storeAllBytes <= budget.bytes {
                // Store-all records no step twice, but touches its whole tape once: where
                // fresh pages are dear, revolve over cache-sized blocks can be faster.
                if let blocked = fastestRevolvePlan(), blocked.predictedSeconds < storeAll.predictedSeconds {
                    return blocked
                }
                return storeAll
            }
            if budget.bytes < minimum && diskAllowed {
                // One step's tape does not fit beside a snapshot: let the step tapes spill.
                // Resident while spilling: the spill buffers, so a chunk gets that share of
                // what remains after everything else and two snapshots.
                let untaped = workingSet - sample.stepTapeOnlyBytes
                let bytesPerStatement = 1 + TapeConfiguration.default.argumentsPerStatement * 12
                let minimumChunk = 256 * bytesPerStatement
                let spillingMinimum = untaped + spillBufferChunks * minimumChunk + 2 * snapshotBytes
                guard var plan = revolvePlan(snapshots: 2, stepsPerBlock: 1) else { throw tooManyEvaluations() }
                if budget.bytes >= spillingMinimum {
                    let chunkBytes = max(minimumChunk, (budget.bytes - untaped - 2 * snapshotBytes) / spillBufferChunks)
                    plan.stepWorkingSetBytes = untaped + spillBufferChunks * chunkBytes
                    plan.spillChunkStatements = chunkBytes / bytesPerStatement
                    return plan
                }
                // Not even the step's dense adjoint vector fits: paged adjoints keep the inputs'
                // adjoints and the pages the sweep is in (a few pages, and at most a chunk's
                // span of identifiers: one more chunk-sized allowance).
                // (The inputs' adjoints, four pages, and the outputs' seeds waiting for their
                // pages: an identifier and a value each.)
                let pagedUntaped = stateArrays
                    + (stateCount + 64 + 4 * PagedAdjointVector.pageSize) * MemoryLayout<Double>.stride
                    + stateCount * 16
                let pagedMinimum = pagedUntaped + (spillBufferChunks + 1) * minimumChunk + 2 * snapshotBytes
                guard budget.bytes >= pagedMinimum else {
                    throw TimeSteppingError.budgetTooSmall(
                        budget: budget.bytes, minimum: pagedMinimum,
                        shortfall: .pagedStep(residentBytes: pagedUntaped, snapshotBytes: snapshotBytes))
                }
                let chunkBytes = max(
                    minimumChunk, (budget.bytes - pagedUntaped - 2 * snapshotBytes) / (spillBufferChunks + 1))
                plan.stepWorkingSetBytes = pagedUntaped + (spillBufferChunks + 1) * chunkBytes
                plan.spillChunkStatements = chunkBytes / bytesPerStatement
                plan.pagedAdjoints = true
                return plan
            }
            guard budget.bytes >= minimum else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: minimum,
                    shortfall: .stepAndSnapshots(
                        stepsPerBlock: 1, workingSetBytes: workingSet, snapshots: 1, snapshotBytes: snapshotBytes))
            }
            let inMemory = available / snapshotBytes
            var chosen: RunPlan
            // Threshold: with a disk at hand, spill snapshots once memory alone would advance
            // some step more than three times (repetition number > 3).
            if diskAllowed && inMemory < steps && RevolveSchedule.repetitionNumber(steps: steps, snapshots: inMemory) > 3 {
                chosen = try twoLevelPlan(memory: inMemory, disk: nil)
            } else {
                guard let plan = fastestRevolvePlan() ?? revolvePlan(snapshots: inMemory, stepsPerBlock: 1) else {
                    throw tooManyEvaluations()
                }
                chosen = plan
            }
            // I/O against recomputation, both timed on this machine: the whole tape on disk
            // when writing and reading it is predicted faster than recomputing.
            if diskAllowed && sample.spillSecondsPerByte > 0, case .success(let spill) = spillPlan(),
                spill.predictedSeconds < chosen.predictedSeconds
            {
                chosen = spill
            }
            return chosen
        case .revolve(let requested), .online(let requested):
            let online: Bool
            if case .online = strategy { online = true } else { online = false }
            if let requested, requested < 1 { throw TimeSteppingError.invalidSnapshots(requested) }
            if requested == nil, let fastest = fastestRevolvePlan(online: online) { return fastest }
            let length = requestedBlock ?? 1
            let blockWorkingSet = blockWorkingSetBytes(steps: length, sample: sample, stateCount: stateCount)
            let blocks = steps / length + (steps % length == 0 ? 0 : 1)
            let snapshots = requested ?? max(1, (budget.bytes - blockWorkingSet) / snapshotBytes)
            let needed = Int.saturating(blockWorkingSet, plus: .saturating(min(snapshots, blocks), times: snapshotBytes))
            guard budget.bytes >= needed else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: requested == nil && length == 1 ? minimum : needed,
                    shortfall: .stepAndSnapshots(
                        stepsPerBlock: length, workingSetBytes: blockWorkingSet,
                        snapshots: requested == nil ? 1 : min(snapshots, blocks), snapshotBytes: snapshotBytes))
            }
            guard let plan = revolvePlan(snapshots: snapshots, stepsPerBlock: length, online: online) else {
                throw tooManyEvaluations()
            }
            return plan
        }
    }
}

extension Int {
    /// `a · b` for non-negative operands, or `Int.max` when that overflows: byte and step
    /// counts built from user input, where "more than `Int.max`" fits no budget and no count.
    @usableFromInline
    package static func saturating(_ a: Int, times b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// `a + b` for non-negative operands, or `Int.max` when that overflows.
    @usableFromInline
    package static func saturating(_ a: Int, plus b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}

extension TimeStepping {
    /// Refuses a budget that cannot hold the states and leaves of one recorded step of a
    /// problem with `stateCount` values plus `extraBytes` the caller will allocate beside them,
    /// before anything is allocated: a caller can ask this before it builds a large initial
    /// state. Only large floors (over 8 MiB) are refused here; below that the timed sample
    /// gives the exact minimum, which is higher.
    ///
    /// - Throws: `TimeSteppingError.budgetTooSmall` naming `budget` and the floor.
    public static func checkBudgetHoldsStates(_ budget: MemoryBudget, stateCount: Int, extraBytes: Int = 0) throws {
        let floor = Int.saturating(RunPlanner.stateArrayBytes(stateCount: stateCount), plus: extraBytes)
        guard budget.bytes < floor && floor > RunPlanner.largeStateBytes else { return }
        throw TimeSteppingError.budgetTooSmall(
            budget: budget.bytes, minimum: floor,
            shortfall: .statesAlone(withCallerArrays: extraBytes > 0))
    }
}
