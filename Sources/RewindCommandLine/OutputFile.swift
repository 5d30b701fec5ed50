#if canImport(Glibc)
import Glibc
#endif

/// Writing a file the user named, through the path as it is: an existing file is truncated
/// and overwritten in place, never replaced, so a symbolic link keeps pointing where it did,
/// a device node stays a device node (`/dev/stdout` works) and a file's owner and mode stay.
/// Every failure, from `open` to `close`, is an error that names the path.
enum OutputFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `text` to `path` (the corresponding C calls are `open(O_WRONLY|O_CREAT|O_TRUNC)`,
    /// `write` and `close`). A FIFO without a reader is refused rather than waited for.
    static func write(_ text: String, to path: String) throws {
        func failure(_ what: String, _ code: Int32) -> Failure {
            Failure(description: "cannot \(what) '\(path)': \(String(cString: strerror(code)))")
        }
        // O_NONBLOCK only so that opening a FIFO without a reader fails (ENXIO) instead of hanging.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0o644)
        guard descriptor >= 0 else { throw failure("open", errno) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("inspect", errno) }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFCHR || kind == S_IFIFO else {
            throw Failure(description: "cannot write '\(path)': it is neither a regular file, a device nor a pipe")
        }
        // Back to blocking writes, so a pipe's reader sets the pace.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        var bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("write", errno)
            }
            if count == 0 { throw Failure(description: "cannot write '\(path)': no progress") }
            written += count
        }
        bytes = []
        closed = true
        guard close(descriptor) == 0 else { throw failure("close", errno) }
    }
}
