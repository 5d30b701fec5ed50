import RewindCore
/// A read-only view of a recorded tape that any number of threads may sweep at once.
///
/// `Tape.reverse` first copies the recorder's fill levels into the current chunk — a write
/// to the tape object. Parallel sweeps do that once, here, on the calling thread before any
/// worker starts, and the workers then read only this value: the chunk descriptors (a copy of
/// the array, whose columns are raw memory nobody writes while the tape is frozen) and the
/// external statements. Invariant: the tape is neither recorded into nor reset while a frozen
/// view of it is in use.
@usableFromInline
package struct _FrozenTape {
    let chunks: [_TapeChunk]
    let externals: [_ExternalStatement]
    /// The length an adjoint vector needs.
    @usableFromInline package let identifierCount: Int
    /// The end of the recording.
    @usableFromInline package let end: TapePosition
    /// Identifier- and partial-column entries recorded: the work of one sweep, for deciding
    /// whether spreading sweeps over threads is worth a dispatch.
    @usableFromInline package let argumentCount: Int

    @usableFromInline
    package init(_ tape: Tape) {
        precondition(!tape.isRecordingOnCurrentThread, "a tape cannot be swept while it records")
        precondition(
            !tape.chunks.contains { $0.isSpilled },
            "a tape with chunks spilled to disk is swept by one thread at a time (tape.reverse)")
        // The current chunk's fill levels come from the recorder without writing them back,
        // so freezing a tape (like sweeping it) changes nothing shared.
        chunks = tape.chunks.indices.map(tape._chunkAsRecorded)
        externals = tape.externals
        identifierCount = tape.identifierCount
        end = tape.position
        var arguments = 0
        for k in 0...end.chunk { arguments += chunks[k].partialCount + chunks[k].statementCount }
        argumentCount = arguments
    }

    /// Whether the vector sweep applies (it has no rule for external statements).
    @usableFromInline package var hasExternalStatements: Bool { !externals.isEmpty }

    /// The scalar sweep of `Tape.reverse(_:from:to:)` over the frozen chunks.
    func sweep(_ adjoints: UnsafeMutablePointer<Double>, from end: TapePosition, to start: TapePosition) {
        Tape._forEachChunk(from: end, to: start, chunk: { chunks[$0] }) { _, chunk, range in
            Tape._sweep(
                chunk, statementsFrom: range.upper, downTo: range.lower, identifierEnd: range.identifierEnd,
                partialEnd: range.partialEnd, externals: externals, adjoints: adjoints)
            return true
        }
    }

    /// The same sweep with `V.scalarCount` adjoints per identifier (see `Tape._vectorSweep`).
    func sweep<V: SIMD>(_ adjoints: UnsafeMutablePointer<V>, from end: TapePosition, to start: TapePosition)
    where V.Scalar == Double {
        precondition(!hasExternalStatements, "the vector sweep cannot run external statements")
        Tape._forEachChunk(from: end, to: start, chunk: { chunks[$0] }) { _, chunk, range in
            Tape._vectorSweep(
                chunk, statementsFrom: range.upper, downTo: range.lower, identifierEnd: range.identifierEnd,
                partialEnd: range.partialEnd, adjoints: adjoints)
            return true
        }
    }
}
