import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage
import RewindTimeStepping

/// `kernel` with an idle decision on its first entry: the probe then finds it affine in no
/// entry, so every entry keeps a lane at every point (the general recording), the reference the
/// constant lanes must equal bit for bit.
struct EveryLane<K: MultiFieldStencilKernel>: MultiFieldStencilKernel {
    let kernel: K
    var neighbours: [[GridOffset]] { kernel.neighbours }
    var outputCount: Int { kernel.outputCount }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        if x[0, 0].primal == -.infinity { return LocalValues(count: kernel.outputCount) { _ in T(0) } }
        return kernel(x, p)
    }
}

/// Affine in every entry: sums of neighbours scaled by a product of parameters.
private struct LinearWave: MultiFieldStencilKernel {
    var neighbours: [[GridOffset]] { [GrayScottKernel.fivePoint, [GridOffset(row: 0, column: 0)]] }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let u = x.field(0)
        let laplacian = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        let v = x[1, 0] + (p[0] * p[1]) * laplacian
        return LocalValues(count: 2) { $0 == 0 ? u[4] + 0.25 * v : v }
    }
}

/// Affine in every entry, with no parameter: its points keep no partial at all.
private struct FixedDiffusion: MultiFieldStencilKernel {
    var neighbours: [[GridOffset]] { [GrayScottKernel.fivePoint, [GridOffset(row: 0, column: 1)]] }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        let u = x.field(0)
        let laplacian = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        return LocalValues(count: 2) { $0 == 0 ? u[4] + 0.1 * laplacian : x[1, 0] - 0.5 * u[4] }
    }
}

/// Its Laplacian's weight changes with every call (hidden state): no point's partials are those
/// of another, and the spot checks must see it.
private final class DriftingDiffusion: MultiFieldStencilKernel, @unchecked Sendable {
    var calls = 0.0
    var neighbours: [[GridOffset]] { [GrayScottKernel.fivePoint, GrayScottKernel.fivePoint] }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        calls += 1
        let u = x.field(0)
        let v = x.field(1)
        let weight = 0.1 + 1e-3 * calls
        let lu = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        return LocalValues(count: 2) { $0 == 0 ? u[4] + weight * lu - u[4] * v[4] : v[4] + p[0] * u[4] * v[4] }
    }
}

/// Changes its Laplacian's weight after its fifth evaluation on the recording's `Dual`s
/// (4 lanes): after every check before the recording, in the middle of it.
private final class ChangesWhileRecorded: MultiFieldStencilKernel, @unchecked Sendable {
    var recordedCalls = 0
    var neighbours: [[GridOffset]] { [GrayScottKernel.fivePoint, GrayScottKernel.fivePoint] }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
        if T.self == Dual<SIMD4<Double>>.self { recordedCalls += 1 }
        let u = x.field(0)
        let v = x.field(1)
        let weight = recordedCalls > 5 ? 0.2 : 0.1
        let lu = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
        return LocalValues(count: 2) { $0 == 0 ? u[4] + weight * lu - u[4] * v[4] : v[4] + p[0] * u[4] * v[4] }
    }
}

/// One step of `kernel` recorded from `x` (fields, then parameters): the statement it records,
/// and the gradient of Σ wᵢ·outputᵢ.
private func recordedStep<K: MultiFieldStencilKernel>(
    _ kernel: K, grid: StencilGrid, at x: [Double], steps: Int = 2, tape: Tape = Tape()
) -> (gradient: [Double], statement: _MultiFieldStencilStatement?) {
    let n = grid.pointCount * kernel.fieldCount
    let weights = (0..<(grid.pointCount * kernel.outputCount)).map { (k: Int) -> Double in 1 + 0.1 * Double(k % 7) - 0.3 * Double(k % 2) }
    let function = RecordedFunction(at: x, tape: tape) { t -> [Tracked] in
        var state = Array(t[0..<n])
        let p = LocalValues(count: t.count - n) { t[n + $0] }
        var next = [Tracked](repeating: Tracked(0), count: grid.pointCount * kernel.outputCount)
        for _ in 0..<steps {
            Tracked.applyStencil(kernel, on: grid, to: state, parameters: p, into: &next)
            swap(&state, &next)
        }
        return state
    }
    return (function.pullback(weights), tape.externals.first as? _MultiFieldStencilStatement)
}

private func fields(_ count: Int, points: Int) -> [Double] {
    (0..<(count * points)).map { (k: Int) -> Double in 0.6 + 0.3 * Double.sin(0.7 * Double(k)) * Double.cos(0.2 * Double(k)) }
}

