import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage
@testable import RewindTimeStepping

/// Plummer-softened gravity in 2-D: bodies (x, y), parameters (G·m, ε²); no singularity at
/// zero distance.
struct SoftGravity2D: PairInteraction {
    var width: Int { 2 }
    var outputCount: Int { 2 }
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

/// `SoftGravity2D` declaring that x and y enter only as differences: 4 lanes instead of 6.
struct SoftGravity2DDifferences: PairInteraction {
    var width: Int { 2 }
    var outputCount: Int { 2 }
    var differenceComponents: Int { 2 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        SoftGravity2D()(target, source, p)
    }
}

/// `SoftCoulomb2D` (bodies x, y, q) with its positions declared as differences; the charge
/// keeps its target lane.
private struct SoftCoulomb2DDifferences: PairInteraction {
    var width: Int { 3 }
    var outputCount: Int { 2 }
    var differenceComponents: Int { 2 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        SoftCoulomb2D()(target, source, p)
    }
}

/// A wrong declaration: the charge (component 2) is read on its own.
private struct SoftCoulomb2DWrongDeclaration: PairInteraction {
    var width: Int { 3 }
    var outputCount: Int { 2 }
    var differenceComponents: Int { 3 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        SoftCoulomb2D()(target, source, p)
    }
}

/// Lennard-Jones in 3-D with a per-body strength: bodies (x, y, z, q), parameters (σ², ε);
/// 2·4 + 2 = 10 lanes, so the sixteen-lane path. Also returns the pair energy as a 4th output.
private struct WeightedLennardJones3D: PairInteraction {
    var width: Int { 4 }
    var outputCount: Int { 4 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        let dx = target[0] - source[0]
        let dy = target[1] - source[1]
        let dz = target[2] - source[2]
        let r2 = dx * dx + dy * dy + dz * dz
        let s2 = p[0] / r2
        let s6 = s2 * s2 * s2
        let strength = p[1] * target[3] * source[3]
        let energy = 4.0 * strength * (s6 * s6 - s6)
        let f = 24.0 * strength * (2.0 * s6 * s6 - s6) / r2
        return LocalValues(count: 4) { [f * dx, f * dy, f * dz, energy][$0] }
    }
}

/// Softened Coulomb in 2-D with charges: bodies (x, y, q), parameter ε²; the (3, 2) shape takes
/// the sweep's general loop.
private struct SoftCoulomb2D: PairInteraction {
    var width: Int { 3 }
    var outputCount: Int { 2 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        let dx = target[0] - source[0]
        let dy = target[1] - source[1]
        let r2 = dx * dx + dy * dy + p[0]
        let s = target[2] * source[2] / (r2 * T.sqrt(r2))
        return LocalValues(count: 2) { $0 == 0 ? s * dx : s * dy }
    }
}

/// Eight components a body and two parameters: 18 lanes, more than the widest `Dual`, so the
/// elementary recording.
private struct EightComponents: PairInteraction {
    var width: Int { 8 }
    var outputCount: Int { 1 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        var sum: T = 0
        for c in 0..<8 { sum = sum + T.sin(target[c] - p[0] * source[c]) }
        return LocalValues(count: 1) { _ in sum * p[1] }
    }
}

/// A kernel whose partial is infinite when two bodies share a coordinate: ∛Δx.
private struct RootDistance: PairInteraction {
    var width: Int { 1 }
    var outputCount: Int { 1 }
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
    ) -> LocalValues<T> {
        LocalValues(count: 1) { _ in p[0] * T.cbrt(source[0] - target[0]) }
    }
}

/// Bodies on a perturbed circle: distinct, well separated.
private func circle(_ n: Int, components: Int = 2) -> [Double] {
    (0..<n).flatMap { i -> [Double] in
        let angle = 2 * Double.pi * Double(i) / Double(n)
        let r = 1 + 0.1 * Double.sin(3 * Double(i) + 0.5)
        let xyz = [r * Double.cos(angle), r * Double.sin(angle), 0.2 * Double.cos(5 * Double(i))]
        return (0..<components).map { $0 < 3 ? xyz[$0] : 0.8 + 0.05 * Double(i % 4) }
    }
}

private func weights(_ count: Int) -> [Double] { (0..<count).map { 1 + 0.3 * Double.sin(Double($0)) } }

