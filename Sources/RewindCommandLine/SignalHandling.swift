import Rewind

#if canImport(Glibc)
import Glibc
#endif

/// What `rewind` does on a signal that ends it: removes the run's spill directories, then lets
/// the signal end the process as it would have, so the exit status stays 128 + the signal.
///
/// The handlers belong to the program, not to the library (a library that installed them would
/// take the signals from every program that links it); the library offers the one thing a
/// handler needs, `SpillDirectory.removeLiveDirectories()`, which is async-signal-safe. Leftovers
/// of what no handler sees (SIGKILL, a crash) are removed by the next run's stale sweep.
///
/// Public for programs that run the engine without `RewindCommand` (`rewind-mpi`, whose ranks
/// mpirun ends with SIGTERM when one of them fails):
///
/// ```swift
/// SignalHandling.install()   // once, at the start of main
/// ```
public enum SignalHandling {
    /// Signals whose default action ends the process and that a handler can catch without the
    /// process being broken (crashes are left to the stale-directory sweep).
    static let signals: [Int32] = [
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
    ]

    /// Signals whose existing handler is replaced: on Linux the Swift runtime's backtracer holds
    /// SIGQUIT, prints a backtrace and lets the process run on (exit 0 after a `kill -QUIT`).
    static let replacesHandler: Set<Int32> = [SIGQUIT]

    /// The signal being handled, or 0. A command that meets an error while this is set should
    /// let the signal end the process: the error most likely comes from the directories the
    /// handler just removed.
    nonisolated(unsafe) public internal(set) static var terminatingSignal: Int32 = 0

    /// Installs the handler for `signals` where the disposition is still the default (an ignored
    /// signal, as under nohup, and a handler someone else installed are respected), and over the
    /// Swift backtracer for SIGQUIT. Called once, at the start of `main`.
    public static func install() {
        // Touched here so that the handler finds it initialised (no lazy initialisation, which
        // is not async-signal-safe, can happen in signal context).
        terminatingSignal = 0
        for signo in signals {
            var old = sigaction()
            guard sigaction(signo, nil, &old) == 0 else { continue }
            let handler = unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self)
            let usesSignalInfo = (old.sa_flags & SA_SIGINFO) != 0
            let ignored = !usesSignalInfo && handler == unsafeBitCast(SIG_IGN, to: Int.self)
            let isDefault = !usesSignalInfo && old.__sigaction_handler.sa_handler == nil
            guard isDefault || (replacesHandler.contains(signo) && !ignored) else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = endingHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signo, &action, nil)
        }
    }
}

/// The handler: async-signal-safe throughout. It records the signal, removes the spill
/// directories, restores the default action and re-raises; the signal is blocked while its
/// handler runs, so it takes effect, with the default action, as the handler returns.
private let endingHandler: @convention(c) (Int32) -> Void = { signo in
    SignalHandling.terminatingSignal = signo
    SpillDirectory.removeLiveDirectories()
    signal(signo, SIG_DFL)
    raise(signo)
}
