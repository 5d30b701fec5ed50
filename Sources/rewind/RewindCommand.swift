import ArgumentParser
import Rewind
#if canImport(Glibc)
import Glibc
#endif

@main
struct RewindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewind",
        abstract: "Reverse-mode gradients of long time-stepping simulations inside a memory budget.",
        discussion: """
            Differentiates the bundled models (see `rewind models`) with store-all taping or \
            binomial checkpointing, choosing from --memory-budget.
            """,
        subcommands: [ModelsCommand.self, GradientCommand.self, ScheduleCommand.self, JacobianCommand.self, CheckCommand.self]
    )

    /// Runs the command; an error is one line on stderr (what is wrong and what to do),
    /// exit status 64 for a usage error and 1 for anything else, as the CLI contract says.
    static func main() {
        // Resident memory must follow the plan: large buffers mapped on their own, returned
        // when freed (see `ProcessMemory.keepLargeBlocksMapped`).
        ProcessMemory.keepLargeBlocksMapped()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let signo = SpillDirectory.terminatingSignal {
                // SIGINT/SIGTERM removed the spill directories and is about to end the process
                // with its conventional status; the error is a consequence, not the news.
                sleep(2)
                Glibc._exit(128 + signo)
            }
            let status = exitCode(for: error)
            if status == .success {
                // --help, --version: the full text belongs on stdout.
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = self.message(for: error)
                .split(separator: "\n", omittingEmptySubsequences: true)
                .joined(separator: "; ")
            fputs("Error: \(message)\n", stderr)
            Glibc.exit(status.rawValue == 0 ? 1 : status.rawValue)
        }
    }
}
