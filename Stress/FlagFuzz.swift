import Foundation
#if canImport(Glibc)
import Glibc
#endif

// A flag fuzzer for the `rewind` command line (issue #11): random and boundary values for every
// option of every subcommand, as `rewind --help` and `rewind help <subcommand>` list them, so an
// option added later is fuzzed without touching this file.
//
// Each invocation is a subcommand with small safe arguments (a short run, a small grid, a small
// budget, a 5 s limit on the predicted time) of which one to three options are replaced by
// hostile values: 0, 1, -1, 2^31, 2^63-1, 10^18 (digits and `1e18`), 1e308, nan, inf, empty,
// a 60 000-character string, unit suffixes, an option given twice. Options that size the work (a step
// count, the budget, the time limit, …) are hostile one at a time, so that an accepted run
// stays short: the 5 s limit bounds a large step count, the small grid bounds a large budget.
//
// Every invocation must end by exit(0), exit(1) or exit(64) — never by a signal — within
// 20 s, with one `Error:` line on stderr when it fails, one JSON value on stdout when `--json`
// was given (an error object on failure), and a peak resident set under 2 GiB. The sequence is
// deterministic (seed 0x5EED_F1A6, or $REWIND_FUZZ_SEED): a failure names its command line.

/// SplitMix64: a small, seedable generator, so that every run fuzzes the same command lines.
struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An option as a subcommand's help lists it.
struct FuzzOption: Hashable {
    var name: String
    /// False for a flag (`--json`).
    var takesValue: Bool
}

/// The command line as the help text describes it: subcommands, their options, and whether
/// they take a model argument.
struct FuzzGrammar {
    var subcommands: [String: (options: [FuzzOption], takesModel: Bool)] = [:]

    /// Reads `rewind --help` and `rewind help <subcommand>`; nil with the reason when it cannot.
    static func discover(_ rewind: RewindRunner) -> Result<FuzzGrammar, FuzzFailure> {
        let root = rewind.run(["--help"], timeout: 20)
        guard root.status == 0, !root.signaled else { return .failure(FuzzFailure("rewind --help: \(root.summary)")) }
        var grammar = FuzzGrammar()
        var inSubcommands = false
        for line in root.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSubcommands = true; continue }
            guard inSubcommands, line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            guard let word = line.split(separator: " ").first, word.allSatisfy({ $0.isLetter || $0 == "-" }) else {
                continue
            }
            let name = String(word)
            let help = rewind.run(["help", name], timeout: 20)
            guard help.status == 0, !help.signaled else {
                return .failure(FuzzFailure("rewind help \(name): \(help.summary)"))
            }
            var options: [FuzzOption] = []
            for helpLine in help.stdout.split(separator: "\n") {
                let trimmed = helpLine.drop(while: { $0 == " " })
                guard helpLine.hasPrefix("  "), trimmed.hasPrefix("--") else { continue }
                let parts = trimmed.split(separator: " ", maxSplits: 2)
                let option = String(parts[0])
                guard option != "--help" else { continue }
                options.append(FuzzOption(name: option, takesValue: parts.count > 1 && parts[1].hasPrefix("<")))
            }
            grammar.subcommands[name] = (options, help.stdout.contains("<model>"))
        }
        guard !grammar.subcommands.isEmpty else { return .failure(FuzzFailure("no subcommands in rewind --help")) }
        return .success(grammar)
    }
}

struct FuzzFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Builds the hostile command lines and judges their outcomes.
struct FlagFuzzer {
    let grammar: FuzzGrammar
    /// A directory the fuzzer may write into (SVG pictures, spill directories); also the
    /// working directory of every invocation, so that a relative path lands there.
    let scratch: String
    var random: FuzzRandom

    static let models = ["lorenz", "burgers", "heat2d"]

    /// Options whose value sizes the run's work or memory: at most one of them is hostile
    /// in an invocation (a huge step count is bounded by the time limit, a huge budget by the
    /// small grid; both at once would be a legitimate run of hours).
    static let workOptions: Set<String> = [
        "--steps", "--size", "--memory-budget", "--max-predicted-seconds", "--ensemble", "--threads",
        "--state-components", "--rows", "--snapshots", "--steps-per-block", "--strategy", "--order", "--sweep",
    ]

