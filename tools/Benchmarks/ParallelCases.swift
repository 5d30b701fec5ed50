// Parallel sweeps, vector (SIMD) sweeps and ensembles: speedups against threads, each case in
// its own child process like the cases of main.swift. Times are the best of `repetitions`
// runs, because the 2-core machine is shared and a second thread is the first to be stolen.
import Dispatch
import Foundation
import Rewind
import RewindModels

struct ParallelRow: Codable {
    var label: String
    var threads: Int
    var mode: String
    var seeds: Int
    var seconds: Double
    /// Serial time of the same work divided by this row's time.
    var speedup: Double
    /// Whether the result is bitwise the serial one.
    var identical: Bool
}

struct ParallelCaseResult: Codable {
    var name: String
    var description: String
    var rows: [ParallelRow]
}

func timeBest(_ repetitions: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repetitions {
        let start = now()
        body()
        best = min(best, now() - start)
    }
    return best
}

func sameBits(_ a: [[Double]], _ b: [[Double]]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern } }
}

/// Records a whole run of `model` on one tape: the inputs (state, parameters) and the final state.
func recordRun<M: Model>(_ model: M, steps: Int, on tape: Tape) -> (inputs: [Tracked], finalState: [Tracked]) {
    let x0 = model.initialState()
    let p = M.defaultParameters
    return tape.record { () -> ([Tracked], [Tracked]) in
        let inputs = tape.registerInputs(x0 + p)
        let run = model.run(initialState: Array(inputs[0..<x0.count]), parameters: Array(inputs[x0.count...]), steps: steps)
        return (inputs, run.finalState)
    }
}

/// k seeds on the final state: seed l weights component l mod n by (1 + l).
func finalStateSeeds(_ finalState: [Tracked], count: Int) -> [[(Tracked, Double)]] {
    (0..<count).map { l in [(finalState[l % finalState.count], 1.0 + Double(l))] }
}

/// Serial sweeps (one `reverse(_:seeding:)` per seed) against concurrent ones on one tape.
func measureSweeps<M: Model>(
    _ name: String, _ model: M, steps: Int, seeds seedCount: Int, configurations: [(Int, SweepMode)], repetitions: Int
) -> ParallelCaseResult {
    let tape = Tape()
    let (inputs, finalState) = recordRun(model, steps: steps, on: tape)
    let seeds = finalStateSeeds(finalState, count: seedCount)
    let adjoints = AdjointVector()
    var reference: [[Double]] = []
    let serial = timeBest(repetitions) {
        reference = seeds.map { seed in
            tape.reverse(adjoints, seeding: seed)
            return inputs.map { adjoints[$0] }
        }
    }
    var rows = [ParallelRow(label: "serial reverse(_:seeding:)", threads: 1, mode: "scalar", seeds: seedCount, seconds: serial, speedup: 1, identical: true)]
    let workspace = SweepWorkspace()
    for (threads, mode) in configurations {
        var result: [[Double]] = []
        let seconds = timeBest(repetitions) {
            result = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: threads, sweepMode: mode), workspace: workspace)
        }
        let used = mode.resolved(seeds: seedCount, threads: threads, tapeHasExternalStatements: tape.statistics.externalStatementCount > 0)
        rows.append(ParallelRow(
            label: "parallel sweeps", threads: threads, mode: used.rawValue, seeds: seedCount, seconds: seconds,
            speedup: serial / seconds, identical: sameBits(result, reference)))
    }
    let stats = tape.statistics
    return ParallelCaseResult(
        name: name,
        description: "\(M.name) \(model.size.map { "\($0)×" } ?? "")\(steps): \(stats.statementCount) statements, \(seedCount) seeds",
        rows: rows)
}

/// Scalar against SIMD sweeps for k seeds, 1 and 2 threads: where the vector mode starts to pay.
func measureCrossover(steps: Int, repetitions: Int) -> ParallelCaseResult {
    let tape = Tape()
    let (inputs, finalState) = recordRun(Lorenz(), steps: steps, on: tape)
    var rows: [ParallelRow] = []
    for k in [1, 2, 4, 8, 16, 32] {
        let seeds = finalStateSeeds(finalState, count: k)
        var reference: [[Double]] = []
        let serial = timeBest(repetitions) {
            reference = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: 1, sweepMode: .scalar), workspace: SweepWorkspace())
        }
        let workspace = SweepWorkspace()
        for threads in [1, 2] {
            for mode in [SweepMode.scalar, .simd4, .simd8, .auto] {
                var result: [[Double]] = []
                let seconds = timeBest(repetitions) {
                    result = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: threads, sweepMode: mode), workspace: workspace)
                }
                let label = mode == .auto ? "auto → \(mode.resolved(seeds: k, threads: threads, tapeHasExternalStatements: false))" : "\(mode)"
                rows.append(ParallelRow(
                    label: label, threads: threads, mode: mode.rawValue, seeds: k, seconds: seconds,
                    speedup: serial / seconds, identical: sameBits(result, reference)))
            }
        }
    }
    return ParallelCaseResult(
        name: "crossover-lorenz-1e5", description: "lorenz \(steps): scalar vs SIMD sweeps per seed count (speedup vs 1-thread scalar)",
        rows: rows)
}

