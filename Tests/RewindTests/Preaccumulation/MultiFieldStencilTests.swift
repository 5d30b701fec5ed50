import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage
@testable import RewindTimeStepping

/// Gray–Scott reaction–diffusion, one explicit Euler step: two fields (u, v) on a five-point
/// stencil each and parameters (F, k): 12 lanes, one pass of `_Lanes12`.
struct GrayScottKernel: MultiFieldStencilKernel {
    static let fivePoint = [
        GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: 1),
        GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0),
    ]
    var neighbours: [[GridOffset]] { [Self.fivePoint, Self.fivePoint] }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let u = x.field(0)
        let v = x.field(1)
        let uvv = u[4] * v[4] * v[4]
        let lu = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        let lv = ((v[0] + v[1]) + (v[2] + v[3])) - 4.0 * v[4]
        let dt = 0.5
        let nu = u[4] + dt * (0.2 * lu - uvv + p[0] * (1.0 - u[4]))
        let nv = v[4] + dt * (0.1 * lv + uvv - (p[0] + p[1]) * v[4])
        return LocalValues(count: 2) { $0 == 0 ? nu : nv }
    }
}

/// Shallow water `(h, hu)` in one dimension, one explicit Euler step of a second-order
/// finite-volume scheme: minmod-limited slopes and the Rusanov flux, so five points of each
/// field and parameters (g, c = dt/dx): 12 lanes.
struct ShallowWaterKernel: MultiFieldStencilKernel {
    var neighbours: [[GridOffset]] {
        let five = (-2...2).map { GridOffset($0) }
        return [five, five]
    }
    var outputCount: Int { 2 }

    static func minmod<T: SimulationScalar>(_ a: T, _ b: T) -> T {
        if a.primal * b.primal <= 0 { return T(0) }
        return abs(a.primal) < abs(b.primal) ? a : b
    }

    /// The Rusanov flux between the left state `(hl, ql)` and the right state `(hr, qr)`.
    static func flux<T: SimulationScalar>(_ hl: T, _ ql: T, _ hr: T, _ qr: T, g: T) -> (T, T) {
        let ul = ql / hl
        let ur = qr / hr
        let sl = ul.magnitude + T.sqrt(g * hl)
        let sr = ur.magnitude + T.sqrt(g * hr)
        let a = sl.primal > sr.primal ? sl : sr
        let fh = 0.5 * (ql + qr) - 0.5 * a * (hr - hl)
        let pl: T = ql * ul + 0.5 * g * hl * hl
        let pr: T = qr * ur + 0.5 * g * hr * hr
        let fq: T = 0.5 * (pl + pr) - 0.5 * a * (qr - ql)
        return (fh, fq)
    }

    /// Left and right states at the interface between cells `i` and `i + 1` (offsets `i - 1 ... i + 2`).
    static func interface<T: SimulationScalar>(_ q: StencilNeighbourhood<T>, _ i: Int) -> (T, T) {
        let left = q[i] + 0.5 * minmod(q[i] - q[i - 1], q[i + 1] - q[i])
        let right = q[i + 1] - 0.5 * minmod(q[i + 1] - q[i], q[i + 2] - q[i + 1])
        return (left, right)
    }

    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let h = x.field(0)
        let q = x.field(1)
        let g = p[0]
        let c = p[1]
        // Interfaces i − 1/2 (between offsets 1 and 2) and i + 1/2 (between 2 and 3).
        let (hlm, hrm) = Self.interface(h, 1)
        let (qlm, qrm) = Self.interface(q, 1)
        let (hlp, hrp) = Self.interface(h, 2)
        let (qlp, qrp) = Self.interface(q, 2)
        let (fhm, fqm) = Self.flux(hlm, qlm, hrm, qrm, g: g)
        let (fhp, fqp) = Self.flux(hlp, qlp, hrp, qrp, g: g)
        let nh = h[2] - c * (fhp - fhm)
        let nq = q[2] - c * (fqp - fqm)
        return LocalValues(count: 2) { $0 == 0 ? nh : nq }
    }
}

