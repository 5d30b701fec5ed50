#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private directory for spill files that removes itself: on `remove()`, on deinit, at `exit`,
/// and on every signal whose default action ends the process and that a handler can catch
/// (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF,
/// SIGXCPU, SIGXFSZ). What no handler can see — SIGKILL, a crash, power loss — is mended by the
/// next run: each directory holds an owner file locked (`flock`) for the life of the process,
/// and creating a directory first removes the directories under the same parent whose owner
/// file is no longer locked (``removeStaleDirectories(under:)``).
///
/// Invariants: the directory is created by `mkdtemp` (a fresh unique name, mode 0700) under a
/// parent that was checked to exist, be a directory and be writable; every file in it was created
/// by this object with `O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`, mode 0600, so no other user can read
/// the data and no symlink planted in advance can redirect a write. While the object is alive it is
/// listed in a process-wide registry; the first directory created installs handlers for those
/// signals (only where the disposition is still the default, and for SIGQUIT also over the Swift
/// runtime's backtracer, which prints a backtrace and lets the run go on) that remove every listed
/// directory and then re-raise the signal with the default action, so the process ends with the
/// conventional status 128 + signal number.
///
/// ```swift
/// let directory = try SpillDirectory()                      // under $TMPDIR, or /tmp
/// let custom = try SpillDirectory(parent: "/scratch/me")    // for --spill-dir
/// defer { try? directory.remove() }
/// ```
///
/// Thread-safe: files may be created and removed from any thread.
public final class SpillDirectory: @unchecked Sendable {
    /// The directory's absolute or parent-relative path.
    public let path: String
    /// The system calls used for every file in this directory.
    public let io: SpillIO
    let state: _SpillDirectoryState