    /// Boundary values every valued option gets.
    static let boundary = [
        "0", "1", "-1", "2", "3", "2147483648", "4294967296", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "1000000000000000000", "1e18", "1e308", "-1e308", "1e-308", "4.9e-324", "nan", "inf",
        "-inf", "", " ", "0x10", "1_000", "+5", "٣", "1.5", "-0", "--json", "-", "auto", "=", "null",
    ]

    /// Values with units, for budgets and the like.
    static let withUnits = [
        "1B", "0B", "1KiB", "64KiB", "4MiB", "1.5MiB", ".5MiB", "64mib", "64 MiB", "-1KiB", "1PiB", "7000PiB",
        "99999999999999999999PiB", "9EB", "1e6", "0.0000001MiB", "NaNMiB", "infGiB", "B", "KiB",
    ]

    /// The safe arguments of a subcommand for `model`, keyed by option (nil: a flag or none).
    func baseArguments(_ subcommand: String, model: String) -> [(String, String?)] {
        let sized = model == "lorenz" ? [] : [("--size", "16")]
        // Only options this binary has (an older one has no time limit: then its runs are long).
        let known = Set(grammar.subcommands[subcommand]?.options.map(\.name) ?? [])
        return safeArguments(subcommand, sized: sized).filter { known.contains($0.0) }
    }

    private func safeArguments(_ subcommand: String, sized: [(String, String?)]) -> [(String, String?)] {
        switch subcommand {
        case "gradient":
            return [("--steps", "20")] + sized + [("--memory-budget", "4MiB"), ("--max-predicted-seconds", "5")]
        case "jacobian":
            return [("--steps", "20")] + sized + [("--memory-budget", "16MiB"), ("--max-predicted-seconds", "5")]
        case "check":
            return [("--steps", "20")] + sized
        case "schedule":
            return [("--steps", "50"), ("--snapshots", "3")]
        default:
            return []
        }
    }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    /// A hostile value for `option` of `subcommand`.
    mutating func value(for option: String, of subcommand: String) -> String {
        // `check` has no time limit (about fifty primal runs and a store-all gradient): its
        // random step counts and sizes stay small; the boundary values are refused or tiny.
        if subcommand == "check" && ["--steps", "--size", "--state-components"].contains(option) && chance(50) {
            return String(random.next() % 3000)
        }
        switch option {
        case "--svg":
            return pick([
                "\(scratch)/fuzz.svg", "/dev/null", "/dev/full", "", scratch, "\(scratch)/missing/dir/x.svg",
                String(repeating: "a", count: 5000), "\(scratch)/\(String(repeating: "b", count: 300)).svg",
            ])
        case "--spill-dir":
            return pick([
                scratch, "/dev/null", "/nonexistent-rewind-fuzz", "", "/proc/self", "\(scratch)/fuzz.svg",
                String(repeating: "d", count: 5000),
            ])
        case "--parameter":
            let name = pick(["rho", "sigma", "beta", "nu", "k", "gamma", "", "rho=", "=1"])
            return pick(["\(name)=\(pick(Self.boundary))", name, "\(name)==1", "rho=1e200", "nu=-1e308", "k=1e-320"])
        case "--rows":
            return pick(["0", "x", "u[3]", "u[1,2]", "0-2", "2-0", "0-9223372036854775807", ",,,", "-1", "0,0,0", "u[", "]"]
                + Self.boundary)
        case "--strategy", "--sweep":
            return pick(["auto", "store-all", "revolve", "online", "two-level", "spill", "scalar", "simd4", "simd8", "magic"]
                + Self.boundary)
        case "--memory-budget":
            return pick(Self.withUnits + Self.boundary)
        default:
            break
        }
        switch random.next() % 10 {
        case 0: return String(Int64(bitPattern: random.next()))
        case 1: return String(Double(bitPattern: random.next()))
        case 2: return String(random.next() % (subcommand == "check" ? 3000 : 100_000))
        // 60 000 characters: one argument may hold 128 KiB (MAX_ARG_STRLEN), and é is two bytes.
        case 3: return String(repeating: pick(["9", "x", "-", "é", "\u{1}"]), count: 60_000)
        case 4: return pick(Self.withUnits)
        default: return pick(Self.boundary)
        }
    }