/// Gradient of Σ wₖ·outputₖ with respect to bodies and parameters, fast or elementary.
private func pairGradient<K: PairInteraction>(
    _ kernel: K, bodies: [Double], parameters: [Double], elementary: Bool, tape: Tape = Tape()
) -> (values: [Double], gradient: [Double], statements: Int) {
    let n = bodies.count / kernel.width
    let w = weights(n * kernel.outputCount)
    let recorded = RecordedFunction(at: bodies + parameters, tape: tape) { x in
        let b = Array(x[0..<bodies.count])
        let p = LocalValues(count: parameters.count) { x[bodies.count + $0] }
        var out = [Tracked](repeating: Tracked(0), count: n * kernel.outputCount)
        if elementary {
            Tracked.sumInteractionsElementary(kernel, bodies: b, parameters: p, into: &out)
        } else {
            Tracked.sumInteractions(kernel, bodies: b, parameters: p, into: &out)
        }
        return out
    }
    return (recorded.value, recorded.pullback(w), recorded.tape.statistics.statementCount)
}

private func expectPairsClose(_ a: [Double], _ b: [Double], relative: Double, _ comment: Comment? = nil) {
    let scale = b.map(\.magnitude).max() ?? 1
    #expect(a.count == b.count)
    for k in a.indices where k < b.count {
        #expect(abs(a[k] - b[k]) <= relative * max(scale, 1e-300), "component \(k): \(a[k]) vs \(b[k]) \(comment.map { "\($0)" } ?? "")")
    }
}

