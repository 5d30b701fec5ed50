import RewindCore
import RewindStorage
/// The slow level of two-level checkpointing: snapshots kept on disk, LZ4-compressed, in a
/// private spill directory that is removed when the run ends (or fails, or is interrupted).
///
/// Each slot is one spill segment; storing into a slot again replaces its file. States are
/// byte-shuffled before compression, which suits smooth fields (the high bytes of
/// neighbouring doubles agree). Reads are verified (header, sizes, LZ4 checksums) and a
/// corrupt or missing file is an error naming the path, never a wrong gradient.
@usableFromInline
package final class DiskSnapshots {
    @usableFromInline package let directory: SpillDirectory
    @usableFromInline package let store: SpillStore
    @usableFromInline package var steps: [Int: Int] = [:]
    @usableFromInline package var peakSlots = 0

    @usableFromInline
    package init(parent: String?, io: SpillIO = .system) throws {
        directory = try SpillDirectory(parent: parent, prefix: "rewind-snapshots", io: io)
        // Snapshots are restored in no particular order, so prefetching the previous
        // segment would only read files that are not needed next.
        store = try SpillStore(
            directory: directory,
            configuration: SpillStore.Configuration(prefetchesPreviousSegment: false))
    }

    deinit { try? directory.remove() }

    @usableFromInline
    package func store(_ state: [Double], slot: Int, step: Int) throws {
        try state.withUnsafeBufferPointer { buffer in
            try store.write(segment: slot, columns: [SpillColumn(kind: .stateSnapshot, elements: buffer, transform: .byteShuffle)])
        }
        steps[slot] = step
        peakSlots = max(peakSlots, steps.count)
    }

    @usableFromInline
    package func restore(slot: Int, step: Int, into state: inout [Double]) throws {
        precondition(steps[slot] == step, "schedule restores step \(step) from disk slot \(slot), which does not hold it")
        try state.withUnsafeMutableBufferPointer { buffer in
            try store.read(
                segment: slot, into: [SpillColumnDestination(kind: .stateSnapshot, elements: buffer, transform: .byteShuffle)])
        }
    }

    @usableFromInline
    package func free(slot: Int) throws {
        steps[slot] = nil
        try store.removeSegment(slot)
    }

    /// Waits for writes in flight and removes the directory with everything in it.
    @usableFromInline
    package func close() throws {
        defer { try? directory.remove() }
        try store.waitForPendingWrites()
    }
}
