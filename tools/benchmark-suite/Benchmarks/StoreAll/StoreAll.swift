// Store-all gradients of the bundled models and the synthetic statement mix, with the primal of
// each case in the same suite (docs/PERFORMANCE.md, "Store-all: record and reverse"). The case
// set-up is the one of tools/Benchmarks/main.swift (the hand-written harness).
//
// Every benchmark runs in its own process (ordo-one's BenchmarkTool starts one per benchmark), so
// the custom `VmHWM` metric (the kernel's exact peak RSS) is the case's own. Names are "<case>: <what>"; tools/benchmark-suite/ratios.py pairs each
// "<case>: gradient…" with "<case>: primal" (and "hand primal") of the same run.
import Benchmark
import Foundation
import Rewind
import RewindModels

let benchmarks = {
    // Freed tape memory goes back to the kernel (as the CLI sets it), so RSS is the case's.
    _ = ProcessMemory.keepLargeBlocksMapped()

    Benchmark.defaultConfiguration = .init(
        metrics: Suite.metrics,
        timeUnits: .milliseconds,
        // Memory in MB (10^6 bytes); custom counts as they are.
        units: [Suite.vmHWM: .mega, Suite.recordMicroseconds: .count, Suite.reverseMicroseconds: .count],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 5,
        thresholds: Suite.thresholds(for: Suite.metrics)
    )

    // MARK: lorenz 1e6
    primal("lorenz 1e6", Lorenz(), steps: 1_000_000)
    handPrimal("lorenz 1e6") { handLorenz(steps: 1_000_000) }
    storeAllGradient("lorenz 1e6", Lorenz(), steps: 1_000_000)

    // MARK: burgers 4096×1e3
    primal("burgers 4096x1e3", Burgers(n: 4096), steps: 1000)
    handPrimal("burgers 4096x1e3") { handBurgers(Burgers(n: 4096), steps: 1000) }
    storeAllGradient("burgers 4096x1e3", Burgers(n: 4096), steps: 1000)

    // MARK: burgers 256×1e4
    primal("burgers 256x1e4", Burgers(n: 256), steps: 10_000)
    handPrimal("burgers 256x1e4") { handBurgers(Burgers(n: 256), steps: 10_000) }
    storeAllGradient("burgers 256x1e4", Burgers(n: 256), steps: 10_000)

    // MARK: heat2d 128×1e3 (PERFORMANCE.md has 256×1e3: 3.5 GiB and 1.5 s a gradient)
    primal("heat2d 128x1e3", Heat2D(m: 128), steps: 1000)
    storeAllGradient("heat2d 128x1e3", Heat2D(m: 128), steps: 1000)

    // MARK: synthetic statement mix, 4e7 operations (raw record and sweep rates)
    synthetic("synthetic 4e7", operations: 40_000_000)
}

/// Metrics and thresholds shared by the suites.
enum Suite {
    /// Seconds of the driver's report (record, reverse), in microseconds.
    static let recordMicroseconds = BenchmarkMetric.custom("record (µs)")
    static let reverseMicroseconds = BenchmarkMetric.custom("reverse (µs)")
    /// Tape statements of one gradient: the same code records the same tape, so any change is a
    /// change of what is recorded, not noise.
    static let statements = BenchmarkMetric.custom("statements", useScalingFactor: false)
    /// The kernel's peak resident set (`VmHWM`) of the benchmark's process after the iteration
    /// (every benchmark has a process of its own, so it is the case's peak).
    static let vmHWM = BenchmarkMetric.custom("VmHWM, kernel peak RSS", useScalingFactor: false)

    /// Peak resident memory is the kernel's `VmHWM`, read after each iteration, not ordo-one's
    /// `peakMemoryResident`: that one samples RSS from a thread of ordo-one's every ~5 ms, and the
    /// sampler's own mallocs land in `mallocCountTotal` (process-wide), so the malloc count grew
    /// with the wall time: lorenz store-all 198–377 a gradient with the sampler, exactly 98 in every
    /// iteration of every run without it. `swift package benchmark --metric peakMemoryResident …`
    /// still gives the sampled figure (measured: two runs each way). Not `peakMemoryResidentDelta` either: it counts from after
    /// the warm-up, which already touched the reused tape memory (0–9 MB here).
    static let metrics: [BenchmarkMetric] = [
        .wallClock, .throughput, .mallocCountTotal, vmHWM,
    ]

