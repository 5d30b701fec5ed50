/// Chooses how to run a time-stepping gradient inside a memory budget, from a measured
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
/// The minimum budget for a checkpointed run is `W + B` (one snapshot, of `x_0`). `auto`
/// chooses store-all when it fits, otherwise revolve with `c = ⌊(budget − W)/B⌋` snapshots,
/// capped at `N`.
@usableFromInline
struct RunPlan {
    @usableFromInline var strategy: CheckpointStrategy
    @usableFromInline var snapshots: Int
    /// Of `snapshots`, how many live on disk.
    @usableFromInline var diskSnapshots: Int = 0
    @usableFromInline var predictedAdvances: Int
    @usableFromInline var predictedSeconds: Double
    @usableFromInline var stepWorkingSetBytes: Int
    @usableFromInline var snapshotBytes: Int
    @usableFromInline var storeAllBytes: Int
    /// When one step's tape does not fit: the chunk size (in statements) at which the step
    /// tapes spill to disk.
    @usableFromInline var spillChunkStatements: Int?

    @usableFromInline var summary: String {
        var strategyText: String
        switch strategy {
        case .storeAll: strategyText = "store-all"
        case .revolve: strategyText = "revolve with \(snapshots) snapshots"
        case .online: strategyText = "online with \(snapshots) snapshots"
        case .twoLevel:
            strategyText = "two-level revolve with \(snapshots - diskSnapshots) snapshots in memory and \(diskSnapshots) on disk"
        case .spill: strategyText = "store-all with its tape spilled to disk"
        case .auto: strategyText = "auto"
        }
        if let spillChunkStatements {
            strategyText += ", step tapes spilled to disk in chunks of \(spillChunkStatements) statements"
        }
        return "\(strategyText): \(predictedAdvances) advances predicted, about "
            + "\(formatSeconds(predictedSeconds)); one step's working set \(MemoryBudget.format(stepWorkingSetBytes)), "
            + "snapshot \(MemoryBudget.format(snapshotBytes)), store-all \(MemoryBudget.format(storeAllBytes))"
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : "\((seconds * 100).rounded() / 100) s"
}

@usableFromInline
struct RunSample {
    @usableFromInline var primalSecondsPerStep: Double
    @usableFromInline var tapedSecondsPerStep: Double
    /// Tape and adjoint vector of the largest step (the last, with the objective), as reserved.
    @usableFromInline var stepTapeReservedBytes: Int
    @usableFromInline var stepTapeUsedBytes: Int
    /// The largest step tape alone, without its adjoint vector.
    @usableFromInline var stepTapeOnlyBytes: Int
    @usableFromInline var identifiersPerStep: Int

    @inlinable
    init(
        primalSecondsPerStep: Double, tapedSecondsPerStep: Double, stepTapeReservedBytes: Int,
        stepTapeOnlyBytes: Int, stepTapeUsedBytes: Int, identifiersPerStep: Int
    ) {
        self.stepTapeOnlyBytes = stepTapeOnlyBytes
        self.primalSecondsPerStep = primalSecondsPerStep
        self.tapedSecondsPerStep = tapedSecondsPerStep
        self.stepTapeReservedBytes = stepTapeReservedBytes
        self.stepTapeUsedBytes = stepTapeUsedBytes
        self.identifiersPerStep = identifiersPerStep
    }

    /// Records and sweeps the first step once, and times primal steps.
    @inlinable
    static func measure<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, tape: Tape, adjoints: AdjointVector
    ) -> RunSample {
        var stateAdjoint = [Double](repeating: 0, count: initialState.count)
        var parameterAdjoint = [Double](repeating: 0, count: parameters.count)
        var sumAdjoint = 1.0
        // Three passes: a warm-up (the first touches new memory and would overstate the time),
        // timed ordinary steps for the per-step figures, and the last step with the
        // objective, whose tape is the largest of the run.
        var tapedSeconds = 0.0
        var stepUsedBytes = 0
        var stepIdentifiers = 0
        var reserved = 0
        var tapeReserved = 0
        var recorded = RecordedSteps(
            stateLeaves: [], parameterLeaves: [], finalState: [], runningCosts: [], objective: nil, sumLeaf: nil,
            positionBeforeObjective: .start, runningSum: 0)
        for pass in 0..<3 {
            // The timed pass repeats the step until about a millisecond has passed, so that a
            // small step is not timed by one cold run.
            var repetitions = 0
            let start = monotonicSeconds()
            repeat {
                // Reusing the arrays, as the executor does for every taped step.
                recorded.rerecord(
                    problem, on: tape, state: initialState, parameters: parameters, steps: 1, runningSum: 0,
                    endsRun: pass == 2)
                recorded.reverse(
                    on: tape, adjoints: adjoints, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
                    parameterAdjoint: &parameterAdjoint)
                repetitions += 1
            } while pass == 1 && repetitions < 1000 && monotonicSeconds() - start < 1e-3
            if pass == 1 {
                tapedSeconds = (monotonicSeconds() - start) / Double(repetitions)
                let statistics = tape.statistics
                // What the arena reserves for these statements: the identifier column is as
                // long as the partial column, whether or not every partial has an identifier.
                stepUsedBytes = statistics.statementCount + 12 * statistics.partialCount
                stepIdentifiers = tape.identifierCount
            }
            reserved = max(reserved, tape.reservedByteCount + adjoints.byteCount)
            tapeReserved = max(tapeReserved, tape.reservedByteCount)
        }
        tape.reset()

        var state = initialState
        var next = initialState
        let sampleSteps = min(steps, max(1, 400_000 / max(1, initialState.count * 25)))
        var sum = 0.0
        let start = monotonicSeconds()
        for _ in 0..<sampleSteps {
            problem.step(state, parameters: parameters, into: &next)
            swap(&state, &next)
            // An advance also adds the running cost the first time it reaches a state.
            if problem.hasRunningCost { sum = sum + problem.runningCost(state, parameters: parameters) }
        }
        let primalSeconds = (monotonicSeconds() - start) / Double(sampleSteps)
        withExtendedLifetime(sum) {}
        return RunSample(
            primalSecondsPerStep: primalSeconds, tapedSecondsPerStep: tapedSeconds,
            stepTapeReservedBytes: reserved, stepTapeOnlyBytes: tapeReserved, stepTapeUsedBytes: stepUsedBytes,
            identifiersPerStep: stepIdentifiers - parameters.count - initialState.count)
    }
}

