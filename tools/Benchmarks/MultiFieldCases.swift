// Multi-field stencils (issue #13): gradient time ÷ the problem's own generic `Double` primal for
// two-field systems through `TimeStepping.gradient` at a 64 MiB budget, with the kernel
// preaccumulated (`applyStencil`: 12 lanes in one pass, or passes of 16 or of 8) or recorded elementary
// (`applyStencilPointwise`, the path users had before). Each case runs in its own process.
//
//   swift build -c release --product rewind-benchmark
//   .build/release/rewind-benchmark multifield                 # the table
//   .build/release/rewind-benchmark grayscott-64x2000          # one case, one JSON line
import Foundation
import Rewind

/// Gray–Scott, one explicit Euler step: fields u, v on five points each, parameters (F, k).
struct GrayScottStep: MultiFieldStencilKernel {
    static let fivePoint = [
        GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: 1),
        GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0),
    ]
    var neighbours: [[GridOffset]] { [Self.fivePoint, Self.fivePoint] }
    var outputCount: Int { 2 }
    @inline(__always)
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let u = x.field(0)
        let v = x.field(1)
        let uvv = u[4] * v[4] * v[4]
        let lu = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        let lv = ((v[0] + v[1]) + (v[2] + v[3])) - 4.0 * v[4]
        let nu = u[4] + (0.16 * lu - uvv + p[0] * (1.0 - u[4]))
        let nv = v[4] + (0.08 * lv + uvv - (p[0] + p[1]) * v[4])
        return LocalValues(count: 2) { $0 == 0 ? nu : nv }
    }
}

/// Shallow water (h, hu), second order: minmod slopes and the Rusanov flux over five points of
/// each field, parameters (g, dt/dx).
struct ShallowWaterStep: MultiFieldStencilKernel {
    static let five = (-2...2).map { GridOffset($0) }
    var neighbours: [[GridOffset]] { [Self.five, Self.five] }
    var outputCount: Int { 2 }

    @inline(__always)
    static func minmod<T: SimulationScalar>(_ a: T, _ b: T) -> T {
        if a.primal * b.primal <= 0 { return T(0) }
        return abs(a.primal) < abs(b.primal) ? a : b
    }
    @inline(__always)
    static func flux<T: SimulationScalar>(_ hl: T, _ ql: T, _ hr: T, _ qr: T, g: T) -> (T, T) {
        let ul = ql / hl
        let ur = qr / hr
        let sl = ul.magnitude + T.sqrt(g * hl)
        let sr = ur.magnitude + T.sqrt(g * hr)
        let a = sl.primal > sr.primal ? sl : sr
        let fh: T = 0.5 * (ql + qr) - 0.5 * a * (hr - hl)
        let pl: T = ql * ul + 0.5 * g * hl * hl
        let pr: T = qr * ur + 0.5 * g * hr * hr
        let fq: T = 0.5 * (pl + pr) - 0.5 * a * (qr - ql)
        return (fh, fq)
    }
    @inline(__always)
    static func interface<T: SimulationScalar>(_ q: StencilNeighbourhood<T>, _ i: Int) -> (T, T) {
        let left = q[i] + 0.5 * minmod(q[i] - q[i - 1], q[i + 1] - q[i])
        let right = q[i + 1] - 0.5 * minmod(q[i + 1] - q[i], q[i + 2] - q[i + 1])
        return (left, right)
    }
    @inline(__always)
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let h = x.field(0)
        let q = x.field(1)
        let (hlm, hrm) = Self.interface(h, 1)
        let (qlm, qrm) = Self.interface(q, 1)
        let (hlp, hrp) = Self.interface(h, 2)
        let (qlp, qrp) = Self.interface(q, 2)
        let (fhm, fqm) = Self.flux(hlm, qlm, hrm, qrm, g: p[0])
        let (fhp, fqp) = Self.flux(hlp, qlp, hrp, qrp, g: p[0])
        let nh = h[2] - p[1] * (fhp - fhm)
        let nq = q[2] - p[1] * (fqp - fqm)
        return LocalValues(count: 2) { $0 == 0 ? nh : nq }
    }
}