/// Five fields (three on five points each), two parameters: 20 lanes, two passes of `SIMD16`; one
/// field read at its centre only, another at two points (per-field neighbour lists).
struct ThreeFields: MultiFieldStencilKernel {
    var neighbours: [[GridOffset]] {
        [GrayScottKernel.fivePoint, GrayScottKernel.fivePoint, GrayScottKernel.fivePoint, [GridOffset(row: 0, column: 0)],
         [GridOffset(row: 0, column: 1), GridOffset(row: 1, column: -1)]]
    }
    var outputCount: Int { 3 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let a = x.field(0)
        let b = x.field(1)
        let c = x.field(2)
        let s = x[3, 0]
        let t = x[4, 0] * x[4, 1]
        let la = ((a[0] + a[1]) + (a[2] + a[3])) - 4.0 * a[4]
        let lb = ((b[0] + b[1]) + (b[2] + b[3])) - 4.0 * b[4]
        let lc = ((c[0] + c[1]) + (c[2] + c[3])) - 4.0 * c[4]
        return LocalValues(count: 3) { o in
            switch o {
            case 0: return a[4] + p[0] * la + T.sin(b[4]) * c[4] + s
            case 1: return b[4] + p[1] * lb - a[4] * c[4] * t
            default: return c[4] + 0.1 * lc + T.exp(-a[4] * a[4]) * p[0]
            }
        }
    }
}

/// A wave-equation step with fewer lanes than its vector: u at five points, v at `vPoints`
/// points, `parameters` parameters — 7 lanes (in a `SIMD8`) or 10 (in the 12-lane type), so each
/// row of partials is stored as a whole vector whose idle lanes land on the next row, and the
/// block's last row lane by lane.
private struct NarrowWave: MultiFieldStencilKernel {
    var vPoints: Int
    var neighbours: [[GridOffset]] {
        [GrayScottKernel.fivePoint, Array(GrayScottKernel.fivePoint.suffix(vPoints))]
    }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let u = x.field(0)
        let v = x.field(1)
        var vSum = v[0]
        for j in 1..<vPoints { vSum = vSum + 0.1 * v[j] }
        var c = p[0]
        for k in 1..<p.count { c = c * p[k] }
        let laplacian = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        let vNext = vSum + 0.25 * c * laplacian
        return LocalValues(count: 2) { $0 == 0 ? u[4] + 0.25 * vNext : vNext }
    }
}

/// `sqrt` of field 0 (infinite partial at 0) into output 0 and field 1 into output 1.
private struct SquareRootKernel: MultiFieldStencilKernel {
    var neighbours: [[GridOffset]] { [[GridOffset(0)], [GridOffset(-1), GridOffset(0)]] }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        LocalValues(count: 2) { $0 == 0 ? T.sqrt(x[0, 0]) : x[1, 0] + x[1, 1] * p[0] }
    }
}

/// Runs `steps` steps of `kernel` from the fields `x[0..<fields·n]` with parameters the rest of
/// `x`, preaccumulated or elementary.
private func runSteps<K: MultiFieldStencilKernel>(
    _ kernel: K, grid: StencilGrid, steps: Int, _ x: [Tracked], preaccumulate: Bool
) -> [Tracked] {
    let n = grid.pointCount * kernel.fieldCount
    var state = Array(x[0..<n])
    let p = LocalValues(count: x.count - n) { x[n + $0] }
    var next = [Tracked](repeating: Tracked(0), count: grid.pointCount * kernel.outputCount)
    for _ in 0..<steps {
        if preaccumulate {
            Tracked.applyStencil(kernel, on: grid, to: state, parameters: p, into: &next)
        } else {
            Tracked.applyStencilPointwise(kernel, on: grid, to: state, parameters: p, into: &next)
        }
        swap(&state, &next)
    }
    return state
}

/// The same on `Double`, weighted: the objective whose gradient the tests take.
private func objective<K: MultiFieldStencilKernel>(
    _ kernel: K, grid: StencilGrid, steps: Int, _ x: [Double], weights: [Double]
) -> Double {
    let n = grid.pointCount * kernel.fieldCount
    var state = Array(x[0..<n])
    let p = LocalValues(count: x.count - n) { x[n + $0] }
    var next = [Double](repeating: 0, count: grid.pointCount * kernel.outputCount)
    for _ in 0..<steps {
        Double.applyStencil(kernel, on: grid, to: state, parameters: p, into: &next)
        swap(&state, &next)
    }
    return zip(state, weights).reduce(0) { $0 + $1.0 * $1.1 }
}

