// The first gradient of a fresh process against the next ones in the same process (issue 15:
// "the first gradient in a fresh process within 1.3× of a warm one").
//
//   swift build -c release --static-swift-stdlib --product rewind-benchmark
//   .build/release/rewind-benchmark first-run          # 7 fresh processes, a Markdown table
//   .build/release/rewind-benchmark first-run-child    # one process, one JSON line
//
// Each child process runs `TimeStepping.gradient` on burgers 4096×1000 at 64 MiB three times,
// as the CLI runs it (large blocks mapped on their own, a new workspace each call), and
// reports each call's in-process times and the minor page faults it took. The ratios are
// first ÷ second within one process, then the median over processes.
import Foundation
import Rewind
import RewindModels

#if canImport(Glibc)
import Glibc
#endif

struct FirstRunCall: Codable {
    /// `report.seconds`: sampling, planning and the run.
    var seconds: Double
    /// `report.runSeconds`: the run alone.
    var runSeconds: Double
    /// Wall time of the whole call, from before `gradient` to after it returned.
    var callSeconds: Double
    /// CPU time of the calling thread during the call: on a loaded machine the wall time
    /// also holds the time the process waited for a core, which this does not.
    var cpuSeconds: Double
    /// Minor page faults the call took (fresh pages, first touches of the binary's pages).
    var minorFaults: Int
    var plan: String
}

struct FirstRunResult: Codable {
    var calls: [FirstRunCall]
}

/// Minor page faults of this process so far.
private func minorFaults() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_minflt
}

/// Three gradients of burgers 4096×1000 inside 64 MiB in this process.
func measureFirstRun(calls: Int = 3) -> FirstRunResult {
    // As the CLI does before anything else (`RewindCommand`): large blocks get their own mapping
    // and go back to the system when freed, so a later call does not find them resident.
    ProcessMemory.keepLargeBlocksMapped()
    let model = Burgers(n: 4096)
    let state = model.initialState()
    var result = FirstRunResult(calls: [])
    for _ in 0..<calls {
        let faults = minorFaults()
        let cpuStarted = threadCPUNow()
        let started = now()
        let gradient = try! TimeStepping.gradient(
            of: model, initialState: state, parameters: Burgers.defaultParameters, steps: 1000,
            options: TimeSteppingOptions(memoryBudget: .mebibytes(64)))
        let call = now() - started
        let cpu = threadCPUNow() - cpuStarted
        blackHole(gradient.objective)
        result.calls.append(
            FirstRunCall(
                seconds: gradient.report.seconds, runSeconds: gradient.report.runSeconds, callSeconds: call, cpuSeconds: cpu,
                minorFaults: minorFaults() - faults, plan: gradient.report.plan))
    }
    return result
}

/// Fresh processes of `first-run-child`: first against second call, medians over processes.
func printFirstRunTable(processes: Int = 7) {
    let results = (0..<processes).compactMap { _ in runChild("first-run-child", as: FirstRunResult.self) }
    guard !results.isEmpty else {
        print("first-run: no child process reported")
        return
    }
    func row(_ label: String, _ value: (FirstRunCall) -> Double, _ show: (Double) -> String) {
        let first = median(results.map { value($0.calls[0]) })
        let second = median(results.map { value($0.calls[1]) })
        let third = median(results.map { value($0.calls[2]) })
        let ratio = median(results.map { value($0.calls[0]) / value($0.calls[1]) })
        print("| \(label) | \(show(first)) | \(show(second)) | \(show(third)) | " + String(format: "%.2f", ratio) + " |")
    }
    // The plan's choice is its text before the colon; the predicted time after it varies.
    let samePlans = results.filter { Set($0.calls.map { $0.plan.prefix { $0 != ":" } }).count == 1 }.count
    print("burgers 4096×1000 at 64 MiB, \(results.count) fresh processes, medians; plan of the first call: \(results[0].calls[0].plan)")
    print("processes whose three calls ran the same plan: \(samePlans) of \(results.count)")
    print()
    print("| in-process figure | first call | second | third | first ÷ second |")
    print("|---|---|---|---|---|")
    row("`report.seconds` (sample, plan, run)", \.seconds, format)
    row("`report.runSeconds` (run)", \.runSeconds, format)
    row("the whole call", \.callSeconds, format)
    row("CPU time of the call", \.cpuSeconds, format)
    row("minor page faults", { Double($0.minorFaults) }, { String(format: "%.0f", $0) })
}
