/// How a tape sizes the chunks of its arena.
///
/// Chunk `k` of a recording holds up to `min(maximum, initial · 2^k)` statements and
/// arguments, so a small recording (one time step) reserves little while a long one soon
/// works in large chunks whose allocation cost is negligible. A statement wider than a chunk
/// gets a chunk of its own size.
///
/// ```swift
/// let tape = Tape(configuration: .init(initialStatementCapacity: 64, maximumStatementCapacity: 64))
/// ```
public struct TapeConfiguration: Sendable, Equatable {
    /// Statements the first chunk holds; later chunks double from here.
    public var initialStatementCapacity: Int
    /// The most statements a chunk grows to; wider single statements still get a chunk of their
    /// own.
    public var maximumStatementCapacity: Int
    /// Argument (identifier and partial) capacity per statement of capacity.
    public var argumentsPerStatement: Int

    /// - Parameters:
    ///   - initialStatementCapacity: Statements in the first chunk (at least 1).
    ///   - maximumStatementCapacity: Statements at which doubling stops (at least the initial
    ///     capacity).
    ///   - argumentsPerStatement: Arguments reserved per statement of capacity; 2 fits elementary
    ///     arithmetic, more suits recordings dominated by wide local Jacobians.
    public init(
        initialStatementCapacity: Int = 1 << 10,
        maximumStatementCapacity: Int = 1 << 20,
        argumentsPerStatement: Int = 2
    ) {
        precondition(initialStatementCapacity >= 1, "a chunk holds at least one statement")
        precondition(maximumStatementCapacity >= initialStatementCapacity, "maximum below initial capacity")
        precondition(argumentsPerStatement >= 1, "chunks need room for arguments")
        self.initialStatementCapacity = initialStatementCapacity
        self.maximumStatementCapacity = maximumStatementCapacity
        self.argumentsPerStatement = argumentsPerStatement
    }

    /// Chunks from 1 024 to 2²⁰ statements, two arguments each: little memory for a one-step tape,
    /// negligible allocation cost for a long one.
    public static let `default` = TapeConfiguration()

    /// Statement capacity of the chunk with index `k`.
    func statementCapacity(ofChunk k: Int) -> Int {
        var capacity = initialStatementCapacity
        var doublings = k
        while doublings > 0 && capacity < maximumStatementCapacity {
            capacity *= 2
            doublings -= 1
        }
        return min(capacity, maximumStatementCapacity)
    }
}
