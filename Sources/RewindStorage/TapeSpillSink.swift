import RewindCore

/// The storage layer's `TapeChunkSink`: each finished chunk becomes one segment of a spill
/// file in `store`, its three columns compressed apart, written in the background and read
/// back verified, with the next one prefetched while the current one is swept (`SpillStore`).
///
/// ```swift
/// let store = try SpillStore(directory: try SpillDirectory(parent: "/scratch"))
/// tape.enableSpilling(to: store, statementsPerChunk: 1 << 16)   // wraps it in a TapeSpillSink
/// ```
///
/// Package access: users reach it through `Tape.enableSpilling(to:statementsPerChunk:)` with a
/// ``SpillDirectory``; `Tape.spillSink` shows it as `any TapeChunkSink`.
package final class TapeSpillSink: TapeChunkSink {
    /// The store the chunks go to.
    package let store: SpillStore
    /// How the partials column is written, chosen on the first chunk with enough partials to
    /// tell (`choosePartialsTransform`).
    package private(set) var partialsTransform: SpillTransform?
    /// The partials transform of each spilled chunk, by segment: chunks written before the
    /// choice (few partials: a step's input leaves) used the default.
    private var partialsTransformOfSegment: [Int: SpillTransform] = [:]
    package private(set) var failure: (any Error)?

    package init(store: SpillStore) { self.store = store }

    package func accept(segment: Int, columns: TapeChunkColumns) {
        guard failure == nil else { return }
        let transform = choosePartialsTransform(columns.partials)
        partialsTransformOfSegment[segment] = transform
        do {
            try store.write(
                segment: segment,
                columns: [
                    SpillColumn(kind: .argumentCounts, elements: columns.argumentCounts),
                    SpillColumn(kind: .argumentIdentifiers, elements: columns.identifiers, transform: .byteShuffle),
                    SpillColumn(kind: .partialDerivatives, elements: columns.partials, transform: transform),
                ])
        } catch {
            failure = error
        }
    }

    package func read(segment: Int, into destination: TapeChunkDestination) throws {
        try store.read(
            segment: segment,
            into: [
                SpillColumnDestination(kind: .argumentCounts, elements: destination.argumentCounts),
                SpillColumnDestination(
                    kind: .argumentIdentifiers, elements: destination.identifiers, transform: .byteShuffle),
                SpillColumnDestination(
                    kind: .partialDerivatives, elements: destination.partials,
                    transform: partialsTransformOfSegment[segment] ?? .byteShuffle),
            ])
    }

    /// Whether byte-shuffling the partials before LZ4 pays on this tape: the first 64 Ki of
    /// them are compressed both ways and the smaller wins, for the whole tape.
    ///
    /// Why not always shuffle: measured on the models' real tapes (`rewind-benchmark spill`,
    /// docs/PERFORMANCE.md), shuffled partials are smaller only for Lorenz (0.89×); a stencil
    /// repeats its constant weights point after point, which LZ4 matches as 40-byte runs
    /// unshuffled and only as 5-byte runs in each byte plane shuffled (heat2d: 0.41× the size
    /// unshuffled), and unshuffled columns decode 2–4× faster.
    private func choosePartialsTransform(_ partials: UnsafeBufferPointer<Double>) -> SpillTransform {
        if let partialsTransform { return partialsTransform }
        let sample = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(partials).prefix(8 << 16))
        // Too few to tell: shuffle this chunk, decide on a later one.
        guard sample.count >= 8 << 12 else { return .byteShuffle }
        var chosen = SpillTransform.byteShuffle
        if let codec = try? LZ4FrameCodec() {
            let shuffled = UnsafeMutableRawBufferPointer.allocate(byteCount: sample.count, alignment: 64)
            let frame = UnsafeMutableRawBufferPointer.allocate(
                byteCount: codec.maximumFrameByteCount(contentByteCount: sample.count), alignment: 64)
            defer {
                shuffled.deallocate()
                frame.deallocate()
            }
            ByteShuffle.shuffle(sample, into: shuffled, elementWidth: 8)
            if let plain = try? codec.compress(sample, into: frame),
                let shuffledSize = try? codec.compress(UnsafeRawBufferPointer(shuffled), into: frame),
                plain <= shuffledSize
            {
                chosen = .none
            }
        }
        partialsTransform = chosen
        return chosen
    }
}

extension Tape {
    /// Makes the tape spill finished chunks of `statementsPerChunk` statements to files in
    /// `directory`: LZ4-compressed in the background, and verified (checksums, sizes, write
    /// numbers) when the reverse sweep reads them back, the next one prefetched.
    ///
    /// Call it before recording (it resets the tape). A spilled tape is swept from one thread
    /// at a time. Errors while spilling do not throw from the recording; they are kept in
    /// `spillError` (a ``SpillError`` naming the file) and thrown by `throwSpillError()`.
    ///
    /// - Parameters:
    ///   - directory: Where the spill files go; the tape keeps it alive while it spills.
    ///     Removing it (``SpillDirectory/remove()``) ends what the tape can read back.
    ///   - statementsPerChunk: Statements per chunk, hence per file (at least 1); the tape holds
    ///     one chunk being recorded and one being read back in memory.
    /// - Throws: ``SpillError/compressionFailed(path:detail:)`` when the LZ4 compressor cannot be
    ///   created (out of memory).
    ///
    /// ```swift
    /// let directory = try SpillDirectory(parent: "/scratch")
    /// defer { try? directory.remove() }
    /// try tape.enableSpilling(to: directory, statementsPerChunk: 1 << 16)
    /// ```
    public func enableSpilling(to directory: SpillDirectory, statementsPerChunk: Int) throws {
        let store: SpillStore
        do {
            store = try SpillStore(directory: directory)
        } catch let error as LZ4FrameError {
            // The codec's own error type is package-internal; users catch `SpillError`.
            throw SpillError.compressionFailed(path: directory.path, detail: error.description)
        }
        enableSpilling(to: store, statementsPerChunk: statementsPerChunk)
    }

    /// Spills to `store` (the time-stepping driver chooses the store's configuration itself).
    @usableFromInline
    package func enableSpilling(to store: SpillStore, statementsPerChunk: Int) {
        enableSpilling(to: TapeSpillSink(store: store), statementsPerChunk: statementsPerChunk)
    }

    /// What spilling has done so far: bytes written raw and compressed per column, seconds per
    /// phase; nil when the tape does not spill to a ``SpillDirectory``.
    public var spillStatistics: SpillStatistics? { (spillSink as? TapeSpillSink)?.store.statistics }
}