@Suite("Multi-field stencils: constant lanes")
struct MultiFieldLanesTests {
    /// The probe's verdict, entry by entry: a product marks both factors' entries, a function
    /// its argument's, a decision every entry; parameters and constants never.
    @Test func theProbeFindsTheEntriesTheKernelIsAffineIn() {
        let grid = StencilGrid.periodic(rows: 3, columns: 4)
        let x = fields(2, points: grid.pointCount) + [0.04, 0.06]
        let input = x[0..<(2 * grid.pointCount)].map { Tracked($0) }
        let parameters = LocalValues<Double>([0.04, 0.06])
        func lanes<K: MultiFieldStencilKernel>(_ kernel: K) -> [Int] {
            let layout = _MultiFieldLayout(kernel.neighbours, pointCount: grid.pointCount)
            return grid._multiFieldLanes(kernel, layout, input: input, parameters: parameters, outputCount: kernel.outputCount)
                .laneOfEntry
        }
        // Gray–Scott: the reaction u·v·v reads the two centres (entries 4 and 9).
        #expect(lanes(GrayScottKernel()) == [-1, -1, -1, -1, 0, -1, -1, -1, -1, 1])
        #expect(lanes(EveryLane(kernel: GrayScottKernel())) == Array(0..<10))
        #expect(lanes(LinearWave()) == [-1, -1, -1, -1, -1, -1])
        // Minmod and the wave speed decide on values: every entry keeps its lane.
        let line = StencilGrid.periodic(6)
        let water = ShallowWaterKernel()
        let waterLayout = _MultiFieldLayout(water.neighbours, pointCount: 6)
        let waterInput = (0..<12).map { Tracked(1 + 0.1 * Double($0 % 5)) }
        #expect(
            line._multiFieldLanes(water, waterLayout, input: waterInput, parameters: LocalValues([9.81, 0.02]), outputCount: 2)
                .laneOfEntry == Array(0..<10))
    }

    /// A point of Gray–Scott keeps 2 outputs × 4 lanes (u and v at the centre, F, k), not × 12,
    /// and the gradient is the bits of the recording that keeps every lane: on one block, on
    /// spilled tapes cut into row blocks, and over several steps.
    @Test(arguments: [(3, 3), (4, 5), (6, 7)])
    func grayScottKeepsFourLanesAndTheBitsOfTwelve(shape: (Int, Int)) throws {
        let grid = StencilGrid.periodic(rows: shape.0, columns: shape.1)
        let x = fields(2, points: grid.pointCount) + [0.04, 0.06]
        let (constant, statement) = recordedStep(GrayScottKernel(), grid: grid, at: x, steps: 3)
        let (every, general) = recordedStep(EveryLane(kernel: GrayScottKernel()), grid: grid, at: x, steps: 3)
        #expect(statement?.lanes.laneCount == 4 && general?.lanes.laneCount == 12)
        #expect(statement.map(\.partialCount) == grid.pointCount * 2 * 4)
        #expect(constant.map(\.bitPattern) == every.map(\.bitPattern))
        for capacity in [1, 3, 64] {
            let directory = try SpillDirectory()
            defer { try? directory.remove() }
            let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity))
            try tape.enableSpilling(to: directory, statementsPerChunk: capacity)
            let spilled = recordedStep(GrayScottKernel(), grid: grid, at: x, steps: 3, tape: tape).gradient
            #expect(spilled.map(\.bitPattern) == every.map(\.bitPattern), "chunks of \(capacity)")
            #expect(tape.spillError == nil)
        }
    }

    /// Three outputs over five fields, with a function and products of centres; and a kernel
    /// affine in every entry, whose points keep its parameters' lanes only.
    @Test func mixedAndFullyAffineKernelsGiveTheBitsOfEveryLane() {
        let grid = StencilGrid.periodic(rows: 4, columns: 5)
        // Five fields, three outputs: affine in the three Laplacians' neighbours and in the
        // fourth field; a sine, products and an exponential make the centres of the first
        // three fields and both entries of the fifth vary: 5 entries and 2 parameters, not 18 and 2.
        let mixed = fields(5, points: grid.pointCount) + [0.15, 0.05]
        let (some, someStatement) = recordedStep(ThreeFields(), grid: grid, at: mixed, steps: 1)
        let (all, allStatement) = recordedStep(EveryLane(kernel: ThreeFields()), grid: grid, at: mixed, steps: 1)
        #expect(someStatement?.lanes.laneCount == 7 && allStatement?.lanes.laneCount == 20)
        #expect(someStatement?.lanes.laneOfEntry.filter { $0 >= 0 }.count == 5)
        #expect(some.map(\.bitPattern) == all.map(\.bitPattern))
        let wave = fields(2, points: grid.pointCount) + [0.9, 0.3]
        let (constant, statement) = recordedStep(LinearWave(), grid: grid, at: wave)
        let (every, _) = recordedStep(EveryLane(kernel: LinearWave()), grid: grid, at: wave)
        #expect(statement?.lanes.laneCount == 2)
        #expect(constant.map(\.bitPattern) == every.map(\.bitPattern))
        #expect(constant.allSatisfy { $0.isFinite })
        // No lane: the statement keeps no partial, and every point's outputs are still swept.
        let state = fields(2, points: grid.pointCount)
        let (none, empty) = recordedStep(FixedDiffusion(), grid: grid, at: state, steps: 3)
        let (reference, _) = recordedStep(EveryLane(kernel: FixedDiffusion()), grid: grid, at: state, steps: 3)
        #expect(empty?.lanes.laneCount == 0 && empty?.partialCount == 0)
        #expect(none.map(\.bitPattern) == reference.map(\.bitPattern))
    }

    /// Parallel sweeps of one tape read the statements' constants at once: every seed's row is
    /// its serial sweep's, bit for bit.
    @Test func parallelSweepsEqualSerialOnes() {
        let grid = StencilGrid.periodic(rows: 6, columns: 7)
        let x = fields(2, points: grid.pointCount) + [0.04, 0.06]
        func rows(threads: Int) -> [[UInt64]] {
            let tape = Tape()
            let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
                let inputs = tape.registerInputs(x)
                var state = Array(inputs[0..<(2 * grid.pointCount)])
                let p = LocalValues(count: 2) { inputs[2 * grid.pointCount + $0] }
                var next = state
                for _ in 0..<3 {
                    Tracked.applyStencil(GrayScottKernel(), on: grid, to: state, parameters: p, into: &next)
                    swap(&state, &next)
                }
                return (inputs, Array(state[0..<12]))
            }
            #expect((tape.externals.first as? _MultiFieldStencilStatement)?.lanes.laneCount == 4)
            return tape.reverse(seeds: outputs.map { [($0, 1.0)] }, reading: inputs, options: ParallelOptions(threads: threads))
                .map { $0.map(\.bitPattern) }
        }
        #expect(rows(threads: 4) == rows(threads: 1))
    }

    /// A kernel that changes between its calls fails the spot checks (one point of every row)
    /// and is recorded with every lane, as before.
    @Test func aKernelThatChangesBetweenCallsKeepsEveryLane() {
        let grid = StencilGrid.periodic(rows: 4, columns: 5)
        let x = fields(2, points: grid.pointCount) + [0.5]
        let (_, statement) = recordedStep(DriftingDiffusion(), grid: grid, at: x, steps: 1)
        #expect(statement?.lanes.laneCount == 11)
    }

    /// A kernel that changes in the middle of its recording, after every check before it, no
    /// longer has the kept partials: the check after the recording marks its statement, whose
    /// sweep gives NaN for every input and parameter, and a time-stepping run throws the fault.
    @Test func aKernelThatChangesWhileRecordedIsAFault() throws {
        let grid = StencilGrid.periodic(rows: 4, columns: 5)
        let x = fields(2, points: grid.pointCount) + [0.5]
        let kernel = ChangesWhileRecorded()
        let tape = Tape()
        let (gradient, statement) = recordedStep(kernel, grid: grid, at: x, steps: 1, tape: tape)
        #expect(kernel.recordedCalls > 5)
        #expect(statement?.lanes.laneCount == 3)
        #expect(tape.stencilKernelFault == .changedAfterProbe)
        #expect(gradient.allSatisfy { $0.isNaN })
        struct Step: TimeSteppingProblem {
            let grid: StencilGrid
            var stateCount: Int { 2 * grid.pointCount }
            var parameterCount: Int { 1 }
            func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
                S.applyStencil(ChangesWhileRecorded(), on: grid, to: s, parameters: LocalValues([p[0]]), into: &next)
            }
            func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
                s[0] + s[3] * s[3]
            }
        }
        #expect(throws: TimeSteppingError.stencilKernelFault(.changedAfterProbe)) {
            try TimeStepping.gradient(
                of: Step(grid: grid), initialState: Array(x[0..<(2 * grid.pointCount)]), parameters: [0.5], steps: 3,
                options: TimeSteppingOptions(strategy: .storeAll))
        }
    }

    /// A NaN in the state away from the probe's point: the kept constants are the affine
    /// entries' true partials, the NaN reaches the objective and the gradient all the same.
    @Test func aNaNInTheStateStillReachesTheGradient() {
        let grid = StencilGrid.periodic(rows: 4, columns: 5)
        var x = fields(2, points: grid.pointCount) + [0.04, 0.06]
        x[grid.pointCount + 7] = .nan
        let (gradient, statement) = recordedStep(GrayScottKernel(), grid: grid, at: x, steps: 2)
        #expect(statement?.lanes.laneCount == 4)
        #expect(gradient.contains { $0.isNaN })
        // At the probe's point itself the constants are not finite: every entry keeps a lane.
        x[grid.pointCount + 7] = 0.3
        x[grid.pointCount] = .nan
        #expect(recordedStep(GrayScottKernel(), grid: grid, at: x, steps: 1).statement?.lanes.laneCount == 12)
    }
}