@usableFromInline
enum RunPlanner {
    /// Recording arrays (leaves, outputs, scratch) of tracked values and the executor's states.
    @usableFromInline
    static func stateArrayBytes(stateCount: Int) -> Int {
        stateCount * (3 * MemoryLayout<Tracked>.stride + 4 * MemoryLayout<Double>.stride)
    }

    @usableFromInline
    static func plan(
        strategy: CheckpointStrategy, budget: MemoryBudget, steps: Int, stateCount: Int, sample: RunSample,
        diskAllowed: Bool = false
    ) throws -> RunPlan {
        // A slot holds the state (8 bytes a value), its step (8) in the pool, and a frame of
        // revolve's schedule stack (32), plus 24 bytes of allocator slack.
        let snapshotBytes = stateCount * MemoryLayout<Double>.stride + 64
        // Recording arrays (leaves, outputs, scratch) of tracked values and executor states.
        let stateArrays = stateArrayBytes(stateCount: stateCount)
        // The reserved figure already includes the adjoint vector of the largest step tape.
        let workingSet = sample.stepTapeReservedBytes + stateArrays
        let maximalChunkBytes = TapeConfiguration.default.maximumStatementCapacity
            * (1 + TapeConfiguration.default.argumentsPerStatement * 12)
        let storeAllUsed = steps * sample.stepTapeUsedBytes
        let firstChunkBytes = TapeConfiguration.default.initialStatementCapacity
            * (1 + TapeConfiguration.default.argumentsPerStatement * 12)
        let storeAllBytes =
            (max(storeAllUsed + min(storeAllUsed, maximalChunkBytes), firstChunkBytes)
                + steps * sample.identifiersPerStep * MemoryLayout<Double>.stride + stateArrays) / 20 * 21
        let minimum = workingSet + snapshotBytes
        let available = budget.bytes - workingSet

        func revolvePlan(_ snapshots: Int, online: Bool) -> RunPlan {
            let c = max(1, min(snapshots, steps))
            let advances = RevolveSchedule.minimumAdvances(steps: steps, snapshots: c)
            let seconds =
                Double(advances) * sample.primalSecondsPerStep + Double(steps) * sample.tapedSecondsPerStep
            return RunPlan(
                strategy: online ? .online(snapshots: c) : .revolve(snapshots: c), snapshots: c,
                predictedAdvances: advances, predictedSeconds: seconds, stepWorkingSetBytes: workingSet,
                snapshotBytes: snapshotBytes, storeAllBytes: storeAllBytes)
        }
        let storeAll = RunPlan(
            strategy: .storeAll, snapshots: 0, predictedAdvances: 0,
            predictedSeconds: Double(steps) * sample.tapedSecondsPerStep, stepWorkingSetBytes: workingSet,
            snapshotBytes: snapshotBytes, storeAllBytes: storeAllBytes)

        /// Enough snapshots in all that no step is advanced more than twice (repetition ≤ 2).
        func twoLevelPlan(memory: Int, disk requestedDisk: Int?) -> RunPlan {
            var total = memory
            if let requestedDisk {
                total = memory + requestedDisk
            } else {
                while total < steps && RevolveSchedule.repetitionNumber(steps: steps, snapshots: total) > 2 {
                    total = min(steps, total * 2)
                }
            }
            var plan = revolvePlan(total, online: false)
            plan.strategy = .twoLevel(memorySnapshots: memory, diskSnapshots: total - memory)
            plan.snapshots = total
            plan.diskSnapshots = total - memory
            return plan
        }

        switch strategy {
        case .twoLevel(let memory, let disk):
            if let memory, memory < 1 { throw TimeSteppingError.invalidSnapshots(memory) }
            let inMemory = memory ?? max(1, available / snapshotBytes)
            let needed = workingSet + min(inMemory, steps) * snapshotBytes
            guard budget.bytes >= needed else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: needed,
                    detail: "one recorded step needs \(MemoryBudget.format(workingSet)) and \(inMemory) snapshot(s) of "
                        + "\(MemoryBudget.format(snapshotBytes))")
            }
            return twoLevelPlan(memory: min(inMemory, steps), disk: disk)
        case .spill:
            // Resident: the adjoint vector of the whole run, the states, and about six chunks
            // (recording, staging, reading, prefetching).
            let bytesPerStatement = 1 + TapeConfiguration.default.argumentsPerStatement * 12
            let adjointBytes = (steps * sample.identifiersPerStep + stateCount + 64) * MemoryLayout<Double>.stride
            let resident = adjointBytes + stateArrays
            let minimumChunk = 256 * bytesPerStatement
            let needed = resident + 6 * minimumChunk
            guard budget.bytes >= needed else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: needed,
                    detail: "a spilled store-all tape still keeps the adjoints of every statement in memory "
                        + "(\(MemoryBudget.format(adjointBytes))); use --strategy revolve or two-level for less")
            }
            var plan = storeAll
            plan.strategy = .spill
            let chunkBytes = min(max(minimumChunk, (budget.bytes - resident) / 6), TapeConfiguration.default.maximumStatementCapacity * bytesPerStatement)
            plan.spillChunkStatements = chunkBytes / bytesPerStatement
            plan.stepWorkingSetBytes = resident + 6 * chunkBytes
            return plan
        case .storeAll:
            guard storeAllBytes <= budget.bytes else {
                throw TimeSteppingError.storeAllDoesNotFit(budget: budget.bytes, needed: storeAllBytes)
            }
            return storeAll
        case .auto:
            if storeAllBytes <= budget.bytes { return storeAll }
            if budget.bytes < minimum && diskAllowed {
                // One step's tape does not fit beside a snapshot: let the step tapes spill.
                // Resident while spilling: about six chunks (recording, staging, reading,
                // prefetching), so a chunk gets a sixth of what remains after everything else
                // and two snapshots.
                let untaped = workingSet - sample.stepTapeOnlyBytes
                let bytesPerStatement = 1 + TapeConfiguration.default.argumentsPerStatement * 12
                let minimumChunk = 256 * bytesPerStatement
                let spillingMinimum = untaped + 6 * minimumChunk + 2 * snapshotBytes
                guard budget.bytes >= spillingMinimum else {
                    throw TimeSteppingError.budgetTooSmall(
                        budget: budget.bytes, minimum: spillingMinimum,
                        detail: "even with its tape spilled to disk, one step needs "
                            + "\(MemoryBudget.format(untaped)) for its adjoints and states, plus chunk buffers and "
                            + "two snapshots of \(MemoryBudget.format(snapshotBytes))")
                }
                let chunkBytes = max(minimumChunk, (budget.bytes - untaped - 2 * snapshotBytes) / 6)
                var plan = revolvePlan(2, online: false)
                plan.stepWorkingSetBytes = untaped + 6 * chunkBytes
                plan.spillChunkStatements = chunkBytes / bytesPerStatement
                return plan
            }
            guard budget.bytes >= minimum else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: minimum,
                    detail: "one recorded step needs \(MemoryBudget.format(workingSet)) and a snapshot "
                        + "\(MemoryBudget.format(snapshotBytes))")
            }
            let inMemory = available / snapshotBytes
            // Threshold: with a disk at hand, spill snapshots once memory alone would advance
            // some step more than three times (repetition number > 3).
            if diskAllowed && inMemory < steps && RevolveSchedule.repetitionNumber(steps: steps, snapshots: inMemory) > 3 {
                return twoLevelPlan(memory: inMemory, disk: nil)
            }
            return revolvePlan(inMemory, online: false)
        case .revolve(let requested), .online(let requested):
            let online: Bool
            if case .online = strategy { online = true } else { online = false }
            if let requested, requested < 1 { throw TimeSteppingError.invalidSnapshots(requested) }
            let snapshots = requested ?? max(1, available / snapshotBytes)
            let needed = workingSet + min(snapshots, steps) * snapshotBytes
            guard budget.bytes >= needed else {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: requested == nil ? minimum : needed,
                    detail: "one recorded step needs \(MemoryBudget.format(workingSet)) and "
                        + "\(requested == nil ? 1 : min(snapshots, steps)) snapshot(s) of "
                        + "\(MemoryBudget.format(snapshotBytes))")
            }
            return revolvePlan(snapshots, online: online)
        }
    }
}