    /// One invocation's arguments.
    mutating func commandLine() -> [String] {
        let subcommand = pick(grammar.subcommands.keys.sorted())
        let (options, takesModel) = grammar.subcommands[subcommand]!
        let model = chance(95) ? pick(Self.models) : pick(["", "Lorenz", "navier-stokes", String(repeating: "m", count: 10_000)])
        var arguments = baseArguments(subcommand, model: model)
        var hostileWork = false
        let count = 1 + Int(random.next() % 3)
        for _ in 0..<count where !options.isEmpty {
            let option = pick(options)
            if Self.workOptions.contains(option.name) {
                if hostileWork { continue }
                hostileWork = true
            }
            let entry = (option.name, option.takesValue ? value(for: option.name, of: subcommand) : nil)
            // Replace the safe value, or give the option twice now and then.
            if let index = arguments.firstIndex(where: { $0.0 == option.name }), !chance(15) {
                arguments[index] = entry
            } else {
                arguments.append(entry)
            }
            // `--steps` without the limit would be a legitimate run of hours.
            if option.name == "--max-predicted-seconds", let steps = arguments.firstIndex(where: { $0.0 == "--steps" }) {
                arguments[steps].1 = "20"
            }
        }
        if chance(30), let json = options.first(where: { $0.name == "--json" }) { arguments.append((json.name, nil)) }
        var line = [subcommand]
        if takesModel && !model.isEmpty { line.append(model) }
        for (option, value) in arguments {
            line.append(option)
            if let value { line.append(value) }
        }
        return line
    }

