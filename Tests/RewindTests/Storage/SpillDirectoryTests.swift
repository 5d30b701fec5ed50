#if canImport(Glibc)
import Glibc
#endif
import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Spill directories")
struct SpillDirectoryTests {
    @Test("created private (0700) under the parent, files exclusive and 0600, removed with everything")
    func createAndRemove() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        let directory = try SpillDirectory(parent: parent.path + "/")   // a trailing slash is tolerated
        #expect(directory.path.hasPrefix(parent.path + "/rewind-spill."))
        var info = stat()
        #expect(stat(directory.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)

        let fd = try directory.createFile(named: "one")
        #expect(fstat(fd, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        close(fd)
        // Exclusive: the same name again fails, and a planted symlink is never followed.
        #expect(throws: SpillError.io(errno: EEXIST, operation: "create", path: directory.filePath("one"))) {
            _ = try directory.createFile(named: "one")
        }
        symlink("/tmp/rewind-should-never-exist", directory.filePath("link"))
        #expect(throws: SpillError.self) { _ = try directory.createFile(named: "link") }
        #expect(!spillPathExists("/tmp/rewind-should-never-exist"))
        unlink(directory.filePath("link"))

        close(try directory.createFile(named: "two"))
        #expect(directory.fileNames == ["one", "two"])
        try directory.removeFile(named: "one")
        #expect(spillListDirectory(directory.path) == ["two"])

        #expect(_SpillCleanup.livePaths.contains(directory.path))
        try directory.remove()
        #expect(directory.isRemoved)
        #expect(!spillPathExists(directory.path))
        #expect(parent.entries.isEmpty)
        #expect(!_SpillCleanup.livePaths.contains(directory.path))
        try directory.remove()   // idempotent
        #expect(throws: SpillError.directoryRemoved(path: directory.path)) { _ = try directory.createFile(named: "three") }
    }

    @Test("deinit removes the directory and its files")
    func deinitRemoves() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        var path = ""
        do {
            let directory = try SpillDirectory(parent: parent.path)
            path = directory.path
            close(try directory.createFile(named: "a"))
            close(try directory.createFile(named: "b"))
            #expect(spillListDirectory(path) == ["a", "b"])
        }
        #expect(!path.isEmpty)
        #expect(!spillPathExists(path))
        #expect(parent.entries.isEmpty)
        #expect(!_SpillCleanup.livePaths.contains(path))
    }

    @Test("the default parent honours TMPDIR")
    func honoursTMPDIR() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        let saved = getenv("TMPDIR").map { String(cString: $0) }
        setenv("TMPDIR", parent.path, 1)
        defer { if let saved { setenv("TMPDIR", saved, 1) } else { unsetenv("TMPDIR") } }
        #expect(SpillDirectory.defaultParent == parent.path)
        let directory = try SpillDirectory()
        #expect(directory.path.hasPrefix(parent.path + "/"))
        try directory.remove()
    }

    @Test("a missing parent, a parent that is a file, and a path under a file fail naming the path")
    func badParents() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        let missing = parent.path + "/does-not-exist"
        #expect(throws: SpillError.directoryMissing(path: missing)) { _ = try SpillDirectory(parent: missing) }
        let file = parent.path + "/file"
        spillCreateEmptyFile(file)
        #expect(throws: SpillError.notADirectory(path: file)) { _ = try SpillDirectory(parent: file) }
        #expect(throws: SpillError.notADirectory(path: file + "/x")) { _ = try SpillDirectory(parent: file + "/x") }
        #expect(throws: SpillError.notADirectory(path: "/etc/passwd/x")) { _ = try SpillDirectory(parent: "/etc/passwd/x") }
        #expect(parent.entries == ["file"])
    }

    @Test("an unwritable parent fails at creation with permissionDenied naming it")
    func unwritableParent() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        chmod(parent.path, 0o500)
        if geteuid() != 0 {
            // An ordinary user: the permission bits are the test.
            #expect(throws: SpillError.permissionDenied(path: parent.path)) { _ = try SpillDirectory(parent: parent.path) }
        } else {
            // Root ignores permission bits, so a 0500 directory is writable and creation must work...
            let directory = try SpillDirectory(parent: parent.path)
            try directory.remove()
            // ...and the refusal is tested through the seam, as the kernel reports it on a
            // read-only filesystem (EROFS) or under a MAC policy (EACCES).
            for injected in [EACCES, EROFS, EPERM] {
                var io = SpillIO.system
                io.makeUniqueDirectory = { _ in .failure(.init(rawValue: injected)) }
                #expect(throws: SpillError.permissionDenied(path: parent.path)) {
                    _ = try SpillDirectory(parent: parent.path, io: io)
                }
            }
        }
        var io = SpillIO.system
        io.makeUniqueDirectory = { _ in .failure(.init(rawValue: ENOSPC)) }
        #expect(throws: SpillError.diskFull(path: parent.path)) { _ = try SpillDirectory(parent: parent.path, io: io) }
        #expect(parent.entries.isEmpty)
    }

    @Test("descriptions name the path and say what to do")
    func descriptions() {
        let path = "/some/where/segment-3.rwspill"
        let errors: [SpillError] = [
            .io(errno: EIO, operation: "write", path: path), .diskFull(path: path), .permissionDenied(path: path),
            .directoryMissing(path: path), .notADirectory(path: path),
            .truncated(path: path, expected: 10, actual: 3), .unexpectedFileSize(path: path, expected: 1, actual: 2),
            .badMagic(path: path), .unsupportedVersion(path: path, found: 9, supported: 1),
            .headerChecksumMismatch(path: path), .corruptHeader(path: path, detail: "x"),
            .unexpectedSegment(path: path, expected: 1, found: 2),
            .columnMismatch(path: path, segment: 1, column: 0, detail: "x"),
            .checksumMismatch(path: path, segment: 1, column: 2),
            .corruptFrame(path: path, segment: 1, column: 2, detail: "x"),
            .compressionFailed(path: path, detail: "x"), .directoryRemoved(path: path),
        ]
        for error in errors {
            #expect(error.description.contains(path), "\(error)")
        }
        // The library's words, not the CLI's flags (the CLI maps remedies to its flags).
        #expect(SpillError.diskFull(path: path).description.contains("`TimeSteppingOptions.spillDirectory`"))
        for error in errors { #expect(!error.description.contains("--"), "\(error)") }
        #expect(SpillError.io(errno: EIO, operation: "write", path: path).description.contains("Input/output error"))
        #expect(SpillError.segmentNotWritten(segment: 4, directory: "/d").description.contains("/d"))
    }

    @Test("a program's signal handler removes the live spill directories with removeLiveDirectories()",
          arguments: [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGXFSZ])
    func signalCleanup(signo: Int32) async throws {
        // The child finds this directory from its parent's pid and the signal; one per test case,
        // because the cases run in parallel.
        let parent = "/tmp/rewind-signal-test-\(getpid())-\(signo)"
        spillRemoveTree(parent)
        #expect(mkdir(parent, 0o700) == 0)
        defer { spillRemoveTree(parent) }

        await #expect(processExitsWith: .signal(signo)) { [signo] in
            let parent = "/tmp/rewind-signal-test-\(getppid())-\(signo)"
            let first = try SpillDirectory(parent: parent)
            let second = try SpillDirectory(parent: parent)
            close(try first.createFile(named: "segment-0"))
            close(try second.createFile(named: "segment-1"))
            // What a program does (the rewind CLI's SignalHandling): remove, then re-raise.
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                SpillDirectory.removeLiveDirectories()
                signal(signo, SIG_DFL)
                raise(signo)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signo, &action, nil)
            kill(getpid(), signo)
            // The handler ends the process; if it does not, exit 0 fails the expectation.
            for _ in 0..<100 { usleep(50_000) }
            withExtendedLifetime((first, second)) {}
        }
        #expect(spillListDirectory(parent).isEmpty, "left behind: \(spillListDirectory(parent))")
    }

    /// The library takes no signal from the program: creating a spill directory leaves every
    /// disposition as it was (the CLI installs its own handlers).
    @Test func creatingADirectoryInstallsNoSignalHandler() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        func dispositions() -> [Int] {
            [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM].map { signo in
                var old = sigaction()
                sigaction(signo, nil, &old)
                return unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self)
            }
        }
        let before = dispositions()
        let directory = try SpillDirectory(parent: parent.path)
        close(try directory.createFile(named: "a"))
        #expect(dispositions() == before)
        try directory.remove()
    }

    /// In a child process: `removeLiveDirectories()` removes every directory of the process
    /// (here, of the other tests too), and their owners then find them gone without an error.
    @Test func removeLiveDirectoriesRemovesEveryListedDirectory() async {
        await #expect(processExitsWith: .success) {
            let parent = SpillTestParent()
            defer { parent.cleanUp() }
            let directories = try (0..<3).map { _ in try SpillDirectory(parent: parent.path) }
            for (index, directory) in directories.enumerated() { close(try directory.createFile(named: "s-\(index)")) }
            guard directories.allSatisfy({ _SpillCleanup.livePaths.contains($0.path) }) else { exit(2) }
            SpillDirectory.removeLiveDirectories()
            guard parent.entries.isEmpty else { exit(3) }
            for directory in directories { try directory.remove() }
            guard directories.allSatisfy({ !_SpillCleanup.livePaths.contains($0.path) }) else { exit(4) }
        }
    }

    /// A directory whose process died by SIGKILL (its owner file names a pid and is locked by
    /// no one) is removed by the next directory made under the same parent; a live one, whose
    /// owner file is locked, and a directory without an owner file are left alone.
    @Test func staleDirectoriesOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
        let parent = "/tmp/rewind-stale-test-\(getpid())"
        spillRemoveTree(parent)
        #expect(mkdir(parent, 0o700) == 0)
        defer { spillRemoveTree(parent) }
        // What a SIGKILLed run leaves: the owner file with its pid, no lock, a segment.
        let dead = parent + "/rewind-tape.AbC123"
        #expect(mkdir(dead, 0o700) == 0)
        let owner = open(dead + "/" + SpillDirectory.ownerFileName, O_WRONLY | O_CREAT, 0o600)
        _ = write(owner, "4242\n", 5)
        close(owner)
        spillCreateEmptyFile(dead + "/segment-3.rwspill")
        // Not Rewind's: no owner file.
        let foreign = parent + "/rewind-notes.XyZ789"
        #expect(mkdir(foreign, 0o700) == 0)
        spillCreateEmptyFile(foreign + "/data")

        let live = try SpillDirectory(parent: parent, prefix: "rewind-live")
        defer { try? live.remove() }
        close(try live.createFile(named: "segment-0"))
        // Creating `live` swept the parent once.
        #expect(SpillDirectory.staleDirectoriesRemoved.contains(dead))
        #expect(access(dead, F_OK) != 0, "the dead run's directory is gone")
        #expect(access(foreign + "/data", F_OK) == 0, "a directory without an owner file is kept")
        #expect(SpillDirectory.removeStaleDirectories(under: parent).isEmpty, "the live directory is locked")
        #expect(access(live.filePath("segment-0"), F_OK) == 0)
        try live.remove()
        #expect(access(live.path, F_OK) != 0)
    }
}

func spillCreateEmptyFile(_ path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0)
    close(fd)
}
