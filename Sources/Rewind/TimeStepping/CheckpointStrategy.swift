/// How a time-stepping run keeps what the reverse sweep needs.
///
/// - `storeAll`: record every step on one tape (fastest while it fits).
/// - `revolve`: keep `snapshots` states and re-run steps from them (binomial checkpointing,
///   optimal in recomputations for a known number of steps); only the step being reversed
///   is recorded.
/// - `online`: like revolve, for runs whose length is only known when they end.
/// - `auto`: pick from the memory budget (see `RunPlanner`).
public enum CheckpointStrategy: Hashable, Sendable, CustomStringConvertible {
    case auto
    case storeAll
    case revolve(snapshots: Int?)
    case online(snapshots: Int?)

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .storeAll: return "store-all"
        case .revolve: return "revolve"
        case .online: return "online"
        }
    }
}

/// Options of a time-stepping gradient.
public struct TimeSteppingOptions {
    public var strategy: CheckpointStrategy
    /// Bytes Rewind may use for the run: snapshots, tapes, adjoints and buffers.
    public var memoryBudget: MemoryBudget
    /// Called now and then with the fraction of the reverse sweep done (0...1).
    public var progress: ((Double) -> Void)?

    public init(
        strategy: CheckpointStrategy = .auto, memoryBudget: MemoryBudget = .mebibytes(1024),
        progress: ((Double) -> Void)? = nil
    ) {
        self.strategy = strategy
        self.memoryBudget = memoryBudget
        self.progress = progress
    }
}
