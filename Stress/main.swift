// rewind-stress: long and hostile runs of the `rewind` binary that check the memory bound,
// the gradients and the clean-up of spill files. Run it through `tools/stress [--full]`.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print("""
        usage: rewind-stress [--full]
          Runs the stress scenarios against the release `rewind` binary ($REWIND, or the one next to
          this executable). A line per scenario (PASS, FAIL, SKIP, KNOWN), then `N passed, N failed`.
          --full  also the long runs (lorenz 1e7 steps, burgers 4096 × 1e6 steps); under 60 minutes.
        Exit status: 0 when nothing failed, 1 otherwise, 64 for a usage error.
        """)
    exit(0)
}
let unknown = arguments.filter { $0 != "--full" }
guard unknown.isEmpty else {
    fputs("Error: unknown argument(s) \(unknown.joined(separator: " ")); usage: rewind-stress [--full]\n", stderr)
    exit(64)
}
let full = arguments.contains("--full")

guard let rewind = RewindRunner.locate() else {
    fputs("Error: no rewind binary: set REWIND or build it next to rewind-stress (swift build -c release --product rewind)\n", stderr)
    exit(1)
}

// A private scratch directory for spill dirs and mount points, removed at the end.
let parent = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
var template = Array("\(parent)/rewind-stress.XXXXXX".utf8CString)
guard let made = mkdtemp(&template) else {
    fputs("Error: cannot create a scratch directory under \(parent): \(String(cString: strerror(errno)))\n", stderr)
    exit(1)
}
let scratch = String(cString: made)

let suite = Suite(rewind: rewind, full: full, scratch: scratch)

// Baseline: the peak resident set of a trivial run (the process's fixed cost); the largest of 3.
for _ in 0..<3 {
    let r = suite.run(["gradient", "lorenz", "--steps", "10", "--json"])
    guard r.status == 0, !r.signaled else {
        fputs("Error: the baseline run failed: \(r.summary)\n", stderr)
        exit(1)
    }
    suite.baseline = max(suite.baseline, r.peakResidentBytes)
}
// The anonymous part needs a run long enough to be sampled (the baseline run lasts ~10 ms):
// a tiny-memory lorenz run, revolve with one snapshot (~0.3 s; its working set is 25 KiB).
for _ in 0..<2 {
    let r = suite.run(["gradient", "lorenz", "--steps", "2000", "--strategy", "revolve", "--snapshots", "1", "--json"])
    guard r.status == 0, !r.signaled else {
        fputs("Error: the anonymous baseline run failed: \(r.summary)\n", stderr)
        exit(1)
    }
    suite.baselineAnon = max(suite.baselineAnon, r.peakAnonBytes)
}
print("rewind-stress (\(full ? "full" : "short") run): \(rewind.executable)")
print("baseline: peak resident of `rewind gradient lorenz --steps 10` = \(mib(suite.baseline)) (anonymous, from a 0.3 s lorenz revolve run with 1 snapshot: \(mib(suite.baselineAnon)))")
fflush(stdout)

// $REWIND_STRESS_ONLY: run only the scenarios whose name contains it (e.g. "flag fuzzer").
let only = ProcessInfo.processInfo.environment["REWIND_STRESS_ONLY"].flatMap { $0.isEmpty ? nil : $0 }
let failed = suite.execute((longRuns + hostileRuns + spillFaultRuns + flagFuzzScenarios).filter { only == nil || $0.name.contains(only!) })
try? FileManager.default.removeItem(atPath: scratch)
exit(failed == 0 ? 0 : 1)
