import Foundation
import Rewind
import RewindCommandLine
import Testing

/// The engine describes its errors in library terms (`TimeSteppingOptions`); the CLI says what
/// to change with its flags (`ErrorMessages`).
@Suite("Engine errors name the CLI's flags")
struct ErrorMessageTests {
    @Test(arguments: [
        (["gradient", "lorenz", "--steps", "10", "--spill-dir", "/nonexistent/rewind"],
         "; create it or pass --spill-dir (or set TMPDIR) to an existing directory"),
        (["gradient", "burgers", "--memory-budget", "1kB"], "; raise --memory-budget to at least "),
        (["gradient", "burgers", "--strategy", "spill", "--memory-budget", "100KiB", "--spill-dir", NSTemporaryDirectory()],
         ", or use --strategy revolve or two-level, which need less"),
        (["gradient", "burgers", "--strategy", "store-all", "--memory-budget", "1MiB"],
         "; use --strategy auto or revolve, or raise --memory-budget"),
        (["gradient", "lorenz", "--steps", "9223372036854775807", "--strategy", "revolve", "--snapshots", "2"],
         "; pass fewer --steps"),
        (["jacobian", "heat2d", "--size", "4096"], "; raise --memory-budget above 4.0 PiB"),
    ])
    func theRemedyNamesTheFlag(arguments: [String], remedy: String) throws {
        let result = try rewind(arguments)
        #expect(result.status == 1, "\(arguments): status \(result.status)")
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(remedy), "\(result.stderr)")
        #expect(!result.stderr.contains("TimeSteppingOptions"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// A replay that differs comes from a user's own model (the bundled ones are pure): the
    /// message as `rewind-examples` or a user's CLI would print it names store-all's flag.
    @Test func aReplayThatDiffersAdvisesAPureStepOrStoreAll() {
        let message = ErrorMessages.message(for: TimeSteppingError.replayDiffers(firstStep: 8, endStep: 12))
        #expect(message?.contains("steps 8..<12") == true)
        #expect(message?.hasSuffix(", or use --strategy store-all, which replays no step") == true, "\(message ?? "")")
        #expect(message?.contains("CheckpointStrategy") == false)
    }

    /// `check` has no `--memory-budget`, so a budget refusal must not advise one.
    @Test func checkAdvisesASmallerSizeNotABudget() throws {
        let result = try rewind("check", "heat2d", "--size", "32768")
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("; check a smaller --size\n"), "\(result.stderr)")
        #expect(!result.stderr.contains("--memory-budget"))
    }
}
