import RewindCore
import RewindStorage
/// Options of a time-stepping gradient: the library's words for what the CLI's flags say.
///
/// ```swift
/// var options = TimeSteppingOptions(strategy: .revolve(snapshots: nil), memoryBudget: .mebibytes(64))
/// options.spillDirectory = "/scratch/me"   // lets the run put snapshots or tapes on disk
/// options.checksFinite = true              // stop where a NaN or infinity enters
/// ```
public struct TimeSteppingOptions {
    /// How the run keeps what the reverse sweep needs; `.auto` lets the planner choose.
    public var strategy: CheckpointStrategy
    /// Bytes Rewind may use for the run: snapshots, tapes, adjoints and buffers.
    public var memoryBudget: MemoryBudget
    /// Called now and then with the fraction of the reverse sweep done (0...1).
    public var progress: ((Double) -> Void)?
    /// Where to record; a fresh workspace when nil.
    public var workspace: TimeSteppingWorkspace?
    /// The directory under which disk snapshots go (in a private subdirectory, removed
    /// afterwards); nil means the system's temporary directory. Giving one also lets `auto`
    /// use disk snapshots.
    public var spillDirectory: String?
    /// Check mode: stop at the first NaN or infinity (in a state, a value, a partial or an
    /// adjoint) and report the statement and the time step. Non-finite parameters are then
    /// accepted, so that where they lead can be shown.
    public var checksFinite = false
    /// Steps taped together by revolve and online (their schedules then run over blocks of this many
    /// steps); nil lets the planner choose from the budget and a timed sample (`RunPlanner`).
    public var stepsPerBlock: Int?
    /// Refuse (`TimeSteppingError.predictedTooLong`) a plan predicted, from the timed sample,
    /// to take longer than this many seconds; nil accepts any.
    public var maximumPredictedSeconds: Double?
    /// The ranks of a distributed run that this process is one of (`RewindMPI` makes one):
    /// every rank then plans from the same sample and the smallest budget, and runs the same
    /// plan (`TimeSteppingGroup`). Nil for a run on one process. Only `TimeStepping.gradient`
    /// takes one: `gradient(until:)`, `jacobian` and `gradients` (ensembles) trap when it is set.
    public var group: TimeSteppingGroup?
    /// The system calls behind every spill file of the run: the seam the fault-injection tests
    /// use (`SpillFaultMatrixTests`); always `.system` outside them.
    @usableFromInline package var _spillIO: SpillIO = .system

    /// Options with the given strategy, budget, workspace, spill directory and progress
    /// callback; the others (`checksFinite`, `stepsPerBlock`, `maximumPredictedSeconds`) are
    /// set as properties.
    public init(
        strategy: CheckpointStrategy = .auto, memoryBudget: MemoryBudget = .mebibytes(1024),
        workspace: TimeSteppingWorkspace? = nil, spillDirectory: String? = nil, progress: ((Double) -> Void)? = nil
    ) {
        self.spillDirectory = spillDirectory
        self.strategy = strategy
        self.memoryBudget = memoryBudget
        self.workspace = workspace
        self.progress = progress
    }
}
