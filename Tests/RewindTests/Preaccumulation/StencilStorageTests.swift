import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage
import RewindParallel

/// Three neighbours and two parameters: 5 lanes, stored lane by lane in a 6-lane vector.
private struct Diffusion: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2]) + p[1] * u[1] * u[1]
    }
}

/// Burgers' flux form: 3 neighbours and one parameter, 4 lanes filling a `SIMD4`.
private struct Flux: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let (um, ui, up) = (u[0], u[1], u[2])
        let fPlus = 0.25 * (ui * ui + up * up) - 0.75 * (up - ui)
        let fMinus = 0.25 * (um * um + ui * ui) - 0.75 * (ui - um)
        return ui - 0.1 * (fPlus - fMinus) + p[0] * (up - 2.0 * ui + um)
    }
}

/// Heat: five neighbours and one parameter, 6 lanes filling `_Lanes6`.
private struct Heat: StencilKernel {
    var neighbours: [GridOffset] {
        [GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: 1),
         GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0)]
    }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[4] + p[0] * (((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4])
    }
}

/// Reaches two rows down and a column to the left: an asymmetric window, 7 lanes in a `SIMD8`.
private struct Skewed: StencilKernel {
    var neighbours: [GridOffset] {
        [GridOffset(row: 2, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: -1),
         GridOffset(row: 0, column: 0), GridOffset(row: 1, column: 1), GridOffset(row: 2, column: -1)]
    }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[3] + p[0] * ((u[0] - u[1]) + (u[2] - u[3])) + 0.1 * u[4] * u[5] + T.sin(u[3])
    }
}

/// Upwinding: a comparison on values picks the difference, so two points may take different
/// branches (evaluated point by point in the sweep).
private struct Upwind: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let slope = u[1] > 0 ? u[1] - u[0] : u[2] - u[1]
        return u[1] - p[0] * u[1] * slope
    }
}

/// Branches on `primal` (a limiter written the way users write them).
private struct Limited: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let jump = u[2] - u[0]
        return u[1] + p[0] * (abs(jump.primal) > 0.5 ? 0.5 * jump : jump * jump)
    }
}

/// Elementary functions, a quotient and stable primitives, no decision: evaluated in pairs,
/// each function per point through `Dual`'s rules.
private struct Smooth: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let r: T = T.norm(u[0], u[2]) + T.sqrt(u[1] * u[1], derivativeAtZero: .zero)
        let decay: T = T.exp(-u[1] * u[1]) * p[0]
        let quotient: T = u[0] / (2.0 + T.cos(u[2]))
        let soft: T = T.softplus(u[1]) - 0.1 * r
        let angle: T = T.pow(u[1], 3) - T.atan2(y: u[0], x: 2.0 + u[2])
        return (decay + quotient) + (soft + angle) + T.xlogx(u[2] * u[2])
    }
}

/// Checks that its neighbours differ (true of the test's grid), with a plain precondition.
private struct Checked: StencilKernel {
    var neighbours: [GridOffset] {
        [GridOffset(row: -1, column: 0), GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0),
         GridOffset(row: 0, column: 1), GridOffset(row: 1, column: 0)]
    }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        precondition(u[1].primal != u[3].primal, "the left and right neighbours are equal")
        return u[2] + p[0] * (((u[0] + u[1]) + (u[3] + u[4])) - 4.0 * u[2])
    }
}

/// Decides on values only from its second evaluation on (hidden state): the trial sees no
/// decision, the pairs after it do.
private final class Moody: StencilKernel, @unchecked Sendable {
    var evaluations = 0
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        evaluations += 1
        if evaluations > 1 && u[1] > u[0] { return u[1] - p[0] * u[0] }
        return u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2])
    }
}