/// Gradients of Σ wᵢ·outputᵢ, preaccumulated and elementary, with each tape's statement count.
private func gradients<K: MultiFieldStencilKernel>(
    _ kernel: K, grid: StencilGrid, steps: Int, at x: [Double], weights: [Double], tape: () -> Tape = { Tape() }
) -> (fast: [Double], slow: [Double], fastStatements: Int) {
    let fast = RecordedFunction(at: x, tape: tape()) { runSteps(kernel, grid: grid, steps: steps, $0, preaccumulate: true) }
    let slow = RecordedFunction(at: x) { runSteps(kernel, grid: grid, steps: steps, $0, preaccumulate: false) }
    return (fast.pullback(weights), slow.pullback(weights), fast.tape.statistics.statementCount)
}

private func expectClose(_ a: [Double], _ b: [Double], relative: Double, absolute: Double = 0, _ what: String) {
    #expect(a.count == b.count)
    for k in a.indices {
        let scale = max(abs(a[k]), abs(b[k]))
        #expect(abs(a[k] - b[k]) <= relative * scale + absolute, "\(what) \(k): \(a[k]) against \(b[k])")
    }
}

/// Central differences of `f` at `x`, every component.
private func centralDifferences(_ f: ([Double]) -> Double, at x: [Double], step: Double = 1e-6) -> [Double] {
    x.indices.map { k in
        var plus = x
        var minus = x
        let h = step * max(1, abs(x[k]))
        plus[k] += h
        minus[k] -= h
        return (f(plus) - f(minus)) / (plus[k] - minus[k])
    }
}

private func grayScottState(rows: Int, columns: Int) -> [Double] {
    let n = rows * columns
    let u = (0..<n).map { (k: Int) -> Double in 1 - 0.3 * Double.sin(0.7 * Double(k)) * Double.cos(0.2 * Double(k)) }
    let v = (0..<n).map { (k: Int) -> Double in 0.25 + 0.2 * Double.cos(1.3 * Double(k) + 0.4) }
    return u + v
}

/// Smooth data without symmetry: on symmetric data minmod and the wave-speed maximum meet
/// exact ties (kinks), where central differences straddle two branches.
private func shallowWaterState(n: Int) -> [Double] {
    let h = (0..<n).map { (k: Int) -> Double in
        let phase: Double = 2 * Double.pi * Double(k) / Double(n)
        return 1 + 0.2 * Double.sin(phase) + 0.05 * Double.cos(2.3 * Double(k) + 0.1)
    }
    let q = (0..<n).map { (k: Int) -> Double in 0.5 + 0.3 * Double.cos(2 * Double.pi * Double(k) / Double(n)) + 0.07 * Double.sin(1.7 * Double(k) + 0.3) }
    return h + q
}

@Suite("Multi-field stencils", .serialized)
struct MultiFieldStencilTests {
    @Test(arguments: [(3, 3), (4, 5), (6, 7)])
    func grayScottGradientMatchesElementaryAndCentralDifferences(shape: (Int, Int)) {
        let (rows, columns) = shape
        let grid = StencilGrid.periodic(rows: rows, columns: columns)
        let x = grayScottState(rows: rows, columns: columns) + [0.04, 0.06]
        let weights = (0..<(2 * grid.pointCount)).map { (k: Int) -> Double in 1 + 0.1 * Double(k % 7) - 0.3 * Double(k % 2) }
        let (fast, slow, statements) = gradients(GrayScottKernel(), grid: grid, steps: 3, at: x, weights: weights)
        expectClose(fast, slow, relative: 1e-12, absolute: 1e-15, "input")
        // Inputs, then per step one marker and one leaf per output value.
        #expect(statements == x.count + 3 * (1 + 2 * grid.pointCount))
        let differences = centralDifferences({ objective(GrayScottKernel(), grid: grid, steps: 3, $0, weights: weights) }, at: x)
        expectClose(fast, differences, relative: 1e-6, absolute: 1e-8, "central difference")
    }

