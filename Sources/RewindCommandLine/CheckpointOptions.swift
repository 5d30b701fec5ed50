import ArgumentParser
import Rewind

/// How `rewind gradient` reverses the run: strategy, snapshots, blocks, disk and the
/// non-finite check. The rules that relate these options to each other live in `validate()`;
/// each value was already parsed, and refused if malformed, by its own type.
struct CheckpointOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: "How the run is reversed: two-level is revolve with snapshots on disk, spill is store-all with its tape on disk.")
    var strategy: StrategyName = .auto

    @Option(parsing: .unconditional, help: "Snapshots for checkpointing: auto or a number.")
    var snapshots: AutoOrCount<SnapshotsOption> = .auto

    @Option(
        parsing: .unconditional,
        help: "Steps taped together by revolve and online: auto (the planner chooses from the budget and a timed sample) or a number.")
    var stepsPerBlock: AutoOrCount<StepsPerBlockOption> = .auto

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Directory under which disk snapshots go, in a private subdirectory removed afterwards; lets auto use the disk.",
        valueName: "DIR"))
    var spillDir: String?

    @Flag(help: "Stop at the first NaN or infinity and name the statement and the time step where it entered.")
    var checkFinite = false

    mutating func validate() throws {
        if snapshots != .auto && strategy == .storeAll {
            throw ValidationError("--snapshots does not apply to --strategy store-all")
        }
        if let count = stepsPerBlock.count, count > 1, !strategy.tapesBlocks {
            throw ValidationError(
                "--steps-per-block applies to --strategy auto, revolve or online only (got '\(strategy.rawValue)')")
        }
    }

    /// The engine's strategy these options choose.
    var checkpointStrategy: CheckpointStrategy { strategy.checkpointStrategy(snapshots: snapshots.count) }

    /// Adds what these options set beyond the strategy to `options`.
    func apply(to options: inout TimeSteppingOptions) {
        options.spillDirectory = spillDir
        options.checksFinite = checkFinite
        options.stepsPerBlock = stepsPerBlock.count
    }
}
