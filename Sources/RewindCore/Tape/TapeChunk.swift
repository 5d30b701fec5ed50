/// One arena chunk of a tape: the struct-of-arrays columns of a contiguous run of statements.
///
/// A statement `s` of the chunk defines the value with identifier `firstIdentifier + s`. Its
/// argument count is `argumentCounts[s]`; an ordinary statement's arguments follow each other in
/// `identifiers` and `partials` (the local partial derivative of the statement's value with
/// respect to that argument). Keeping the three columns apart is what makes a binary
/// operation cost 1 + 2·4 + 2·8 = 25 bytes, makes the sweep stream through memory, and lets
/// each column be compressed on its own when it spills.
///
/// Invariants: `statementCount <= statementCapacity`,
/// `identifierCount <= partialCount <= argumentCapacity` (every statement that stores an
/// identifier also stores at least as many partials: an external statement stores one
/// identifier, its descriptor, and at least one partial).
@usableFromInline
package struct _TapeChunk {
    @usableFromInline package let argumentCounts: UnsafeMutablePointer<UInt8>
    @usableFromInline package let identifiers: UnsafeMutablePointer<UInt32>
    @usableFromInline package let partials: UnsafeMutablePointer<Double>
    @usableFromInline package let statementCapacity: Int
    @usableFromInline package let argumentCapacity: Int

    /// The identifier of statement 0 of this chunk.
    @usableFromInline package var firstIdentifier: UInt32 = 0
    @usableFromInline package var statementCount = 0
    @usableFromInline package var identifierCount = 0
    @usableFromInline package var partialCount = 0
    /// The columns live in a spill file (segment = chunk index), not at the pointers, which
    /// belong to the buffer the recording reuses.
    @usableFromInline package var isSpilled = false
    /// Whether this chunk allocated its columns (a spilling tape's chunks share one buffer).
    @usableFromInline package var ownsMemory = true

    init(statementCapacity: Int, argumentCapacity: Int) {
        precondition(statementCapacity > 0 && argumentCapacity > 0, "a tape chunk needs room")
        self.statementCapacity = statementCapacity
        self.argumentCapacity = argumentCapacity
        argumentCounts = .allocate(capacity: statementCapacity)
        identifiers = .allocate(capacity: argumentCapacity)
        partials = .allocate(capacity: argumentCapacity)
    }

    /// Metadata for the next chunk of a spilling tape, recorded into this chunk's buffer.
    func sharingMemory() -> _TapeChunk {
        var chunk = self
        chunk.ownsMemory = false
        chunk.isSpilled = false
        chunk.statementCount = 0
        chunk.identifierCount = 0
        chunk.partialCount = 0
        return chunk
    }

    /// A view of a chunk read back from a spill file into `buffer`.
    func reading(from buffer: _TapeChunk) -> _TapeChunk {
        var chunk = buffer
        chunk.ownsMemory = false
        chunk.isSpilled = false
        chunk.firstIdentifier = firstIdentifier
        chunk.statementCount = statementCount
        chunk.identifierCount = identifierCount
        chunk.partialCount = partialCount
        return chunk
    }

    func deallocate() {
        guard ownsMemory else { return }
        argumentCounts.deallocate()
        identifiers.deallocate()
        partials.deallocate()
    }

    /// Bytes the chunk reserves, whether or not they hold statements yet.
    var reservedByteCount: Int {
        statementCapacity * MemoryLayout<UInt8>.stride
            + argumentCapacity * (MemoryLayout<UInt32>.stride + MemoryLayout<Double>.stride)
    }

    /// Bytes the recorded statements occupy.
    var usedByteCount: Int {
        statementCount * MemoryLayout<UInt8>.stride
            + identifierCount * MemoryLayout<UInt32>.stride
            + partialCount * MemoryLayout<Double>.stride
    }
}

/// How the argument-count column encodes statements that are not plain sums of
/// `partial × argument adjoint`.
@usableFromInline
package enum _StatementCode {
    /// The largest argument count an ordinary statement can have; wider statements are split
    /// by the recorder into a chain (see `Tape.pushStatement`).
    @usableFromInline package static let maximumArguments: UInt8 = 253
    /// A statement that runs an external reverse rule: its one identifier entry indexes the
    /// tape's external statements, its partials (if any) are that rule's data.
    @usableFromInline package static let external: UInt8 = 255
}
