#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the spill layer makes, as replaceable function values.
///
/// `SpillIO.system` calls the real syscalls. Tests build a variant that fails with ENOSPC on the
/// third write, returns short reads, or refuses to create a directory, without touching the
/// filesystem's real behaviour. Every function reports failure as a ``SpillIO/Errno`` instead of
/// `-1` plus a global, so a mock cannot forget to set errno.
///
/// ```swift
/// var io = SpillIO.system
/// let realWrite = io.write
/// io.write = { fd, bytes in bytes.count > 4096 ? .failure(.init(rawValue: ENOSPC)) : realWrite(fd, bytes) }
/// let directory = try SpillDirectory(io: io)
/// ```
public struct SpillIO: Sendable {
    /// A POSIX error number. The corresponding C value is `errno`.
    public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// The calling thread's `errno`.
        public static var current: Errno { Errno(rawValue: errno) }

        /// The text of `strerror`, followed by the number.
        public var description: String {
            guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
            return "\(String(cString: text)) (errno \(rawValue))"
        }
    }

    /// Opens `path`. The corresponding C function is `open(2)`.
    public var open: @Sendable (_ path: String, _ flags: Int32, _ mode: mode_t) -> Result<Int32, Errno>
    /// Reads up to `buffer.count` bytes; `0` means end of file. The corresponding C function is `read(2)`.
    public var read: @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno>
    /// Writes up to `bytes.count` bytes and returns how many it wrote. The corresponding C function is `write(2)`.
    public var write: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>
    /// Flushes a file to stable storage. The corresponding C function is `fsync(2)`.
    public var fsync: @Sendable (_ fd: Int32) -> Result<Void, Errno>
    /// Closes a descriptor. The corresponding C function is `close(2)`.
    public var close: @Sendable (_ fd: Int32) -> Result<Void, Errno>
    /// Removes a file. The corresponding C function is `unlink(2)`.
    public var unlink: @Sendable (_ path: String) -> Result<Void, Errno>
    /// Creates a unique directory, mode 0700, from a template ending in `XXXXXX`, and returns its path.
    /// The corresponding C function is `mkdtemp(3)`.
    public var makeUniqueDirectory: @Sendable (_ template: String) -> Result<String, Errno>
    /// Removes an empty directory. The corresponding C function is `rmdir(2)`.
    public var removeDirectory: @Sendable (_ path: String) -> Result<Void, Errno>

    public init(
        open: @escaping @Sendable (_ path: String, _ flags: Int32, _ mode: mode_t) -> Result<Int32, Errno>,
        read: @escaping @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno>,
        write: @escaping @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>,
        fsync: @escaping @Sendable (_ fd: Int32) -> Result<Void, Errno>,
        close: @escaping @Sendable (_ fd: Int32) -> Result<Void, Errno>,
        unlink: @escaping @Sendable (_ path: String) -> Result<Void, Errno>,
        makeUniqueDirectory: @escaping @Sendable (_ template: String) -> Result<String, Errno>,
        removeDirectory: @escaping @Sendable (_ path: String) -> Result<Void, Errno>
    ) {
        self.open = open
        self.read = read
        self.write = write
        self.fsync = fsync
        self.close = close
        self.unlink = unlink
        self.makeUniqueDirectory = makeUniqueDirectory
        self.removeDirectory = removeDirectory
    }

    /// The real system calls.
    public static let system = SpillIO(
        open: { path, flags, mode in
            let fd = Glibc.open(path, flags, mode)
            return fd >= 0 ? .success(fd) : .failure(.current)
        },
        read: { fd, buffer in
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            return n >= 0 ? .success(n) : .failure(.current)
        },
        write: { fd, bytes in
            let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
            return n >= 0 ? .success(n) : .failure(.current)
        },
        fsync: { fd in Glibc.fsync(fd) == 0 ? .success(()) : .failure(.current) },
        close: { fd in Glibc.close(fd) == 0 ? .success(()) : .failure(.current) },
        unlink: { path in Glibc.unlink(path) == 0 ? .success(()) : .failure(.current) },
        makeUniqueDirectory: { template in
            var buffer = Array(template.utf8CString)
            return buffer.withUnsafeMutableBufferPointer { pointer in
                guard mkdtemp(pointer.baseAddress!) != nil else { return .failure(.current) }
                return .success(String(cString: pointer.baseAddress!))
            }
        },
        removeDirectory: { path in Glibc.rmdir(path) == 0 ? .success(()) : .failure(.current) }
    )
}

// MARK: - Whole-buffer helpers over the seam

extension SpillIO {
    /// Writes all of `bytes`, retrying short writes and EINTR; a write that makes no progress is an error.
    func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch write(fd, rest) {
            case .success(let n):
                // A regular file only returns 0 for a zero-length write; treat it as an I/O error
                // rather than spinning.
                guard n > 0, n <= rest.count else {
                    throw SpillError.io(errno: EIO, operation: "write (returned \(n) of \(rest.count) bytes)", path: path)
                }
                offset += n
            case .failure(let e) where e.rawValue == EINTR:
                continue
            case .failure(let e):
                throw SpillError.from(e, operation: "write", path: path)
            }
        }
    }

    /// Reads until `buffer` is full or the file ends; returns the number of bytes read.
    func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        var offset = 0
        while offset < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[offset...])
            switch read(fd, rest) {
            case .success(0):
                return offset
            case .success(let n):
                guard n <= rest.count else {
                    throw SpillError.io(errno: EIO, operation: "read (returned \(n) of \(rest.count) bytes)", path: path)
                }
                offset += n
            case .failure(let e) where e.rawValue == EINTR:
                continue
            case .failure(let e):
                throw SpillError.from(e, operation: "read", path: path)
            }
        }
        return offset
    }
}
