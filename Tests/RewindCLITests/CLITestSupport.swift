import Foundation
import Testing

/// Runs the built `rewind` executable (it sits beside the test bundle) and captures its output.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }
}

func rewind(_ arguments: String...) throws -> CommandResult {
    try rewind(arguments)
}

/// Runs `rewind` with `arguments`; `environment` adds to (or replaces in) the test's own.
func rewind(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    try runExecutable("rewind", arguments, environment: environment)
}

/// Runs `rewind-examples` (examples/rewind-examples: the command line for models that are
/// not bundled, through `RewindCommand.main(models:)`).
func rewindExamples(_ arguments: String...) throws -> CommandResult {
    try runExecutable("rewind-examples", arguments)
}

/// Runs the built executable `name` with `arguments`.
func runExecutable(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = buildDirectory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        Issue.record("the \(name) executable is not at \(executable.path); build it first (swift build)")
        return CommandResult(status: -1, stdout: "", stderr: "")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}
