/// A position in a tape: the chunk and the offsets within each of its columns.
///
/// Positions are the one way to name a point in a recording; reverse sweeps, checkpoints and
/// spilling all take them. A position is only meaningful for the tape (and the recording)
/// that produced it. Invariant: the offsets never exceed the chunk's counts.
///
/// ```swift
/// let start = tape.position
/// // ... record ...
/// tape.reverse(adjoints, from: tape.position, to: start)
/// ```
public struct TapePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The chunk's index in the tape's arena.
    public var chunk: Int
    /// Statements of that chunk before this position.
    public var statement: Int
    /// Entries of the identifier column of that chunk before this position.
    public var identifier: Int
    /// Entries of the partial-derivative column of that chunk before this position.
    public var partial: Int

    /// A position from its parts; ordinarily read from `Tape.position` instead of built.
    public init(chunk: Int, statement: Int, identifier: Int, partial: Int) {
        self.chunk = chunk
        self.statement = statement
        self.identifier = identifier
        self.partial = partial
    }

    /// The position before anything was recorded.
    public static let start = TapePosition(chunk: 0, statement: 0, identifier: 0, partial: 0)

    /// Recording order: `a` was reached before `b`.
    public static func < (a: TapePosition, b: TapePosition) -> Bool {
        (a.chunk, a.statement) < (b.chunk, b.statement)
    }

    /// The chunk and statement, for messages.
    public var description: String { "chunk \(chunk), statement \(statement)" }
}
