import RewindCore

/// The storage layer's `TapeChunkSink`: each finished chunk becomes one segment of a spill
/// file in `store`, its three columns compressed apart, written in the background and read
/// back verified, with the next one prefetched while the current one is swept (`SpillStore`).
///
/// ```swift
/// let store = try SpillStore(directory: try SpillDirectory(parent: "/scratch"))
/// tape.enableSpilling(to: store, statementsPerChunk: 1 << 16)   // wraps it in a TapeSpillSink
/// ```
public final class TapeSpillSink: TapeChunkSink {
    /// The store the chunks go to.
    public let store: SpillStore
    /// How the partials column is written, chosen on the first chunk with enough partials to
    /// tell (`choosePartialsTransform`).
    package private(set) var partialsTransform: SpillTransform?
    /// The partials transform of each spilled chunk, by segment: chunks written before the
    /// choice (few partials: a step's input leaves) used the default.
    private var partialsTransformOfSegment: [Int: SpillTransform] = [:]
    public private(set) var failure: (any Error)?

    public init(store: SpillStore) { self.store = store }

    public func accept(segment: Int, columns: TapeChunkColumns) {
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

    public func read(segment: Int, into destination: TapeChunkDestination) throws {
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
    /// Makes the tape spill finished chunks of `statementsPerChunk` statements to `store`,
    /// LZ4-compressed and verified on the way back (through a `TapeSpillSink`).
    ///
    /// ```swift
    /// let store = try SpillStore(directory: try SpillDirectory(parent: "/scratch"))
    /// tape.enableSpilling(to: store, statementsPerChunk: 1 << 16)
    /// ```
    public func enableSpilling(to store: SpillStore, statementsPerChunk: Int) {
        enableSpilling(to: TapeSpillSink(store: store), statementsPerChunk: statementsPerChunk)
    }

    /// The statistics of the spill store (bytes written raw and compressed, seconds per phase).
    public var spillStatistics: SpillStatistics? { (spillSink as? TapeSpillSink)?.store.statistics }
}
