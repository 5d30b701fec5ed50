// rewind-benchmark: record, sweep and primal timings of the bundled models, as ratios measured
// in one process, plus mallocs per recorded statement and peak resident memory per case (each
// case runs in a fresh child process so that its peak is its own).
//
//   swift run -c release rewind-benchmark            # every case, a Markdown table
//   swift run -c release rewind-benchmark lorenz-1e6 # one case, one JSON line
//   swift run -c release rewind-benchmark parallel   # only the parallel table (ParallelCases.swift)
//   swift run -c release rewind-benchmark spill      # only the spill compression table (SpillCases.swift)
//   swift run -c release rewind-benchmark multifield # only the multi-field stencil table (MultiFieldCases.swift)
//   swift run -c release rewind-benchmark interactions  # only the all-pairs table (InteractionCases.swift)
//   swift run -c release rewind-benchmark first-run  # first gradient of a fresh process against warm (FirstRunCases.swift)
//   swift run -c release rewind-benchmark lorenz-step  # one Lorenz step's gradient, piece by piece (LorenzStepCases.swift)
import CMallocCounter
import Foundation
import Rewind
import RewindModels

struct CaseResult: Codable {
    var name: String
    var description: String
    var primalSeconds: Double
    var handPrimalSeconds: Double?
    var firstRecordSeconds: Double
    var firstReverseSeconds: Double
    var recordSeconds: Double
    var reverseSeconds: Double
    var statements: Int
    var bytesInUse: Int
    var bytesPerStep: Double
    var mallocsPerStatement: Double
    var peakResidentBytes: Int
    var ratio: Double { (recordSeconds + reverseSeconds) / primalSeconds }
    var firstRatio: Double { (firstRecordSeconds + firstReverseSeconds) / primalSeconds }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Times `body` `repetitions` times and returns the median.
func timeMedian(_ repetitions: Int, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<repetitions {
        let start = now()
        body()
        times.append(now() - start)
    }
    return median(times)
}

@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

/// Store-all gradient of a model through the time-stepping driver, with record and reverse
/// timed apart by the driver's report; one workspace is reused so that only the first run
/// pays for touching new tape memory.
func measureModel<M: Model>(
    _ name: String, _ model: M, steps: Int, repetitions: Int, handPrimal: (() -> Double)?
) -> CaseResult {
    let x0 = model.initialState()
    let p = M.defaultParameters
    let primal = timeMedian(repetitions) { blackHole(model.primal(initialState: x0, parameters: p, steps: steps)) }
    let hand = handPrimal.map { body in timeMedian(repetitions) { blackHole(body()) } }

    let workspace = TimeSteppingWorkspace()
    let options = TimeSteppingOptions(strategy: .storeAll, memoryBudget: .mebibytes(16 << 10), workspace: workspace)
    var records: [Double] = []
    var reverses: [Double] = []
    var mallocsPerStatement = 0.0
    var report = RunReport(strategy: .storeAll)
    for _ in 0..<(repetitions + 1) {
        let mallocsBefore = rewind_malloc_count()
        let result = try! TimeStepping.gradient(
            of: model, initialState: x0, parameters: p, steps: steps, options: options)
        let mallocs = rewind_malloc_count() - mallocsBefore
        report = result.report
        records.append(report.recordSeconds)
        reverses.append(report.reverseSeconds)
        mallocsPerStatement = Double(mallocs) / Double(report.tapeStatements)
        blackHole(result.parameterGradient)
    }
    return CaseResult(
        name: name, description: "\(M.name) \(model.size.map { "\($0)×" } ?? "")\(steps)\(model.elementary ? " elementary" : "")",
        primalSeconds: primal, handPrimalSeconds: hand,
        firstRecordSeconds: records[0], firstReverseSeconds: reverses[0],
        recordSeconds: median(Array(records.dropFirst())), reverseSeconds: median(Array(reverses.dropFirst())),
        statements: report.tapeStatements, bytesInUse: report.tapeBytesInUse,
        bytesPerStep: Double(report.tapeBytesInUse) / Double(steps), mallocsPerStatement: mallocsPerStatement,
        peakResidentBytes: ProcessMemory.peakResidentBytes)
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

/// A synthetic mix of binary, unary and elementary operations: raw record and sweep rates.
func measureSynthetic(operations: Int) -> CaseResult {
    let tape = Tape()
    let adjoints = AdjointVector()
    var records: [Double] = []
    var reverses: [Double] = []
    var mallocsPerStatement = 0.0
    let primal = timeMedian(3) {
        var a = 1.1, b = 0.7
        for i in 0..<(operations / 4) {
            a = a * b + 0.5
            b = b - a * 1e-3
            if i & 1023 == 0 { a = a.squareRoot() }
        }
        blackHole(a + b)
    }
    for _ in 0..<4 {
        tape.reset()
        let before = rewind_malloc_count()
        let start = now()
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
        let recorded = now()
        mallocsPerStatement = Double(rewind_malloc_count() - before) / Double(tape.statistics.statementCount)
        adjoints.prepare(for: tape)
        adjoints[y] = 1
        tape.reverse(adjoints)
        let reversed = now()
        blackHole(adjoints[x])
        records.append(recorded - start)
        reverses.append(reversed - recorded)
    }
    let stats = tape.statistics
    return CaseResult(
        name: "synthetic", description: "synthetic mix, \(stats.statementCount) statements",
        primalSeconds: primal, handPrimalSeconds: nil, firstRecordSeconds: records[0],
        firstReverseSeconds: reverses[0], recordSeconds: median(Array(records.dropFirst())),
        reverseSeconds: median(Array(reverses.dropFirst())), statements: stats.statementCount,
        bytesInUse: stats.bytesInUse, bytesPerStep: stats.bytesPerStatement, mallocsPerStatement: mallocsPerStatement,
        peakResidentBytes: ProcessMemory.peakResidentBytes)
}

let cases: [(String, () -> CaseResult)] = [
    ("lorenz-1e6", { measureModel("lorenz-1e6", Lorenz(), steps: 1_000_000, repetitions: 5) { handLorenz(steps: 1_000_000) } }),
    ("burgers-4096x1e3", { measureModel("burgers-4096x1e3", Burgers(n: 4096), steps: 1000, repetitions: 5) { handBurgers(Burgers(n: 4096), steps: 1000) } }),
    ("burgers-256x1e4", { measureModel("burgers-256x1e4", Burgers(n: 256), steps: 10_000, repetitions: 5) { handBurgers(Burgers(n: 256), steps: 10_000) } }),
    ("heat2d-256x1e3", { measureModel("heat2d-256x1e3", Heat2D(m: 256), steps: 1000, repetitions: 3, handPrimal: nil) }),
    ("lorenz-1e6-elementary", {
        var m = Lorenz(); m.elementary = true
        return measureModel("lorenz-1e6-elementary", m, steps: 1_000_000, repetitions: 3) { handLorenz(steps: 1_000_000) }
    }),
    ("burgers-4096x1e3-elementary", {
        var m = Burgers(n: 4096); m.elementary = true
        return measureModel("burgers-4096x1e3-elementary", m, steps: 1000, repetitions: 3) { handBurgers(Burgers(n: 4096), steps: 1000) }
    }),
    ("synthetic", { measureSynthetic(operations: 40_000_000) }),
]

/// Runs one case in a fresh child process (so its peak RSS is its own) and decodes its JSON line.
func runChild<Result: Decodable>(_ name: String, as _: Result.Type = CaseResult.self) -> Result? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = [name]
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return try? JSONDecoder().decode(Result.self, from: data)
}

func format(_ seconds: Double) -> String { String(format: seconds < 1 ? "%.1f ms" : "%.2f s", seconds < 1 ? seconds * 1000 : seconds) }

let arguments = Array(CommandLine.arguments.dropFirst())
if let name = arguments.first, name == "first-run" {
    // The first gradient of a fresh process against the next ones (FirstRunCases.swift).
    printFirstRunTable()
} else if let name = arguments.first, name == "first-run-child" {
    print(String(decoding: try JSONEncoder().encode(measureFirstRun()), as: UTF8.self))
} else if let name = arguments.first, name == "lorenz-step" {
    runLorenzStepCases()
} else if let name = arguments.first, name == "parallel" {
    // Only the parallel table (ParallelCases.swift).
    printParallelTable()
} else if let name = arguments.first, name == "check-mode" {
    // Check mode on against off (CheckModeCases.swift).
    print(String(decoding: try JSONEncoder().encode(measureCheckMode(operations: 10_000_000, repetitions: 5)), as: UTF8.self))
} else if let name = arguments.first, name == "spill" {
    // Only the compression of real tapes (SpillCases.swift).
    printSpillTable()
} else if let name = arguments.first, name == "multifield" {
    // Only the multi-field stencil table (MultiFieldCases.swift).
    printMultiFieldTable()
} else if let name = arguments.first, let body = multiFieldCases.first(where: { $0.0 == name })?.1 {
    print(String(decoding: try JSONEncoder().encode(body()), as: UTF8.self))
} else if let name = arguments.first, name == "interactions" {
    // Only the all-pairs interaction cases (InteractionCases.swift).
    printInteractionTable()
} else if let name = arguments.first, let body = interactionCases.first(where: { $0.0 == name })?.1 {
    print(String(decoding: try JSONEncoder().encode(body()), as: UTF8.self))
} else if let name = arguments.first, let body = spillCases.first(where: { $0.0 == name })?.1 {
    print(String(decoding: try JSONEncoder().encode(body()), as: UTF8.self))
} else if let name = arguments.first, let body = parallelCases.first(where: { $0.0 == name })?.1 {
    print(String(decoding: try JSONEncoder().encode(body()), as: UTF8.self))
} else if let name = arguments.first {
    guard let body = cases.first(where: { $0.0 == name })?.1 else {
        FileHandle.standardError.write("unknown case \(name); cases: \((cases.map(\.0) + parallelCases.map(\.0) + ["spill"] + spillCases.map(\.0) + ["multifield"] + multiFieldCases.map(\.0) + ["interactions"] + interactionCases.map(\.0)).joined(separator: ", "))\n".data(using: .utf8)!)
        exit(64)
    }
    print(String(decoding: try JSONEncoder().encode(body()), as: UTF8.self))
} else {
    print("| case | primal (generic / hand) | record | reverse | gradient ÷ primal (warm / first) | ÷ hand primal | statements | bytes/step | Mstmt/s record / sweep | mallocs/stmt | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, _) in cases {
        guard let r = runChild(name) else { print("| \(name) | failed |"); continue }
        let hand = r.handPrimalSeconds.map(format) ?? "–"
        let handRatio = r.handPrimalSeconds.map { String(format: "%.1f×", (r.recordSeconds + r.reverseSeconds) / $0) } ?? "–"
        let recordRate = Double(r.statements) / r.recordSeconds / 1e6
        let sweepRate = Double(r.statements) / r.reverseSeconds / 1e6
        print(
            "| \(r.description) | \(format(r.primalSeconds)) / \(hand) | \(format(r.recordSeconds)) | \(format(r.reverseSeconds)) | "
                + String(format: "%.1f× / %.1f×", r.ratio, r.firstRatio) + " | \(handRatio) | \(r.statements) | "
                + String(format: "%.0f", r.bytesPerStep) + " | " + String(format: "%.0f / %.0f", recordRate, sweepRate)
                + " | " + String(format: "%.4f", r.mallocsPerStatement) + " | \(MemoryBudget.format(r.peakResidentBytes)) |")
    }
    printParallelTable()
}