    /// `baseline compare` / `check` tolerances. The 2-core machine is shared and times vary by
    /// 10–20 % from run to run (docs/PERFORMANCE.md), so times get 15 % at the median; the tape's
    /// statements are exact; resident memory gets 10 %; mallocs 2 % (without the RSS sampler they
    /// are the engine's own and the same in every iteration: a change is a change of the code).
    /// A relative and an absolute tolerance are two tests (either flags), so only one is given.
    static let allThresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .wallClock: .init(relative: [.p50: 15.0]),
        .throughput: .init(relative: [.p50: 15.0]),
        recordMicroseconds: .init(relative: [.p50: 15.0]),
        reverseMicroseconds: .init(relative: [.p50: 15.0]),
        .mallocCountTotal: .init(relative: [.p50: 2.0]),
        statements: .init(absolute: [.p50: 0]),
        vmHWM: .init(relative: [.p50: 10.0]),
    ]

    /// The tolerances of `metrics` only (ordo-one warns about tolerances for metrics a benchmark lacks).
    static func thresholds(for metrics: [BenchmarkMetric]) -> [BenchmarkMetric: BenchmarkThresholds] {
        allThresholds.filter { metrics.contains($0.key) }
    }

    /// The metrics of a gradient: the defaults plus the driver's record and reverse times and the tape's size.
    static let gradientMetrics = metrics + [recordMicroseconds, reverseMicroseconds, statements]
    static let gradientConfiguration = Benchmark.Configuration(metrics: gradientMetrics, thresholds: thresholds(for: gradientMetrics))

    static func recordPeak(_ benchmark: Benchmark) {
        benchmark.measurement(vmHWM, ProcessMemory.peakResidentBytes)
    }
}

/// The model's generic primal (its step function over `SimulationScalar`, run on `Double`).
func primal<M: Model>(_ name: String, _ model: M, steps: Int) {
    let x0 = model.initialState()
    let p = M.defaultParameters
    Benchmark("\(name): primal", configuration: .init(maxIterations: 20)) { benchmark in
        blackHole(model.primal(initialState: x0, parameters: p, steps: steps))
        Suite.recordPeak(benchmark)
    }
}

/// A hand-written primal on plain doubles and unsafe buffers: the fastest Swift gets.
func handPrimal(_ name: String, _ body: @escaping () -> Double) {
    Benchmark("\(name): hand primal", configuration: .init(maxIterations: 20)) { benchmark in
        blackHole(body())
        Suite.recordPeak(benchmark)
    }
}

/// Store-all gradient through the time-stepping driver, one workspace reused so that only the
/// warm-up iteration pays for touching new tape memory (as tools/Benchmarks did).
func storeAllGradient<M: Model>(_ name: String, _ model: M, steps: Int) {
    let x0 = model.initialState()
    let p = M.defaultParameters
    let workspace = TimeSteppingWorkspace()
    let options = TimeSteppingOptions(strategy: .storeAll, memoryBudget: .mebibytes(16 << 10), workspace: workspace)
    Benchmark(
        "\(name): gradient store-all",
        configuration: Suite.gradientConfiguration
    ) { benchmark in
        let result = try TimeStepping.gradient(of: model, initialState: x0, parameters: p, steps: steps, options: options)
        blackHole(result.parameterGradient)
        benchmark.measurement(Suite.recordMicroseconds, Int(result.report.recordSeconds * 1e6))
        benchmark.measurement(Suite.reverseMicroseconds, Int(result.report.reverseSeconds * 1e6))
        benchmark.measurement(Suite.statements, result.report.tapeStatements)
        Suite.recordPeak(benchmark)
    }
}

