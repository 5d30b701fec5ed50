// All-pairs interactions (issue 13, part 3): a user's N-body system written once over
// `SimulationScalar` — 2-D Plummer-softened gravity, symplectic Euler, state = positions then
// velocities — differentiated through `TimeStepping.gradient` inside a memory budget, with the
// force sum recorded operation by operation (`sumInteractionsElementary`) and preaccumulated
// (`sumInteractions`), the latter also with the positions declared as differences
// (`differenceComponents`, 4 lanes instead of 6). The ratio is gradient seconds ÷ the same
// generic step's Double primal.
//
//   swift run -c release rewind-benchmark interactions                  # every case, a Markdown table
//   swift run -c release rewind-benchmark interactions-32x1e5-fast      # one case, one JSON line
//   REWIND_PAIRS_STEPS=20000 swift run -c release rewind-benchmark interactions   # fewer steps
import Foundation
import Rewind

/// Plummer-softened gravity: bodies (x, y), parameters (G·m, ε²).
struct BenchmarkSoftGravity: PairInteraction {
    var width: Int { 2 }
    var outputCount: Int { 2 }
    @inline(__always)
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        let dx = source[0] - target[0]
        let dy = source[1] - target[1]
        let r2 = dx * dx + dy * dy + p[1]
        let s = p[0] / (r2 * T.sqrt(r2))
        return LocalValues(count: 2) { $0 == 0 ? s * dx : s * dy }
    }
}

/// The same kernel declaring that x and y enter only as differences: 4 lanes instead of 6.
struct BenchmarkSoftGravityDifferences: PairInteraction {
    var width: Int { 2 }
    var outputCount: Int { 2 }
    var differenceComponents: Int { 2 }
    @inline(__always)
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        BenchmarkSoftGravity()(target, source, p)
    }
}

/// n bodies, symplectic Euler with dt = 1e-3; objective Σ x² + ½ Σ v².
struct BenchmarkNBody: TimeSteppingProblem {
    var n: Int
    var elementary: Bool
    var differences = false
    var stateCount: Int { 4 * n }
    var parameterCount: Int { 2 }

    @inline(__always)
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        let m = 2 * n
        var acceleration = [S](repeating: 0, count: m)
        let positions = Array(s[0..<m])
        let parameters = LocalValues<S>(count: 2) { p[$0] }
        if elementary {
            S.sumInteractionsElementary(BenchmarkSoftGravity(), bodies: positions, parameters: parameters, into: &acceleration)
        } else if differences {
            S.sumInteractions(BenchmarkSoftGravityDifferences(), bodies: positions, parameters: parameters, into: &acceleration)
        } else {
            S.sumInteractions(BenchmarkSoftGravity(), bodies: positions, parameters: parameters, into: &acceleration)
        }
        for k in 0..<m {
            let v = s[m + k] + 1e-3 * acceleration[k]
            next[m + k] = v
            next[k] = s[k] + 1e-3 * v
        }
    }

    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum: S = 0
        for k in 0..<(2 * n) { sum = sum + s[k] * s[k] }
        for k in (2 * n)..<(4 * n) { sum = sum + 0.5 * s[k] * s[k] }
        return sum
    }

    func initialState() -> [Double] {
        let positions = (0..<n).flatMap { i -> [Double] in
            let angle = 2 * Double.pi * Double(i) / Double(n)
            let r = 1 + 0.1 * Double.sin(3 * Double(i) + 0.5)
            return [r * Double.cos(angle), r * Double.sin(angle)]
        }
        let velocities = (0..<n).flatMap { i -> [Double] in [-0.5 * positions[2 * i + 1], 0.5 * positions[2 * i]] }
        return positions + velocities
    }
}

struct InteractionCaseResult: Codable {
    var name: String
    var steps: Int
    var primalSeconds: Double
    var gradientSeconds: Double
    /// CPU time of this process (`CLOCK_PROCESS_CPUTIME_ID`), less disturbed by other work on a
    /// shared machine than the wall clock.
    var primalCPUSeconds: Double
    var gradientCPUSeconds: Double
    var recordSeconds: Double
    var reverseSeconds: Double
    var forwardSteps: Int
    var strategy: String
    var plan: String
    var peakTapeBytes: Int
    var peakResidentBytes: Int
    var ratio: Double { gradientSeconds / primalSeconds }
    var cpuRatio: Double { gradientCPUSeconds / primalCPUSeconds }
}