/// Reads only its own column and the two to its right, so that row 0's pairs come before any
/// column that wraps, and decides on values from its `threshold`-th evaluation on (hidden
/// state). Not affine in its neighbours either way, so that its stencil keeps its inputs.
private final class LateDecider: StencilKernel, @unchecked Sendable {
    let threshold: Int
    var evaluations = 0
    init(threshold: Int) { self.threshold = threshold }
    var neighbours: [GridOffset] { [GridOffset(0), GridOffset(1), GridOffset(2)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        evaluations += 1
        if evaluations >= threshold && u[1] > u[0] { return u[0] - p[0] * u[1] * u[1] }
        return u[0] + p[0] * (u[1] * u[2] - u[0])
    }
}

/// Drifts with every evaluation (hidden state its own calls change): no replay of a run
/// reproduces its values.
private final class Drifting: StencilKernel, @unchecked Sendable {
    var evaluations = 0.0
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        evaluations += 1
        return u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2]) + 1e-6 * evaluations
    }
}

/// A step whose stencil kernel drifts with every evaluation, for the drivers: a run of it must
/// end in `TimeSteppingError.stencilKernelFault`, never in a gradient.
private struct DriftingStep: TimeSteppingProblem {
    let kernel = Drifting()
    var stateCount: Int { 9 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        S.applyStencil(kernel, on: .periodic(9), to: s, parameters: LocalValues([p[0]]), into: &next)
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s[0] + s[4] * s[4]
    }
}

/// A forcing the step sets before each stencil, read by the kernel when it is evaluated: with
/// stencil inputs kept, the sweep evaluates the kernel again after later steps changed it.
private final class Forcing: @unchecked Sendable {
    var strength = 0.0
}

/// Reads `Forcing` at evaluation time: not a function of its inputs and stored properties.
private struct Forced: StencilKernel {
    let forcing: Forcing
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2]) + forcing.strength * u[1] * u[1]
    }
}

/// Records three steps of `Forced`, the forcing changed before each, and sweeps: the gradient
/// and the fault the tape found.
private func forcedGradient(_ storage: StencilStorage) -> (gradient: [Double], fault: StencilKernelFault?) {
    let tape = Tape()
    tape.stencilStorage = storage
    let forcing = Forcing()
    let (inputs, output) = tape.record { () -> ([Tracked], Tracked) in
        let inputs = tape.registerInputs((0..<9).map { Double.cos(Double($0)) } + [0.1])
        var u = Array(inputs[0..<9])
        for step in 0..<3 {
            forcing.strength = 0.1 * Double(step + 1)
            var next = u
            Tracked.applyStencil(
                Forced(forcing: forcing), on: .periodic(9), to: u, parameters: LocalValues([inputs[9]]), into: &next)
            u = next
        }
        return (inputs, u.reduce(Tracked(0), +))
    }
    let adjoints = AdjointVector()
    tape.reverse(adjoints, seeding: [(output, 1)])
    return (inputs.map { adjoints[$0] }, tape.stencilKernelFault)
}

@Suite("Stencils stored as their inputs")
struct StencilStorageTests {
    /// Every kernel shape and lane layout: the same bits as stored partials, far fewer numbers.
    @Test func inputsGiveTheBitsOfPartials() throws {
        let cases: [(String, (StencilStorage) throws -> StencilGradient)] = [
            ("diffusion 1-D", { try stencilGradient(Diffusion(), grid: .periodic(17), parameters: [0.2, 0.05], steps: 3, storage: $0) }),
            ("flux 1-D", { try stencilGradient(Flux(), grid: .periodic(9), parameters: [0.01], steps: 4, storage: $0) }),
            ("heat 2-D", { try stencilGradient(Heat(), grid: .periodic(rows: 6, columns: 7), parameters: [0.1], steps: 3, storage: $0) }),
            ("skewed 2-D", { try stencilGradient(Skewed(), grid: .periodic(rows: 5, columns: 4), parameters: [0.2], steps: 3, storage: $0) }),
        ]
        for (name, run) in cases {
            let partials = try run(.partials)
            let inputs = try run(.inputs)
            #expect(inputs.gradient.map(\.bitPattern) == partials.gradient.map(\.bitPattern), "\(name)")
            #expect(inputs.values.map(\.bitPattern) == partials.values.map(\.bitPattern), "\(name)")
            if name == "heat 2-D" {
                // Affine in its neighbours: both storages keep one parameter partial a point.
                #expect(inputs.storedNumbers == partials.storedNumbers, "\(name)")
            } else {
                #expect(inputs.storedNumbers * 2 < partials.storedNumbers, "\(name): one number a point, not one a lane")
            }
        }
    }