    /// `$TMPDIR` when set and non-empty, else `/tmp`.
    public static var defaultParent: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }

    /// Creates a new private directory under `parent` (default: ``defaultParent``).
    ///
    /// Throws ``SpillError/directoryMissing(path:)``, ``SpillError/notADirectory(path:)`` or
    /// ``SpillError/permissionDenied(path:)`` naming `parent` when it cannot hold spill files.
    /// The corresponding C functions are `stat`, `access` and `mkdtemp`.
    public init(parent: String? = nil, prefix: String = "rewind-spill", io: SpillIO = .system) throws {
        precondition(!prefix.isEmpty && !prefix.contains("/"), "the prefix is a file name, without '/'")
        var parent = parent ?? Self.defaultParent
        while parent.count > 1 && parent.hasSuffix("/") { parent.removeLast() }

        var info = stat()
        if stat(parent, &info) != 0 {
            let e = SpillIO.Errno.current
            switch e.rawValue {
            case ENOENT: throw SpillError.directoryMissing(path: parent)
            case ENOTDIR: throw SpillError.notADirectory(path: parent)   // e.g. "/etc/passwd/x"
            default: throw SpillError.from(e, operation: "stat", path: parent)
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw SpillError.notADirectory(path: parent) }
        // access() gives the early, clear message for an ordinary user; mkdtemp below is the
        // authoritative test (root passes access(), a read-only filesystem fails mkdtemp with EROFS).
        if access(parent, W_OK | X_OK) != 0 {
            throw SpillError.from(.current, operation: "access", path: parent)
        }

        let template = (parent == "/" ? "" : parent) + "/\(prefix).XXXXXX"
        switch io.makeUniqueDirectory(template) {
        case .success(let created): path = created
        case .failure(let e):
            // Name the parent: it is what the user has to change.
            switch e.rawValue {
            case ENOENT: throw SpillError.directoryMissing(path: parent)
            case ENOTDIR: throw SpillError.notADirectory(path: parent)
            default: throw SpillError.from(e, operation: "mkdtemp", path: parent)
            }
        }
        self.io = io
        state = _SpillDirectoryState(path: path, io: io)
        state.ownerLock = _SpillOwnerLock.acquire(in: path)
        _SpillCleanup.register(state)
        _SpillCleanup.removeStaleDirectoriesOnce(under: parent)
    }

    /// The owner file in every private directory, locked while its process lives.
    static let ownerFileName = ".rewind-owner"

    /// Removes the private spill directories under `parent` whose process is gone (killed by
    /// SIGKILL, crashed, or lost with the machine) and returns their paths.
    ///
    /// A directory counts as stale only when it is named like one of Rewind's (`rewind-*.XXXXXX`),
    /// belongs to this user, and holds an owner file that names a process and that no process
    /// holds locked: a live run's directory, or one being created, is never touched. Called for
    /// each parent the first time a directory is created under it; the CLI reports what it found
    /// (``staleDirectoriesRemoved``).
    ///
    /// ```swift
    /// for path in SpillDirectory.removeStaleDirectories(under: "/scratch") { print("removed", path) }
    /// ```
    @discardableResult
    public static func removeStaleDirectories(under parent: String) -> [String] {
        guard let stream = opendir(parent) else { return [] }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = _SpillOwnerLock.name(of: entry)
            if name.hasPrefix("rewind-"), name.count > 7, name.dropLast(6).hasSuffix(".") { names.append(name) }
        }
        closedir(stream)
        var removed: [String] = []
        for name in names.sorted() {
            let path = (parent == "/" ? "" : parent) + "/" + name
            // Counted only when this sweep removed it (not when its owner got there first).
            if _SpillOwnerLock.isStale(path), _SpillOwnerLock.removeTree(path, countingOnlyOwnRemoval: true) {
                removed.append(path)
            }
        }
        if !removed.isEmpty { _SpillCleanup.noteStale(removed) }
        return removed
    }

    /// Stale directories (see ``removeStaleDirectories(under:)``) removed by this process so far.
    public static var staleDirectoriesRemoved: [String] { _SpillCleanup.staleRemoved }

    deinit {
        try? state.remove()
    }

    /// The full path of a file in this directory.
    public func filePath(_ name: String) -> String { path + "/" + name }

    /// The SIGINT or SIGTERM whose clean-up is under way, or nil. A command that meets an error
    /// while this is set should wait for the signal to end the process (the error is most
    /// likely the removed directory) rather than report it.
    public static var terminatingSignal: Int32? {
        let signo = _SpillCleanup.terminatingSignal
        return signo == 0 ? nil : signo
    }

    /// Whether ``remove()`` has run (or a signal handler removed the directory).
    public var isRemoved: Bool { state.lock.withLock { state.removed } }

    /// The files created and not yet removed, sorted.
    public var fileNames: [String] { state.lock.withLock { state.files.sorted() } }

    /// Creates a new file for writing, failing if the name exists; returns its descriptor.
    ///
    /// Flags `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`, mode 0600. The caller closes the
    /// descriptor. The corresponding C function is `open`.
    public func createFile(named name: String) throws -> Int32 {
        Self.checkName(name)
        let full = filePath(name)
        return try state.lock.withLock {
            guard !state.removed else { throw SpillError.directoryRemoved(path: path) }
            switch io.open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) {
            case .success(let fd):
                state.files.insert(name)
                return fd
            case .failure(let e):
                throw SpillError.from(e, operation: "create", path: full)
            }
        }
    }

    /// Opens a file created by this directory for reading; returns its descriptor.
    ///
    /// Flags `O_RDONLY|O_NOFOLLOW|O_CLOEXEC`. The corresponding C function is `open`.
    public func openFile(named name: String) throws -> Int32 {
        Self.checkName(name)
        let full = filePath(name)
        guard !isRemoved else { throw SpillError.directoryRemoved(path: path) }
        switch io.open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0) {
        case .success(let fd): return fd
        case .failure(let e): throw SpillError.from(e, operation: "open", path: full)
        }
    }

    /// Removes a file created by this directory. A file already gone is not an error.
    /// The corresponding C function is `unlink`.
    public func removeFile(named name: String) throws {
        Self.checkName(name)
        try state.lock.withLock {
            guard state.files.contains(name) else { return }
            let full = filePath(name)
            switch io.unlink(full) {
            case .success: state.files.remove(name)
            case .failure(let e) where e.rawValue == ENOENT: state.files.remove(name)
            case .failure(let e): throw SpillError.from(e, operation: "unlink", path: full)
            }
        }
    }

    /// Removes every file this object created, then the directory. Idempotent.
    ///
    /// Tries every file even when one fails, then throws the first failure.
    /// The corresponding C functions are `unlink` and `rmdir`.
    public func remove() throws {
        try state.remove()
    }

    private static func checkName(_ name: String) {
        precondition(!name.isEmpty && name != "." && name != ".." && !name.contains("/"),
                     "a spill file name is a plain name, without '/'")
    }
}

/// What the registry and the directory share: path, files and whether they are gone.
///
/// A separate object so that a signal arriving while the `SpillDirectory` is being deinitialised
/// still finds everything it needs; `lock` makes removal happen exactly once.
final class _SpillDirectoryState: @unchecked Sendable {
    let path: String
    let io: SpillIO
    let lock = _SpillLock()
    var files: Set<String> = []
    var removed = false
    /// The locked owner file's descriptor, -1 when it could not be made (a mocked filesystem).
    var ownerLock: Int32 = -1