/// K independent gradients, 1 and 2 threads.
func measureEnsemble<M: Model>(_ name: String, _ model: M, members count: Int, steps: Int, repetitions: Int) -> ParallelCaseResult {
    let members = EnsembleMember.scalingFirstParameter(
        initialState: model.initialState(), parameters: M.defaultParameters, count: count)
    let options = TimeSteppingOptions(strategy: .storeAll, memoryBudget: .mebibytes(2048))
    var reference: [[Double]] = []
    var rows: [ParallelRow] = []
    var serial = 0.0
    for threads in [1, 2] {
        var gradients: [[Double]] = []
        let seconds = timeBest(repetitions) {
            let results = try! TimeStepping.gradients(of: model, members: members, steps: steps, options: options, threads: threads)
            gradients = results.map { $0.initialStateGradient + $0.parameterGradient }
        }
        if threads == 1 {
            serial = seconds
            reference = gradients
        }
        rows.append(ParallelRow(
            label: String(format: "%.1f members/s", Double(count) / seconds), threads: threads, mode: "ensemble",
            seeds: count, seconds: seconds, speedup: serial / seconds, identical: sameBits(gradients, reference)))
    }
    return ParallelCaseResult(
        name: name, description: "ensemble of \(count) \(M.name) \(model.size.map { "\($0)×" } ?? "")\(steps) gradients (store-all)",
        rows: rows)
}

/// The time-stepping Jacobian (rows reversed together), 1 and 2 threads.
func measureJacobian<M: Model>(
    _ name: String, _ model: M, steps: Int, rows rowCount: Int, strategy: CheckpointStrategy, repetitions: Int
) -> ParallelCaseResult {
    var reference: [[Double]] = []
    var rows: [ParallelRow] = []
    var serial = 0.0
    for threads in [1, 2] {
        var jacobian: [[Double]] = []
        var mode = SweepMode.auto
        let seconds = timeBest(repetitions) {
            let result = try! TimeStepping.jacobian(
                of: model, initialState: model.initialState(), parameters: M.defaultParameters, steps: steps,
                rows: Array(0..<rowCount), options: TimeSteppingOptions(strategy: strategy, memoryBudget: .mebibytes(2048)),
                parallel: ParallelOptions(threads: threads))
            jacobian = result.jacobian
            mode = result.sweepMode
        }
        if threads == 1 {
            serial = seconds
            reference = jacobian
        }
        rows.append(ParallelRow(
            label: "jacobian, \(strategy)", threads: threads, mode: mode.rawValue, seeds: rowCount, seconds: seconds,
            speedup: serial / seconds, identical: sameBits(jacobian, reference)))
    }
    return ParallelCaseResult(
        name: name, description: "TimeStepping.jacobian \(M.name) \(model.size.map { "\($0)×" } ?? "")\(steps), \(rowCount) rows",
        rows: rows)
}

let sweepConfigurations: [(Int, SweepMode)] = [
    (1, .scalar), (2, .scalar), (1, .simd4), (2, .simd4), (1, .simd8), (2, .simd8), (2, .auto),
]

let parallelCases: [(String, () -> ParallelCaseResult)] = [
    ("sweeps-lorenz-1e5", { measureSweeps("sweeps-lorenz-1e5", Lorenz(), steps: 100_000, seeds: 8, configurations: sweepConfigurations, repetitions: 5) }),
    ("sweeps-lorenz-1e5-16", { measureSweeps("sweeps-lorenz-1e5-16", Lorenz(), steps: 100_000, seeds: 16, configurations: sweepConfigurations, repetitions: 5) }),
    ("sweeps-burgers-256x1e3", { measureSweeps("sweeps-burgers-256x1e3", Burgers(n: 256), steps: 1000, seeds: 8, configurations: [(1, .scalar), (2, .scalar), (2, .auto)], repetitions: 5) }),
    ("crossover-lorenz-1e5", { measureCrossover(steps: 100_000, repetitions: 3) }),
    ("ensemble-lorenz-8x1e4", { measureEnsemble("ensemble-lorenz-8x1e4", Lorenz(), members: 8, steps: 10_000, repetitions: 3) }),
    ("ensemble-burgers-4x256x1e3", { measureEnsemble("ensemble-burgers-4x256x1e3", Burgers(n: 256), members: 4, steps: 1000, repetitions: 3) }),
    ("jacobian-burgers-256x1e3", { measureJacobian("jacobian-burgers-256x1e3", Burgers(n: 256), steps: 1000, rows: 8, strategy: .storeAll, repetitions: 3) }),
    ("jacobian-lorenz-1e5", { measureJacobian("jacobian-lorenz-1e5", Lorenz(), steps: 100_000, rows: 3, strategy: .storeAll, repetitions: 3) }),
]

/// The second table: one line per configuration of every parallel case.
func printParallelTable() {
    print("")
    print("| parallel case | configuration | threads | seeds | best time | speedup vs serial | bitwise = serial |")
    print("|---|---|---|---|---|---|---|")
    for (name, _) in parallelCases {
        guard let r = runChild(name, as: ParallelCaseResult.self) else { print("| \(name) | failed |"); continue }
        for row in r.rows {
            print(
                "| \(r.description) | \(row.label) (\(row.mode)) | \(row.threads) | \(row.seeds) | \(format(row.seconds)) | "
                    + String(format: "%.2f×", row.speedup) + " | \(row.identical ? "yes" : "NO") |")
        }
    }
}
