/// What a caller can change to get past a `TimeSteppingError`, as data: the library says it
/// in terms of `TimeSteppingOptions` and `CheckpointStrategy` (`description`), a front end in
/// its own terms (the `rewind` CLI names its flags).
public enum TimeSteppingRemedy: Equatable, Sendable, CustomStringConvertible {
    /// Give checkpointing at least one snapshot, or none to let the budget decide.
    case snapshotsAtLeastOne
    /// Make `TimeSteppingOptions.stepsPerBlock` at least 1, or nil to let the planner choose.
    case stepsPerBlockAtLeastOne
    /// Blocks of several steps need auto, revolve or online; or tape single steps.
    case blockTapingStrategy
    /// Raise the memory budget to at least `bytes` (more than that when `isLowerBound`: the
    /// figure is a floor); with `orCheckpointing`, revolve or two-level would also do.
    case raiseBudget(bytes: Int, isLowerBound: Bool, orCheckpointing: Bool)
    /// Store-all does not fit: use auto or revolve, or raise the budget.
    case checkpointOrRaiseBudget
    /// Reverse fewer steps.
    case fewerSteps
    /// Reverse fewer steps, raise the budget (fewer recomputations) or the time limit.
    case shorterRun
    /// A run whose length is decided as it goes needs the online schedule (or auto).
    case onlineStrategy
    /// Checkpointing replays steps: make the step a function of its state and parameters, or
    /// use store-all, which records each step once and replays none.
    case pureStep

    public var description: String {
        switch self {
        case .snapshotsAtLeastOne:
            return "give the checkpointing strategy 1 or more snapshots, or nil to let the budget decide"
        case .stepsPerBlockAtLeastOne:
            return "set `TimeSteppingOptions.stepsPerBlock` to 1 or more, or nil to let the planner choose"
        case .blockTapingStrategy:
            return "use `CheckpointStrategy.auto`, `.revolve` or `.online`, or leave `TimeSteppingOptions.stepsPerBlock` nil"
        case .raiseBudget(let bytes, let isLowerBound, let orCheckpointing):
            return "raise `TimeSteppingOptions.memoryBudget` \(TimeSteppingRemedy.budgetTarget(bytes, isLowerBound: isLowerBound))"
                + (orCheckpointing ? ", or use `CheckpointStrategy.revolve` or `.twoLevel`, which need less" : "")
        case .checkpointOrRaiseBudget:
            return "use `CheckpointStrategy.auto` or `.revolve`, or raise `TimeSteppingOptions.memoryBudget`"
        case .fewerSteps:
            return "reverse fewer steps"
        case .shorterRun:
            return "reverse fewer steps, raise `TimeSteppingOptions.memoryBudget`, "
                + "or raise `TimeSteppingOptions.maximumPredictedSeconds`"
        case .onlineStrategy:
            return "use `CheckpointStrategy.online` or `.auto`"
        case .pureStep:
            return "make the step depend on its state and parameters alone (a counter, a random generator or "
                + "other state it changes as it runs makes each replay differ: keep such state in the "
                + "problem's state), or use `CheckpointStrategy.storeAll`, which replays no step"
        }
    }

    /// `to at least 51.4 KiB`: the minimum rounded up, so that a budget of that size is enough
    /// (rounded to the nearest, it could fall a few bytes short). `above 4.0 PiB` for a floor:
    /// the run's minimum is not known, only that it is more than the floor.
    public static func budgetTarget(_ bytes: Int, isLowerBound: Bool) -> String {
        isLowerBound
            ? "above \(MemoryBudget.format(bytes))"
            : "to at least \(MemoryBudget.format(bytes, rounding: .up))"
    }
}
