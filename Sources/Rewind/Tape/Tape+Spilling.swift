/// Spilling: a tape larger than its memory share keeps one chunk in memory and writes every
/// finished chunk to disk, LZ4-compressed, in the background; the reverse sweep reads chunks
/// back in reverse order, each verified, with the next one prefetched while the current one is
/// swept (`SpillStore`).
///
/// Memory: the recording buffer (one chunk), the store's staging buffers, and a read buffer
/// and a prefetch buffer during the sweep — about six chunks, whatever the tape's length. A
/// statement wider than the chunk (a stencil block) gets a buffer of its own size; stencils
/// split their blocks to fit the chunk while the tape spills.
///
/// ```swift
/// let store = try SpillStore(directory: try SpillDirectory(parent: "/scratch"))
/// tape.enableSpilling(to: store, statementsPerChunk: 1 << 16)
/// ```
final class _TapeSpill {
    let store: SpillStore
    var readBuffer: _TapeChunk?
    /// How the partials column is written, chosen on the first chunk with enough partials to
    /// tell (`choosePartialsTransform`).
    var partialsTransform: SpillTransform?
    /// The partials transform of each spilled chunk, by segment: chunks written before the
    /// choice (few partials: a step's input leaves) used the default.
    var partialsTransformOfSegment: [Int: SpillTransform] = [:]

    init(store: SpillStore) { self.store = store }

    /// Whether byte-shuffling the partials before LZ4 pays on this tape: the first 64 Ki of
    /// them are compressed both ways and the smaller wins, for the whole tape.
    ///
    /// Why not always shuffle: measured on the models' real tapes (`rewind-benchmark spill`,
    /// docs/PERFORMANCE.md), shuffled partials are smaller only for Lorenz (0.89×); a stencil
    /// repeats its constant weights point after point, which LZ4 matches as 40-byte runs
    /// unshuffled and only as 5-byte runs in each byte plane shuffled (heat2d: 0.41× the size
    /// unshuffled), and unshuffled columns decode 2–4× faster.
    func choosePartialsTransform(_ partials: UnsafeBufferPointer<Double>) -> SpillTransform {
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

    deinit { readBuffer?.deallocate() }

    /// A buffer able to hold `chunk`'s columns, reused between reads.
    func buffer(for chunk: _TapeChunk) -> _TapeChunk {
        if let readBuffer, readBuffer.statementCapacity >= chunk.statementCount,
            readBuffer.argumentCapacity >= chunk.partialCount
        {
            return readBuffer
        }
        readBuffer?.deallocate()
        let buffer = _TapeChunk(
            statementCapacity: max(chunk.statementCapacity, chunk.statementCount, 1),
            argumentCapacity: max(chunk.argumentCapacity, chunk.partialCount, 1))
        readBuffer = buffer
        return buffer
    }
}

/// Errors while spilling are kept and surfaced by `Tape.spillError` and the driver: the
/// recording itself cannot throw from an operator.
extension Tape {
    /// Makes the tape spill finished chunks of `statementsPerChunk` statements to `store`.
    ///
    /// Call it before recording (it resets the tape). Sweeps then read spilled chunks back
    /// from the store; a spilled tape cannot be swept from several threads at once.
    public func enableSpilling(to store: SpillStore, statementsPerChunk: Int) {
        precondition(statementsPerChunk >= 1, "a chunk holds at least one statement")
        configuration = TapeConfiguration(
            initialStatementCapacity: statementsPerChunk, maximumStatementCapacity: statementsPerChunk,
            argumentsPerStatement: configuration.argumentsPerStatement)
        _spill = _TapeSpill(store: store)
        for chunk in chunks.dropFirst() { chunk.deallocate() }
        chunks.removeSubrange(1...)
        if chunks[0].statementCapacity != statementsPerChunk {
            chunks[0].deallocate()
            chunks[0] = _TapeChunk(
                statementCapacity: statementsPerChunk,
                argumentCapacity: statementsPerChunk * configuration.argumentsPerStatement)
        }
        currentChunk = 0
        reset()
        _spillError = nil
    }

    /// Stops spilling: the tape records in memory again, with the default chunk sizes.
    public func disableSpilling() {
        guard _spill != nil else { return }
        reset()
        _spill = nil
        _spillError = nil
        configuration = .default
    }

