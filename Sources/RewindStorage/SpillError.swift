#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the spill layer: what went wrong, on which path, and what the user can do about it.
///
/// `summary` says what went wrong and `remedy` what to change, as data, so that a front end
/// can say it in its own terms; `description` joins them in the library's terms.
///
/// Every case names the file or directory involved, so a message is actionable on its own.
/// Errors raised on the background I/O queue that writes spill files are kept and surface at
/// the next operation (for a tape: `Tape.spillError`, thrown by `throwSpillError()` and by the
/// time-stepping drivers); none is dropped.
///
/// ```swift
/// do {
///     try tape.enableSpilling(to: try SpillDirectory(parent: "/scratch"), statementsPerChunk: 1 << 16)
///     // ... record, sweep ...
///     try tape.throwSpillError()
/// } catch let error as SpillError {
///     print(error)   // "no space left for spill file '…'; free space, …"
/// }
/// ```
public enum SpillError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call failed with an errno that has no more specific case.
    case io(errno: Int32, operation: String, path: String)
    /// The filesystem holding the spill directory is full (ENOSPC) or the quota is exhausted (EDQUOT).
    case diskFull(path: String)
    /// The process may not create or write the path (EACCES, EPERM, or a read-only filesystem).
    case permissionDenied(path: String)
    /// The parent directory given for spill files does not exist.
    case directoryMissing(path: String)
    /// The parent given for spill files exists but is not a directory.
    case notADirectory(path: String)
    /// The file ended before `expected` bytes could be read; `actual` were there.
    case truncated(path: String, expected: Int, actual: Int)
    /// The file is longer than its header says it should be.
    case unexpectedFileSize(path: String, expected: Int, actual: Int)
    /// The file does not start with the spill magic bytes.
    case badMagic(path: String)
    /// The file was written by a format version this build does not read.
    case unsupportedVersion(path: String, found: Int, supported: Int)
    /// The header (fixed part and column table) does not match its CRC-32C.
    case headerChecksumMismatch(path: String)
    /// The header is self-consistent but describes something impossible (reserved bits, sizes).
    case corruptHeader(path: String, detail: String)
    /// The file holds a different segment than the one asked for.
    case unexpectedSegment(path: String, expected: Int, found: Int)
    /// A column on disk, or a destination given by the caller, disagrees with what was written.
    case columnMismatch(path: String, segment: Int, column: Int, detail: String)
    /// An LZ4 block or content checksum of a column does not match: the bytes on disk changed.
    case checksumMismatch(path: String, segment: Int, column: Int)
    /// A column's LZ4 frame is malformed in a way other than a checksum (bad frame header, sizes).
    case corruptFrame(path: String, segment: Int, column: Int, detail: String)
    /// LZ4 refused to compress (out of memory or an internal error).
    case compressionFailed(path: String, detail: String)
    /// The file is intact but is not the last one written under its name (an older copy put
    /// back, or a file from another run): its write number `foundWrite` (nil: another writer)
    /// where `expectedWrite` was written.
    case replayedFile(path: String, expectedWrite: Int, foundWrite: Int?)
    /// A segment was read that was never written to this store.
    case segmentNotWritten(segment: Int, directory: String)
    /// The spill directory was already removed.
    case directoryRemoved(path: String)

    /// Maps an errno from `operation` on `path` to the most specific case.
    static func from(_ errno: SpillIO.Errno, operation: String, path: String) -> SpillError {
        switch errno.rawValue {
        case ENOSPC, EDQUOT: return .diskFull(path: path)
        case EACCES, EPERM, EROFS: return .permissionDenied(path: path)
        default: return .io(errno: errno.rawValue, operation: operation, path: path)
        }
    }

    /// What went wrong and where, without advice.
    public var summary: String {
        switch self {
        case let .io(errno, operation, path):
            return "spill I/O failed: \(operation) on '\(path)': \(SpillIO.Errno(rawValue: errno))"
        case let .diskFull(path):
            return "no space left for spill file '\(path)'"
        case let .permissionDenied(path):
            return "permission denied for '\(path)' (or the filesystem is read-only)"
        case let .directoryMissing(path):
            return "spill directory parent '\(path)' does not exist"
        case let .notADirectory(path):
            return "spill directory parent '\(path)' is not a directory"
        case let .truncated(path, expected, actual):
            return "spill file '\(path)' is truncated: expected \(expected) bytes, found \(actual); "
                + "the disk may have filled up or another process changed the file; rerun the computation"
        case let .unexpectedFileSize(path, expected, actual):
            return "spill file '\(path)' has \(actual) bytes where its header says \(expected); another process changed it"
        case let .badMagic(path):
            return "'\(path)' is not a Rewind spill file (bad magic bytes); another process overwrote it"
        case let .unsupportedVersion(path, found, supported):
            return "spill file '\(path)' has format version \(found), this build reads version \(supported); "
                + "spill files do not outlive a run, so delete it and rerun"
        case let .headerChecksumMismatch(path):
            return "spill file '\(path)' has a corrupt header (checksum mismatch); "
                + "the storage is unreliable or the file was modified"
        case let .corruptHeader(path, detail):
            return "spill file '\(path)' has an invalid header: \(detail); rerun the computation"
        case let .unexpectedSegment(path, expected, found):
            return "spill file '\(path)' holds segment \(found) where segment \(expected) was expected; the file was replaced"
        case let .columnMismatch(path, segment, column, detail):
            return "spill file '\(path)', segment \(segment), column \(column): \(detail); "
                + "the reader must ask for the columns that were written (a bug in the caller, please report it)"
        case let .checksumMismatch(path, segment, column):
            return "spill file '\(path)', segment \(segment), column \(column): checksum mismatch, the data changed on disk"
        case let .corruptFrame(path, segment, column, detail):
            return "spill file '\(path)', segment \(segment), column \(column): corrupt LZ4 frame (\(detail))"
        case let .compressionFailed(path, detail):
            return "compressing spill file '\(path)' failed: \(detail)"
        case let .replayedFile(path, expectedWrite, foundWrite):
            let found = foundWrite.map { "write \($0) of this run" } ?? "another run or process"
            return "spill file '\(path)' is an intact but stale copy (from \(found), where write \(expectedWrite) "
                + "was expected): another process put an old file back"
        case let .segmentNotWritten(segment, directory):
            return "segment \(segment) was never spilled to '\(directory)' (a bug in the caller, please report it)"
        case let .directoryRemoved(path):
            return "spill directory '\(path)' was already removed; create a new SpillDirectory"
        }
    }

    /// What the caller can change, or nil where `summary` already says it (rerun, report a bug).
    public var remedy: SpillRemedy? {
        switch self {
        case .io: return .useAnotherFilesystem
        case .diskFull: return .freeSpace
        case .permissionDenied: return .useWritableDirectory
        case .directoryMissing: return .useExistingDirectory
        case .notADirectory: return .useADirectory
        case .unexpectedFileSize, .badMagic, .unexpectedSegment, .replayedFile: return .usePrivateDirectory
        case .headerChecksumMismatch, .checksumMismatch, .corruptFrame: return .useAnotherDirectory
        case .compressionFailed: return .freeMemory
        case .truncated, .unsupportedVersion, .corruptHeader, .columnMismatch, .segmentNotWritten, .directoryRemoved:
            return nil
        }
    }

    public var description: String {
        remedy.map { "\(summary); \($0)" } ?? summary
    }
}