    init(path: String, io: SpillIO) {
        self.path = path
        self.io = io
    }

    func remove() throws {
        let (firstError, isRemoved): (SpillError?, Bool) = lock.withLock {
            guard !removed else { return (nil, true) }
            var firstError: SpillError?
            for name in files.sorted() {
                let full = path + "/" + name
                switch io.unlink(full) {
                case .success: files.remove(name)
                case .failure(let e) where e.rawValue == ENOENT: files.remove(name)
                case .failure(let e): if firstError == nil { firstError = .from(e, operation: "unlink", path: full) }
                }
            }
            if ownerLock >= 0 { unlink(path + "/" + SpillDirectory.ownerFileName) }
            // The lock is released only once the directory is gone (below): a sweep of another
            // process that opened the owner file must not find it unlocked while it is there.
            defer {
                if ownerLock >= 0 {
                    close(ownerLock)
                    ownerLock = -1
                }
            }
            var removal = io.removeDirectory(path)
            if case .failure(let e) = removal, e.rawValue == ENOTEMPTY || e.rawValue == EEXIST {
                // Something this object did not create — a file or symlink planted by another
                // process of the same user (or root) — is in the private directory. It has no
                // business there, and leaving it would leave the directory: unlink it (never
                // following a link) and try again. The other process may still be planting
                // (seen in CI: 400 symlinks, the run's error came at the first): rounds a
                // millisecond apart for up to 0.2 s outlast a burst; this path is taken only then.
                for round in 0..<200 {
                    if _SpillOwnerLock.removeTree(path) {
                        removal = .success(())
                        break
                    }
                    if round < 199 { usleep(1000) }
                }
            }
            switch removal {
            case .success: removed = true
            case .failure(let e) where e.rawValue == ENOENT: removed = true
            case .failure(let e): if firstError == nil { firstError = .from(e, operation: "rmdir", path: path) }
            }
            return (firstError, removed)
        }
        if isRemoved { _SpillCleanup.unregister(self) }
        if let firstError { throw firstError }
    }
}

// MARK: - Process-wide cleanup

/// The write end of the self-pipe the signal handler writes to; -1 until installed.
/// A plain global of trivial type so the handler touches no Swift runtime machinery.
nonisolated(unsafe) private var _spillSignalPipeWriteEnd: Int32 = -1

/// The signal handler: async-signal-safe, it only writes the signal number to the pipe (and keeps
/// errno intact). The cleanup thread does the real work outside signal context.
private let _spillSignalHandler: @convention(c) (Int32) -> Void = { signo in
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signo)
    _ = write(_spillSignalPipeWriteEnd, &byte, 1)
    errno = saved
}

/// The registry of live spill directories, and the SIGINT/SIGTERM and `atexit` cleanup.
///
/// Why a self-pipe and a thread instead of removing files in the handler: removal walks Swift
/// collections and takes locks, none of which is async-signal-safe. The handler writes one byte;
/// a dedicated thread blocked on the pipe removes the directories and then restores the default
/// action and re-raises, so the exit status stays the conventional 128 + signal number.
enum _SpillCleanup {
    private static let lock = _SpillLock()
    nonisolated(unsafe) private static var live: [ObjectIdentifier: _SpillDirectoryState] = [:]
    nonisolated(unsafe) private static var installed = false
    /// The signals handled: those whose default action ends the process and that a handler can
    /// catch without the process being broken (crashes are left to the stale-directory sweep).
    static let signals: [Int32] = [
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
    ]
    /// Signals whose existing handler is replaced: on Linux the Swift runtime's backtracer holds
    /// SIGQUIT, prints a backtrace and lets the process run on (exit 0 after a `kill -QUIT`).
    static let replacesHandler: Set<Int32> = [SIGQUIT]

    nonisolated(unsafe) private static var staleParentsSwept: Set<String> = []
    nonisolated(unsafe) private static var staleRemovedPaths: [String] = []

    static func removeStaleDirectoriesOnce(under parent: String) {
        let first = lock.withLock { staleParentsSwept.insert(parent).inserted }
        if first { SpillDirectory.removeStaleDirectories(under: parent) }
    }

    static func noteStale(_ paths: [String]) { lock.withLock { staleRemovedPaths += paths } }
    static var staleRemoved: [String] { lock.withLock { staleRemovedPaths } }

    static func register(_ state: _SpillDirectoryState) {
        lock.withLock {
            live[ObjectIdentifier(state)] = state
            if !installed {
                installed = true
                install()
            }
        }
    }

    static func unregister(_ state: _SpillDirectoryState) {
        _ = lock.withLock { live.removeValue(forKey: ObjectIdentifier(state)) }
    }

