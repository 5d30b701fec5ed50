import RewindCore
import RewindStorage

extension RunReport {
    /// The report of a checkpointed run as its executor counted and timed it: the one place
    /// these figures are copied, for every strategy and for Jacobians.
    @inlinable
    package init<P>(strategy: Strategy, executor: CheckpointExecutor<P>) {
        self.init(strategy: strategy)
        snapshotsInMemory = executor.peakSlots
        forwardSteps = executor.advances
        tapedSteps = executor.tapedSteps
        peakTapeBytes = executor.peakTapeBytes
        recordSeconds = executor.recordSeconds
        reverseSeconds = executor.reverseSeconds
        advanceSeconds = executor.advanceSeconds
        stepsPerBlock = executor.stepsPerBlock
        tapeStatements = executor.largestTapeStatements
        tapeBytesInUse = executor.largestTapeBytesInUse
        tapeStencilStatements = executor.blockStencils.all
        tapeAffineStencilStatements = executor.blockStencils.affine
    }

    /// Stage three of every run: what the plan said (its summary, prediction and the sample's
    /// primal time), the wall times of the call and of the run, and the measured peak memory.
    @inlinable
    package mutating func complete(_ run: PlannedRun) {
        plan = run.plan.summary
        predictedSeconds = run.plan.predictedSeconds
        primalSecondsPerStep = run.sample.primalSecondsPerStep
        let now = monotonicSeconds()
        runSeconds = now - run.runStarted
        seconds = now - run.started
        peakResidentBytes = ProcessMemory.peakResidentBytes
    }

    /// What was spilled, from the statistics of the store that took it.
    @inlinable
    package mutating func addSpill(_ statistics: SpillStatistics) {
        spilledBytes += statistics.rawBytesWritten
        compressedBytes += statistics.compressedBytesWritten
        if statistics.segmentsWritten > 0 { spill = SpillReport(statistics) }
    }
}