    @Test(arguments: [5, 8, 17])
    func shallowWaterRusanovGradientMatchesElementaryAndCentralDifferences(points: Int) {
        let grid = StencilGrid.periodic(points)
        let x = shallowWaterState(n: points) + [9.81, 0.02]
        let weights = (0..<(2 * points)).map { (k: Int) -> Double in 0.5 + 0.25 * Double(k % 5) }
        let (fast, slow, statements) = gradients(ShallowWaterKernel(), grid: grid, steps: 2, at: x, weights: weights)
        expectClose(fast, slow, relative: 1e-12, absolute: 1e-15, "input")
        #expect(statements == x.count + 2 * (1 + 2 * points))
        let differences = centralDifferences(
            { objective(ShallowWaterKernel(), grid: grid, steps: 2, $0, weights: weights) }, at: x)
        expectClose(fast, differences, relative: 1e-6, absolute: 1e-8, "central difference")
    }

    @Test func seventeenLanesTakeTwoPassesAndPerFieldNeighbourListsWork() {
        let grid = StencilGrid.periodic(rows: 4, columns: 5)
        let n = grid.pointCount
        // Five input fields, three outputs: run one step from five fields.
        let fields: [Double] = (0..<(5 * n)).map { k in 0.3 + 0.1 * Double.sin(Double(k)) }
        let x = fields + [0.15, 0.05]
        let weights = (0..<(3 * n)).map { (k: Int) -> Double in Double(k % 4) - 1.5 }
        let (fast, slow, _) = gradients(ThreeFields(), grid: grid, steps: 1, at: x, weights: weights)
        expectClose(fast, slow, relative: 1e-12, absolute: 1e-15, "input")
    }

    @Test func twelveLanesAndPassesOfSixteenOrEightGiveTheSameBits() {
        let grid = StencilGrid.periodic(rows: 4, columns: 6)
        let x = grayScottState(rows: 4, columns: 6) + [0.04, 0.06]
        let weights = [Double](repeating: 1, count: 2 * grid.pointCount)
        let saved = Tracked._multiFieldPassWidth
        defer { Tracked._multiFieldPassWidth = saved }
        var results: [[UInt64]] = []
        // 0: the default, one pass of twelve lanes for this 12-lane kernel (every entry a
        // lane: Gray–Scott itself keeps 4).
        for width in [0, 16, 8] {
            Tracked._multiFieldPassWidth = width
            results.append(
                gradients(EveryLane(kernel: GrayScottKernel()), grid: grid, steps: 3, at: x, weights: weights).fast
                    .map(\.bitPattern))
        }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
    }

