import ArgumentParser
@_exported import Rewind
@_exported import RewindModels
#if canImport(Glibc)
import Glibc
#endif

/// The `rewind` command line for a list of models: `gradient`, `jacobian`, `check`,
/// `schedule` and `models`, with their flags, JSON output, progress, error messages and
/// signal handling (docs/cli.md).
///
/// `rewind` itself is this command with the bundled models. A program that calls
/// ``main(models:commandName:)`` with its own model types gets the same commands for them:
///
/// ```swift
/// import RewindCommandLine
///
/// struct PredatorPrey: Model { ... }
///
/// @main enum MyTool {
///     static func main() { RewindCommand.main(models: [PredatorPrey.self]) }
/// }
/// ```
///
/// Each model runs the engine specialised for its type (through `Model`'s underscored entry
/// points, emitted where the type conforms), as fast as a program that called
/// `TimeStepping.gradient(of:…)` on the concrete type itself.
public struct RewindCommand: ParsableCommand {
    /// The root command, named after the executable (or `commandName`), with the subcommands
    /// `models`, `gradient`, `schedule`, `jacobian` and `check`.
    public static var configuration: CommandConfiguration {
        let name = ModelRegistry.current.commandName
        return CommandConfiguration(
            commandName: name,
            abstract: "Reverse-mode gradients of long time-stepping simulations inside a memory budget.",
            discussion: """
                Differentiates the models listed by `\(name) models` with store-all taping or \
                binomial checkpointing, choosing from --memory-budget.
                """,
            subcommands: [
                ModelsCommand.self, GradientCommand.self, ScheduleCommand.self, JacobianCommand.self, CheckCommand.self,
            ]
        )
    }

    /// The root command has no options of its own; ArgumentParser makes it to print the help.
    public init() {}

    /// Runs the command line for `models` on the process's arguments and returns when the
    /// command succeeded; on an error it prints one line on stderr and exits with status 64
    /// (usage) or 1 (anything else), as `rewind` does.
    ///
    /// Call it once, from `main`, before anything else touches the process's signals: it
    /// installs the handlers that remove spill directories when the process is interrupted.
    ///
    /// ```swift
    /// @main enum Chemistry {
    ///     static func main() { RewindCommand.main(models: [Brusselator.self, PredatorPrey.self]) }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - models: The model types, in the order `models` lists them; names must be distinct.
    ///   - commandName: The name in help and messages; by default the executable's file name.
    public static func main(models: [any Model.Type], commandName: String? = nil) {
        let name = commandName ?? CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        ModelRegistry.current = ModelRegistry(models, commandName: name.isEmpty ? "rewind" : name)
        runProcess()
    }

    /// `rewind`: the command line with the bundled models (`ModelCatalog.models`).
    public static func main() {
        main(models: ModelCatalog.models, commandName: "rewind")
    }

    /// Runs the command; an error is one line on stderr (what is wrong and what to do),
    /// exit status 64 for a usage error and 1 for anything else, as the CLI contract says.
    private static func runProcess() {
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