    /// Kernels that decide on values (a comparison, `primal`) are evaluated one point at a time
    /// in the sweep, smooth ones two at a time: the bits of stored partials either way, at odd
    /// and even widths (a single point left after the pairs) and at widths 1–3 (no interior).
    @Test(arguments: [1, 2, 3, 8, 11])
    func kernelsWithAndWithoutDecisionsGiveTheBitsOfPartials(points: Int) throws {
        let cases: [(String, (StencilStorage) throws -> StencilGradient)] = [
            ("upwind", { try stencilGradient(Upwind(), grid: .periodic(points), parameters: [0.1], steps: 3, storage: $0) }),
            ("limited", { try stencilGradient(Limited(), grid: .periodic(points), parameters: [0.1], steps: 3, storage: $0) }),
            ("smooth", { try stencilGradient(Smooth(), grid: .periodic(points), parameters: [0.3], steps: 2, storage: $0) }),
            ("heat 3 rows", { try stencilGradient(Heat(), grid: .periodic(rows: 3, columns: points), parameters: [0.1], steps: 2, storage: $0) }),
        ]
        for (name, run) in cases {
            let partials = try run(.partials)
            let inputs = try run(.inputs)
            #expect(inputs.gradient.map(\.bitPattern) == partials.gradient.map(\.bitPattern), "\(name), \(points) points")
            #expect(inputs.values.map(\.bitPattern) == partials.values.map(\.bitPattern), "\(name), \(points) points")
        }
    }

    /// One trial decides whether the sweep evaluates two points at a time: a kernel with a
    /// comparison or a read of `primal` anywhere it runs is never paired, a smooth one is.
    @Test func oneTrialFindsTheKernelsThatDecideOnValues() {
        let values = [0.3, -0.2, 0.7, 1.1]
        values.withUnsafeBufferPointer { values in
            func pairs<K: StencilKernel>(_ kernel: K, points: Int = 4) -> Bool {
                StencilGrid.periodic(points)._evaluatesInPairs(
                    kernel, offsets: kernel.neighbours, values: values.baseAddress!, parameters: LocalValues([0.1]))
            }
            #expect(!pairs(Upwind()))
            #expect(!pairs(Limited()))
            #expect(pairs(Smooth()))
            #expect(pairs(Flux()))
            #expect(!pairs(Flux(), points: 3), "three points leave no pair without wrapping")
        }
    }

    /// The trial sees a real neighbourhood (the first pair of row 0), not made-up values: a
    /// kernel that checks its inputs does not stop on the trial.
    @Test func theTrialReadsARealNeighbourhood() throws {
        let partials = try stencilGradient(Checked(), grid: .periodic(rows: 3, columns: 6), parameters: [0.1], steps: 2, storage: .partials)
        let inputs = try stencilGradient(Checked(), grid: .periodic(rows: 3, columns: 6), parameters: [0.1], steps: 2, storage: .inputs)
        #expect(inputs.gradient.map(\.bitPattern) == partials.gradient.map(\.bitPattern))
    }

