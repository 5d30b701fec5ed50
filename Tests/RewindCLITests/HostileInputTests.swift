import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A run of the built `rewind` with what `wait4` says about it: how it ended and its peak
/// resident set, so that a test can tell a trap (a signal) from a refusal, and see memory
/// allocated before a refusal.
struct MeasuredRun {
    var status: Int32
    var signal: Int32?
    /// `wait4`'s peak resident set of the child. Linux carries the old address space's
    /// high-water mark across `execve`, and `posix_spawn` execs from this process's address
    /// space, so the figure is at least this test process's own peak (`spawnerPeakBytes`):
    /// a test runner at 202 MiB made every child look like 202 MiB.
    var maxResidentBytes: Int
    /// This process's peak resident set (`VmHWM`) after the child ended.
    var spawnerPeakBytes: Int
    var seconds: Double
    var stdout: String
    var stderr: String

    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] }

    /// Whether the child itself stayed below `limit` bytes resident: its peak is either below
    /// `limit`, or no higher than what it inherited from this process (then its own peak is at
    /// most that; the check is as strict as this process is small).
    func stayedBelow(_ limit: Int) -> Bool { maxResidentBytes < limit || maxResidentBytes <= spawnerPeakBytes }
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

/// Runs `rewind arguments` with stdout and stderr in temporary files (`posix_spawn`, `wait4`).
func measuredRewind(_ arguments: [String]) throws -> MeasuredRun {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("rewind").path
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outPath = directory.appendingPathComponent("out").path
    let errPath = directory.appendingPathComponent("err").path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let started = Date()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw CocoaError(.executableLoad) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let seconds = Date().timeIntervalSince(started)
    let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
    let ownStatus = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let peakLine = ownStatus.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
    let spawnerPeak = (peakLine?.split(separator: " ").dropFirst().first).flatMap { Int($0) }.map { $0 * 1024 } ?? 0
    return MeasuredRun(
        status: signaled ? -1 : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil,
        maxResidentBytes: Int(usage.ru_maxrss) * 1024, spawnerPeakBytes: spawnerPeak, seconds: seconds,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

@Suite("Hostile input: refusals, never a trap (issue #11)")
struct HostileInputTests {
    /// Each reproduced a SIGILL (precondition or overflow trap) or a 20 s hang before.
    @Test(arguments: [
        ["gradient", "lorenz", "--steps", "9223372036854775807"],
        ["gradient", "burgers", "--steps", "9223372036854775807"],
        ["gradient", "lorenz", "--steps", "1000000000000000000"],
        ["gradient", "lorenz", "--steps", "9223372036854775807", "--strategy", "online"],
        ["gradient", "lorenz", "--steps", "9223372036854775807", "--strategy", "revolve", "--snapshots", "2"],
        ["gradient", "lorenz", "--steps", "4611686018427387904", "--strategy", "revolve", "--snapshots", "9223372036854775807"],
        ["gradient", "lorenz", "--steps", "9223372036854775807", "--steps-per-block", "9223372036854775807"],
        ["gradient", "lorenz", "--steps", "9223372036854775807", "--strategy", "spill"],
        ["schedule", "--steps", "1000000000000000000", "--snapshots", "3"],
        ["schedule", "--steps", "9223372036854775807", "--snapshots", "2"],
        ["schedule", "--steps", "9223372036854775807", "--snapshots", "9223372036854775807"],
        ["jacobian", "lorenz", "--steps", "1000000000000000000"],
        ["jacobian", "burgers", "--steps", "9223372036854775807", "--strategy", "online"],
        ["check", "lorenz", "--steps", "1000000000000000000"],
        ["gradient", "heat2d", "--size", "32768", "--steps", "1"],
    ])
    func absurdNumbersAreRefusedQuickly(arguments: [String]) throws {
        let run = try measuredRewind(arguments)
        #expect(run.signal == nil, "\(arguments) ended by signal \(run.signal ?? 0): \(run.stderr.suffix(400))")
        #expect(run.status == 1, "\(arguments): status \(run.status), \(run.stderr)")
        #expect(run.stderrLines.count == 1 && run.stderr.hasPrefix("Error: "), "\(arguments): \(run.stderr)")
        #expect(run.seconds < 20, "\(arguments) took \(run.seconds) s")
        #expect(
            run.stayedBelow(200 << 20),
            "\(arguments) peaked at \(run.maxResidentBytes >> 20) MiB before refusing (this process: \(run.spawnerPeakBytes >> 20) MiB)")
    }

    @Test func scheduleSaysHowManyStepsTheSnapshotsCanReverse() throws {
        let run = try measuredRewind(["schedule", "--steps", "9223372036854775807", "--snapshots", "2"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("2 snapshot(s) reverse at most 4574152700388 steps"), "\(run.stderr)")
        let many = try measuredRewind(["schedule", "--steps", "10", "--snapshots", "9223372036854775807", "--json"])
        #expect(many.status == 0, "\(many.stderr)")
        #expect(many.json?["advances"] as? Int == 9 && many.json?["counted"] as? Bool == true)
    }

    @Test func aLongRunIsRefusedWithItsPrediction() throws {
        let run = try measuredRewind(["gradient", "lorenz", "--steps", "100000", "--max-predicted-seconds", "0.000001"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("predicted to take") && run.stderr.contains("--max-predicted-seconds"), "\(run.stderr)")
        let bad = try measuredRewind(["gradient", "lorenz", "--max-predicted-seconds", "nan"])
        #expect(bad.status == 64, "\(bad.stderr)")
    }

    /// `jacobian heat2d --size 4096` reached 2.5 GiB at the default 1 GiB before refusing,
    /// and said "a memory budget of 0 B".
    @Test(arguments: [
        ["jacobian", "heat2d", "--size", "4096"],
        ["jacobian", "heat2d", "--size", "8192"],
        ["jacobian", "heat2d", "--size", "2048", "--rows", "0-4194303"],
        ["jacobian", "heat2d", "--size", "4096", "--rows", "0"],
    ])
    func jacobianRefusesBeforeAllocatingNamingTheBudget(arguments: [String]) throws {
        let run = try measuredRewind(arguments)
        #expect(run.signal == nil && run.status == 1, "\(arguments): \(run.status) \(run.stderr)")
        #expect(run.stderr.contains("a memory budget of 1.0 GiB"), "\(run.stderr)")
        #expect(!run.stderr.contains("of 0 B"))
        #expect(
            run.stayedBelow(200 << 20),
            "peaked at \(run.maxResidentBytes >> 20) MiB (this process: \(run.spawnerPeakBytes >> 20) MiB)")
    }

    @Test func jacobianRefusalsAfterTheSampleNameTheWholeBudget() throws {
        let run = try measuredRewind(["jacobian", "burgers", "--size", "256", "--steps", "10", "--memory-budget", "20KiB"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("a memory budget of 20.0 KiB"), "\(run.stderr)")
    }

    @Test func svgWritesThroughASymlinkAndKeepsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-svg-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/target.svg", link = directory + "/link.svg"
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let run = try measuredRewind(["schedule", "--steps", "20", "--snapshots", "3", "--svg", link])
        #expect(run.status == 0, "\(run.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: link)
        #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink, "the symlink was replaced")
        let written = try String(contentsOfFile: target, encoding: .utf8)
        #expect(written.contains("</svg>") && !written.hasPrefix("old"))
    }

    @Test(arguments: ["/dev/full", "/nonexistent-dir/x.svg", "/tmp"])
    func anSVGThatCannotBeWrittenIsAnErrorNamingThePath(path: String) throws {
        let run = try measuredRewind(["schedule", "--steps", "20", "--snapshots", "3", "--svg", path])
        #expect(run.status == 1, "\(path): \(run.status)")
        #expect(run.stderr.contains("'\(path)'"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func svgToACharacterDeviceWritesThroughIt() throws {
        let run = try measuredRewind(["schedule", "--steps", "20", "--snapshots", "3", "--svg", "/dev/null"])
        #expect(run.status == 0, "\(run.stderr)")
        var status = stat()
        #expect(stat("/dev/null", &status) == 0 && (status.st_mode & S_IFMT) == S_IFCHR)
    }

    /// The streamed array must be the text JSONEncoder would write for the same numbers:
    /// each number is read back with Swift's correctly rounded `Double(_:)` (Foundation's
    /// JSONSerialization is not: it drifts in the last digit) and the array re-encoded with
    /// JSONEncoder, configured as the CLI's.
    @Test(arguments: [
        ["gradient", "burgers", "--size", "300", "--steps", "30", "--json"],
        ["gradient", "heat2d", "--size", "16", "--steps", "5", "--json"],
        ["gradient", "lorenz", "--steps", "100000", "--json"],  // chaotic: NaN gradients, as strings
    ])
    func streamedJSONIsWhatTheEncoderWrites(arguments: [String]) throws {
        let run = try measuredRewind(arguments)
        #expect(run.json != nil, "one JSON object: \(run.stdout.prefix(300))")
        let start = try #require(run.stdout.range(of: "{\"gradient\":{\"initialState\":["))
        let end = try #require(run.stdout.range(of: "],\"parameters\":"))
        let tokens = run.stdout[start.upperBound..<end.lowerBound].split(separator: ",")
        let doubles: [Double] = try tokens.map { token in
            switch token {
            case "\"NaN\"": return .nan
            case "\"Infinity\"": return .infinity
            case "\"-Infinity\"": return -.infinity
            default: return try #require(Double(String(token)), "not a number: \(token)")
            }
        }
        #expect(doubles.count == (arguments[1] == "heat2d" ? 256 : arguments[1] == "lorenz" ? 3 : 300))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let expected = String(decoding: try encoder.encode(doubles), as: UTF8.self)
        #expect("[" + tokens.joined(separator: ",") + "]" == expected)
        #expect(run.stdout.hasSuffix("}\n") && run.stdout.filter { $0 == "\n" }.count == 1)
    }

    /// The Jacobian is streamed row by row: its text must be JSONEncoder's for the same numbers.
    @Test func streamedJacobianIsWhatTheEncoderWrites() throws {
        let run = try measuredRewind(["jacobian", "burgers", "--size", "40", "--steps", "30", "--rows", "0-9", "--json"])
        let json = try #require(run.json, "\(run.stdout.prefix(300))")
        #expect((json["rowNames"] as? [String])?.count == 10)
        let start = try #require(run.stdout.range(of: "\"jacobian\":"))
        let end = try #require(run.stdout.range(of: ",\"model\":"))
        let text = String(run.stdout[start.upperBound..<end.lowerBound])
        let rows: [[Double]] = try text.dropFirst(2).dropLast(2).components(separatedBy: "],[").map { row in
            try row.split(separator: ",").map { try #require(Double(String($0)), "not a number: \($0)") }
        }
        #expect(rows.count == 10 && rows.allSatisfy { $0.count == 41 })
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        #expect(text == String(decoding: try encoder.encode(rows), as: UTF8.self))
        #expect(run.stdout.hasSuffix("}\n"))
    }

    /// An ensemble's members are streamed one by one: the whole object must still be what the
    /// encoder wrote, which the members' gradients show against single runs of the same member.
    @Test func streamedEnsembleHoldsEachMembersGradient() throws {
        let run = try measuredRewind(["gradient", "burgers", "--size", "24", "--steps", "20", "--ensemble", "3", "--json"])
        let json = try #require(run.json, "\(run.stdout.prefix(300))")
        let members = try #require(json["members"] as? [[String: Any]])
        #expect(members.count == 3 && json["ensemble"] as? Int == 3)
        let single = try measuredRewind(["gradient", "burgers", "--size", "24", "--steps", "20", "--json"])
        // Member 0 is the unscaled run: its streamed gradient text equals the single run's.
        let gradientText = { (text: Substring) -> Substring? in
            guard let start = text.range(of: "{\"gradient\":"), let end = text.range(of: ",\"model\":") else { return nil }
            return text[start.lowerBound..<end.lowerBound]
        }
        let firstMember = try #require(gradientText(Substring(run.stdout)))
        #expect(firstMember == gradientText(Substring(single.stdout)))
        #expect(run.stdout.hasSuffix("}\n") && run.stdout.filter { $0 == "\n" }.count == 1)
    }

    @Test func aFiniteInputThatOverflowsWarnsOnStderr() throws {
        let run = try measuredRewind(["gradient", "lorenz", "--steps", "100", "--parameter", "rho=1e200", "--json"])
        #expect(run.status == 0)
        #expect(run.stderr.hasPrefix("warning: not finite: the objective J is"), "\(run.stderr)")
        #expect(run.json != nil, "stdout stays one JSON object")
        let fine = try measuredRewind(["gradient", "lorenz", "--steps", "100", "--parameter", "rho=10"])
        #expect(fine.stderr.isEmpty)
    }

    @Test(arguments: [
        (["gradient", "lorenz", "--memory-budget", "99999999999999999999PiB"], "more than the largest memory budget"),
        (["gradient", "lorenz", "--memory-budget", "-1KiB"], "cannot be negative"),
        (["gradient", "lorenz", "--steps", "-1"], "--steps must be at least 1 (got -1)"),
        (["jacobian", "lorenz", "--rows", "-1"], "--rows: -1 is not a state index"),
        (["gradient", "lorenz", "--strategy", "-1"], "--strategy must be auto"),
        (["gradient", "lorenz", "--steps", "5", "--steps", "6"], "--steps is given twice ('5' and '6')"),
        (["gradient", "lorenz", "--json", "--json"], "--json is given twice"),
        (["schedule", "--steps=5", "--snapshots", "2", "--steps", "5"], "--steps is given twice"),
        (["jacobian", "lorenz", "--threads", "9223372036854775807"], "--threads must be from 1 to 1024"),
        (["gradient", "lorenz", "--ensemble", "9223372036854775807"], "--ensemble must be from 1 to 4096"),
    ])
    func usageErrorsSayWhatIsWrong(arguments: [String], message: String) throws {
        let run = try measuredRewind(arguments)
        #expect(run.status == 64, "\(arguments): \(run.status)")
        #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(run.stderrLines.count == 1)
    }

    @Test func aRepeatableOptionMayRepeat() throws {
        let run = try measuredRewind(
            ["gradient", "lorenz", "--steps", "10", "--parameter", "rho=10", "--parameter", "sigma=9", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect((run.json?["parameterValues"] as? [String: Double])?["sigma"] == 9)
    }

    @Test(arguments: [
        (["gradient", "lorenz", "--steps", "0", "--json"], Int32(64)),
        (["gradient", "burgers", "--memory-budget", "1kB", "--json"], Int32(1)),
        (["schedule", "--steps", "9223372036854775807", "--snapshots", "2", "--json"], Int32(1)),
    ])
    func aFailureWithJSONPrintsAnErrorObject(arguments: [String], status: Int32) throws {
        let run = try measuredRewind(arguments)
        #expect(run.status == status)
        let error = try #require(run.json?["error"] as? [String: Any], "stdout: \(run.stdout)")
        #expect(error["exitCode"] as? Int == Int(status))
        let message = try #require(error["message"] as? String)
        #expect(run.stderr == "Error: \(message)\n")
    }
}
