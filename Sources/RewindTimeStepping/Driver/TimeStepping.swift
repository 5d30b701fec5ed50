import RewindCore
import RewindParallel
import RewindSchedules
import RewindStorage
/// Reverse-mode gradients of time-stepping simulations inside a memory budget.
///
/// ```swift
/// let result = try TimeStepping.gradient(
///     of: Burgers(n: 256), initialState: u0, parameters: [0.01], steps: 1000,
///     options: TimeSteppingOptions(memoryBudget: .mebibytes(64)))
/// result.objective; result.initialStateGradient; result.parameterGradient; result.report
/// ```
///
/// The advances run on `Double`; only the step (or block of steps) being reversed is
/// recorded (store-all records every step). The gradient is bitwise the same for every strategy and snapshot
/// count (see `RecordedSteps`).
public enum TimeStepping {
    @inlinable
    public static func gradient<P: TimeSteppingProblem>(
        of problem: P, initialState: [Double], parameters: [Double], steps: Int,
        options: TimeSteppingOptions = TimeSteppingOptions()
    ) throws -> GradientResult {
        try validate(
            problem, initialState: initialState, parameters: parameters, steps: steps,
            allowingNonFiniteParameters: options.checksFinite)
        if let block = options.stepsPerBlock, block < 1 { throw TimeSteppingError.invalidStepsPerBlock(block) }
        let started = monotonicSeconds()
        if let parent = options.spillDirectory {
            // Refuse an unusable spill directory before running, not when the first spill comes.
            try SpillDirectory(parent: parent, prefix: "rewind-probe").remove()
        }
        // A floor that needs no sample: the states and leaves of one recorded step. Where that
        // floor is large and the budget below it, refuse before allocating a sample step that
        // would itself blow the budget; small problems are sampled, which gives the exact minimum.
        let floor = RunPlanner.stateArrayBytes(stateCount: problem.stateCount)
        if options.memoryBudget.bytes < floor && floor > RunPlanner.largeStateBytes {
            throw TimeSteppingError.budgetTooSmall(
                budget: options.memoryBudget.bytes, minimum: floor,
                shortfall: .statesAlone(withCallerArrays: false))
        }
        let workspace = options.workspace ?? TimeSteppingWorkspace()
        let tape = workspace.tape
        tape.checksFinite = false
        var sample = try RunSample.measure(
            problem, initialState: initialState, parameters: parameters, steps: steps, options: options,
            workspace: workspace, floor: floor)
        func makePlan() throws -> RunPlan {
            try RunPlanner.plan(
                strategy: options.strategy, budget: options.memoryBudget, steps: steps,
                stateCount: problem.stateCount, sample: sample, diskAllowed: options.spillDirectory != nil,
                stepsPerBlock: options.stepsPerBlock, maximumSeconds: options.maximumPredictedSeconds)
        }
        var plan = try makePlan()
        if plan.stepsPerBlock > 1 {
            // Charge the block's memory as measured, not as estimated.
            sample.measureBlockMemory(
                problem, steps: plan.stepsPerBlock, initialState: initialState, parameters: parameters, tape: tape,
                adjoints: workspace.adjoints)
            plan = try makePlan()
        }
        let runStarted = monotonicSeconds()

        func makeExecutor() -> CheckpointExecutor<P> {
            let executor = CheckpointExecutor(
                problem: problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: workspace.adjoints, snapshotSlots: plan.snapshots, stepsPerBlock: plan.stepsPerBlock)
            executor.progress = options.progress
            executor.checksFinite = options.checksFinite
            if plan.pagedAdjoints && !options.checksFinite { executor.pagedAdjoints = PagedAdjointVector() }
            return executor
        }
        func runStoreAll() throws -> GradientResult {
            tape.checksFinite = options.checksFinite
            let result = storeAll(
                problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: workspace.adjoints)
            if let found = result.nonFinite {
                throw TimeSteppingError.nonFiniteInRun(step: found.step, report: found.report)
            }
            return result
        }
        /// Runs `body` with the tape spilling chunks of `chunkStatements` statements into a
        /// private directory (when a chunk size is given), and reports what was spilled.
        func withSpilledTape(
            _ chunkStatements: Int?, _ body: () throws -> GradientResult
        ) throws -> GradientResult {
            guard let chunkStatements else { return try body() }
            let directory = try SpillDirectory(parent: options.spillDirectory, prefix: "rewind-tape", io: options._spillIO)
            defer { try? directory.remove() }
            tape.enableSpilling(to: try SpillStore(directory: directory), statementsPerChunk: chunkStatements)
            defer { tape.disableSpilling() }
            var result = try body()
            if let error = tape.spillError { throw error }
            if let statistics = tape.spillStatistics, statistics.segmentsWritten > 0 {
                result.report.spilledBytes = statistics.rawBytesWritten
                result.report.compressedBytes = statistics.compressedBytesWritten
                result.report.spill = SpillReport(statistics)
            }
            return result
        }

        var result: GradientResult
        switch plan.strategy {
        case .storeAll, .auto:
            result = try runStoreAll()
        case .spill:
            result = try withSpilledTape(plan.spillChunkStatements ?? (1 << 16), runStoreAll)
            result.report.strategy = "store-all, spilled"
        case .revolve(let snapshots):
            result = try withSpilledTape(plan.spillChunkStatements) {
                let executor = makeExecutor()
                try executor.run(RevolveSchedule(steps: executor.blocks, snapshots: snapshots ?? plan.snapshots))
                return finish(
                    executor, strategy: plan.spillChunkStatements == nil ? "revolve" : "revolve, spilling step tapes")
            }
            result.report.optimalForwardSteps = plan.predictedAdvances
        case .twoLevel:
            let executor = makeExecutor()
            let disk = try DiskSnapshots(parent: options.spillDirectory, io: options._spillIO)
            executor.disk = disk
            do {
                try executor.run(
                    MultistageRevolve(
                        steps: steps, memorySlots: plan.snapshots - plan.diskSnapshots, diskSlots: plan.diskSnapshots))
                try disk.close()
            } catch {
                try? disk.close()
                throw error
            }
            result = finish(executor, strategy: "two-level")
            result.report.optimalForwardSteps = plan.predictedAdvances
            let statistics = disk.store.statistics
            result.report.snapshotsOnDisk = disk.peakSlots
            result.report.spilledBytes = statistics.rawBytesWritten
            result.report.compressedBytes = statistics.compressedBytesWritten
            if statistics.segmentsWritten > 0 { result.report.spill = SpillReport(statistics) }
        case .online(let snapshots):
            let executor = makeExecutor()
            var schedule = OnlineSchedule(snapshots: snapshots ?? plan.snapshots)
            for block in 0..<(executor.blocks - 1) {
                for action in schedule.forwardActions(atStep: block) { try executor.perform(action) }
            }
            try executor.run(schedule.reversal(steps: executor.blocks))
            result = finish(executor, strategy: "online")
            result.report.optimalForwardSteps = plan.predictedAdvances
        }
        result.report.plan = plan.summary
        result.report.primalSecondsPerStep = sample.primalSecondsPerStep
        result.report.predictedSeconds = plan.predictedSeconds
        result.report.runSeconds = monotonicSeconds() - runStarted
        result.report.seconds = monotonicSeconds() - started
        result.report.peakResidentBytes = ProcessMemory.peakResidentBytes
        options.progress?(1)
        return result
    }

