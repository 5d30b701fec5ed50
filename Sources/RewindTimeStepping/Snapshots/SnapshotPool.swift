import RewindCore
/// Snapshot slots in memory.
///
/// Small states are copied into one contiguous block of `slots × stateCount` doubles,
/// allocated for the schedule's number of slots (and grown only if a schedule uses more).
/// Why not an array per slot: revolve with a generous budget keeps a snapshot of every step,
/// and a million small heap arrays in a dictionary cost several times the 8 bytes per value
/// they hold (headers, allocator rounding, hash buckets), breaking the memory budget for
/// small states (Lorenz: 24 bytes of state, ~100 bytes of overhead).
///
/// Large states (`movesBuffers`) are not copied at all: a store moves the executor's state
/// array into the slot and hands it the slot's previous buffer, and a restore leaves the
/// state where it is, for the executor to read from the slot (`CheckpointExecutor.currentSlot`).
/// Why: a heat2d 256² state is 512 KiB, and copying it in and out at every store and restore
/// took a tenth of the run (`perf`: `memmove` under `store` and `restore`); the arrays' headers
/// are nothing beside states this large. Each slot keeps its buffer once it has one, so the
/// buffers are allocated once per slot, as the contiguous block's pages are touched once.
@usableFromInline
package final class SnapshotPool {
    /// States at least this long move between the executor and the slots instead of being
    /// copied (16 KiB: a copy then costs about as much as a small model's step).
    @usableFromInline package static let movingStateCount = 2048

    @usableFromInline package let stateCount: Int
    /// Whether stores and restores move buffers (large states) or copy values (small states).
    @usableFromInline package let movesBuffers: Bool
    @usableFromInline @exclusivity(unchecked) package var storage: UnsafeMutablePointer<Double>
    /// Large states: each slot's buffer, empty until the slot is first stored into.
    @usableFromInline @exclusivity(unchecked) package var buffers: [[Double]] = []
    @usableFromInline @exclusivity(unchecked) package var steps: UnsafeMutablePointer<Int>
    @usableFromInline @exclusivity(unchecked) package var capacity: Int
    @usableFromInline @exclusivity(unchecked) package var liveCount = 0
    @usableFromInline @exclusivity(unchecked) package var peakLiveCount = 0

    @usableFromInline
    package init(stateCount: Int, slots: Int = 4) {
        self.stateCount = max(stateCount, 1)
        movesBuffers = stateCount >= Self.movingStateCount
        // Sized for the schedule's slots up front: growing by doubling would hold the old
        // and the new block at once, three times what the planner charged.
        capacity = max(slots, 1)
        storage = .allocate(capacity: movesBuffers ? 1 : capacity * self.stateCount)
        if movesBuffers { buffers = Array(repeating: [], count: capacity) }
        steps = .allocate(capacity: capacity)
        steps.initialize(repeating: -1, count: capacity)
    }

    deinit {
        storage.deallocate()
        steps.deallocate()
    }

    @usableFromInline
    package func grow(toHold slot: Int) {
        var newCapacity = capacity
        while newCapacity <= slot { newCapacity *= 2 }
        if movesBuffers {
            buffers += Array(repeating: [], count: newCapacity - capacity)
        } else {
            let newStorage = UnsafeMutablePointer<Double>.allocate(capacity: newCapacity * stateCount)
            newStorage.update(from: storage, count: capacity * stateCount)
            storage.deallocate()
            storage = newStorage
        }
        let newSteps = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        newSteps.update(from: steps, count: capacity)
        (newSteps + capacity).initialize(repeating: -1, count: newCapacity - capacity)
        steps.deallocate()
        steps = newSteps
        capacity = newCapacity
    }

    /// Copies `state` into `slot` (small states).
    @inlinable
    func store(_ state: [Double], slot: Int, step: Int) {
        precondition(!movesBuffers, "a pool of large states moves them in (store(moving:))")
        if slot >= capacity { grow(toHold: slot) }
        state.withUnsafeBufferPointer { (storage + slot * stateCount).update(from: $0.baseAddress!, count: stateCount) }
        markLive(slot: slot, step: step)
    }

    /// Moves `state` into `slot` (large states) and leaves in `state` a buffer of the same
    /// length whose values are not meaningful: the slot's previous buffer, or a new one.
    @inlinable
    func store(moving state: inout [Double], slot: Int, step: Int) {
        precondition(movesBuffers && state.count == stateCount, "only a pool of large states moves them")
        if slot >= capacity { grow(toHold: slot) }
        swap(&state, &buffers[slot])
        if state.count != stateCount { state = [Double](repeating: 0, count: stateCount) }
        markLive(slot: slot, step: step)
    }

    @inlinable
    func markLive(slot: Int, step: Int) {
        if steps[slot] < 0 { liveCount += 1 }
        steps[slot] = step
        peakLiveCount = max(peakLiveCount, liveCount)
    }

    /// Copies `slot`'s state into `state` (small states).
    @inlinable
    func restore(slot: Int, step: Int, into state: inout [Double]) {
        checkHolds(slot: slot, step: step)
        precondition(!movesBuffers, "a pool of large states is read in place (buffer(ofSlot:))")
        state.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: storage + slot * stateCount, count: stateCount) }
    }

    /// Large states: the buffer `slot` holds, read in place.
    @inlinable
    func buffer(ofSlot slot: Int) -> [Double] { buffers[slot] }

    /// Large states: exchanges `state` with `slot`'s buffer, which the slot then no longer
    /// holds as a snapshot (it is freed); for a state that must outlive its slot.
    @inlinable
    func take(slot: Int, into state: inout [Double]) {
        precondition(movesBuffers && buffers[slot].count == stateCount, "slot \(slot) holds no moved state")
        swap(&state, &buffers[slot])
        free(slot: slot)
    }

    @inlinable
    func checkHolds(slot: Int, step: Int) {
        precondition(
            slot < capacity && steps[slot] == step, "schedule restores step \(step) from slot \(slot), which does not hold it")
    }

    @inlinable
    func free(slot: Int) {
        guard slot < capacity, steps[slot] >= 0 else { return }
        steps[slot] = -1
        liveCount -= 1
    }
}