    /// The primal two points at a time (`Double.applyStencil`, and the recording's outputs) gives
    /// the values of point by point, for kernels with and without decisions, at every width.
    @Test(arguments: [1, 2, 3, 4, 7, 10])
    func thePrimalInPairsGivesTheValuesOfPointByPoint(columns: Int) {
        func check<K: StencilKernel>(_ kernel: K, rows: Int, _ name: String) {
            let grid = StencilGrid.periodic(rows: rows, columns: columns)
            let u = (0..<grid.pointCount).map { Double.cos(0.37 * Double($0) + 0.1) }
            var paired = [Double](repeating: 0, count: u.count)
            var single = paired
            Double.applyStencil(kernel, on: grid, to: u, parameters: LocalValues([0.3]), into: &paired)
            Double.applyStencilPointwise(kernel, on: grid, to: u, parameters: LocalValues([0.3]), into: &single)
            #expect(paired.map(\.bitPattern) == single.map(\.bitPattern), "\(name), \(rows)×\(columns)")
        }
        for rows in [1, 3] {
            check(Flux(), rows: rows, "flux")
            check(Heat(), rows: rows, "heat")
            check(Smooth(), rows: rows, "smooth")
            check(Upwind(), rows: rows, "upwind")
            check(Limited(), rows: rows, "limited")
        }
        check(Skewed(), rows: 5, "skewed")
    }

    /// A spilling tape cuts the grid into row blocks, each keeping the rows its neighbours reach
    /// (windows that wrap around the grid's edges): the bits of one whole-grid block of partials.
    @Test(arguments: [8, 16, 40, 64])
    func spilledRowBlocksWithTheirWindowsGiveTheSameBits(chunk: Int) throws {
        let grid = StencilGrid.periodic(rows: 9, columns: 5)
        let reference = try stencilGradient(Skewed(), grid: grid, parameters: [0.2], steps: 3, storage: .partials)
        let spilled = try stencilGradient(Skewed(), grid: grid, parameters: [0.2], steps: 3, storage: .inputs, spillChunk: chunk)
        #expect(spilled.gradient.map(\.bitPattern) == reference.gradient.map(\.bitPattern))
        let heatReference = try stencilGradient(Heat(), grid: grid, parameters: [0.1], steps: 2, storage: .partials)
        let heatSpilled = try stencilGradient(Heat(), grid: grid, parameters: [0.1], steps: 2, storage: .inputs, spillChunk: chunk)
        #expect(heatSpilled.gradient.map(\.bitPattern) == heatReference.gradient.map(\.bitPattern))
    }

    /// Inputs that are not consecutive identifiers take the scattering sweep: the same bits too.
    @Test func scatteredInputsGiveTheSameBits() throws {
        let partials = try stencilGradient(Heat(), grid: .periodic(rows: 4, columns: 6), parameters: [0.1], steps: 2, storage: .partials, scatter: true)
        let inputs = try stencilGradient(Heat(), grid: .periodic(rows: 4, columns: 6), parameters: [0.1], steps: 2, storage: .inputs, scatter: true)
        #expect(inputs.gradient.map(\.bitPattern) == partials.gradient.map(\.bitPattern))
    }

    /// A NaN in the state reaches the gradient the same way from recomputed partials.
    @Test func aNaNInputPropagatesAsWithPartials() throws {
        let partials = try stencilGradient(Flux(), grid: .periodic(8), parameters: [0.01], steps: 2, storage: .partials, poison: 3)
        let inputs = try stencilGradient(Flux(), grid: .periodic(8), parameters: [0.01], steps: 2, storage: .inputs, poison: 3)
        #expect(inputs.gradient.contains { $0.isNaN })
        #expect(inputs.gradient.map(\.bitPattern) == partials.gradient.map(\.bitPattern))
    }

