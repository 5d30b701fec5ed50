import CRewindSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A private directory for spill files that removes itself: on `remove()`, on deinit and at
/// `exit`. A process killed by a signal leaves its directories behind unless its own signal
/// handler calls ``removeLiveDirectories()`` (async-signal-safe): the library installs no signal
/// handler, because a process's signals belong to the program (the `rewind` CLI installs one).
/// What no handler can see — SIGKILL, a crash, power loss, a program without a handler — is
/// mended by the next run: each directory holds an owner file locked (`flock`) for the life of
/// the process, and creating a directory first removes the directories under the same parent
/// whose owner file is no longer locked (``removeStaleDirectories(under:)``).
///
/// Invariants: the directory is created by `mkdtemp` (a fresh unique name, mode 0700) under a
/// parent that was checked to exist, be a directory and be writable; every file in it was created
/// by this object with `O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`, mode 0600, so no other user can read
/// the data and no symlink planted in advance can redirect a write. While the object is alive it is
/// listed in a process-wide registry that a signal handler can read (`rewind_spill_registry.h`).
///
/// ```swift
/// let directory = try SpillDirectory()                      // under $TMPDIR, or /tmp
/// let custom = try SpillDirectory(parent: "/scratch/me")    // for --spill-dir
/// defer { try? directory.remove() }
/// try tape.enableSpilling(to: custom, statementsPerChunk: 1 << 16)
/// ```
///
/// Thread-safe: files may be created and removed from any thread.
public final class SpillDirectory: Sendable {
    /// The directory's absolute or parent-relative path.
    public let path: String
    /// The system calls used for every file in this directory.
    package let io: SpillIO
    let state: _SpillDirectoryState