@Suite("Preaccumulation: all-pairs interactions")
struct PairInteractionTests {
    @Test func doubleSumsEveryOtherBodyInAscendingOrder() {
        let bodies = [0.0, 0.0, 1.0, 0.0, 0.0, 2.0]
        var out = [Double](repeating: .nan, count: 6)
        Double.sumInteractions(SoftGravity2D(), bodies: bodies, parameters: LocalValues([1, 0]), into: &out)
        // Body 0 feels body 1 at distance 1 along x and body 2 at distance 2 along y.
        #expect(out[0] == 1 && out[1] == 0.25)
        var expected = [Double](repeating: 0, count: 6)
        for i in 0..<3 {
            for j in 0..<3 where j != i {
                let f = SoftGravity2D()(
                    LocalValues([bodies[2 * i], bodies[2 * i + 1]]), LocalValues([bodies[2 * j], bodies[2 * j + 1]]),
                    LocalValues([1, 0]))
                expected[2 * i] = expected[2 * i] + f[0]
                expected[2 * i + 1] = expected[2 * i + 1] + f[1]
            }
        }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test(arguments: [0, 1, 2, 3, 5, 8, 17])
    func fastPathMatchesElementaryAndDoubleValues(bodies n: Int) {
        let bodies = circle(n)
        let fast = pairGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], elementary: false)
        let slow = pairGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], elementary: true)
        var primal = [Double](repeating: 0, count: 2 * n)
        Double.sumInteractions(SoftGravity2D(), bodies: bodies, parameters: LocalValues([0.7, 0.05]), into: &primal)
        #expect(fast.values.map(\.bitPattern) == primal.map(\.bitPattern), "the same operations as on Double")
        #expect(slow.values.map(\.bitPattern) == primal.map(\.bitPattern))
        expectPairsClose(fast.gradient, slow.gradient, relative: 1e-12)
        if n >= 2 {
            // Inputs, one marker and one leaf per output.
            #expect(fast.statements == bodies.count + 2 + 1 + 2 * n)
            #expect(slow.statements > fast.statements)
        }
    }

    @Test func gradientMatchesCentralDifferences() {
        let bodies = circle(5)
        let parameters = [0.7, 0.05]
        let fast = pairGradient(SoftGravity2D(), bodies: bodies, parameters: parameters, elementary: false)
        let point = bodies + parameters
        let w = weights(10)
        func objective(_ x: [Double]) -> Double {
            var out = [Double](repeating: 0, count: 10)
            Double.sumInteractions(
                SoftGravity2D(), bodies: Array(x[0..<10]), parameters: LocalValues([x[10], x[11]]), into: &out)
            return zip(w, out).reduce(0) { $0 + $1.0 * $1.1 }
        }
        for k in point.indices {
            let h = 1e-6 * max(1, abs(point[k]))
            var plus = point, minus = point
            plus[k] += h
            minus[k] -= h
            let difference = (objective(plus) - objective(minus)) / (2 * h)
            #expect(abs(difference - fast.gradient[k]) <= 1e-6 * max(1, abs(difference)), "input \(k)")
        }
    }

    @Test(arguments: [2, 3, 6])
    func sixteenLanesForWideBodiesMatchElementary(bodies n: Int) {
        let bodies = circle(n, components: 4)
        let fast = pairGradient(WeightedLennardJones3D(), bodies: bodies, parameters: [0.3, 0.9], elementary: false)
        let slow = pairGradient(WeightedLennardJones3D(), bodies: bodies, parameters: [0.3, 0.9], elementary: true)
        #expect(fast.values.map(\.bitPattern) == slow.values.map(\.bitPattern))
        expectPairsClose(fast.gradient, slow.gradient, relative: 1e-12)
    }

    @Test(arguments: [2, 5])
    func threeComponentsTwoOutputsMatchElementary(bodies n: Int) {
        let bodies = circle(n, components: 4).enumerated().filter { $0.offset % 4 != 2 }.map(\.element)
        let fast = pairGradient(SoftCoulomb2D(), bodies: bodies, parameters: [0.05], elementary: false)
        let slow = pairGradient(SoftCoulomb2D(), bodies: bodies, parameters: [0.05], elementary: true)
        #expect(fast.values.map(\.bitPattern) == slow.values.map(\.bitPattern))
        expectPairsClose(fast.gradient, slow.gradient, relative: 1e-12)
    }

    @Test(arguments: [2, 3, 8])
    func differenceComponentsMatchElementaryAndTheUndeclaredKernel(bodies n: Int) {
        let bodies = circle(n)
        let declared = pairGradient(SoftGravity2DDifferences(), bodies: bodies, parameters: [0.7, 0.05], elementary: false)
        let undeclared = pairGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], elementary: false)
        let slow = pairGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], elementary: true)
        #expect(declared.values.map(\.bitPattern) == slow.values.map(\.bitPattern))
        expectPairsClose(declared.gradient, slow.gradient, relative: 1e-12)
        expectPairsClose(declared.gradient, undeclared.gradient, relative: 1e-13)

        let charged = circle(n, components: 4).enumerated().filter { $0.offset % 4 != 2 }.map(\.element)
        let chargedDeclared = pairGradient(SoftCoulomb2DDifferences(), bodies: charged, parameters: [0.05], elementary: false)
        let chargedSlow = pairGradient(SoftCoulomb2D(), bodies: charged, parameters: [0.05], elementary: true)
        #expect(chargedDeclared.values.map(\.bitPattern) == chargedSlow.values.map(\.bitPattern))
        expectPairsClose(chargedDeclared.gradient, chargedSlow.gradient, relative: 1e-12)
    }

    @Test func aWrongDifferenceDeclarationTraps() async {
        await #expect(processExitsWith: .failure) {
            let bodies = [0.0, 0.0, 1.0, 1.0, 0.5, 2.0]
            _ = RecordedFunction(at: bodies) { x in
                var out = [Tracked](repeating: Tracked(0), count: 4)
                Tracked.sumInteractions(
                    SoftCoulomb2DWrongDeclaration(), bodies: x, parameters: LocalValues([Tracked(0.05)]), into: &out)
                return out
            }
        }
    }

    @Test func moreThanSixteenLanesFallBackToTheElementaryRecording() {
        let bodies = (0..<24).map { 0.1 * Double($0) }
        let fast = pairGradient(EightComponents(), bodies: bodies, parameters: [0.5, 2], elementary: false)
        let slow = pairGradient(EightComponents(), bodies: bodies, parameters: [0.5, 2], elementary: true)
        #expect(fast.gradient.map(\.bitPattern) == slow.gradient.map(\.bitPattern))
        #expect(fast.statements == slow.statements)
    }

    @Test func constantsAmongBodiesAndParametersAndScatteredIdentifiers() {
        let n = 6
        let bodies = circle(n)
        // Bodies in reverse order of registration, body 2's y and the softening constants.
        func run(_ elementary: Bool) -> [Double] {
            let recorded = RecordedFunction(at: bodies + [0.7]) { x in
                var b: [Tracked] = (0..<n).reversed().flatMap { (i: Int) -> [Tracked] in [x[2 * i], x[2 * i + 1]] }
                b[5] = Tracked(b[5].value)
                let p = LocalValues([x[2 * n], Tracked(0.05)])
                var out = [Tracked](repeating: Tracked(0), count: 2 * n)
                if elementary {
                    Tracked.sumInteractionsElementary(SoftGravity2D(), bodies: b, parameters: p, into: &out)
                } else {
                    Tracked.sumInteractions(SoftGravity2D(), bodies: b, parameters: p, into: &out)
                }
                return out
            }
            return recorded.pullback(weights(2 * n))
        }
        let fast = run(false)
        let slow = run(true)
        expectPairsClose(fast, slow, relative: 1e-12)
        // Body 2 of the reversed list is body 3 of the registered one: its y is a constant.
        #expect(fast[2 * 3 + 1] == 0)
        #expect(fast[2 * n] != 0, "the parameter G·m is differentiated")
    }

    @Test func allConstantInputsRecordNothing() {
        let tape = Tape()
        tape.record {
            let before = tape.statistics.statementCount
            var out = [Tracked](repeating: Tracked(0), count: 6)
            Tracked.sumInteractions(
                SoftGravity2D(), bodies: circle(3).map { Tracked($0) }, parameters: LocalValues([Tracked(1), Tracked(0.1)]),
                into: &out)
            #expect(tape.statistics.statementCount == before)
            #expect(out.allSatisfy { $0.isConstant })
        }
    }

    @Test func anInfinitePartialUnderAZeroAdjointStillGivesNaN() {
        // Bodies 0 and 2 share x: ∛Δx has an infinite partial there. Only body 1's output is
        // weighted, so bodies 0 and 2's outputs have adjoint 0 — and 0·∞ must still be NaN.
        let bodies = [0.5, 1.5, 0.5]
        var gradients: [[Double]] = []
        for elementary in [false, true] {
            let recorded = RecordedFunction(at: bodies + [2.0]) { x in
                var out = [Tracked](repeating: Tracked(0), count: 3)
                let p = LocalValues([x[3]])
                if elementary {
                    Tracked.sumInteractionsElementary(RootDistance(), bodies: Array(x[0..<3]), parameters: p, into: &out)
                } else {
                    Tracked.sumInteractions(RootDistance(), bodies: Array(x[0..<3]), parameters: p, into: &out)
                }
                return out
            }
            gradients.append(recorded.pullback([0, 1, 0]))
        }
        #expect(gradients[0].map(\.isNaN) == gradients[1].map(\.isNaN))
        #expect(gradients[0][0].isNaN && gradients[0][2].isNaN)
    }

    @Test(arguments: [16, 64, 4096])
    func aSpilledTapeGivesTheSameGradientBitForBit(statementsPerChunk: Int) throws {
        let bodies = circle(8)
        let reference = pairGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], elementary: false)
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        let tape = Tape()
        try tape.enableSpilling(to: directory, statementsPerChunk: statementsPerChunk)
        let n = 8
        let w = weights(2 * n)
        let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
            let x = tape.registerInputs(bodies + [0.7, 0.05])
            var out = [Tracked](repeating: Tracked(0), count: 2 * n)
            Tracked.sumInteractions(
                SoftGravity2D(), bodies: Array(x[0..<(2 * n)]), parameters: LocalValues([x[2 * n], x[2 * n + 1]]),
                into: &out)
            return (x, out)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: zip(outputs, w).map { ($0, $1) })
        #expect(tape.spillError == nil)
        #expect(outputs.map(\.value.bitPattern) == reference.values.map(\.bitPattern))
        #expect(inputs.map { adjoints[$0].bitPattern } == reference.gradient.map(\.bitPattern))
        if statementsPerChunk < 64 {
            #expect((tape.spillStatistics?.segmentsWritten ?? 0) > 0)
            #expect(tape.externals.count > 1, "blocks of target bodies that fit a chunk")
        }
    }
}