    /// The paths of the directories still registered (for tests and diagnostics).
    static var livePaths: [String] { lock.withLock { live.values.map(\.path).sorted() } }

    /// Removes every registered directory, ignoring errors: it runs while the process is ending.
    static func removeAll() {
        let states = lock.withLock { Array(live.values) }
        for state in states { try? state.remove() }
    }

    /// Called once, under `lock`.
    private static func install() {
        atexit { _SpillCleanup.removeAll() }

        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }   // no pipe, no signal cleanup; deinit and atexit remain
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        // A full pipe must never block the handler; one pending byte is enough to trigger cleanup.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        readEnd = ends[0]
        _spillSignalPipeWriteEnd = ends[1]

        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { _ in
            _SpillCleanup.waitForSignal()
            return nil
        }, nil)
        guard started == 0 else { return }
        pthread_detach(thread)

        for signo in signals {
            var old = sigaction()
            guard sigaction(signo, nil, &old) == 0 else { continue }
            // Respect an ignored signal (nohup, background jobs) and a handler someone else installed.
            let ignored = (old.sa_flags & SA_SIGINFO) == 0
                && unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
            let isDefault = old.__sigaction_handler.sa_handler == nil && (old.sa_flags & SA_SIGINFO) == 0
            guard isDefault || (replacesHandler.contains(signo) && !ignored) else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = _spillSignalHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signo, &action, nil)
        }
    }

    nonisolated(unsafe) private static var readEnd: Int32 = -1
    /// The SIGINT or SIGTERM being handled, or 0.
    nonisolated(unsafe) static var terminatingSignal: Int32 = 0

    private static func waitForSignal() {
        while true {
            var byte: UInt8 = 0
            let n = read(readEnd, &byte, 1)
            if n == 1 {
                let signo = Int32(byte)
                // Announce the termination before removing the directories: a run that now
                // fails on a removed directory must wait for the signal, not report an error.
                terminatingSignal = signo
                removeAll()
                signal(signo, SIG_DFL)
                // This thread inherited the signal mask of whichever thread created it, which may
                // block the signal; unblock it here so the re-raised signal takes effect now.
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, signo)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                raise(signo)
                // The default action of SIGINT and SIGTERM ends the process; if it somehow did not:
                _exit(128 + signo)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
        }
    }
}

// MARK: - Owner lock

/// The owner file of a private directory: created with the directory, `flock`ed for the life of
/// the process (the kernel drops the lock when the process ends, however it ends), holding the
/// process id. Real system calls, not `SpillIO`: it is about processes, not spill data.
enum _SpillOwnerLock {
    /// Creates and locks the owner file in `directory`; -1 where that is impossible.
    static func acquire(in directory: String) -> Int32 {
        let fd = open(directory + "/" + SpillDirectory.ownerFileName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return -1 }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return -1
        }
        // Written after the lock is held: an owner file with no pid may be one being created.
        var text = Array("\(getpid())\n".utf8)
        _ = write(fd, &text, text.count)
        return fd
    }

    /// Whether `path` is a directory of this user whose owner file names a process and is not
    /// locked by any.
    static func isStale(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else { return false }
        let fd = open(path + "/" + SpillDirectory.ownerFileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }   // its process lives
        // The file locked must still be the directory's owner file (not one its live owner
        // has just unlinked while removing the directory).
        var opened = stat(), current = stat()
        guard fstat(fd, &opened) == 0, lstat(path + "/" + SpillDirectory.ownerFileName, &current) == 0,
            opened.st_ino == current.st_ino, opened.st_dev == current.st_dev, opened.st_nlink > 0
        else { return false }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 1
    }

    /// The entry's name, read in place up to its NUL: a `dirent` is only as long as its name, so
    /// copying the whole 256-byte field reads past the last entry of `readdir`'s buffer (found by
    /// AddressSanitizer in the SpillFuzz harness).
    static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        let field = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        return String(cString: field.assumingMemoryBound(to: CChar.self))
    }

    /// Removes the regular files in `path` (no deeper: spill directories have no subdirectories),
    /// then `path`; returns whether it is gone.
    /// With `countingOnlyOwnRemoval`, a directory already gone (removed by another) is false.
    static func removeTree(_ path: String, countingOnlyOwnRemoval: Bool = false) -> Bool {
        if let stream = opendir(path) {
            while let entry = readdir(stream) {
                let name = name(of: entry)
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(stream)
        }
        if rmdir(path) == 0 { return true }
        return errno == ENOENT && !countingOnlyOwnRemoval
    }
}