    /// The parent used when none is given: `$TMPDIR` when set and non-empty, else `/tmp`.
    public static var defaultParent: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }

    /// Creates a new private directory under `parent`, named `prefix` and six random characters.
    ///
    /// The first directory made under a parent also removes the stale directories there
    /// (``removeStaleDirectories(under:)``).
    ///
    /// - Parameters:
    ///   - parent: An existing, writable directory; nil for ``defaultParent``. Trailing `/`s
    ///     are ignored.
    ///   - prefix: The start of the directory's name: a plain name without `/`, beginning with
    ///     `rewind-` for the stale-directory sweep to recognise it.
    /// - Throws: ``SpillError/directoryMissing(path:)``, ``SpillError/notADirectory(path:)`` or
    ///   ``SpillError/permissionDenied(path:)`` naming `parent` when it cannot hold spill files;
    ///   ``SpillError/io(errno:operation:path:)`` for any other failure of `stat`, `access` or
    ///   `mkdtemp`.
    ///
    /// ```swift
    /// let directory = try SpillDirectory(parent: "/scratch", prefix: "rewind-mine")
    /// ```
    public convenience init(parent: String? = nil, prefix: String = "rewind-spill") throws {
        try self.init(parent: parent, prefix: prefix, io: .system)
    }

    /// Creates a new private directory whose spill files go through `io` (tests inject faults).
    /// `@usableFromInline`: the time-stepping driver's inlinable entry points make directories.
    @usableFromInline
    package init(parent: String? = nil, prefix: String = "rewind-spill", io: SpillIO) throws {
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
        state = _SpillDirectoryState(path: path, io: io, ownerLock: _SpillOwnerLock.acquire(in: path))
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
    /// - Parameter parent: The directory to sweep (not recursively).
    /// - Returns: The paths removed by this call.
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

    /// The stale directories (see ``removeStaleDirectories(under:)``) removed by this process
    /// so far, in the order they were removed.
    public static var staleDirectoriesRemoved: [String] { _SpillCleanup.staleRemoved }

    deinit {
        try? state.remove()
    }

    /// The full path of a file in this directory.
    package func filePath(_ name: String) -> String { path + "/" + name }

    /// Removes every live spill directory of this process, files and all, ignoring errors.
    ///
    /// Async-signal-safe (it reads a table of plain bytes and makes system calls: open,
    /// getdents64, unlinkat, rmdir), so a program's handler for a signal that ends the process
    /// can call it before re-raising the signal; the library installs no handler itself. The
    /// `SpillDirectory` objects are not told: call it only when the process is about to end.
    public static func removeLiveDirectories() {
        rewind_spill_remove_live()
    }

    /// Whether ``remove()`` has run.
    public var isRemoved: Bool { state.contents.withLock { $0.removed } }

    /// The files created and not yet removed, sorted.
    package var fileNames: [String] { state.contents.withLock { $0.files.sorted() } }

    /// Creates a new file for writing, failing if the name exists; returns its descriptor.
    ///
    /// Flags `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`, mode 0600. The caller closes the
    /// descriptor. The corresponding C function is `open`.
    package func createFile(named name: String) throws -> Int32 {
        Self.checkName(name)
        let full = filePath(name)
        return try state.contents.withLock { contents in
            guard !contents.removed else { throw SpillError.directoryRemoved(path: path) }
            switch io.open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) {
            case .success(let fd):
                contents.files.insert(name)
                return fd
            case .failure(let e):
                throw SpillError.from(e, operation: "create", path: full)
            }
        }
    }

    /// Opens a file created by this directory for reading; returns its descriptor.
    ///
    /// Flags `O_RDONLY|O_NOFOLLOW|O_CLOEXEC`. The corresponding C function is `open`.
    package func openFile(named name: String) throws -> Int32 {
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
    package func removeFile(named name: String) throws {
        Self.checkName(name)
        try state.contents.withLock { contents in
            guard contents.files.contains(name) else { return }
            let full = filePath(name)
            switch io.unlink(full) {
            case .success: contents.files.remove(name)
            case .failure(let e) where e.rawValue == ENOENT: contents.files.remove(name)
            case .failure(let e): throw SpillError.from(e, operation: "unlink", path: full)
            }
        }
    }

    /// Removes every file this object created, then the directory. Idempotent.
    ///
    /// Tries every file even when one fails, then throws the first failure. Files another
    /// process planted in the directory are removed too (the directory is private).
    /// The corresponding C functions are `unlink` and `rmdir`.
    ///
    /// - Throws: ``SpillError/permissionDenied(path:)`` or ``SpillError/io(errno:operation:path:)``
    ///   naming the first file or the directory that could not be removed.
    ///
    /// ```swift
    /// let directory = try SpillDirectory()
    /// defer { try? directory.remove() }   // deinit and process exit remove it too
    /// ```
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
/// still finds everything it needs; holding `contents` makes removal happen exactly once.
final class _SpillDirectoryState: Sendable {
    /// What changes as files come and go, under one `Mutex`. `remove()` holds it across its
    /// retry rounds (up to 0.2 s, only when another process planted files), which is the point:
    /// no file may be created in a directory being removed.
    struct Contents {
        var files: Set<String> = []
        var removed = false
        /// The locked owner file's descriptor, -1 when it could not be made (a mocked filesystem).
        var ownerLock: Int32 = -1
        /// The directory's slot in the signal-safe registry, -1 when not listed.
        var registrySlot: Int32 = -1
    }

    let path: String
    let io: SpillIO
    let contents: Mutex<Contents>

    init(path: String, io: SpillIO, ownerLock: Int32) {
        self.path = path
        self.io = io
        contents = Mutex(Contents(ownerLock: ownerLock))
    }

    func remove() throws {
        let firstError: SpillError? = contents.withLock { contents in
            guard !contents.removed else { return nil }
            var firstError: SpillError?
            for name in contents.files.sorted() {
                let full = path + "/" + name
                switch io.unlink(full) {
                case .success: contents.files.remove(name)
                case .failure(let e) where e.rawValue == ENOENT: contents.files.remove(name)
                case .failure(let e): if firstError == nil { firstError = .from(e, operation: "unlink", path: full) }
                }
            }
            if contents.ownerLock >= 0 { unlink(path + "/" + SpillDirectory.ownerFileName) }
            // The lock is released only once the directory is gone (below): a sweep of another
            // process that opened the owner file must not find it unlocked while it is there.
            defer {
                if contents.ownerLock >= 0 {
                    close(contents.ownerLock)
                    contents.ownerLock = -1
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
            case .success: contents.removed = true
            case .failure(let e) where e.rawValue == ENOENT: contents.removed = true
            case .failure(let e): if firstError == nil { firstError = .from(e, operation: "rmdir", path: path) }
            }
            if contents.removed {
                _SpillCleanup.unregister(slot: contents.registrySlot)
                contents.registrySlot = -1
            }
            return firstError
        }
        if let firstError { throw firstError }
    }
}

// MARK: - Process-wide cleanup

/// The registry of live spill directories, the `exit` cleanup and the stale-directory sweep.
///
/// The registry is the C table of `rewind_spill_registry.h`, not a Swift collection: a signal
/// handler reads it (``SpillDirectory/removeLiveDirectories()``), and nothing a handler may call
/// can take a lock or allocate.
enum _SpillCleanup {
    private static let lock = _SpillLock()
    nonisolated(unsafe) private static var exitCleanupInstalled = false
    nonisolated(unsafe) private static var staleParentsSwept: Set<String> = []
    nonisolated(unsafe) private static var staleRemovedPaths: [String] = []

    static func removeStaleDirectoriesOnce(under parent: String) {
        let first = lock.withLock { staleParentsSwept.insert(parent).inserted }
        if first { SpillDirectory.removeStaleDirectories(under: parent) }
    }

    static func noteStale(_ paths: [String]) { lock.withLock { staleRemovedPaths += paths } }
    static var staleRemoved: [String] { lock.withLock { staleRemovedPaths } }

    static func register(_ state: _SpillDirectoryState) {
        let slot = rewind_spill_registry_add(state.path)
        state.contents.withLock { $0.registrySlot = slot }
        lock.withLock {
            guard !exitCleanupInstalled else { return }
            exitCleanupInstalled = true
            atexit { rewind_spill_remove_live() }
        }
    }

    static func unregister(slot: Int32) {
        rewind_spill_registry_remove(slot)
    }

    /// The paths of the directories still registered (for tests and diagnostics).
    static var livePaths: [String] {
        var buffer = [CChar](repeating: 0, count: 4096)
        return (0..<Int32(REWIND_SPILL_REGISTRY_SLOTS)).compactMap { slot in
            rewind_spill_registry_path(slot, &buffer, buffer.count) != 0 ? String(cString: buffer) : nil
        }.sorted()
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
