/// The columns of one finished tape chunk, as the recording left them: the view a
/// `TapeChunkSink` receives before the tape reuses their memory.
package struct TapeChunkColumns {
    /// One entry per statement: its argument count (or the external-statement code).
    package var argumentCounts: UnsafeBufferPointer<UInt8>
    /// The arguments' identifiers, statement after statement.
    package var identifiers: UnsafeBufferPointer<UInt32>
    /// The local partial derivatives, one per argument (external statements store more).
    package var partials: UnsafeBufferPointer<Double>

    // Only the tape builds columns; a sink receives them.
    package init(
        argumentCounts: UnsafeBufferPointer<UInt8>, identifiers: UnsafeBufferPointer<UInt32>,
        partials: UnsafeBufferPointer<Double>
    ) {
        self.argumentCounts = argumentCounts
        self.identifiers = identifiers
        self.partials = partials
    }
}

/// Where a `TapeChunkSink` writes a chunk back for the sweep: buffers exactly as large as the
/// columns it accepted for that segment.
package struct TapeChunkDestination {
    /// Room for the chunk's argument-count column.
    package var argumentCounts: UnsafeMutableBufferPointer<UInt8>
    /// Room for the chunk's identifier column.
    package var identifiers: UnsafeMutableBufferPointer<UInt32>
    /// Room for the chunk's partial column.
    package var partials: UnsafeMutableBufferPointer<Double>

    // Only the tape builds destinations; a sink fills them.
    package init(
        argumentCounts: UnsafeMutableBufferPointer<UInt8>, identifiers: UnsafeMutableBufferPointer<UInt32>,
        partials: UnsafeMutableBufferPointer<Double>
    ) {
        self.argumentCounts = argumentCounts
        self.identifiers = identifiers
        self.partials = partials
    }
}

/// Where a spilling tape sends its finished chunks, and where its sweeps get them back.
///
/// `package`, not public: the tape trusts the bytes a sink gives back (verifying them is the
/// sink's job, done by `TapeSpillSink` with checksums), so a sink that is wrong would give a
/// wrong finite gradient. Users spill through `Tape.enableSpilling(to: SpillDirectory)`.
///
/// The tape knows nothing of files or compression: it records into one chunk of memory, hands
/// each full chunk to its sink and records the next chunk into the same memory. The storage
/// layer implements the sink (`TapeSpillSink` in RewindStorage writes LZ4-compressed,
/// verified spill files in the background); a test can implement it in memory.
///
/// Recording cannot throw (it happens inside `Tracked` operators), so `accept` reports no
/// error: the sink keeps its first failure, the tape stops sending after it, and the next
/// sweep throws it (`Tape.reverseThrowing`, the drivers) or, through the non-throwing
/// `reverse`, leaves NaN in every adjoint it could not finish.
///
/// ```swift
/// try tape.enableSpilling(to: try SpillDirectory(), statementsPerChunk: 1 << 16)   // RewindStorage's sink
/// ```
package protocol TapeChunkSink: AnyObject {
    /// Takes the columns of chunk `segment`, which the tape reuses as soon as this returns.
    ///
    /// A bounded hand-off: an implementation copies the columns (or compresses them) and
    /// returns; it waits only while all of its staging buffers are still in flight, never
    /// for I/O of its own to finish. A failure is kept and reported by `failure`.
    func accept(segment: Int, columns: TapeChunkColumns)

    /// Writes chunk `segment` back into `destination`, verified.
    ///
    /// - Throws: the storage's error when the chunk cannot be had intact.
    func read(segment: Int, into destination: TapeChunkDestination) throws

    /// The first failure of an `accept`, if any.
    var failure: (any Error)? { get }
}