func measureInteractions(
    bodies n: Int, steps: Int, elementary: Bool, differences: Bool = false, name: String, repetitions: Int = 3
) -> InteractionCaseResult {
    let problem = BenchmarkNBody(n: n, elementary: elementary, differences: differences)
    let x0 = problem.initialState()
    let p = [0.05, 0.01]
    let options = TimeSteppingOptions(strategy: .auto, memoryBudget: .mebibytes(4))
    // Primal and gradient interleaved, the fastest of each kept: the machine is shared, and the
    // minimum is the run least disturbed by other work.
    var primal = Double.infinity
    var primalCPU = Double.infinity
    var best = Double.infinity
    var bestCPU = Double.infinity
    var report = RunReport(strategy: .storeAll)
    for _ in 0..<repetitions {
        let primalStart = now()
        let primalStartCPU = cpuNow()
        blackHole(problem.primal(initialState: x0, parameters: p, steps: steps))
        primalCPU = min(primalCPU, cpuNow() - primalStartCPU)
        primal = min(primal, now() - primalStart)
        let start = now()
        let startCPU = cpuNow()
        let result = try! TimeStepping.gradient(of: problem, initialState: x0, parameters: p, steps: steps, options: options)
        bestCPU = min(bestCPU, cpuNow() - startCPU)
        let seconds = now() - start
        blackHole(result)
        if seconds < best {
            best = seconds
            report = result.report
        }
    }
    return InteractionCaseResult(
        name: name, steps: steps, primalSeconds: primal, gradientSeconds: best, primalCPUSeconds: primalCPU,
        gradientCPUSeconds: bestCPU, recordSeconds: report.recordSeconds,
        reverseSeconds: report.reverseSeconds, forwardSteps: report.forwardSteps, strategy: report.strategy.description,
        plan: report.plan, peakTapeBytes: report.peakTapeBytes, peakResidentBytes: report.peakResidentBytes)
}

let interactionSteps = ProcessInfo.processInfo.environment["REWIND_PAIRS_STEPS"].flatMap(Int.init) ?? 100_000

let interactionCases: [(String, () -> InteractionCaseResult)] = [
    ("interactions-32x1e5-elementary", {
        measureInteractions(bodies: 32, steps: interactionSteps, elementary: true, name: "interactions-32x1e5-elementary")
    }),
    ("interactions-32x1e5-fast", {
        measureInteractions(bodies: 32, steps: interactionSteps, elementary: false, name: "interactions-32x1e5-fast")
    }),
    ("interactions-32x1e5-fast-differences", {
        measureInteractions(
            bodies: 32, steps: interactionSteps, elementary: false, differences: true,
            name: "interactions-32x1e5-fast-differences")
    }),
]

func printInteractionTable() {
    print("| case | steps | Double primal (wall / CPU) | gradient (wall / CPU) | ÷ primal (wall / CPU) | record / reverse | forward steps | strategy | peak tape | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (name, _) in interactionCases {
        guard let r = runChild(name, as: InteractionCaseResult.self) else { print("| \(name) | failed |"); continue }
        print(
            "| \(r.name) | \(r.steps) | \(format(r.primalSeconds)) / \(format(r.primalCPUSeconds)) | "
                + "\(format(r.gradientSeconds)) / \(format(r.gradientCPUSeconds)) | "
                + String(format: "%.1f× / %.1f×", r.ratio, r.cpuRatio) + " | \(format(r.recordSeconds)) / \(format(r.reverseSeconds)) | "
                + "\(r.forwardSteps) | \(r.strategy) | \(MemoryBudget.format(r.peakTapeBytes)) | "
                + "\(MemoryBudget.format(r.peakResidentBytes)) |")
    }
}
