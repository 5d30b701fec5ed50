import RewindCore
import RewindSchedules
import RewindStorage

/// Stage two of a gradient: the plan carried out. Each strategy runs the same executor
/// (`CheckpointExecutor`) under a different schedule, or records the run whole (store-all).
extension PlannedRun {
    @inlinable
    package func executeGradient<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, options: TimeSteppingOptions
    ) throws -> GradientResult {
        let tape = workspace.tape
        func makeExecutor() -> CheckpointExecutor<P> {
            let executor = CheckpointExecutor(
                problem: problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: workspace.adjoints, snapshotSlots: plan.snapshots, stepsPerBlock: plan.stepsPerBlock)
            executor.progress = options.progress
            executor.checksFinite = options.checksFinite
            if plan.pagedAdjoints && !options.checksFinite { executor.pagedAdjoints = PagedAdjointVector() }
            return executor
        }
        func runStoreAll(_ strategy: RunReport.Strategy) throws -> GradientResult {
            tape.checksFinite = options.checksFinite
            let result = try storeAll(
                problem, initialState: initialState, parameters: parameters, steps: steps, strategy: strategy)
            if let found = result.nonFinite {
                throw TimeSteppingError.nonFiniteInRun(step: found.step, report: found.report)
            }
            return result
        }
        /// Runs `body` with the tape spilling chunks of `chunkStatements` statements into a
        /// private directory (when a chunk size is given); a chunk lost on the way is thrown.
        func withSpilledTape(
            _ chunkStatements: Int?, _ body: () throws -> GradientResult
        ) throws -> GradientResult {
            guard let chunkStatements else { return try body() }
            let directory = try SpillDirectory(parent: options.spillDirectory, prefix: "rewind-tape", io: options._spillIO)
            defer { try? directory.remove() }
            tape.enableSpilling(to: try SpillStore(directory: directory), statementsPerChunk: chunkStatements)
            defer { tape.disableSpilling() }
            var result = try body()
            try tape.throwSpillError()
            if let statistics = tape.spillStatistics { result.report.addSpill(statistics) }
            return result
        }

        switch plan.strategy {
        case .storeAll, .auto:
            // Every chunk is kept, so each is fresh memory: fault the next one in on another
            // core while this one records, where the budget has room for it.
            tape.prefaultsChunks = plan.storeAllBytes + tape.maximumChunkBytes <= options.memoryBudget.bytes
            defer { tape.prefaultsChunks = false }
            return try runStoreAll(.storeAll)
        case .spill:
            return try withSpilledTape(plan.spillChunkStatements ?? (1 << 16)) { try runStoreAll(.storeAllSpilled) }
        case .revolve(let snapshots):
            var result = try withSpilledTape(plan.spillChunkStatements) {
                let executor = makeExecutor()
                try executor.run(RevolveSchedule(steps: executor.blocks, snapshots: snapshots ?? plan.snapshots))
                return executor.result(
                    strategy: plan.spillChunkStatements == nil ? .revolve : .revolveSpillingStepTapes)
            }
            result.report.optimalForwardSteps = plan.predictedAdvances
            return result
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
            var result = executor.result(strategy: .twoLevel)
            result.report.optimalForwardSteps = plan.predictedAdvances
            result.report.snapshotsOnDisk = disk.peakSlots
            result.report.addSpill(disk.store.statistics)
            return result
        case .online(let snapshots):
            let executor = makeExecutor()
            var schedule = OnlineSchedule(snapshots: snapshots ?? plan.snapshots)
            for block in 0..<(executor.blocks - 1) {
                for action in schedule.forwardActions(atStep: block) { try executor.perform(action) }
            }
            try executor.run(schedule.reversal(steps: executor.blocks))
            var result = executor.result(strategy: .online)
            result.report.optimalForwardSteps = plan.predictedAdvances
            return result
        }
    }

    /// Store-all: the whole run recorded on one tape and swept once.
    @inlinable
    package func storeAll<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int, strategy: RunReport.Strategy
    ) throws -> GradientResult {
        let tape = workspace.tape
        let adjoints = workspace.adjoints
        let recordStarted = monotonicSeconds()
        // Where the arena faults its chunks in ahead, the adjoint vector the sweep will need
        // (one entry an identifier, as the sample counted them) is faulted in beside it too.
        // (Only then: a spilled store-all may have more steps than memory holds identifiers.)
        let (product, overflowed) = steps.multipliedReportingOverflow(by: sample.identifiersPerStep)
        let overflow = overflowed || product > Int.max / 2
        let expected = overflow ? Int.max : product &+ problem.stateCount &+ parameters.count &+ 2
        let adjointsAhead = tape.prefaultsChunks && !overflow && expected > adjoints.capacity
            ? _BackgroundJob { adjoints.prepare(identifierCount: expected) } : nil
        // The identifiers the recording will reach: the sample's count a step is one more than
        // the step's statements (it counts identifier 0, which the planner's estimates keep as
        // a margin); a little past that, a chunk the recording reaches after all is faulted on
        // the recording thread instead.
        let reached = steps &* (sample.identifiersPerStep &- 1) &+ problem.stateCount &+ parameters.count &+ 2
        tape.prefaultIdentifierLimit = overflow ? Int.max : reached &+ reached / 64
        defer { tape.prefaultIdentifierLimit = Int.max }
        let recorded = RecordedSteps.record(
            problem, on: tape, state: initialState, parameters: parameters, steps: steps, runningSum: 0, endsRun: true)
        adjointsAhead?.wait()
        let reverseStarted = monotonicSeconds()
        let (stateAdjoint, parameterAdjoint) = try recorded.reversedFromScratch(on: tape, adjoints: adjoints)
        var report = RunReport(strategy: strategy)
        let nonFinite = tape.checksFinite ? recorded.nonFinite(on: tape, firstStep: 0) : nil
        report.recordSeconds = reverseStarted - recordStarted
        report.reverseSeconds = monotonicSeconds() - reverseStarted
        let statistics = tape.statistics
        report.tapeStatements = statistics.statementCount
        report.tapeBytesInUse = statistics.bytesInUse
        report.tapeStencilStatements = statistics.stencilStatementCount
        report.tapeAffineStencilStatements = statistics.affineStencilStatementCount
        report.tapedSteps = steps
        report.peakTapeBytes = tape.reservedByteCount + adjoints.byteCount
        var result = GradientResult(
            objective: recorded.objective!.value, initialStateGradient: stateAdjoint,
            parameterGradient: parameterAdjoint, report: report)
        result.nonFinite = nonFinite
        return result
    }
}

extension CheckpointExecutor {
    /// The objective and gradient the executor reversed, with its report.
    @inlinable
    package func result(strategy: RunReport.Strategy) -> GradientResult {
        GradientResult(
            objective: objective, initialStateGradient: stateAdjoint, parameterGradient: parameterAdjoint,
            report: RunReport(strategy: strategy, executor: self))
    }
}