    @inlinable
    static func validate<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int,
        allowingNonFiniteParameters: Bool = false
    ) throws {
        guard steps >= 1 else { throw TimeSteppingError.invalidSteps(steps) }
        guard initialState.count == problem.stateCount else {
            throw TimeSteppingError.wrongLength(what: "the initial state", expected: problem.stateCount, actual: initialState.count)
        }
        guard parameters.count == problem.parameterCount else {
            throw TimeSteppingError.wrongLength(what: "the parameters", expected: problem.parameterCount, actual: parameters.count)
        }
        if let bad = initialState.firstIndex(where: { !$0.isFinite }) {
            throw TimeSteppingError.nonFinite(what: "the initial state", index: bad, value: initialState[bad])
        }
        if !allowingNonFiniteParameters, let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            throw TimeSteppingError.nonFinite(what: "the parameters", index: bad, value: parameters[bad])
        }
    }

    @inlinable
    static func storeAll<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, tape: Tape, adjoints: AdjointVector
    ) -> GradientResult {
        let recordStarted = monotonicSeconds()
        let recorded = RecordedSteps.record(
            problem, on: tape, state: initialState, parameters: parameters, steps: steps, runningSum: 0, endsRun: true)
        let reverseStarted = monotonicSeconds()
        let (stateAdjoint, parameterAdjoint) = recorded.reversedFromScratch(on: tape, adjoints: adjoints)
        var report = RunReport(strategy: "store-all")
        let nonFinite = tape.checksFinite ? recorded.nonFinite(on: tape, firstStep: 0) : nil
        report.recordSeconds = reverseStarted - recordStarted
        report.reverseSeconds = monotonicSeconds() - reverseStarted
        let statistics = tape.statistics
        report.tapeStatements = statistics.statementCount
        report.tapeBytesInUse = statistics.bytesInUse
        report.tapedSteps = steps
        report.peakTapeBytes = tape.reservedByteCount + adjoints.byteCount
        var result = GradientResult(
            objective: recorded.objective!.value, initialStateGradient: stateAdjoint,
            parameterGradient: parameterAdjoint, report: report)
        result.nonFinite = nonFinite
        return result
    }

    @inlinable
    static func finish<P>(_ executor: CheckpointExecutor<P>, strategy: String) -> GradientResult {
        var report = RunReport(strategy: strategy)
        report.snapshotsInMemory = executor.peakSlots
        report.forwardSteps = executor.advances
        report.tapedSteps = executor.tapedSteps
        report.peakTapeBytes = executor.peakTapeBytes
        report.recordSeconds = executor.recordSeconds
        report.reverseSeconds = executor.reverseSeconds
        report.advanceSeconds = executor.advanceSeconds
        report.stepsPerBlock = executor.stepsPerBlock
        report.tapeStatements = executor.largestTapeStatements
        report.tapeBytesInUse = executor.largestTapeBytesInUse
        return GradientResult(
            objective: executor.objective, initialStateGradient: executor.stateAdjoint,
            parameterGradient: executor.parameterAdjoint, report: report)
    }
}
