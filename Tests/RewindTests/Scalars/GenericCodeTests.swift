import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// A small simulation written once over `SimulationScalar`: a damped pendulum with a forcing
/// bump, integrated by 25 explicit Euler steps. Inputs: angle, angular velocity, stiffness,
/// damping, forcing amplitude. Outputs: angle, velocity, and two derived quantities.
func pendulum<T: SimulationScalar>(_ p: [T]) -> [T] {
    var (u, v) = (p[0], p[1])
    let (k, c, a) = (p[2], p[3], p[4])
    let dt = 0.04
    for step in 0..<25 {
        let t = Double(step) * dt
        let forcing = a * T.exp(-(u * u)) * T(Double.cos(3 * t))
        let acceleration = -k * T.sin(u) - c * v * T.sqrt(1 + v * v) + forcing
        u += v * dt
        v += acceleration * dt
        // A branch on a value, not differentiated: the generic code may decide on `primal`.
        if u.primal > 2 { u = u - 0.5 }
    }
    let energy = 0.5 * v * v + k * (1 - T.cos(u))
    let phase = T.atan2(y: v, x: u + 2)
    return [u, v, T.log(onePlus: energy), T.tanh(phase) / T.hypot(u, 1 + c)]
}

/// The sum of the pendulum's outputs, as a scalar function for `expectDerivatives`.
struct PendulumSum: ScalarTestFunction {
    func callAsFunction<T: SimulationScalar>(_ x: [T]) -> T {
        pendulum(x).reduce(0, +)
    }
}

@Suite("Generic code on Double, Tracked and Dual") struct GenericCodeTests {
    static let points: [[Double]] = [
        [0.3, -0.2, 4, 0.1, 0.5],
        [1.2, 0.8, 9.81, 0.35, -1],
        [-0.7, 2.5, 2, 0.05, 3],
    ]

    @Test("the same values on Double, Tracked and Dual", arguments: points)
    func sameValues(point: [Double]) {
        let primal: [Double] = pendulum(point)
        let tape = Tape()
        let tracked = tape.record { pendulum(tape.registerInputs(point)) }
        let dual = pendulum(point.map { Dual<Double>($0, tangent: 1) })
        let lanes = pendulum(point.map { Dual<SIMD4<Double>>($0, tangent: SIMD4(1, -1, 2, 0.5)) })
        for i in primal.indices {
            #expect(isIdentical(tracked[i].value, primal[i]), "output \(i): Tracked \(tracked[i].value), Double \(primal[i])")
            #expect(isIdentical(dual[i].value, primal[i]), "output \(i): Dual \(dual[i].value), Double \(primal[i])")
            #expect(isIdentical(lanes[i].value, primal[i]), "output \(i): Dual<SIMD4> \(lanes[i].value), Double \(primal[i])")
        }
        #expect(tape.statistics.statementCount > 25 * 10, "the recording is suspiciously short: \(tape.statistics)")
    }

    @Test("the scalar sum passes every derivative check", arguments: points)
    func derivativeChecks(point: [Double]) {
        expectDerivatives(of: PendulumSum(), at: point)
    }

    /// Row i of the reverse-mode Jacobian (one sweep per output) against column j of the
    /// tangent mode (one evaluation per input), entry by entry.
    @Test("reverse Jacobian rows equal tangent Jacobian columns", arguments: points)
    func jacobianRowsAndColumns(point: [Double]) {
        let rows = RecordedFunction(at: point) { pendulum($0) }.jacobian()
        let columns = point.indices.map { j in
            let direction = point.indices.map { $0 == j ? 1.0 : 0 }
            return jacobianVectorProduct(at: point, direction: direction) { pendulum($0) }.product
        }
        #expect(rows.count == 4 && columns.count == point.count)
        for i in rows.indices {
            let scale = rows[i].map(\.magnitude).max() ?? 0
            for j in point.indices {
                #expect(
                    isClose(rows[i][j], columns[j][i], relative: 1e-13, absolute: 1e-13 * scale),
                    "J[\(i)][\(j)]: reverse \(rows[i][j]), tangent \(columns[j][i])")
            }
        }
    }

    /// The dot-product test ⟨J v, w⟩ = ⟨v, Jᵀ w⟩ for random v and w.
    @Test("dot-product test", arguments: points)
    func dotProductTest(point: [Double]) {
        var generator = SeededGenerator(seed: 20_240_611)
        let recorded = RecordedFunction(at: point) { pendulum($0) }
        for trial in 0..<8 {
            let v = point.map { _ in Double.random(in: -1...1, using: &generator) }
            let w = recorded.outputs.map { _ in Double.random(in: -1...1, using: &generator) }
            let jv = jacobianVectorProduct(at: point, direction: v) { pendulum($0) }.product
            let jtw = recorded.pullback(w)
            let left = zip(jv, w).map { $0 * $1 }
            let right = zip(v, jtw).map { $0 * $1 }
            let lhs: Double = left.reduce(0) { $0 + $1 }
            let rhs: Double = right.reduce(0) { $0 + $1 }
            let scale: Double = (left + right).reduce(0) { $0 + $1.magnitude }
            #expect(
                (lhs - rhs).magnitude <= 1e-13 * scale,
                "trial \(trial): ⟨J v, w⟩ = \(lhs), ⟨v, Jᵀ w⟩ = \(rhs) for v = \(v), w = \(w)")
        }
    }

    /// Four directions in the lanes of one `Dual<SIMD4<Double>>` evaluation give exactly the
    /// four `Dual<Double>` evaluations: the lanes do not mix.
    @Test("SIMD lanes equal separate tangent evaluations", arguments: points)
    func lanesEqualSeparateEvaluations(point: [Double]) {
        var generator = SeededGenerator(seed: 7)
        let directions = (0..<4).map { _ in point.map { _ in Double.random(in: -1...1, using: &generator) } }
        let inputs = point.indices.map { i in
            Dual<SIMD4<Double>>(
                point[i], tangent: SIMD4(directions[0][i], directions[1][i], directions[2][i], directions[3][i]))
        }
        let lanes = pendulum(inputs)
        for lane in 0..<4 {
            let single = jacobianVectorProduct(at: point, direction: directions[lane]) { pendulum($0) }.product
            for i in single.indices {
                #expect(
                    isIdentical(lanes[i].tangent[lane], single[i]),
                    "output \(i), lane \(lane): \(lanes[i].tangent[lane]) vs Dual<Double> \(single[i])")
            }
        }
    }
}