    /// Whether finished chunks go to disk.
    public var isSpilling: Bool { _spill != nil }

    /// The first error met while writing or reading spilled chunks, if any.
    ///
    /// It stays set across `reset()` until spilling is enabled or disabled again: a run that
    /// lost a chunk must fail as a whole. Every sweep after it stops at once and leaves NaN in
    /// the adjoints it could not finish, so a caller that forgets to look still gets no
    /// finite gradient.
    public var spillError: Error? { _spillError }

    /// The statistics of the spill store (bytes written raw and compressed, seconds per phase).
    public var spillStatistics: SpillStatistics? { _spill?.store.statistics }

    /// Spills the finished chunk `k` and returns the metadata of the next chunk, recorded into
    /// the same memory.
    func _spillChunk(_ k: Int) {
        guard let spill = _spill, _spillError == nil else {
            chunks[k].isSpilled = true
            return
        }
        let chunk = chunks[k]
        let partialsTransform = spill.choosePartialsTransform(
            UnsafeBufferPointer(start: chunk.partials, count: chunk.partialCount))
        spill.partialsTransformOfSegment[k] = partialsTransform
        do {
            try spill.store.write(
                segment: k,
                columns: [
                    SpillColumn(
                        kind: .argumentCounts,
                        elements: UnsafeBufferPointer(start: chunk.argumentCounts, count: chunk.statementCount)),
                    SpillColumn(
                        kind: .argumentIdentifiers,
                        elements: UnsafeBufferPointer(start: chunk.identifiers, count: chunk.identifierCount),
                        transform: .byteShuffle),
                    SpillColumn(
                        kind: .partialDerivatives,
                        elements: UnsafeBufferPointer(start: chunk.partials, count: chunk.partialCount),
                        transform: partialsTransform),
                ])
        } catch {
            _spillError = error
        }
        // Spilled or not, the chunk's memory now records the next chunk: it is only readable
        // from its file, and a sweep after a failed write stops at `_spillError`.
        chunks[k].isSpilled = true
    }

    /// Chunk `k` ready to sweep: in memory, or read back (and verified) from its spill file.
    /// Nil after any spill error: the sweep stops and its caller poisons what it could not
    /// finish (`_poisonUnfinishedSweep`).
    func _chunkForSweep(_ k: Int) -> _TapeChunk? {
        guard _spillError == nil else { return nil }
        let chunk = _chunkAsRecorded(k)
        guard chunk.isSpilled, let spill = _spill else { return chunk }
        let buffer = spill.buffer(for: chunk)
        do {
            try spill.store.read(
                segment: k,
                into: [
                    SpillColumnDestination(
                        kind: .argumentCounts,
                        elements: UnsafeMutableBufferPointer(start: buffer.argumentCounts, count: chunk.statementCount)),
                    SpillColumnDestination(
                        kind: .argumentIdentifiers,
                        elements: UnsafeMutableBufferPointer(start: buffer.identifiers, count: chunk.identifierCount),
                        transform: .byteShuffle),
                    SpillColumnDestination(
                        kind: .partialDerivatives,
                        elements: UnsafeMutableBufferPointer(start: buffer.partials, count: chunk.partialCount),
                        transform: spill.partialsTransformOfSegment[k] ?? .byteShuffle),
                ])
        } catch {
            _spillError = error
            return nil
        }
        return chunk.reading(from: buffer)
    }

    /// A sweep that stopped because a chunk could not be read leaves partial sums, which look
    /// like a gradient; NaN everywhere cannot be mistaken for one.
    func _poisonUnfinishedSweep(_ adjoints: AdjointVector) {
        let storage = adjoints.baseAddress
        for k in 0..<adjoints.count { storage[k] = .nan }
    }

    /// The paged form: the kept adjoints (the inputs', which are the results) become NaN.
    func _poisonUnfinishedSweep(_ adjoints: PagedAdjointVector) {
        for identifier in 0..<adjoints.keptBelow { adjoints[UInt32(identifier)] = .nan }
    }

    /// Partials a stencil block may hold while the tape spills (nil: no limit).
    @usableFromInline
    var _spillBlockLimit: Int? {
        _spill == nil ? nil : configuration.maximumStatementCapacity * configuration.argumentsPerStatement
    }
}
