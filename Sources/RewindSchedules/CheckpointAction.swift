/// Where a snapshot slot keeps its state.
///
/// Memory slots are free to write and read; disk slots cost what the two-level cost model says
/// (see ``TwoLevelSchedule``). Offline and online revolve schedules only use `.memory`.
public enum StorageLevel: Hashable, Sendable, CustomStringConvertible {
    /// In memory: free to write and read.
    case memory
    /// On disk: each write and read costs what `TwoLevelCosts` says.
    case disk

    /// `memory` or `disk`.
    public var description: String { self == .memory ? "memory" : "disk" }
}

/// One instruction of a checkpointing schedule, executed by the time-stepping driver.
///
/// The driver holds one *current state* `x_i` and numbered snapshot slots. Schedules are pure:
/// they only emit these actions, so they can be counted, tested and drawn without running a model.
///
/// - `advance(from:to:)`: the current state is `x_from`; run the primal *untaped* to `x_to`.
///   Costs `to - from` evaluations of the step function; these are the *advances* counted in
///   `reference/README.md`.
/// - `store(slot:step:level:)`: copy the current state, which is `x_step`, into `slot`.
/// - `restore(slot:step:level:)`: make the slot's state `x_step` the current state.
/// - `free(slot:level:)`: the slot's state is no longer needed.
/// - `reverse(step:)`: the current state is `x_step`; tape step `step` (`x_step -> x_{step+1}`)
///   and run its adjoint. This is the *taped evaluation* (revolve's `firsturn`/`youturn`), one
///   per step, and is **not** an advance. After it the current state is undefined: the next
///   action that needs a state is always a `restore` (or the end of the schedule).
///
/// Every schedule reverses steps `steps-1` down to `0`, each exactly once.
///
/// ```swift
/// for action in RevolveSchedule(steps: 3, snapshots: 2) { print(action) }
/// // store(slot: 0, step: 0, memory), advance(0 -> 1), store(slot: 1, step: 1, memory),
/// // advance(1 -> 2), reverse(2), restore(slot: 1, step: 1, memory), reverse(1), free(1), ...
/// ```
public enum CheckpointAction: Hashable, Sendable, CustomStringConvertible {
    /// Run the primal untaped from `x_from` to `x_to` (`to − from` advances).
    case advance(from: Int, to: Int)
    /// Copy the current state, `x_step`, into `slot`.
    case store(slot: Int, step: Int, level: StorageLevel)
    /// Make the slot's state, `x_step`, the current state.
    case restore(slot: Int, step: Int, level: StorageLevel)
    /// The slot's state is no longer needed.
    case free(slot: Int, level: StorageLevel)
    /// Tape step `step` from the current state `x_step` and run its adjoint; the current state is
    /// undefined afterwards.
    case reverse(step: Int)

    /// Evaluations of the step function this action costs, not counting the taped evaluation.
    @inlinable
    public var advanceCount: Int {
        if case let .advance(from, to) = self { return to - from }
        return 0
    }

    /// The action as the schedule diagrams and tests print it, e.g. `advance(0 -> 3)`.
    public var description: String {
        switch self {
        case let .advance(from, to): return "advance(\(from) -> \(to))"
        case let .store(slot, step, level): return "store(slot: \(slot), step: \(step), \(level))"
        case let .restore(slot, step, level): return "restore(slot: \(slot), step: \(step), \(level))"
        case let .free(slot, level): return "free(slot: \(slot), \(level))"
        case let .reverse(step): return "reverse(\(step))"
        }
    }
}