    @Test func constantInputsAreLeftOut() {
        // Field v constant: its identifiers are 0, so the inputs are an explicit list.
        let grid = StencilGrid.periodic(rows: 3, columns: 4)
        let n = grid.pointCount
        let start = grayScottState(rows: 3, columns: 4)
        let x = Array(start[0..<n]) + [0.04, 0.06]
        let weights = (0..<(2 * n)).map { (k: Int) -> Double in 1 + Double(k % 3) }
        let gradient = { (preaccumulate: Bool) -> [Double] in
            RecordedFunction(at: x) { t in
                let state = Array(t[0..<n]) + start[n...].map { Tracked($0) }
                let p = LocalValues(count: 2) { t[n + $0] }
                var next = [Tracked](repeating: Tracked(0), count: 2 * n)
                var current = state
                for _ in 0..<2 {
                    if preaccumulate {
                        Tracked.applyStencil(GrayScottKernel(), on: grid, to: current, parameters: p, into: &next)
                    } else {
                        Tracked.applyStencilPointwise(GrayScottKernel(), on: grid, to: current, parameters: p, into: &next)
                    }
                    swap(&current, &next)
                }
                return current
            }.pullback(weights)
        }
        expectClose(gradient(true), gradient(false), relative: 1e-12, absolute: 1e-15, "input")
        // Everything constant: the outputs are constants and nothing is recorded.
        let tape = Tape()
        tape.record {
            let before = tape.statistics.statementCount
            var next = [Tracked](repeating: Tracked(0), count: 2 * n)
            Tracked.applyStencil(
                GrayScottKernel(), on: grid, to: start.map { Tracked($0) }, parameters: LocalValues([Tracked(0.04), Tracked(0.06)]),
                into: &next)
            #expect(next.allSatisfy { $0.isConstant })
            var expected = [Double](repeating: 0, count: 2 * n)
            Double.applyStencil(GrayScottKernel(), on: grid, to: start, parameters: LocalValues([0.04, 0.06]), into: &expected)
            #expect(next.map(\.value) == expected)
            #expect(tape.statistics.statementCount == before)
        }
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func spilledTapeAndRowBlocksGiveTheSameBits(capacity: Int) throws {
        let grid = StencilGrid.periodic(rows: 5, columns: 6)
        let x = grayScottState(rows: 5, columns: 6) + [0.04, 0.06]
        let weights = (0..<(2 * grid.pointCount)).map { (k: Int) -> Double in 1 + 0.1 * Double(k % 7) }
        let reference = gradients(GrayScottKernel(), grid: grid, steps: 3, at: x, weights: weights).fast
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        var spilledTape: Tape?
        let spilled = gradients(GrayScottKernel(), grid: grid, steps: 3, at: x, weights: weights) {
            let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity))
            try! tape.enableSpilling(to: directory, statementsPerChunk: capacity)
            spilledTape = tape
            return tape
        }.fast
        #expect(spilled.map(\.bitPattern) == reference.map(\.bitPattern))
        let tape = try #require(spilledTape)
        // Row blocks: a block per few rows, so more than one marker per step.
        #expect((tape._spillBlockLimit ?? .max) < grid.pointCount * 2 * 12)
        #expect(tape.spillError == nil)
    }

    /// 7 and 10 lanes: the rows of partials are narrower than the vector that stores them.
    /// In memory against the elementary recording, and on spilled tapes cut into row blocks
    /// (each block's last row stored lane by lane) bit for bit against memory.
    @Test(arguments: [(1, 1), (4, 1), (4, 2)])
    func rowsNarrowerThanTheirVectorAreStoredExactly(shape: (vPoints: Int, parameters: Int)) throws {
        let kernel = NarrowWave(vPoints: shape.vPoints)
        let grid = StencilGrid.periodic(rows: 4, columns: 5)
        let x = grayScottState(rows: 4, columns: 5) + [0.9, 1.1].prefix(shape.parameters)
        let weights = (0..<(2 * grid.pointCount)).map { (k: Int) -> Double in 1 + 0.1 * Double(k % 5) }
        let (fast, slow, _) = gradients(kernel, grid: grid, steps: 3, at: x, weights: weights)
        expectClose(fast, slow, relative: 1e-12, absolute: 1e-14, "preaccumulated against elementary")
        for capacity in [1, 2, 3, 7, 64] {
            let directory = try SpillDirectory()
            defer { try? directory.remove() }
            let spilled = gradients(kernel, grid: grid, steps: 3, at: x, weights: weights) {
                let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity))
                try! tape.enableSpilling(to: directory, statementsPerChunk: capacity)
                return tape
            }.fast
            #expect(spilled.map(\.bitPattern) == fast.map(\.bitPattern), "chunks of \(capacity)")
        }
    }

    @Test func oneDimensionalSpilledTapeGivesTheSameBits() throws {
        let grid = StencilGrid.periodic(9)
        let x = shallowWaterState(n: 9) + [9.81, 0.02]
        let weights = [Double](repeating: 1, count: 18)
        let reference = gradients(ShallowWaterKernel(), grid: grid, steps: 3, at: x, weights: weights).fast
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        let spilled = gradients(ShallowWaterKernel(), grid: grid, steps: 3, at: x, weights: weights) {
            let tape = Tape(configuration: .init(initialStatementCapacity: 4, maximumStatementCapacity: 4))
            try! tape.enableSpilling(to: directory, statementsPerChunk: 4)
            return tape
        }.fast
        #expect(spilled.map(\.bitPattern) == reference.map(\.bitPattern))
    }

    @Test func anInfinitePartialStillPropagatesNaNThroughAZeroAdjoint() {
        let grid = StencilGrid.periodic(4)
        // Field 0 is 0 at point 2: sqrt's partial there is +∞; output 0 has weight 0.
        let x = [1.0, 4.0, 0.0, 9.0] + [0.5, 1.5, 2.5, 3.5] + [0.25]
        let weights = [0.0, 0, 0, 0] + [1.0, 1, 1, 1]
        let (fast, slow, _) = gradients(SquareRootKernel(), grid: grid, steps: 1, at: x, weights: weights)
        #expect(fast[2].isNaN && slow[2].isNaN)
        for k in x.indices where k != 2 { #expect(fast[k] == slow[k], "input \(k)") }
    }

    @Test func doubleFollowsTheKernelAtEveryPoint() {
        let grid = StencilGrid.periodic(4)
        let x = [1.0, 4.0, 0.0, 9.0, 0.5, 1.5, 2.5, 3.5]
        var next = [Double](repeating: 0, count: 8)
        Double.applyStencil(SquareRootKernel(), on: grid, to: x, parameters: LocalValues([2.0]), into: &next)
        #expect(next == [1, 2, 0, 3, 0.5 * 2 + 3.5, 1.5 * 2 + 0.5, 2.5 * 2 + 1.5, 3.5 * 2 + 2.5])
        // Dual, one direction: the derivative of output 1 at point 0 along x[4] is 2 (the parameter).
        let dual = x.enumerated().map { Dual<Double>($0.element, tangent: $0.offset == 4 ? 1 : 0) }
        var dualNext = [Dual<Double>](repeating: 0, count: 8)
        Dual.applyStencil(SquareRootKernel(), on: grid, to: dual, parameters: LocalValues([Dual(2.0)]), into: &dualNext)
        #expect(dualNext.map(\.value) == next)
        #expect(dualNext[4].tangent == 2 && dualNext[5].tangent == 1)
    }
}