    /// nil when the outcome is acceptable; otherwise what is wrong.
    static func problem(with result: RunResult, arguments: [String], timeout: Double) -> String? {
        if result.timedOut { return "ran past the \(Int(timeout)) s timeout" }
        if result.signaled { return "ended by signal \(result.status)" }
        guard [0, 1, 64].contains(result.status) else { return "exit status \(result.status)" }
        if result.peakResidentBytes > 2 << 30 { return "peak resident \(mib(result.peakResidentBytes))" }
        let wantsJSON = arguments.contains("--json") && !arguments.contains("--help")
        // stderr: warnings (a budget beyond the machine, a non-finite result), then on failure
        // exactly one `Error:` line, or the `check failed:` lines of a failing check.
        let lines = result.stderrLines
        let errors = lines.filter { $0.hasPrefix("Error: ") }.count
        let checkFailed = lines.contains { $0.hasPrefix("check failed:") }
        if let stray = lines.first(where: {
            !$0.hasPrefix("Error: ") && !$0.hasPrefix("warning: ") && !$0.hasPrefix("check failed:")
        }) {
            return "stray stderr line: \(stray.prefix(200))"
        }
        if result.status != 0 && !(errors == 1 || (errors == 0 && checkFailed)) {
            return "status \(result.status) with \(errors) 'Error:' lines: \(result.stderr.prefix(300))"
        }
        if result.status == 0 && errors > 0 { return "status 0 with an 'Error:' line: \(result.stderr.prefix(200))" }
        if wantsJSON {
            let data = Data(result.stdout.utf8)
            guard (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else {
                return "--json but stdout is not JSON: \(result.stdout.prefix(200))"
            }
        }
        return nil
    }

    /// Runs `count` invocations; the outcome names the first failures.
    static func run(_ suite: Suite, count: Int) -> Outcome {
        let grammar: FuzzGrammar
        switch FuzzGrammar.discover(suite.rewind) {
        case .success(let found): grammar = found
        case .failure(let failure): return .fail(failure.message)
        }
        let seed = ProcessInfo.processInfo.environment["REWIND_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F1A6
        let scratch = suite.freshDirectory("flag-fuzz")
        var fuzzer = FlagFuzzer(grammar: grammar, scratch: scratch, random: FuzzRandom(state: seed))
        let timeout = 20.0
        var statuses: [Int32: Int] = [:]
        var failures: [String] = []
        var slowest = (seconds: 0.0, line: "")
        var optionsSeen: Set<String> = []
        let runner = RewindRunner(executable: suite.rewind.executable, workingDirectory: scratch)
        let devices = DeviceGuard(paths: ["/dev/null", "/dev/full"])
        for _ in 0..<count {
            let arguments = fuzzer.commandLine()
            optionsSeen.formUnion(arguments.filter { $0.hasPrefix("--") })
            let result = runner.run(arguments, timeout: timeout)
            statuses[result.signaled ? -result.status : result.status, default: 0] += 1
            let shown = arguments.map { $0.count > 40 ? "<\($0.count) chars>" : "'\($0)'" }.joined(separator: " ")
            if result.seconds > slowest.seconds { slowest = (result.seconds, shown) }
            if let problem = problem(with: result, arguments: arguments, timeout: timeout) {
                failures.append("rewind \(shown): \(problem)")
            }
            if let replaced = devices.restoreReplaced() {
                failures.append("rewind \(shown): replaced \(replaced) (restored)")
            }
        }
        let allOptions = Set(grammar.subcommands.values.flatMap { $0.options.map(\.name) })
        let missed = allOptions.subtracting(optionsSeen).sorted()
        let summary = "\(count) invocations (seed \(String(seed, radix: 16))), exit statuses "
            + statuses.keys.sorted().map { "\($0): \(statuses[$0]!)" }.joined(separator: ", ")
            + String(format: "; slowest %.1f s", slowest.seconds)
            + (missed.isEmpty ? "; every option fuzzed" : "; never fuzzed: \(missed.joined(separator: " "))")
        if !failures.isEmpty {
            // A replaced device node first: it harms the machine, not just the run.
            let ordered = failures.filter { $0.hasSuffix("(restored)") } + failures.filter { !$0.hasSuffix("(restored)") }
            return .fail("\(failures.count) bad outcome(s) in \(summary); first: " + ordered.prefix(5).joined(separator: " | "))
        }
        if !missed.isEmpty { return .fail(summary) }
        return .pass(summary + " (\(slowest.line.prefix(120)))")
    }
}

let flagFuzzScenarios: [Scenario] = [
    Scenario(name: "flag fuzzer: 200 hostile command lines end by exit 0/1/64 within 20 s, clean errors, JSON with --json", mode: .short) { s in
        FlagFuzzer.run(s, count: 200)
    },
    Scenario(name: "flag fuzzer: 1500 hostile command lines end by exit 0/1/64 within 20 s, clean errors, JSON with --json", mode: .full) { s in
        FlagFuzzer.run(s, count: 1500)
    },
]

/// The device nodes the fuzzer names as output paths. A `rewind` that replaces its output file
/// instead of writing through it (the bug of issue #11, as root) would leave a regular file in
/// their place and break every program on the machine that writes to them; the guard notices,
/// reports it and puts the node back as it was.
struct DeviceGuard {
    private var nodes: [(path: String, device: dev_t, mode: mode_t)] = []

    init(paths: [String]) {
        for path in paths {
            var status = stat()
            if stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFCHR {
                nodes.append((path, status.st_rdev, status.st_mode))
            }
        }
    }

    /// The paths no longer the character devices they were, each restored (`mknod`, as root);
    /// nil when all are intact.
    func restoreReplaced() -> String? {
        var replaced: [String] = []
        for node in nodes {
            var status = stat()
            if lstat(node.path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFCHR && status.st_rdev == node.device {
                continue
            }
            replaced.append(node.path)
            unlink(node.path)
            mknod(node.path, node.mode, node.device)
            chmod(node.path, node.mode & 0o7777)
        }
        return replaced.isEmpty ? nil : replaced.joined(separator: " and ")
    }
}
