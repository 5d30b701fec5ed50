import RewindCore
import RewindStorage
/// What the planner knows of a problem before a run: one step recorded and timed, a block of
/// steps recorded and timed (when blocks can pay), and primal steps timed.
@usableFromInline
package struct RunSample {
    /// One step of the primal in a plain loop: the yardstick for reports (`run ÷ primal`).
    @usableFromInline package var primalSecondsPerStep: Double
    /// One step as `CheckpointExecutor` advances it, for predictions (the same work, through
    /// the executor's loop: measured 20–30 % slower than the plain loop for Lorenz).
    @usableFromInline package var advanceSecondsPerStep: Double
    /// Recording and sweeping one step on its own tape, bookkeeping included.
    @usableFromInline package var tapedSecondsPerStep: Double
    /// Tape and adjoint vector of the largest step (the last, with the objective), as reserved.
    @usableFromInline package var stepTapeReservedBytes: Int
    @usableFromInline package var stepTapeUsedBytes: Int
    /// The largest step tape alone, without its adjoint vector.
    @usableFromInline package var stepTapeOnlyBytes: Int
    @usableFromInline package var identifiersPerStep: Int
    /// Statements and partials one ordinary step records.
    @usableFromInline package var statementsPerStep = 0
    @usableFromInline package var partialsPerStep = 0
    /// Tape and adjoint vector of a block of `steps` steps as reserved, measured by recording
    /// one (`measureBlockMemory`), for the block length the planner chose.
    @usableFromInline package var measuredBlock: (steps: Int, reservedBytes: Int)?
    /// Seconds per taped step measured with several steps on one tape (block lengths
    /// ascending, one step excluded): with `tapedSecondsPerStep` they are the points of the
    /// cost model `tapedSecondsPerStep(stepsPerBlock:)`.
    @usableFromInline package var blockTimings: [(steps: Int, secondsPerStep: Double)] = []
    /// First touch of a fresh page (`ProcessMemory.secondsPerFreshPage`), and the bytes the
    /// run's tape and adjoint vector already hold (reused, so not fresh).
    @usableFromInline package var secondsPerFreshPage = 0.0
    /// Seconds per raw tape byte to stage, compress and write it (`spillWriteSecondsPerByte`)
    /// and to read, decompress and restore it (`spillReadSecondsPerByte`), measured by
    /// spilling a sample (0 without a disk).
    @usableFromInline package var spillWriteSecondsPerByte = 0.0
    @usableFromInline package var spillReadSecondsPerByte = 0.0
    /// The share of a taped step's time spent recording it (the rest sweeps it), measured
    /// with the spilling sample: writes overlap the recording, reads the sweep.
    @usableFromInline package var recordingShareOfTaped = 0.5
    /// Raw bytes a step's tape spills, measured by the spilling sample (nil without one):
    /// implicit arguments store no identifiers, so the arena's 12 bytes a partial
    /// (`stepTapeUsedBytes`) overstated a stencil's I/O by half.
    @usableFromInline package var spilledBytesPerStep: Double?
    /// Both directions of spilling, per raw tape byte.
    @usableFromInline package var spillSecondsPerByte: Double { spillWriteSecondsPerByte + spillReadSecondsPerByte }
    @usableFromInline package var reservedBeforeRunBytes = 0

    /// Seconds of first touches for a run that needs `workspaceBytes` of tape and adjoints
    /// (of which the workspace already holds `reservedBeforeRunBytes`) and `newBytes` more
    /// (snapshots: a fresh allocation, whatever the workspace holds).
    @usableFromInline
    package func freshMemorySeconds(_ workspaceBytes: Int, plus newBytes: Int = 0) -> Double {
        Double(max(0, workspaceBytes - reservedBeforeRunBytes) + newBytes) / Double(ProcessMemory.pageBytes)
            * secondsPerFreshPage
    }

    @inlinable
    init(
        primalSecondsPerStep: Double, tapedSecondsPerStep: Double, stepTapeReservedBytes: Int,
        stepTapeOnlyBytes: Int, stepTapeUsedBytes: Int, identifiersPerStep: Int
    ) {
        self.stepTapeOnlyBytes = stepTapeOnlyBytes
        self.primalSecondsPerStep = primalSecondsPerStep
        advanceSecondsPerStep = primalSecondsPerStep
        self.tapedSecondsPerStep = tapedSecondsPerStep
        self.stepTapeReservedBytes = stepTapeReservedBytes
        self.stepTapeUsedBytes = stepTapeUsedBytes
        self.identifiersPerStep = identifiersPerStep
    }

    /// The longest block that was timed (1 when none was).
    @usableFromInline package var longestTimedBlock: Int { blockTimings.last?.steps ?? 1 }

    /// Seconds to record and sweep one step when `stepsPerBlock` steps share a tape.
    ///
    /// Between two measured block lengths `L₁ < L₂` the cost per step is `α + β/L` through
    /// both points: `β/L` is the per-tape bookkeeping (reset, leaves, seeds, reading adjoints)
    /// shared by the block's steps, `α` the per-step work; a longer block that leaves the cache
    /// shows as a higher `α` on its segment. Beyond the longest measured block, its cost.
    @usableFromInline
    package func tapedSecondsPerStep(stepsPerBlock: Int) -> Double {
        var lower = (steps: 1, secondsPerStep: tapedSecondsPerStep)
        for upper in blockTimings {
            if stepsPerBlock <= upper.steps {
                let beta = (lower.secondsPerStep - upper.secondsPerStep)
                    / (1 / Double(lower.steps) - 1 / Double(upper.steps))
                let alpha = lower.secondsPerStep - beta / Double(lower.steps)
                return max(0, alpha + beta / Double(stepsPerBlock))
            }
            lower = upper
        }
        return lower.secondsPerStep
    }

    /// Records and sweeps the first step once, times primal steps, and — when `blockBudget`
    /// is given and one step's tape is small beside it — times a block of steps on one tape.
    @inlinable
    static func measure<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, tape: Tape, adjoints: AdjointVector,
        blockBudget: Int? = nil, paged: PagedAdjointVector? = nil
    ) -> RunSample {
        /// Bytes of the adjoints of the tape's recording: the dense vector's, also when the
        /// sample sweeps paged (the planner decides from it whether dense adjoints fit).
        func adjointBytes() -> Int {
            paged == nil || tape._hasExternalStatements
                ? adjoints.byteCount : tape.identifierCount * MemoryLayout<Double>.stride
        }
        var stateAdjoint = [Double](repeating: 0, count: initialState.count)
        var parameterAdjoint = [Double](repeating: 0, count: parameters.count)
        var sumAdjoint = 1.0
        var recorded = RecordedSteps.empty
        var replayChecks = false
        /// Seconds per step of recording and sweeping `count` steps on one tape, with the
        /// executor's replay check (`CheckpointExecutor.checkReplay`: two fingerprints a block,
        /// 3.5 % of heat2d 256²'s run, which its predictions left out); when `timed`, the median
        /// of `rounds` rounds of at least `roundSeconds` each, so that neither one cold run nor
        /// one preemption by another process sets the figure.
        func tapedSeconds(steps count: Int, endsRun: Bool, timed: Bool, rounds: Int = 5) -> Double {
            timedRounds(rounds: timed ? rounds : 1, seconds: timed ? roundSeconds : 0) {
                // Reusing the arrays, as the executor does for every taped block.
                let start = StateFingerprint(initialState)
                recorded.rerecord(
                    problem, on: tape, state: initialState, parameters: parameters, steps: count, runningSum: 0,
                    endsRun: endsRun)
                replayChecks = replayChecks != StateFingerprint(valuesOf: recorded.finalState).differs(from: start)
                // Timing only, on a tape that does not spill here: no chunk can be lost.
                try? recorded.reverse(
                    on: tape, adjoints: adjoints, paged: paged, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
                    parameterAdjoint: &parameterAdjoint)
                return count
            }.median
        }
        // The memory of a step as this tape records it (a gradient's keeps its stencils'
        // inputs, as store-all and spilled tapes hold them): an ordinary step, which also warms
        // up (the first pass touches new memory and would overstate a time), then the last
        // step with the objective, whose tape is the largest of the run.
        _ = tapedSeconds(steps: 1, endsRun: false, timed: false)
        let statistics = tape.statistics
        // What the arena reserves for these statements: the identifier column is as long as
        // the partial column, whether or not every partial has an identifier.
        let stepUsedBytes = statistics.statementCount + 12 * statistics.partialCount
        let stepIdentifiers = tape.identifierCount
        var reserved = tape.reservedByteCount + adjointBytes()
        var tapeReserved = tape.reservedByteCount
        _ = tapedSeconds(steps: 1, endsRun: true, timed: false)
        reserved = max(reserved, tape.reservedByteCount + adjointBytes())
        tapeReserved = max(tapeReserved, tape.reservedByteCount)
        // The times as checkpointed blocks record, which keep their stencils' partials where
        // those fit (`PlannedRun.keepingStencilPartials`): the plans the times choose between
        // and predict are mostly theirs (timed with inputs, Burgers' runs took 0.75 of their
        // prediction; now 1.00). Store-all keeps inputs, about a quarter slower a step for
        // Burgers, which its prediction leaves out, as a prediction made with inputs left
        // the same difference out of revolve's.
        let storage = tape.stencilStorage
        tape.stencilStorage = .partials
        defer { tape.stencilStorage = storage }
        if storage != .partials { _ = tapedSeconds(steps: 1, endsRun: false, timed: false) }
        let taped = tapedSeconds(steps: 1, endsRun: false, timed: true)

        var sample = RunSample(
            primalSecondsPerStep: 0, tapedSecondsPerStep: taped, stepTapeReservedBytes: reserved,
            stepTapeOnlyBytes: tapeReserved, stepTapeUsedBytes: stepUsedBytes,
            identifiersPerStep: stepIdentifiers - parameters.count - initialState.count)
        if let blockBudget {
            sample.secondsPerFreshPage = ProcessMemory.secondsPerFreshPage(
                timing: min(ProcessMemory.freshPageProbeBytes, blockBudget / 8))
        }
        sample.statementsPerStep = statistics.statementCount
        sample.partialsPerStep = statistics.partialCount
        if let blockBudget {
            // Timed at the longest block that stays in a quarter of the cache and at the
            // longest that fills it (`RunPlanner.blockCacheBytes`): shorter blocks are
            // interpolated between the points, and the choice between the two is measured.
            var lengths: [Int] = []
            for cacheBytes in RunPlanner.blockCacheBytes {
                let length = min(
                    steps,
                    RunPlanner.largestBlock(
                        sample: sample, budget: blockBudget, stateCount: initialState.count, cacheBytes: cacheBytes))
                if length >= 2 && !lengths.contains(length) { lengths.append(length) }
            }
            for length in lengths {
                // No warm-up pass: the rounds' median leaves out the first, which touches the
                // block's new memory (a pass of Burgers 256's longest block is 0.7 ms, and every
                // process pays the sample: issue 15's whole process within 1.5× of the run).
                // A block whose one pass is long is already an average over many steps: three
                // rounds' median still drops one slow round. Burgers timed blocks of 16–256
                // steps of about 1 ms a pass (session 6), and two rounds fewer saved 2–3 ms of
                // every such run (docs/PERFORMANCE.md, issue 15).
                let first = tapedSeconds(steps: length, endsRun: false, timed: true, rounds: 1)
                let rounds = first * Double(length) >= longBlockSeconds ? 3 : 5
                var timings = [first]
                for _ in 1..<rounds { timings.append(tapedSeconds(steps: length, endsRun: false, timed: true, rounds: 1)) }
                sample.blockTimings.append((length, timings.sorted()[rounds / 2]))
            }
        }
        tape.reset()
        // What the sample leaves reserved is reused by the run, so it is not fresh memory.
        sample.reservedBeforeRunBytes = tape.reservedByteCount + adjoints.byteCount

        var state = initialState
        var next = initialState
        var sum = 0.0
        let batch = min(steps, max(1, 50_000 / max(1, initialState.count * 25)))
        let primal = timedRounds(rounds: 5, seconds: roundSeconds) {
            for _ in 0..<batch {
                problem.step(state, parameters: parameters, into: &next)
                swap(&state, &next)
                // An advance also adds the running cost the first time it reaches a state.
                if problem.hasRunningCost { sum = sum + problem.runningCost(state, parameters: parameters) }
            }
            return batch
        }
        withExtendedLifetime(sum) {}
        sample.primalSecondsPerStep = primal.fastest
        sample.advanceSecondsPerStep = primal.median
        // The executor's loop costs per step, which only shows for small states; for large
        // ones its state copies would only add resident memory to the sample.
        if initialState.count <= 1 << 14 {
            let executor = CheckpointExecutor(
                problem: problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: adjoints, snapshotSlots: 1)
            sample.advanceSecondsPerStep = timedRounds(rounds: 5, seconds: roundSeconds) {
                try? executor.advance(to: executor.currentStep + batch)
                return batch
            }.median
        }
        // The fingerprints' result, kept so that the optimiser keeps their work in the timings.
        withExtendedLifetime(replayChecks) {}
        return sample
    }

    /// The shortest timed round of the sample's taped steps, primal steps and advances.
    ///
    /// Why 50 µs: the sample is part of every run's time, and of every `rewind` process's
    /// fixed cost (issue 15: the whole process within 1.5× of the run). Its five rounds of
    /// three kinds of work took about 1.5 ms at 0.1 ms a round; the median of five rounds of
    /// 50 µs predicted as well, a round still hundreds of clock readings long
    /// (docs/PERFORMANCE.md, "A shorter planning sample (issue 15, session 9)").
    @usableFromInline
    static let roundSeconds = 5e-5

    /// One pass of a timed block at least this long is timed in three rounds, not five.
    @usableFromInline
    static let longBlockSeconds = 5e-4

    /// Seconds per unit of work of `body` (which does some and returns how many) over
    /// `rounds` rounds, each repeating `body` until `seconds` have passed (one round when that
    /// took more than 10 ms): the fastest round and the median one.
    ///
    /// Predictions take the median: a run pays the machine's ordinary interruptions, and the
    /// fastest of five rounds left them out (predictions 15–55 % low on users' models, issue
    /// 13). The fastest round is the primal's yardstick in reports (`run ÷ primal`), as
    /// benchmarks take the best time of the code they compare against.
    @inlinable
    static func timedRounds(rounds: Int, seconds: Double, _ body: () -> Int) -> (fastest: Double, median: Double) {
        var timings: [Double] = []
        for _ in 0..<rounds {
            var work = 0
            let start = monotonicSeconds()
            repeat { work += body() } while monotonicSeconds() - start < seconds
            let elapsed = monotonicSeconds() - start
            timings.append(elapsed / Double(work))
            // Large work (a big state's step) is its own average, and repeating it is dear.
            if elapsed > 0.01 { break }
        }
        timings.sort()
        return (timings[0], timings[timings.count / 2])
    }

    /// Takes the I/O cost per byte from a store that spilled part of a sample.
    @usableFromInline
    package mutating func recordSpillCost(_ statistics: SpillStatistics?) {
        guard let statistics, statistics.rawBytesWritten > 0, statistics.segmentsRead > 0 else { return }
        let bytes = Double(statistics.rawBytesWritten)
        spillWriteSecondsPerByte =
            (statistics.secondsStaging + statistics.secondsCompressing + statistics.secondsWriting) / bytes
        spillReadSecondsPerByte =
            (statistics.secondsReading + statistics.secondsDecompressing + statistics.secondsRestoring) / bytes
    }

    /// Times spilling on this machine and this problem's tape: records about a mebibyte of
    /// steps (at most a quarter of the budget) spilling into `directory` in small chunks, and
    /// sweeps it back (`spillSecondsPerByte`).
    @inlinable
    mutating func measureSpilling<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, tape: Tape, adjoints: AdjointVector,
        budget: Int, directory: SpillDirectory
    ) throws {
        let bytesPerStatement = 1 + TapeConfiguration.default.argumentsPerStatement * 12
        let rawBytes = min(1 << 20, budget / 4)
        let sampledSteps = min(steps, max(1, rawBytes / max(1, stepTapeUsedBytes)))
        let chunkStatements = max(256, min(1 << 14, budget / (4 * RunPlanner.spillBufferChunks * bytesPerStatement)))
        // Recording alone, in memory, against the whole taped step: the writes of a spilled run
        // hide behind its recording and the reads behind its sweep, so each phase is predicted
        // on its own (`RunPlanner`, spilled store-all).
        let recording = Self.timedRounds(rounds: 5, seconds: 2e-4) {
            _ = RecordedSteps.record(
                problem, on: tape, state: initialState, parameters: parameters, steps: 1, runningSum: 0, endsRun: false)
            return 1
        }.median
        tape.reset()
        recordingShareOfTaped = min(1, recording / max(tapedSecondsPerStep, .leastNormalMagnitude))
        tape.enableSpilling(to: try SpillStore(directory: directory), statementsPerChunk: chunkStatements)
        defer { tape.disableSpilling() }
        _ = try RecordedSteps.record(
            problem, on: tape, state: initialState, parameters: parameters, steps: sampledSteps, runningSum: 0,
            endsRun: false
        ).reversedFromScratch(on: tape, adjoints: adjoints)
        recordSpillCost(tape.spillStatistics)
        if let written = tape.spillStatistics?.rawBytesWritten, written > 0 {
            spilledBytesPerStep = Double(written) / Double(sampledSteps)
        }
    }

    /// After a sample recorded while spilling (so that a step too big for the budget never
    /// sat in memory whole): charges the step's tape as the in-memory arena would reserve it,
    /// from its statement and partial counts, for the planner's "does one step fit" test.
    @usableFromInline
    package mutating func chargeStepAsRecordedInMemory() {
        let adjointBytes = stepTapeReservedBytes - stepTapeOnlyBytes
        stepTapeOnlyBytes = RunPlanner.arenaBytes(statements: statementsPerStep, partials: partialsPerStep)
        stepTapeReservedBytes = stepTapeOnlyBytes + adjointBytes
    }

    /// Records a block of `steps` steps (with the objective, as the last block has) on the
    /// run's tape, so that the plan charges the block's memory as the arena really reserves
    /// it; the tape keeps those chunks for the run.
    @inlinable
    mutating func measureBlockMemory<P: TimeSteppingProblem>(
        _ problem: P, steps: Int, initialState: [Double], parameters: [Double], tape: Tape, adjoints: AdjointVector
    ) {
        let recorded = RecordedSteps.record(
            problem, on: tape, state: initialState, parameters: parameters, steps: steps, runningSum: 0, endsRun: true)
        adjoints.prepare(for: tape)
        measuredBlock = (steps, tape.reservedByteCount + adjoints.byteCount)
        withExtendedLifetime(recorded) {}
        tape.reset()
    }
}