/// N bodies under softened gravity, symplectic Euler: state = positions (x, y per body) then
/// velocities; parameters (G·m, ε²); objective Σ x² + Σ v² at the end.
struct SoftGravityNBody: TimeSteppingProblem {
    var n: Int
    var elementary = false
    /// Use `SoftGravity2DDifferences` (positions declared as differences).
    var differences = false
    var dt = 0.01
    var stateCount: Int { 4 * n }
    var parameterCount: Int { 2 }

    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        let m = 2 * n
        var acceleration = [S](repeating: 0, count: m)
        let positions = Array(s[0..<m])
        let parameters = LocalValues<S>(count: 2) { p[$0] }
        if elementary {
            S.sumInteractionsElementary(SoftGravity2D(), bodies: positions, parameters: parameters, into: &acceleration)
        } else if differences {
            S.sumInteractions(SoftGravity2DDifferences(), bodies: positions, parameters: parameters, into: &acceleration)
        } else {
            S.sumInteractions(SoftGravity2D(), bodies: positions, parameters: parameters, into: &acceleration)
        }
        for k in 0..<m {
            let v = s[m + k] + dt * acceleration[k]
            next[m + k] = v
            next[k] = s[k] + dt * v
        }
    }

    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum: S = 0
        for k in 0..<(2 * n) { sum = sum + s[k] * s[k] }
        for k in (2 * n)..<(4 * n) { sum = sum + 0.5 * s[k] * s[k] }
        return sum
    }

    func initialState() -> [Double] {
        let positions = circle(n)
        // Roughly circular orbits.
        let velocities: [Double] = (0..<n).flatMap { (i: Int) -> [Double] in [-0.8 * positions[2 * i + 1], 0.8 * positions[2 * i]] }
        return positions + velocities
    }
}

