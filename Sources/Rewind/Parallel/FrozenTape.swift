/// A read-only view of a recorded tape that any number of threads may sweep at once.
///
/// `Tape.reverse` first copies the recorder's fill levels into the current chunk — a write
/// to the tape object. Parallel sweeps do that once, here, on the calling thread before any
/// worker starts, and the workers then read only this value: the chunk descriptors (a copy of
/// the array, whose columns are raw memory nobody writes while the tape is frozen) and the
/// external statements. Invariant: the tape is neither recorded into nor reset while a frozen
/// view of it is in use.
@usableFromInline
struct _FrozenTape {
    let chunks: [_TapeChunk]
    let externals: [_ExternalStatement]
    /// The length an adjoint vector needs.
    @usableFromInline let identifierCount: Int
    /// The end of the recording.
    @usableFromInline let end: TapePosition
    /// Identifier- and partial-column entries recorded: the work of one sweep, for deciding
    /// whether spreading sweeps over threads is worth a dispatch.
    @usableFromInline let argumentCount: Int

    @usableFromInline
    init(_ tape: Tape) {
        precondition(!tape.isRecordingOnCurrentThread, "a tape cannot be swept while it records")
        precondition(
            !tape.chunks.contains { $0.isSpilled },
            "a tape with chunks spilled to disk is swept by one thread at a time (tape.reverse)")
        tape._syncCurrentChunk()
        chunks = tape.chunks
        externals = tape.externals
        identifierCount = tape.identifierCount
        end = tape.position
        var arguments = 0
        for k in 0...end.chunk { arguments += chunks[k].partialCount + chunks[k].statementCount }
        argumentCount = arguments
    }

    /// Whether the vector sweep applies (it has no rule for external statements).
    @usableFromInline var hasExternalStatements: Bool { !externals.isEmpty }

    /// The scalar sweep of `Tape.reverse(_:from:to:)`, without its write to the tape.
    func sweep(_ adjoints: UnsafeMutablePointer<Double>, from end: TapePosition, to start: TapePosition) {
        var c = end.chunk
        while c >= start.chunk {
            let chunk = chunks[c]
            let upper =
                c == end.chunk
                ? (end.statement, end.identifier, end.partial)
                : (chunk.statementCount, chunk.identifierCount, chunk.partialCount)
            let lower = c == start.chunk ? start.statement : 0
            Tape._sweep(
                chunk, statementsFrom: upper.0, downTo: lower, identifierEnd: upper.1, partialEnd: upper.2,
                externals: externals, adjoints: adjoints)
            c -= 1
        }
    }

    /// The same sweep with `V.scalarCount` adjoints per identifier (see `Tape._vectorSweep`).
    func sweep<V: SIMD>(_ adjoints: UnsafeMutablePointer<V>, from end: TapePosition, to start: TapePosition)
    where V.Scalar == Double {
        precondition(!hasExternalStatements, "the vector sweep cannot run external statements")
        var c = end.chunk
        while c >= start.chunk {
            let chunk = chunks[c]
            let upper =
                c == end.chunk
                ? (end.statement, end.identifier, end.partial)
                : (chunk.statementCount, chunk.identifierCount, chunk.partialCount)
            let lower = c == start.chunk ? start.statement : 0
            Tape._vectorSweep(
                chunk, statementsFrom: upper.0, downTo: lower, identifierEnd: upper.1, partialEnd: upper.2,
                adjoints: adjoints)
            c -= 1
        }
    }
}
