import ArgumentParser
import Rewind

/// `rewind gradient --strategy`: how the run is reversed.
enum StrategyName: String, ChoiceArgument {
    case auto
    case storeAll = "store-all"
    case revolve
    case online
    case twoLevel = "two-level"
    case spill

    static let optionName = "--strategy"

    /// Whether `--steps-per-block` above 1 means anything to this strategy: only revolve and
    /// online tape blocks of steps (auto may choose revolve).
    var tapesBlocks: Bool { [.auto, .revolve, .online].contains(self) }

    /// The engine's strategy, with `--snapshots` when given (for auto, a snapshot count means
    /// revolve with that many).
    func checkpointStrategy(snapshots: Int?) -> CheckpointStrategy {
        switch self {
        case .auto: return snapshots.map { .revolve(snapshots: $0) } ?? .auto
        case .storeAll: return .storeAll
        case .revolve: return .revolve(snapshots: snapshots)
        case .online: return .online(snapshots: snapshots)
        case .twoLevel: return .twoLevel(memorySnapshots: snapshots, diskSnapshots: nil)
        case .spill: return .spill
        }
    }
}

/// `rewind jacobian --strategy`: the strategies `TimeStepping.jacobian` reverses its rows with
/// (it has no disk tier), a subset of `StrategyName` with the same spelling and meaning.
enum JacobianStrategyName: String, ChoiceArgument {
    case auto
    case storeAll = "store-all"
    case revolve
    case online

    static let optionName = "--strategy"

    var checkpointStrategy: CheckpointStrategy {
        StrategyName(rawValue: rawValue)!.checkpointStrategy(snapshots: nil)
    }
}
