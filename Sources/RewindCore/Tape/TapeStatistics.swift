/// What a tape holds and what it costs in memory.
///
/// ```swift
/// print(tape.statistics)   // statements, arguments, bytes in use and reserved, chunks
/// ```
public struct TapeStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Recorded statements, inputs and external statements included.
    public var statementCount: Int
    /// Identifier-column entries (the arguments of ordinary statements, one per external).
    public var argumentCount: Int
    /// Partial-derivative-column entries.
    public var partialCount: Int
    /// Statements that run an external reverse rule (stencils, custom adjoints).
    public var externalStatementCount: Int
    /// External statements that are stencils (a grid split into row blocks counts each block).
    public var stencilStatementCount = 0
    /// Stencil statements whose kernel is affine in its neighbours: their neighbour partials are
    /// kept once, and one number a point per parameter (docs/design-decisions.md).
    public var affineStencilStatementCount = 0
    /// Bytes holding recorded data in the columns.
    public var bytesInUse: Int
    /// Bytes the arena has allocated for columns, in use or not, plus external rules' data.
    public var bytesReserved: Int
    /// Chunks holding statements of this recording.
    public var chunksInUse: Int
    /// Chunks in the arena, kept across `reset()`.
    public var chunksReserved: Int

    /// Bytes per statement, the figure that decides how much fits in a budget.
    public var bytesPerStatement: Double {
        statementCount == 0 ? 0 : Double(bytesInUse) / Double(statementCount)
    }

    /// One line with the counts and bytes.
    public var description: String {
        "\(statementCount) statements, \(argumentCount) arguments, \(partialCount) partials, "
            + "\(externalStatementCount) external; \(bytesInUse) bytes in use, "
            + "\(bytesReserved) reserved in \(chunksInUse)/\(chunksReserved) chunks"
    }
}
