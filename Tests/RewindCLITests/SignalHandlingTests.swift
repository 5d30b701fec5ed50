import Foundation
import Testing

/// The CLI owns the signals (`SignalHandling`): a run killed by one removes its spill directory
/// and dies by that signal, SIGQUIT included (the Swift runtime's backtracer would print a
/// backtrace and let the run go on).
@Suite("Signals end a run cleanly")
struct SignalHandlingTests {
    @Test(arguments: [SIGHUP, SIGQUIT, SIGTERM])
    func aSignalMidRunRemovesTheSpillDirectoryAndEndsTheProcess(signo: Int32) throws {
        let spill = NSTemporaryDirectory() + "rewind-cli-signal-\(getpid())-\(signo)"
        try? FileManager.default.removeItem(atPath: spill)
        try FileManager.default.createDirectory(atPath: spill, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: spill) }

        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("rewind").path
        let pid = try Self.spawnAsAShellWould(executable, [
            "gradient", "burgers", "--size", "4096", "--steps", "20000", "--strategy", "two-level", "--snapshots", "4",
            "--spill-dir", spill,
        ])
        // Signal once the run's private directory holds a disk snapshot (at most a minute).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !Self.holdsAFile(spill) && !Self.hasExited(pid) { usleep(20_000) }
        let spilled = Self.holdsAFile(spill)
        kill(pid, spilled ? signo : SIGKILL)
        // A signal that does not end the run (the backtracer's SIGQUIT) fails below, not hangs.
        let ending = Date().addingTimeInterval(30)
        while Date() < ending && !Self.hasExited(pid) { usleep(20_000) }
        let ended = Self.hasExited(pid)
        if !ended { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}

        #expect(ended, "the run went on after the signal")

        try #require(spilled, "no disk snapshot appeared within a minute")
        let signalled = status & 0x7f != 0 && status & 0x7f != 0x7f   // WIFSIGNALED
        #expect(signalled && status & 0x7f == signo, "wait status \(status)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spill).isEmpty, "the private directory is left")
    }

    /// Starts `rewind` with no signal blocked and default dispositions, as a shell does.
    /// (Foundation's `Process` passes on the mask of the spawning thread, and the test's
    /// threads block most signals: the signal would stay pending.)
    static func spawnAsAShellWould(_ executable: String, _ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        return pid
    }

    static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }

    /// Whether a subdirectory of `parent` (the run's private directory) holds a spill file.
    static func holdsAFile(_ parent: String) -> Bool {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        return children.contains { child in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: parent + "/" + child)) ?? []
            return files.contains { !$0.hasPrefix(".") }
        }
    }
}
