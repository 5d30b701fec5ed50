/// Spilling: a tape larger than its memory share records into one chunk and hands every
/// finished chunk to a `TapeChunkSink` (the storage layer's spill files); the reverse sweep
/// gets chunks back from the sink in reverse order into one read buffer.
///
/// Memory on the tape's side: the recording chunk and one read buffer; what the sink holds
/// (staging and prefetch buffers) is the sink's. A statement wider than the chunk (a stencil
/// block) gets a buffer of its own size; stencils split their blocks to fit the chunk while
/// the tape spills.
///
/// Errors while spilling are kept and surfaced by `Tape.spillError` and thrown by the
/// drivers: the recording itself cannot throw from an operator.
extension Tape {
    /// Makes the tape hand finished chunks of `statementsPerChunk` statements to `sink`.
    ///
    /// Call it before recording (it resets the tape). Sweeps then get spilled chunks back
    /// from the sink; a spilled tape cannot be swept from several threads at once.
    ///
    /// ```swift
    /// tape.enableSpilling(to: mySink, statementsPerChunk: 1 << 16)
    /// ```
    package func enableSpilling(to sink: any TapeChunkSink, statementsPerChunk: Int) {
        precondition(statementsPerChunk >= 1, "a chunk holds at least one statement")
        configuration = TapeConfiguration(
            initialStatementCapacity: statementsPerChunk, maximumStatementCapacity: statementsPerChunk,
            argumentsPerStatement: configuration.argumentsPerStatement)
        _sink = sink
        // A read buffer sized for an earlier sink's chunks would stay reserved (and counted).
        _spillReadBuffer?.deallocate()
        _spillReadBuffer = nil
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
        guard _sink != nil else { return }
        reset()
        _sink = nil
        _spillReadBuffer?.deallocate()
        _spillReadBuffer = nil
        _spillError = nil
        configuration = .default
    }

    /// Whether finished chunks go to a sink.
    public var isSpilling: Bool { _sink != nil }

    /// The sink finished chunks go to, if the tape spills.
    package var spillSink: (any TapeChunkSink)? { _sink }

    /// The first error met while handing chunks to the sink or getting them back, if any.
    ///
    /// It stays set across `reset()` until spilling is enabled or disabled again: a run that
    /// lost a chunk must fail as a whole. Every sweep after it stops at once and leaves NaN in
    /// the adjoints it could not finish, so a caller that forgets to look still gets no
    /// finite gradient.
    public var spillError: (any Error)? { _spillError }

    /// Throws `spillError` if there is one: call it after a sweep of a spilling tape (the
    /// drivers do) to turn its NaN into the error that caused it.
    ///
    /// ```swift
    /// tape.reverse(adjoints, seeding: [(y, 1)])
    /// try tape.throwSpillError()
    /// ```
    public func throwSpillError() throws {
        if let error = _spillError { throw error }
    }

    /// Hands the finished chunk `k` to the sink; its memory then records the next chunk.
    func _spillChunk(_ k: Int) {
        guard let sink = _sink, _spillError == nil else {
            chunks[k].isSpilled = true
            return
        }
        let chunk = chunks[k]
        sink.accept(
            segment: k,
            columns: TapeChunkColumns(
                argumentCounts: UnsafeBufferPointer(start: chunk.argumentCounts, count: chunk.statementCount),
                identifiers: UnsafeBufferPointer(start: chunk.identifiers, count: chunk.identifierCount),
                partials: UnsafeBufferPointer(start: chunk.partials, count: chunk.partialCount)))
        if let failure = sink.failure { _spillError = failure }
        // Accepted or not, the chunk's memory now records the next chunk: it is only readable
        // from the sink, and a sweep after a failed hand-off stops at `_spillError`.
        chunks[k].isSpilled = true
    }

    /// A buffer able to hold `chunk`'s columns, reused between reads.
    private func _readBuffer(for chunk: _TapeChunk) -> _TapeChunk {
        if let buffer = _spillReadBuffer, buffer.statementCapacity >= chunk.statementCount,
            buffer.argumentCapacity >= chunk.partialCount
        {
            return buffer
        }
        _spillReadBuffer?.deallocate()
        let buffer = _TapeChunk(
            statementCapacity: max(chunk.statementCapacity, chunk.statementCount, 1),
            argumentCapacity: max(chunk.argumentCapacity, chunk.partialCount, 1))
        _spillReadBuffer = buffer
        return buffer
    }

    /// Chunk `k` ready to sweep: in memory, or got back (verified) from the sink.
    /// Nil after any spill error: the sweep stops and its caller poisons what it could not
    /// finish (`_poisonUnfinishedSweep`).
    func _chunkForSweep(_ k: Int) -> _TapeChunk? {
        guard _spillError == nil else { return nil }
        let chunk = _chunkAsRecorded(k)
        guard chunk.isSpilled, let sink = _sink else { return chunk }
        let buffer = _readBuffer(for: chunk)
        do {
            try sink.read(
                segment: k,
                into: TapeChunkDestination(
                    argumentCounts: UnsafeMutableBufferPointer(start: buffer.argumentCounts, count: chunk.statementCount),
                    identifiers: UnsafeMutableBufferPointer(start: buffer.identifiers, count: chunk.identifierCount),
                    partials: UnsafeMutableBufferPointer(start: buffer.partials, count: chunk.partialCount)))
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
    package var _spillBlockLimit: Int? {
        _sink == nil ? nil : configuration.maximumStatementCapacity * configuration.argumentsPerStatement
    }
}