/// Gray–Scott on an m×m grid through the driver: state u then v.
struct GrayScottProblem: TimeSteppingProblem {
    let m: Int
    var stateCount: Int { 2 * m * m }
    var parameterCount: Int { 2 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        S.applyStencil(
            GrayScottKernel(), on: .periodic(rows: m, columns: m), to: s, parameters: LocalValues(count: 2) { p[$0] },
            into: &next)
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum = 0.0
        for x in s { sum += x.primal * x.primal }
        return S.applying(value: 0.5 * sum, partials: s.map(\.primal), to: s)
    }
}

// In the serialized suite: `twelveLanesAndPassesOfSixteenOrEightGiveTheSameBits` sets the
// process-wide lane width, which every multi-field stencil reads.
extension MultiFieldStencilTests {
    @Test func everyStrategyOfTheDriverGivesTheSameBits() throws {
        let problem = GrayScottProblem(m: 8)
        let x0 = grayScottState(rows: 8, columns: 8)
        let p = [0.04, 0.06]
        let reference = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: 30, options: TimeSteppingOptions(strategy: .storeAll))
        #expect(reference.parameterGradient.allSatisfy { $0.isFinite })
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-multifield-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var runs: [(String, TimeSteppingOptions)] = [
            ("revolve", TimeSteppingOptions(strategy: .revolve(snapshots: 3))),
            ("online", TimeSteppingOptions(strategy: .online(snapshots: 4))),
            ("spill", TimeSteppingOptions(
                strategy: .spill, memoryBudget: MemoryBudget(bytes: max(reference.report.peakTapeBytes / 2, 400_000)),
                spillDirectory: parent)),
        ]
        runs[0].1.stepsPerBlock = 1
        runs[1].1.stepsPerBlock = 2
        for (name, options) in runs {
            let result = try TimeStepping.gradient(of: problem, initialState: x0, parameters: p, steps: 30, options: options)
            if name == "spill" {
                #expect(result.report.strategy == .storeAllSpilled && result.report.spilledBytes > 0)
            } else {
                #expect(result.report.forwardSteps > 0, "\(name) recomputes steps from its snapshots")
            }
            #expect(result.objective.bitPattern == reference.objective.bitPattern, "\(name)")
            #expect(result.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern), "\(name)")
            #expect(result.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern), "\(name)")
        }
    }
}
