import RewindCore
import RewindParallel
import RewindSchedules
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
    public struct Column: Sendable, Codable, Equatable {
        public var column: String
        public var rawBytes: Int
        public var compressedBytes: Int
        /// raw / compressed.
        public var compressionRatio: Double
    }

    public var segmentsWritten: Int
    public var segmentsRead: Int
    public var columns: [Column]
    /// Compressed bytes on disk per spilled tape statement (0 when only snapshots spilled).
    public var bytesPerStatement: Double
    /// On the computing thread: transforming columns before compression, and undoing the
    /// transforms into the tape's buffers after decompression.
    public var secondsStaging: Double
    public var secondsRestoring: Double
    /// On the I/O queue, overlapping the computation.
    public var secondsCompressing: Double
    public var secondsDecompressing: Double
    /// Time the computation waited for the writer, and for segments to come back.
    public var secondsWaitingForWrites: Double
    public var secondsWaitingForReads: Double

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
