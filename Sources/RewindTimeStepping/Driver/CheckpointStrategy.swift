import RewindCore
import RewindParallel
import RewindSchedules
import RewindStorage
/// How a time-stepping run keeps what the reverse sweep needs.
///
/// - `storeAll`: record every step on one tape (fastest while it fits).
/// - `revolve`: keep `snapshots` states and re-run steps from them (binomial checkpointing,
///   optimal in recomputations for a known number of steps); only the step being reversed
///   is recorded — or a block of small steps (`TimeSteppingOptions.stepsPerBlock`).
/// - `online`: like revolve, for runs whose length is only known when they end.
/// - `twoLevel`: revolve with some snapshots on disk (LZ4-compressed, in a private spill
///   directory): for runs where the budget holds too few snapshots in memory.
/// - `spill`: store-all whose tape goes to disk, LZ4-compressed, chunk by chunk, and comes back
///   in reverse (what ADOL-C does, compressed): no recomputation, I/O instead; the adjoint
///   vector of the whole run must fit in memory.
/// - `auto`: the fastest predicted plan that fits the memory budget (see `RunPlanner`).
public enum CheckpointStrategy: Hashable, Sendable, CustomStringConvertible {
    case auto
    case storeAll
    case revolve(snapshots: Int?)
    case online(snapshots: Int?)
    case twoLevel(memorySnapshots: Int?, diskSnapshots: Int?)
    case spill

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .storeAll: return "store-all"
        case .revolve: return "revolve"
        case .online: return "online"
        case .twoLevel: return "two-level"
        case .spill: return "spill"
        }
    }
}

/// The tape and adjoint vector a run records into, kept between runs.
///
/// Passing the same workspace to successive gradients lets them reuse memory that is already
/// mapped: only the first run pays the page faults of touching new tape memory.
///
/// ```swift
/// let workspace = TimeSteppingWorkspace()
/// for nu in [0.01, 0.02] {
///     _ = try TimeStepping.gradient(of: model, initialState: u0, parameters: [nu], steps: 1000,
///                                   options: TimeSteppingOptions(workspace: workspace))
/// }
/// ```
public final class TimeSteppingWorkspace {
    public let tape: Tape
    public let adjoints: AdjointVector

    public init(tape: Tape = Tape(), adjoints: AdjointVector = AdjointVector()) {
        self.tape = tape
        self.adjoints = adjoints
    }
}

/// Options of a time-stepping gradient.
public struct TimeSteppingOptions {
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
    /// The system calls behind every spill file of the run: the seam the fault-injection tests
    /// use (`SpillFaultMatrixTests`); always `.system` outside them.
    @usableFromInline package var _spillIO: SpillIO = .system

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
