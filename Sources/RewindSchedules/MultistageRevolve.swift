/// Revolve with its longest-lived snapshots on disk: binomial checkpointing over two storage
/// levels (Stumm & Walther, "MultiStage approaches for optimal offline checkpointing", SIAM J.
/// Sci. Comput. 31(3), 2009).
///
/// Revolve fills its slots like a stack: slot 0 holds `x_0` for the whole run, and the higher
/// a slot, the more often it is overwritten and read back. Placing the `diskSlots` lowest
/// slots on disk therefore sends the fewest transfers to the slow level while keeping
/// revolve's optimal number of advances, `t(steps, memorySlots + diskSlots)`. (The H-Revolve
/// schedule, `TwoLevelSchedule`, minimises a cost that weighs disk transfers against
/// recomputation, at the price of a dynamic programme quadratic in the number of steps.)
///
/// ```swift
/// for action in MultistageRevolve(steps: 10_000, memorySlots: 20, diskSlots: 40) { ... }
/// ```
public struct MultistageRevolve: Sequence, Sendable {
    /// The single-level schedule over all slots, whose actions this one relabels.
    public let revolve: RevolveSchedule
    /// Slots (the lowest-numbered, longest-lived) kept on disk.
    public let diskSlots: Int

    /// - Parameters:
    ///   - steps: Time steps to reverse, at least 1.
    ///   - memorySlots: Snapshot slots in memory.
    ///   - diskSlots: Snapshot slots on disk; together with `memorySlots` at least 1.
    public init(steps: Int, memorySlots: Int, diskSlots: Int) {
        precondition(memorySlots >= 0 && diskSlots >= 0 && memorySlots + diskSlots >= 1, "checkpointing needs a slot")
        revolve = RevolveSchedule(steps: steps, snapshots: memorySlots + diskSlots)
        self.diskSlots = diskSlots
    }

    /// Advances: those of revolve with all slots.
    public var advances: Int { revolve.advances }

    /// The actions, generated lazily as revolve's.
    public func makeIterator() -> Iterator { Iterator(inner: revolve.makeIterator(), diskSlots: diskSlots) }

    /// Revolve's actions with each slot's storage level filled in.
    public struct Iterator: IteratorProtocol, Sendable {
        var inner: RevolveSchedule.Iterator
        let diskSlots: Int

        /// The next action, or `nil` once step 0 has been reversed.
        public mutating func next() -> CheckpointAction? {
            guard let action = inner.next() else { return nil }
            switch action {
            case let .store(slot, step, _): return .store(slot: slot, step: step, level: level(slot))
            case let .restore(slot, step, _): return .restore(slot: slot, step: step, level: level(slot))
            case let .free(slot, _): return .free(slot: slot, level: level(slot))
            default: return action
            }
        }

        func level(_ slot: Int) -> StorageLevel { slot < diskSlots ? .disk : .memory }
    }
}