/// A two-field problem on a periodic grid, its state the fields one after another.
struct TwoFieldProblem<K: MultiFieldStencilKernel>: TimeSteppingProblem {
    let kernel: K
    let grid: StencilGrid
    var elementary = false
    var stateCount: Int { 2 * grid.pointCount }
    var parameterCount: Int { 2 }
    @inlinable
    func step<S: SimulationScalar>(_ state: [S], parameters p: [S], into next: inout [S]) {
        let parameters = LocalValues(count: 2) { p[$0] }
        if elementary {
            S.applyStencilPointwise(kernel, on: grid, to: state, parameters: parameters, into: &next)
        } else {
            S.applyStencil(kernel, on: grid, to: state, parameters: parameters, into: &next)
        }
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum = 0.0
        for x in s { sum += x.primal * x.primal }
        return S.applying(value: 0.5 * sum, partials: s.map(\.primal), to: s)
    }
}

struct MultiFieldResult: Codable {
    var name: String
    var description: String
    var primalSeconds: Double
    var gradientSeconds: Double
    var recordSeconds: Double
    var reverseSeconds: Double
    var strategy: String
    var forwardSteps: Int
    var peakTapeBytes: Int
    var peakResidentBytes: Int
    var ratio: Double { gradientSeconds / primalSeconds }
}

/// How the kernel is recorded: preaccumulated with the default lanes (12 for these kernels),
/// in passes of 16 or of 8 lanes, or elementary.
enum MultiFieldPath: String { case lanes12, pass16, pass8, elementary }

func measureTwoField<K: MultiFieldStencilKernel>(
    _ name: String, _ description: String, kernel: K, grid: StencilGrid, steps: Int, x0: [Double], parameters: [Double],
    path: MultiFieldPath, repetitions: Int, budget: MemoryBudget = .mebibytes(64)
) -> MultiFieldResult {
    var problem = TwoFieldProblem(kernel: kernel, grid: grid)
    problem.elementary = path == .elementary
    Tracked._multiFieldPassWidth = path == .pass8 ? 8 : path == .pass16 ? 16 : 0
    let options = TimeSteppingOptions(strategy: .auto, memoryBudget: budget)
    var times: [Double] = []
    var primals: [Double] = []
    var report = RunReport(strategy: .storeAll)
    // Primal and gradient alternate, timed in CPU seconds of this process, and each keeps its
    // fastest run: other builds share this machine's two cores, which wall-clock time counts.
    for _ in 0..<repetitions {
        let primalStart = cpuNow()
        blackHole(problem.primal(initialState: x0, parameters: parameters, steps: steps))
        primals.append(cpuNow() - primalStart)
        let start = cpuNow()
        let result = try! TimeStepping.gradient(
            of: problem, initialState: x0, parameters: parameters, steps: steps, options: options)
        times.append(cpuNow() - start)
        precondition(result.parameterGradient.allSatisfy(\.isFinite), "\(name): the gradient is not finite")
        report = result.report
        blackHole(result.parameterGradient)
    }
    return MultiFieldResult(
        name: name,
        description: "\(description), \(path.rawValue)"
            + (budget.bytes == MemoryBudget.mebibytes(64).bytes ? "" : ", \(MemoryBudget.format(budget.bytes)) budget"),
        primalSeconds: primals.min()!,
        gradientSeconds: times.min()!, recordSeconds: report.recordSeconds, reverseSeconds: report.reverseSeconds,
        strategy: "\(report.strategy)", forwardSteps: report.forwardSteps, peakTapeBytes: report.peakTapeBytes,
        peakResidentBytes: ProcessMemory.peakResidentBytes)
}

