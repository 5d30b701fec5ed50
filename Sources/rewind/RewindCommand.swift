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
        SignalHandling.install()
        let arguments = Array(CommandLine.arguments.dropFirst())
        let json = CommandLineChecks.asksForJSON(arguments)
        do {
            if let repeated = CommandLineChecks.firstRepeatedOption(in: arguments) {
                // ArgumentParser would keep the last value without a word.
                throw ValidationError(CommandLineChecks.repeatedOptionMessage(repeated))
            }
            var command = try parseArguments(arguments)
            try command.run()
            for path in SpillDirectory.staleDirectoriesRemoved {
                fputs("note: removed \(path): the spill directory of an earlier run that was killed or crashed\n", stderr)
            }
            // Output that could not be written (a full disk, a closed pipe) is a failure.
            if fflush(stdout) != 0 || ferror(stdout) != 0 {
                throw CommandFailure("cannot write to standard output: \(String(cString: strerror(errno)))")
            }
        } catch {
            if SignalHandling.terminatingSignal != 0 {
                let signo = SignalHandling.terminatingSignal
                // A signal removed the spill directories and is about to end the process with
                // its conventional status; the error is a consequence, not the news.
                sleep(2)
                Glibc._exit(128 + signo)
            }
            let status = exitCode(for: error)
            if status == .success {
                // --help, --version: the full text belongs on stdout.
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let code = status.rawValue == 0 ? 1 : status.rawValue
            // ExitCode alone (`check` found a failing check) follows a report already printed.
            if !(error is ExitCode) {
                // An engine error names the flags that fix it (`ErrorMessages`).
                let message = (ErrorMessages.message(for: error) ?? self.message(for: error))
                    .split(separator: "\n", omittingEmptySubsequences: true)
                    .joined(separator: "; ")
                fputs("Error: \(message)\n", stderr)
                if json { ErrorOutput.print(message: message, exitCode: code) }
            }
            Glibc.exit(code)
        }
    }

    /// `parseAsRoot`, with a refused typed value reported in the CLI's words (`ArgumentRefusal`)
    /// rather than ArgumentParser's generic "The value '…' is invalid".
    static func parseArguments(_ arguments: [String]) throws -> ParsableCommand {
        do {
            return try parseAsRoot(arguments)
        } catch {
            if exitCode(for: error) == .validationFailure, let reason = ArgumentRefusal.reason {
                throw ValidationError(reason)
            }
            throw error
        }
    }
}

/// The JSON object a command given `--json` prints on stdout when it fails, so that a script
/// reading stdout always gets one object: `{"error":{"exitCode":64,"message":"..."}}`.
struct ErrorOutput: Encodable {
    struct Detail: Encodable {
        var exitCode: Int32
        var message: String
    }
    var error: Detail

    static func print(message: String, exitCode: Int32) {
        guard let text = try? JSONOutput.encode(ErrorOutput(error: Detail(exitCode: exitCode, message: message))) else {
            return
        }
        Swift.print(text)
        fflush(stdout)
    }
}
