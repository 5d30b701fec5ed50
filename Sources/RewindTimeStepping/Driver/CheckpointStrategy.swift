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

    /// The strategy as the CLI and the reports name it (`store-all`, `revolve`, ...).
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