extension RunSample {
    /// The sample a gradient run plans from, taken as its options ask: on the run's tape, with
    /// the budget's block lengths, and — with a spill directory — with the cost of spilling.
    ///
    /// A large state under a tight budget (`floor`, its state arrays, over
    /// `RunPlanner.largeStateBytes` and over an
    /// eighth of the budget) is sampled while spilling, with paged adjoints: one step's tape
    /// or adjoint vector may not fit, and the sample must not hold them in memory whole to
    /// find out; the step's in-memory size is then bounded from its counts. Small states are
    /// sampled in memory: their overshoot is small and the measured size exact.
    @inlinable
    static func measure<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, options: TimeSteppingOptions,
        workspace: TimeSteppingWorkspace, floor: Int
    ) throws -> RunSample {
        let tape = workspace.tape
        let budget = options.memoryBudget.bytes
        guard options.spillDirectory != nil else {
            return measure(
                problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: workspace.adjoints, blockBudget: budget)
        }
        let directory = try SpillDirectory(parent: options.spillDirectory, prefix: "rewind-sample", io: options._spillIO)
        defer { try? directory.remove() }
        if floor > RunPlanner.largeStateBytes && floor > budget / 8 {
            tape.enableSpilling(
                to: try SpillStore(directory: directory),
                statementsPerChunk: RunPlanner.sampleSpillChunkStatements(budget: budget, floor: floor))
            var sample = measure(
                problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: workspace.adjoints, blockBudget: budget, paged: PagedAdjointVector())
            let error = tape.spillError
            let statistics = tape.spillStatistics
            tape.disableSpilling()
            if let error { throw error }
            sample.chargeStepAsRecordedInMemory()
            sample.recordSpillCost(statistics)
            return sample
        }
        var sample = measure(
            problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
            adjoints: workspace.adjoints, blockBudget: budget)
        // So that `auto` can weigh writing the tape to disk against recomputing it, and `spill`
        // predict its time; the other strategies have no use for it, so no disk work for them.
        switch options.strategy {
        case .auto, .spill: break
        default: return sample
        }
        try sample.measureSpilling(
            problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
            adjoints: workspace.adjoints, budget: budget, directory: directory)
        return sample
    }
}
