import RewindCore
/// Snapshot slots in memory: one contiguous block of `slots × stateCount` doubles, allocated
/// for the schedule's number of slots (and grown only if a schedule uses more).
///
/// Why not an array per slot: revolve with a generous budget keeps a snapshot of every step,
/// and a million small heap arrays in a dictionary cost several times the 8 bytes per value
/// they hold (headers, allocator rounding, hash buckets), breaking the memory budget for
/// small states (Lorenz: 24 bytes of state, ~100 bytes of overhead).
@usableFromInline
package final class SnapshotPool {
    @usableFromInline package let stateCount: Int
    @usableFromInline @exclusivity(unchecked) package var storage: UnsafeMutablePointer<Double>
    @usableFromInline @exclusivity(unchecked) package var steps: UnsafeMutablePointer<Int>
    @usableFromInline @exclusivity(unchecked) package var capacity: Int
    @usableFromInline @exclusivity(unchecked) package var liveCount = 0
    @usableFromInline @exclusivity(unchecked) package var peakLiveCount = 0

    @usableFromInline
    package init(stateCount: Int, slots: Int = 4) {
        self.stateCount = max(stateCount, 1)
        // Sized for the schedule's slots up front: growing by doubling would hold the old
        // and the new block at once, three times what the planner charged.
        capacity = max(slots, 1)
        storage = .allocate(capacity: capacity * self.stateCount)
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
        let newStorage = UnsafeMutablePointer<Double>.allocate(capacity: newCapacity * stateCount)
        newStorage.update(from: storage, count: capacity * stateCount)
        let newSteps = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        newSteps.update(from: steps, count: capacity)
        (newSteps + capacity).initialize(repeating: -1, count: newCapacity - capacity)
        storage.deallocate()
        steps.deallocate()
        storage = newStorage
        steps = newSteps
        capacity = newCapacity
    }

    @inlinable
    func store(_ state: [Double], slot: Int, step: Int) {
        if slot >= capacity { grow(toHold: slot) }
        state.withUnsafeBufferPointer { (storage + slot * stateCount).update(from: $0.baseAddress!, count: stateCount) }
        if steps[slot] < 0 { liveCount += 1 }
        steps[slot] = step
        peakLiveCount = max(peakLiveCount, liveCount)
    }

    @inlinable
    func restore(slot: Int, step: Int, into state: inout [Double]) {
        precondition(
            slot < capacity && steps[slot] == step, "schedule restores step \(step) from slot \(slot), which does not hold it")
        state.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: storage + slot * stateCount, count: stateCount) }
    }

    @inlinable
    func free(slot: Int) {
        guard slot < capacity, steps[slot] >= 0 else { return }
        steps[slot] = -1
        liveCount -= 1
    }
}
