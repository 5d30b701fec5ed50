// Checkpointed gradients inside a memory budget through `TimeStepping.gradient` with the `auto`
// strategy (the planner picks revolve over blocks, as `rewind gradient … --memory-budget` does),
// the runs of tools/checkpoint-benchmark (docs/PERFORMANCE.md, "Checkpointed runs inside a
// budget"), with the generic primal of each model in the same suite.
//
// Like the CLI, every gradient starts from a fresh workspace (no `TimeSteppingWorkspace` kept
// between iterations), so each iteration pays its timed sample, its plan and its fresh pages.
import Benchmark
import Foundation
import Rewind
import RewindModels

let benchmarks = {
    _ = ProcessMemory.keepLargeBlocksMapped()

    Benchmark.defaultConfiguration = .init(
        metrics: Suite.metrics,
        timeUnits: .milliseconds,
        // Memory in MB (10^6 bytes); custom counts as they are.
        units: [Suite.vmHWM: .mega, Suite.runOverPrimalPercent: .count],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 5,
        thresholds: Suite.thresholds(for: Suite.metrics)
    )

    // lorenz 1e6 with rho = 10 (not chaotic: the gradient stays finite), as checkpoint-benchmark.
    var lorenzParameters = Lorenz.defaultParameters
    lorenzParameters[1] = 10
    primal("lorenz 1e6 rho=10", Lorenz(), parameters: lorenzParameters, steps: 1_000_000)
    checkpointed("lorenz 1e6 rho=10", Lorenz(), parameters: lorenzParameters, steps: 1_000_000, mebibytes: 64)
    checkpointed("lorenz 1e6 rho=10", Lorenz(), parameters: lorenzParameters, steps: 1_000_000, mebibytes: 4)

    primal("burgers 4096x1e3", Burgers(n: 4096), parameters: Burgers.defaultParameters, steps: 1000)
    checkpointed("burgers 4096x1e3", Burgers(n: 4096), parameters: Burgers.defaultParameters, steps: 1000, mebibytes: 64)
}

enum Suite {
    /// The run's time (after sampling and planning) divided by the planner's timed primal
    /// (`runSeconds / (primalSecondsPerStep × steps)`, tools/checkpoint-row.py's "run ÷ primal"),
    /// times 100: an in-process ratio, reported by the engine itself.
    static let runOverPrimalPercent = BenchmarkMetric.custom("run ÷ planner primal (%)", useScalingFactor: false)
    /// Forward steps (advances) of the schedule: revolve's count for the block length the planner
    /// picked from its timed sample, so it moves with that sample's noise.
    static let advances = BenchmarkMetric.custom("advances", useScalingFactor: false)
    static let vmHWM = BenchmarkMetric.custom("VmHWM, kernel peak RSS", useScalingFactor: false)

    static let metrics: [BenchmarkMetric] = [
        .wallClock, .throughput, .mallocCountTotal, vmHWM,
    ]

    /// See StoreAll.swift. Checkpointed runs plan from a timed sample, so the block length (and
    /// with it the advances and the mallocs) can move between runs: those get loose tolerances.
    static let allThresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .wallClock: .init(relative: [.p50: 15.0]),
        .throughput: .init(relative: [.p50: 15.0]),
        runOverPrimalPercent: .init(relative: [.p50: 15.0]),
        advances: .init(relative: [.p50: 25.0]),
        .mallocCountTotal: .init(relative: [.p50: 25.0]),
        vmHWM: .init(relative: [.p50: 10.0]),
    ]
}

extension Suite {
    static func thresholds(for metrics: [BenchmarkMetric]) -> [BenchmarkMetric: BenchmarkThresholds] {
        allThresholds.filter { metrics.contains($0.key) }
    }

    static let gradientMetrics = metrics + [runOverPrimalPercent, advances]
}

func primal<M: Model>(_ name: String, _ model: M, parameters: [Double], steps: Int) {
    let x0 = model.initialState()
    Benchmark("\(name): primal", configuration: .init(maxIterations: 20)) { benchmark in
        blackHole(model.primal(initialState: x0, parameters: parameters, steps: steps))
        benchmark.measurement(Suite.vmHWM, ProcessMemory.peakResidentBytes)
    }
}

func checkpointed<M: Model>(_ name: String, _ model: M, parameters: [Double], steps: Int, mebibytes: Int) {
    let x0 = model.initialState()
    Benchmark(
        "\(name): gradient \(mebibytes) MiB",
        configuration: .init(metrics: Suite.gradientMetrics, thresholds: Suite.thresholds(for: Suite.gradientMetrics))
    ) { benchmark in
        let options = TimeSteppingOptions(strategy: .auto, memoryBudget: .mebibytes(mebibytes))
        let result = try TimeStepping.gradient(of: model, initialState: x0, parameters: parameters, steps: steps, options: options)
        blackHole(result.parameterGradient)
        let report = result.report
        benchmark.measurement(Suite.runOverPrimalPercent, Int(100 * report.runSeconds / (report.primalSecondsPerStep * Double(steps))))
        benchmark.measurement(Suite.advances, report.forwardSteps)
        benchmark.measurement(Suite.vmHWM, ProcessMemory.peakResidentBytes)
    }
}
