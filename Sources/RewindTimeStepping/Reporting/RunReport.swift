import RewindCore
/// How a run was carried out, with measured figures.
///
/// Every gradient, gradient-until and Jacobian fills it the same way (`RunReport+Pipeline`):
/// the executor's counts and timings, then the plan, its prediction and the wall times.
///
/// ```swift
/// let report = try TimeStepping.gradient(of: model, initialState: x0, parameters: p, steps: 1000).report
/// report.strategy            // .revolve
/// report.forwardSteps        // advances beyond one taped evaluation per step
/// report.peakResidentBytes   // VmHWM, measured
/// ```
public struct RunReport: Sendable, Codable, Equatable {
    /// The strategy as carried out (the plan's, with spilling made explicit).
    public var strategy: Strategy
    /// The most snapshots held in memory at once.
    public var snapshotsInMemory: Int
    /// The most snapshots held on disk at once (two-level).
    public var snapshotsOnDisk: Int
    /// Evaluations of the step function other than the one taped evaluation per step.
    public var forwardSteps: Int
    /// The fewest such evaluations any schedule with these snapshots needs.
    public var optimalForwardSteps: Int
    /// Steps recorded on a tape (each exactly once).
    public var tapedSteps: Int
    /// Steps recorded together on one tape by a checkpointed run (its schedule runs over
    /// blocks of this many steps); 1 for classic step-by-step revolve and for store-all.
    public var stepsPerBlock: Int
    /// The largest tape (columns and external data) held at once.
    public var peakTapeBytes: Int
    /// Bytes written to spill files before compression (tapes and snapshots).
    public var spilledBytes: Int
    /// The same bytes as written, LZ4-compressed.
    public var compressedBytes: Int
    /// Per column and per phase, when anything spilled.
    public var spill: SpillReport?
    /// Peak resident memory of the process (`VmHWM`), measured.
    public var peakResidentBytes: Int
    /// Wall time of the whole call: sampling, planning and the run.
    public var seconds: Double
    /// Wall time of the run the plan predicts (after sampling and planning).
    public var runSeconds: Double
    /// Seconds spent recording steps on tapes (all taped steps).
    public var recordSeconds: Double
    /// Seconds spent in reverse sweeps.
    public var reverseSeconds: Double
    /// Seconds spent advancing (untaped primal steps from snapshots).
    public var advanceSeconds: Double
    /// Seconds of one primal step on `Double`, timed by the planner's sample: the yardstick
    /// for the gradient's cost (`runSeconds / (primalSecondsPerStep · steps)`).
    public var primalSecondsPerStep: Double
    /// Statements and bytes in use of the largest tape recorded.
    public var tapeStatements: Int
    /// Bytes in use of that tape.
    public var tapeBytesInUse: Int
    /// Stencil statements on that tape (row blocks counted apart).
    public var tapeStencilStatements: Int
    /// Those of them whose kernel is affine in its neighbours, recorded with one partial a point
    /// per parameter: how a user sees that a kernel took that path.
    public var tapeAffineStencilStatements: Int
    /// The plan made before the run, as one line.
    public var plan: String
    /// Predicted seconds for the run, from a timed sample of the step (0 when not predicted).
    public var predictedSeconds: Double

    /// An empty report of a run carried out with `strategy`; the driver fills in the rest.
    public init(strategy: Strategy) {
        self.strategy = strategy
        snapshotsInMemory = 0
        snapshotsOnDisk = 0
        forwardSteps = 0
        optimalForwardSteps = 0
        tapedSteps = 0
        stepsPerBlock = 1
        peakTapeBytes = 0
        spilledBytes = 0
        compressedBytes = 0
        peakResidentBytes = 0
        seconds = 0
        runSeconds = 0
        recordSeconds = 0
        reverseSeconds = 0
        advanceSeconds = 0
        primalSecondsPerStep = 0
        tapeStatements = 0
        tapeBytesInUse = 0
        tapeStencilStatements = 0
        tapeAffineStencilStatements = 0
        plan = ""
        predictedSeconds = 0
    }
}


extension RunReport {
    /// The strategy a run carried out: the plan's `CheckpointStrategy` with `auto` resolved
    /// and spilling made explicit. Its raw value is the text reports and JSON show.
    public enum Strategy: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
        /// Every step recorded on one tape in memory.
        case storeAll = "store-all"
        /// Every step recorded on one tape whose chunks went to disk.
        case storeAllSpilled = "store-all, spilled"
        /// Binomial checkpointing with snapshots in memory.
        case revolve
        /// Revolve whose step tapes (too large for the budget) went to disk.
        case revolveSpillingStepTapes = "revolve, spilling step tapes"
        /// Online checkpointing (the number of steps unknown in advance, or chosen so).
        case online
        /// Revolve with snapshots in memory and on disk.
        case twoLevel = "two-level"

        /// The text reports and JSON show (`store-all, spilled`, `revolve`, ...).
        public var description: String { rawValue }
    }
}
