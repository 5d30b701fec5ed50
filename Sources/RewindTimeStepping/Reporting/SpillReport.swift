import RewindCore
import RewindStorage
/// What a run's spilling did, in its report: bytes and compression per column, and where the
/// time went (the waiting times are the part of the I/O the computation did not hide).
///
/// ```swift
/// if let spill = result.report.spill {
///     print(spill.bytesPerStatement, spill.columns.map { "\($0.column) \($0.compressionRatio)" })
/// }
/// ```
public struct SpillReport: Sendable, Codable, Equatable {
    /// One column of the spilled tapes or snapshots (argument counts, identifiers, partials, states).
    public struct Column: Sendable, Codable, Equatable {
        /// The column's name.
        public var column: String
        /// Bytes before compression.
        public var rawBytes: Int
        /// Bytes on disk.
        public var compressedBytes: Int
        /// raw / compressed.
        public var compressionRatio: Double
    }

    /// Segments (tape chunks or snapshots) written, and read back.
    public var segmentsWritten: Int
    /// Segments read back.
    public var segmentsRead: Int
    /// Per column, in a fixed order.
    public var columns: [Column]
    /// Compressed bytes on disk per spilled tape statement (0 when only snapshots spilled).
    public var bytesPerStatement: Double
    /// On the computing thread: transforming columns before compression, and undoing the
    /// transforms into the tape's buffers after decompression.
    public var secondsStaging: Double
    /// Undoing the transforms into the tape's buffers after decompression (computing thread).
    public var secondsRestoring: Double
    /// On the I/O queue, overlapping the computation.
    public var secondsCompressing: Double
    /// Decompressing segments read back (I/O queue, overlapping the computation).
    public var secondsDecompressing: Double
    /// Time the computation waited for the writer, and for segments to come back.
    public var secondsWaitingForWrites: Double
    /// Time the computation waited for segments to come back.
    public var secondsWaitingForReads: Double

    /// The report of a spill store's statistics.
    public init(_ statistics: SpillStatistics) {
        segmentsWritten = statistics.segmentsWritten
        segmentsRead = statistics.segmentsRead
        columns = statistics.columns.sorted { $0.key.rawValue < $1.key.rawValue }.map { kind, totals in
            Column(
                column: kind.description, rawBytes: totals.rawByteCount, compressedBytes: totals.compressedByteCount,
                compressionRatio: totals.compressionRatio)
        }
        // The argument-count column holds one byte per statement.
        let statements = statistics.columns[.argumentCounts]?.rawByteCount ?? 0
        bytesPerStatement = statements == 0 ? 0 : Double(statistics.compressedBytesWritten) / Double(statements)
        secondsStaging = statistics.secondsStaging
        secondsRestoring = statistics.secondsRestoring
        secondsCompressing = statistics.secondsCompressing
        secondsDecompressing = statistics.secondsDecompressing
        secondsWaitingForWrites = statistics.secondsWaitingForWrites
        secondsWaitingForReads = statistics.secondsWaitingForReads
    }
}
