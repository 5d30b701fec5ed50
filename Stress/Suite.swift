import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a scenario found.
enum Outcome {
    case pass(String)
    case fail(String)
    /// Not run, with the reason (counted neither as passed nor failed).
    case skip(String)
    /// A known bug in Rewind, with the reason: reported, counted separately, does not fail the suite.
    case known(String)
}

struct Scenario {
    enum Mode { case short, full, both }
    let name: String
    let mode: Mode
    let body: (Suite) -> Outcome
}

/// Shared state of one suite run: the runner, the baseline, a scratch directory.
final class Suite {
    let rewind: RewindRunner
    let full: Bool
    let scratch: String
    /// Peak resident bytes of `rewind gradient lorenz --steps 10`: the process's fixed cost.
    var baseline = 0
    /// The anonymous part (RssAnon) of the baseline run's peak, for diagnostics.
    var baselineAnon = 0
    /// The peak resident set seen while `heat2d 2048²` was refused (set by that scenario).
    var heat2dRefusalPeak: Int?
    var heat2dRefusalLine: String?
    private var counter = 0

    init(rewind: RewindRunner, full: Bool, scratch: String) {
        self.rewind = rewind
        self.full = full
        self.scratch = scratch
    }

    /// A fresh, empty directory under the scratch directory.
    func freshDirectory(_ name: String) -> String {
        counter += 1
        let path = "\(scratch)/\(counter)-\(name)"
        makeDirectory(path)
        return path
    }

    func run(_ arguments: [String], timeout: Double = 900, signal: (number: Int32, when: () -> Bool)? = nil) -> RunResult {
        rewind.run(arguments, timeout: timeout, signal: signal)
    }

    /// Allocator and fixed-cost noise allowed on top of budget + baseline: glibc keeps up to
    /// 128 KiB free at the top of the heap (M_TRIM_THRESHOLD), and a model other than the
    /// baseline's lorenz touches a little more of the runtime. Proportional overshoot is not hidden by it.
    static let slack = 256 * 1024

    /// nil when `result` succeeded with JSON on stdout and nothing on stderr; otherwise what is wrong.
    func problem(with result: RunResult, label: String) -> String? {
        guard !result.signaled, result.status == 0 else { return "\(label): \(result.summary)" }
        guard result.gradientText != nil else { return "\(label): no gradient in the JSON output" }
        guard result.stderr.isEmpty else { return "\(label): unexpected stderr: \(result.stderr.prefix(200))" }
        return nil
    }

    /// nil when the run stayed within `budget`: its peak resident set (VmRSS/VmHWM) is at most
    /// budget + baseline + slack, or, when file-backed pages (code of the binary and the Swift
    /// runtime, shared and not allocated by Rewind) make the difference, its peak anonymous
    /// resident set (RssAnon) is at most budget + the baseline's + slack. Otherwise what is wrong.
    func memoryProblem(with result: RunResult, budget: Int, label: String) -> String? {
        if result.peakResidentBytes <= budget + baseline + Self.slack { return nil }
        if result.peakAnonBytes <= budget + baselineAnon + Self.slack { return nil }
        return "\(label): peak resident \(mib(result.peakResidentBytes)) > budget \(mib(budget)) + baseline \(mib(baseline)), "
            + "and anonymous \(mib(result.peakAnonBytes)) > budget + baseline's \(mib(baselineAnon)) (+ \(Self.slack / 1024) KiB slack each)"
    }

    /// Both checks: the run's problem, else its memory problem.
    func problem(with result: RunResult, budget: Int?, label: String) -> String? {
        if let p = problem(with: result, label: label) { return p }
        if let budget { return memoryProblem(with: result, budget: budget, label: label) }
        return nil
    }

    /// Checks that a run failed cleanly: the status, exactly one stderr line starting with
    /// "Error:" and containing every string of `mentions`, nothing on stdout but, for a run
    /// given `--json`, the error object (`{"error":{...}}`, docs/cli.md).
    func cleanRefusal(_ result: RunResult, status: Int32, mentions: [String]) -> String? {
        if result.signaled || result.status != status {
            return "expected status \(status), got \(result.summary)"
        }
        let lines = result.stderrLines
        guard lines.count == 1, lines[0].hasPrefix("Error: ") else {
            return "expected one 'Error:' line on stderr, got \(lines.count): \(result.stderr.prefix(300))"
        }
        for word in mentions where !lines[0].localizedCaseInsensitiveContains(word) {
            return "stderr does not mention '\(word)': \(lines[0])"
        }
        guard result.stdout.isEmpty || result.stdout.hasPrefix("{\"error\":") else {
            return "unexpected stdout: \(result.stdout.prefix(200))"
        }
        return nil
    }

    /// Runs the scenarios that belong to this mode; prints a line each and the totals.
    /// Returns the number failed.
    func execute(_ scenarios: [Scenario]) -> Int {
        var passed = 0, failed = 0, skipped = 0, known = 0
        let started = Date()
        for scenario in scenarios {
            switch scenario.mode {
            case .short where full, .full where !full: continue
            default: break
            }
            let t0 = Date()
            let outcome = scenario.body(self)
            let time = String(format: "%6.1fs", Date().timeIntervalSince(t0))
            let line: String
            switch outcome {
            case .pass(let detail): passed += 1; line = "PASS  \(time)  \(scenario.name)" + (detail.isEmpty ? "" : " — \(detail)")
            case .fail(let reason): failed += 1; line = "FAIL  \(time)  \(scenario.name) — \(reason)"
            case .skip(let reason): skipped += 1; line = "SKIP  \(time)  \(scenario.name) — \(reason)"
            case .known(let reason): known += 1; line = "KNOWN \(time)  \(scenario.name) — \(reason)"
            }
            print(line)
            fflush(stdout)
        }
        print(String(format: "%d known, %d skipped; %.0f s in all", known, skipped, Date().timeIntervalSince(started)))
        print("\(passed) passed, \(failed) failed")
        fflush(stdout)
        return failed
    }
}