/// A synthetic mix of binary, unary and elementary operations: the primal on doubles, and the
/// same operations recorded on one reused tape and swept.
func synthetic(_ name: String, operations: Int) {
    Benchmark("\(name): primal", configuration: .init(maxIterations: 20)) { benchmark in
        var a = 1.1, b = 0.7
        for i in 0..<(operations / 4) {
            a = a * b + 0.5
            b = b - a * 1e-3
            if i & 1023 == 0 { a = a.squareRoot() }
        }
        blackHole(a + b)
        Suite.recordPeak(benchmark)
    }
    let tape = Tape()
    let adjoints = AdjointVector()
    Benchmark(
        "\(name): gradient record+reverse",
        configuration: Suite.gradientConfiguration
    ) { benchmark in
        tape.reset()
        let start = ContinuousClock.now
        let (x, y) = tape.record { () -> (Tracked, Tracked) in
            let x = tape.registerInput(1.1)
            var a = x
            var b = tape.registerInput(0.7)
            for i in 0..<(operations / 4) {
                a = a * b + 0.5
                b = b - a * 1e-3
                if i & 1023 == 0 { a = Tracked.sqrt(a) }
            }
            return (x, a + b)
        }
        let recorded = ContinuousClock.now
        adjoints.prepare(for: tape)
        adjoints[y] = 1
        tape.reverse(adjoints)
        let reversed = ContinuousClock.now
        blackHole(adjoints[x])
        benchmark.measurement(Suite.recordMicroseconds, microseconds(recorded - start))
        benchmark.measurement(Suite.reverseMicroseconds, microseconds(reversed - recorded))
        benchmark.measurement(Suite.statements, tape.statistics.statementCount)
        Suite.recordPeak(benchmark)
    }
}

func microseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds) * 1_000_000 + Int(duration.components.attoseconds / 1_000_000_000_000)
}

/// A hand-written Lorenz RK4 primal on plain doubles: the fastest Swift can run P1.
func handLorenz(steps: Int) -> Double {
    let (sigma, rho, beta) = (10.0, 28.0, 8.0 / 3.0)
    let dt = 0.01, h2 = 0.5 * dt, h6 = dt / 6.0
    var (x, y, z) = (1.0, 1.0, 1.0)
    var sum = 0.0
    @inline(__always) func f(_ x: Double, _ y: Double, _ z: Double) -> (Double, Double, Double) {
        (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)
    }
    for _ in 0..<steps {
        let k1 = f(x, y, z)
        let k2 = f(x + h2 * k1.0, y + h2 * k1.1, z + h2 * k1.2)
        let k3 = f(x + h2 * k2.0, y + h2 * k2.1, z + h2 * k2.2)
        let k4 = f(x + dt * k3.0, y + dt * k3.1, z + dt * k3.2)
        x = x + h6 * (((k1.0 + 2.0 * k2.0) + 2.0 * k3.0) + k4.0)
        y = y + h6 * (((k1.1 + 2.0 * k2.1) + 2.0 * k3.1) + k4.1)
        z = z + h6 * (((k1.2 + 2.0 * k2.2) + 2.0 * k3.2) + k4.2)
        sum = sum + ((x * x + y * y) + z * z)
    }
    return (0.5 * dt) * sum
}

/// A hand-written Burgers primal over unsafe buffers.
func handBurgers(_ model: Burgers, steps: Int) -> Double {
    let n = model.n
    var u = model.initialState()
    var v = u
    let c = model.dt / model.dx
    let d = model.dt * 0.01 / (model.dx * model.dx)
    let alpha = Burgers.alpha
    u.withUnsafeMutableBufferPointer { a in
        v.withUnsafeMutableBufferPointer { b in
            var old = a
            var new = b
            for _ in 0..<steps {
                for i in 0..<n {
                    let um = old[i == 0 ? n - 1 : i - 1], ui = old[i], up = old[i == n - 1 ? 0 : i + 1]
                    let fp = 0.25 * (ui * ui + up * up) - 0.5 * alpha * (up - ui)
                    let fm = 0.25 * (um * um + ui * ui) - 0.5 * alpha * (ui - um)
                    new[i] = ui - c * (fp - fm) + d * (up - 2.0 * ui + um)
                }
                swap(&old, &new)
            }
        }
    }
    if steps % 2 == 1 { swap(&u, &v) }
    return (0.5 * model.dx) * u.reduce(0) { $0 + $1 * $1 }
}