@Suite("All-pairs interactions through the time-stepping driver")
struct PairInteractionTimeSteppingTests {
    @Test func storeAllRevolveAndOnlineAreBitwiseEqualAndMatchElementary() throws {
        let problem = SoftGravityNBody(n: 6)
        let x0 = problem.initialState()
        let p = [0.5, 0.05]
        let steps = 40
        let reference = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: steps, options: TimeSteppingOptions(strategy: .storeAll))
        for strategy in [CheckpointStrategy.revolve(snapshots: 3), .online(snapshots: 3)] {
            let result = try TimeStepping.gradient(
                of: problem, initialState: x0, parameters: p, steps: steps, options: TimeSteppingOptions(strategy: strategy))
            #expect(result.objective.bitPattern == reference.objective.bitPattern, "\(strategy)")
            #expect(result.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern), "\(strategy)")
            #expect(result.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern), "\(strategy)")
        }
        var declared = problem
        declared.differences = true
        for strategy in [CheckpointStrategy.storeAll, .revolve(snapshots: 3), .online(snapshots: 3)] {
            let result = try TimeStepping.gradient(
                of: declared, initialState: x0, parameters: p, steps: steps, options: TimeSteppingOptions(strategy: strategy))
            #expect(result.objective.bitPattern == reference.objective.bitPattern)
            expectPairsClose(result.initialStateGradient, reference.initialStateGradient, relative: 1e-12)
            expectPairsClose(result.parameterGradient, reference.parameterGradient, relative: 1e-12)
        }
        var elementaryProblem = problem
        elementaryProblem.elementary = true
        let elementary = try TimeStepping.gradient(
            of: elementaryProblem, initialState: x0, parameters: p, steps: steps,
            options: TimeSteppingOptions(strategy: .storeAll))
        #expect(elementary.objective.bitPattern == reference.objective.bitPattern)
        expectPairsClose(reference.initialStateGradient, elementary.initialStateGradient, relative: 1e-12)
        expectPairsClose(reference.parameterGradient, elementary.parameterGradient, relative: 1e-12)
        #expect(reference.objective.bitPattern == problem.primal(initialState: x0, parameters: p, steps: steps).objective.bitPattern)
    }

    @Test func aSpilledStoreAllRunIsBitwiseEqual() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-spill-pairs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let problem = SoftGravityNBody(n: 12)
        let x0 = problem.initialState()
        let p = [0.5, 0.05]
        let reference = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: 60, options: TimeSteppingOptions(strategy: .storeAll))
        let budget = MemoryBudget(bytes: max(reference.report.peakTapeBytes / 2, 400_000))
        let spilled = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: 60,
            options: TimeSteppingOptions(strategy: .spill, memoryBudget: budget, spillDirectory: parent))
        #expect(spilled.report.spilledBytes > 0)
        #expect(spilled.objective.bitPattern == reference.objective.bitPattern)
        #expect(spilled.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern))
        #expect(spilled.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
    }
}