    /// Parallel sweeps over one tape recompute partials on several threads at once, each into
    /// its own scratch row: every seed's row equals its serial sweep, and a tape of partials.
    @Test func parallelSweepsOverInputsEqualSerialOnes() {
        func rows(_ storage: StencilStorage, threads: Int) -> [[Double]] {
            let tape = Tape()
            tape.stencilStorage = storage
            let grid = StencilGrid.periodic(rows: 12, columns: 300)
            let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
                let inputs = tape.registerInputs((0..<(grid.pointCount + 1)).map { Double.sin(0.01 * Double($0)) })
                var u = Array(inputs[0..<grid.pointCount])
                let p = LocalValues(count: 1) { _ in inputs[grid.pointCount] }
                for _ in 0..<3 {
                    var next = u
                    Tracked.applyStencil(Heat(), on: grid, to: u, parameters: p, into: &next)
                    u = next
                }
                return (inputs, Array(u[0..<16]))
            }
            return tape.reverse(seeds: outputs.map { [($0, 1.0)] }, reading: inputs, options: ParallelOptions(threads: threads))
        }
        let serial = rows(.inputs, threads: 1)
        let parallel = rows(.inputs, threads: 4)
        let partials = rows(.partials, threads: 4)
        #expect(parallel.map { $0.map(\.bitPattern) } == serial.map { $0.map(\.bitPattern) })
        #expect(partials.map { $0.map(\.bitPattern) } == serial.map { $0.map(\.bitPattern) })
    }

    /// A kernel that reads state changed since the recording would give other partials in the
    /// sweep, and a wrong finite gradient: the sweep compares the values it recomputes with
    /// those recorded, and stops. With partials kept the same kernel records what it saw.
    /// A kernel that starts deciding on values after its trial (hidden state) is met by a pair
    /// that decides: the primal evaluates that row again, and the rest of the grid, point by
    /// point, and gives every point the value its own evaluation gives, with no stop.
    @Test func aKernelDecidingOnlyAfterItsTrialIsEvaluatedPointByPoint() {
        let grid = StencilGrid.periodic(rows: 3, columns: 8)
        let u = (0..<grid.pointCount).map { Double.sin(Double($0)) }
        var next = [Double](repeating: .nan, count: grid.pointCount)
        Double.applyStencil(Moody(), on: grid, to: u, parameters: LocalValues([0.1]), into: &next)
        let expected = (0..<grid.pointCount).map { point -> Double in
            let (row, column) = (point / 8, point % 8)
            let (left, centre, right) = (u[row * 8 + (column + 7) % 8], u[point], u[row * 8 + (column + 1) % 8])
            return centre > left ? centre - 0.1 * left : centre + 0.1 * (left - 2.0 * centre + right)
        }
        #expect(next.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    /// The recording's outputs take the same path, and the sum it keeps of them (which the
    /// sweep checks its recomputed values against) counts each point once, at the value that
    /// stands. The kernel starts deciding at its `threshold`-th evaluation: where that falls in
    /// row 0's pairs, every output is a deciding one and the sweep (deciding too) must find
    /// the values it recorded; where it falls later, the kernel did change, and the sweep says so.
    @Test func aKernelDecidingOnlyAfterItsTrialIsRecordedPointByPoint() {
        let grid = StencilGrid.periodic(rows: 3, columns: 8)
        let u = (0..<grid.pointCount).map { Double.sin(Double($0)) }
        let deciding = LateDecider(threshold: 0)
        var primal = [Double](repeating: 0, count: grid.pointCount)
        Double.applyStencil(deciding, on: grid, to: u, parameters: LocalValues([0.1]), into: &primal)
        var consistent = 0
        for threshold in 1...16 {
            let tape = Tape()
            tape.stencilStorage = .inputs
            let (inputs, next) = tape.record { () -> ([Tracked], [Tracked]) in
                let inputs = tape.registerInputs(u)
                var next = inputs
                Tracked.applyStencil(
                    LateDecider(threshold: threshold), on: grid, to: inputs, parameters: LocalValues([Tracked(0.1)]),
                    into: &next)
                return (inputs, next)
            }
            let gradient = tape.reverse(seeds: [next.map { ($0, 1.0) }], reading: inputs, options: ParallelOptions(threads: 1))
            if next.map(\.value.bitPattern) == primal.map(\.bitPattern) {
                consistent += 1
                #expect(tape.stencilKernelFault == nil, "threshold \(threshold)")
                #expect(gradient[0].allSatisfy { $0.isFinite }, "threshold \(threshold)")
            } else {
                #expect(tape.stencilKernelFault == .changedSinceRecording, "threshold \(threshold)")
                #expect(gradient[0].allSatisfy { $0.isNaN }, "threshold \(threshold)")
            }
        }
        // The trial, and row 0's three pairs, fall inside the thresholds tried.
        #expect(consistent >= 4 && consistent < 16)
    }

    /// Kept partials have no second evaluation for the fingerprint: the recording evaluates its
    /// first point again instead, and a kernel whose own calls change it is caught there: the
    /// tape names the fault and the sweep gives NaN for every input and the parameter.
    @Test func aKernelThatDriftsIsCaughtRecordingItsPartials() {
        let tape = Tape()
        tape.stencilStorage = .partials
        let kernel = Drifting()
        let (inputs, sum) = tape.record { () -> ([Tracked], Tracked) in
            let inputs = tape.registerInputs((0..<9).map { Double.cos(Double($0)) } + [0.1])
            var next = Array(inputs[0..<9])
            Tracked.applyStencil(
                kernel, on: .periodic(9), to: Array(inputs[0..<9]), parameters: LocalValues([inputs[9]]),
                into: &next)
            return (inputs, next.reduce(Tracked(0), +))
        }
        #expect(tape.stencilKernelFault == .changedBetweenEvaluations)
        #expect(throws: StencilKernelFault.changedBetweenEvaluations) { try tape.throwStencilKernelFault() }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(sum, 1)])
        #expect(inputs.allSatisfy { adjoints[$0].isNaN })
    }

    /// Kept inputs let a kernel that reads changed state give other partials in the sweep, a
    /// finite wrong gradient: the sweep compares the values it recomputes with those recorded,
    /// names the fault and gives NaN. With partials kept the same kernel records what it saw.
    @Test func aKernelReadingChangedStateGivesNaNAndAFaultInsteadOfAWrongGradient() {
        let recordedAsSeen = forcedGradient(.partials)
        #expect(recordedAsSeen.gradient.allSatisfy { $0.isFinite })
        #expect(recordedAsSeen.fault == nil)
        let swept = forcedGradient(.inputs)
        #expect(swept.fault == .changedSinceRecording)
        #expect(swept.gradient.allSatisfy { $0.isNaN })
    }

    /// Store-all, in memory and spilled, revolve and a Jacobian: the drifting kernel is caught while
    /// recording, and the run throws the fault instead of returning the NaN its sweep gave;
    /// the spilled run's directory is left empty.
    @Test func aTimeSteppingRunOfADriftingKernelThrowsTheFault() throws {
        let parent = FileManager.default.temporaryDirectory
            .appendingPathComponent("rewind-kernel-fault-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let state = (0..<9).map { Double.cos(Double($0)) }
        for strategy in [CheckpointStrategy.storeAll, .spill] {
            let error = #expect(throws: TimeSteppingError.self) {
                _ = try TimeStepping.gradient(
                    of: DriftingStep(), initialState: state, parameters: [0.1], steps: 5,
                    options: TimeSteppingOptions(strategy: strategy, spillDirectory: parent))
            }
            #expect(error == .stencilKernelFault(.changedBetweenEvaluations), "\(strategy)")
            #expect(error?.description.contains("pass such values as parameters") == true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
        // Checkpointed, the replay check may see the drift first: an error either way, never a gradient.
        let checkpointed = #expect(throws: TimeSteppingError.self) {
            _ = try TimeStepping.gradient(
                of: DriftingStep(), initialState: state, parameters: [0.1], steps: 5,
                options: TimeSteppingOptions(strategy: .revolve(snapshots: 2)))
        }
        switch checkpointed {
        case .stencilKernelFault?, .replayDiffers?: break
        default: Issue.record("expected a kernel fault or a replay that differs, got \(String(describing: checkpointed))")
        }
        #expect(throws: TimeSteppingError.stencilKernelFault(.changedBetweenEvaluations)) {
            _ = try TimeStepping.jacobian(
                of: DriftingStep(), initialState: state, parameters: [0.1], steps: 5,
                options: TimeSteppingOptions(strategy: .storeAll))
        }
    }
}