func grayScottInitialState(m: Int) -> [Double] {
    var u = [Double](repeating: 1, count: m * m)
    var v = [Double](repeating: 0, count: m * m)
    for i in 0..<m {
        for j in 0..<m {
            let x = Double(i) / Double(m)
            let y = Double(j) / Double(m)
            let bump = Double.exp(-40 * ((x - 0.5) * (x - 0.5) + (y - 0.45) * (y - 0.45)))
            u[i * m + j] = 1 - 0.5 * bump + 0.01 * Double.sin(17 * x + 3 * y)
            v[i * m + j] = 0.25 * bump + 0.01 * Double.cos(5 * x - 11 * y)
        }
    }
    return u + v
}

func shallowWaterInitialState(n: Int) -> [Double] {
    let h = (0..<n).map { (k: Int) -> Double in
        let x = Double(k) / Double(n)
        return 1 + 0.1 * Double.exp(-200 * (x - 0.5) * (x - 0.5)) + 0.02 * Double.sin(2 * Double.pi * x)
    }
    let q = (0..<n).map { (k: Int) -> Double in 0.1 * Double.cos(2 * Double.pi * Double(k) / Double(n)) }
    return h + q
}

func grayScottCase(
    m: Int, steps: Int, path: MultiFieldPath, repetitions: Int, budget: MemoryBudget = .mebibytes(64)
) -> MultiFieldResult {
    let name = "grayscott-\(m)x\(steps)" + (path == .lanes12 ? "" : "-\(path.rawValue)")
    return measureTwoField(
        name, "gray-scott \(m)²×\(steps)", kernel: GrayScottStep(), grid: .periodic(rows: m, columns: m), steps: steps,
        x0: grayScottInitialState(m: m), parameters: [0.04, 0.06], path: path, repetitions: repetitions, budget: budget)
}

func shallowWaterCase(n: Int, steps: Int, path: MultiFieldPath, repetitions: Int) -> MultiFieldResult {
    let name = "shallow-water-\(n)x\(steps)" + (path == .lanes12 ? "" : "-\(path.rawValue)")
    return measureTwoField(
        name, "shallow water \(n)×\(steps)", kernel: ShallowWaterStep(), grid: .periodic(n), steps: steps,
        x0: shallowWaterInitialState(n: n), parameters: [9.81, 0.1], path: path, repetitions: repetitions)
}

let multiFieldCases: [(String, () -> MultiFieldResult)] = {
    var cases: [(String, () -> MultiFieldResult)] = []
    for path in [MultiFieldPath.lanes12, .pass16, .pass8, .elementary] {
        let suffix = path == .lanes12 ? "" : "-\(path.rawValue)"
        let slow = path == .elementary
        cases.append(("grayscott-64x2000" + suffix, { grayScottCase(m: 64, steps: 2000, path: path, repetitions: slow ? 2 : 5) }))
        // One elementary step of 256² records 73 MiB, more than the 64 MiB budget: that run is
        // refused, so the elementary figure is taken at 128 MiB.
        cases.append(("grayscott-256x500" + suffix, {
            grayScottCase(m: 256, steps: 500, path: path, repetitions: slow ? 2 : 5, budget: .mebibytes(slow ? 128 : 64))
        }))
        cases.append(("shallow-water-1024x5000" + suffix, { shallowWaterCase(n: 1024, steps: 5000, path: path, repetitions: slow ? 2 : 5) }))
    }
    return cases
}()

func printMultiFieldTable() {
    print("| case | primal (generic Double, CPU s) | gradient (CPU s) | gradient ÷ primal | strategy | forward steps | record / reverse | peak tape | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, _) in multiFieldCases {
        guard let r = runChild(name, as: MultiFieldResult.self) else { print("| \(name) | failed |"); continue }
        print(
            "| \(r.description) | \(format(r.primalSeconds)) | \(format(r.gradientSeconds)) | "
                + String(format: "%.1f×", r.ratio) + " | \(r.strategy) | \(r.forwardSteps) | "
                + "\(format(r.recordSeconds)) / \(format(r.reverseSeconds)) | \(MemoryBudget.format(r.peakTapeBytes)) | "
                + "\(MemoryBudget.format(r.peakResidentBytes)) |")
    }
}
