import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// Value and gradient of `body` at `point` on all three scalar types: `Double`, reverse mode
/// (`Tracked`, one sweep) and tangent mode (`Dual`, one unit direction per input).
private struct AllModes {
    var value: Double
    var trackedValue: Double
    var reverse: [Double]
    var tangent: [Double]
}

private protocol StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S
}

private func evaluate<F: StableFunction>(_ f: F, at point: [Double]) -> AllModes {
    let value: Double = f(point)
    let (trackedValue, reverse) = valueWithGradient(at: point) { f($0) }
    let tangent = point.indices.map { j in
        let y: Dual<Double> = f(point.indices.map { Dual(point[$0], tangent: $0 == j ? 1 : 0) })
        return y.tangent
    }
    return AllModes(value: value, trackedValue: trackedValue, reverse: reverse, tangent: tangent)
}

/// Checks every mode against the analytic value and gradient to `relative` (exact match for
/// infinities, NaN only against NaN).
private func expect<F: StableFunction>(
    _ f: F, at point: [Double], value: Double, gradient: [Double], relative: Double = 1e-14,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let r = evaluate(f, at: point)
    #expect(isClose(r.value, value, relative: relative), "\(f) at \(point): value \(r.value), expected \(value)", sourceLocation: sourceLocation)
    #expect(isIdentical(r.trackedValue, r.value), "\(f) at \(point): Tracked value \(r.trackedValue) ≠ Double \(r.value)", sourceLocation: sourceLocation)
    for i in gradient.indices {
        #expect(
            isClose(r.reverse[i], gradient[i], relative: relative),
            "\(f) at \(point): reverse ∂/∂x[\(i)] = \(r.reverse[i]), expected \(gradient[i])", sourceLocation: sourceLocation)
        #expect(
            isClose(r.tangent[i], gradient[i], relative: relative),
            "\(f) at \(point): tangent ∂/∂x[\(i)] = \(r.tangent[i]), expected \(gradient[i])", sourceLocation: sourceLocation)
    }
}

private struct Norm: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.norm(x) }
}
private struct Norm2: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.norm(x[0], x[1]) }
}
/// `√(x·x)`: the composite whose derivative the square-root policy decides at 0.
private struct RootOfSquare: StableFunction {
    var policy: SquareRootDerivativeAtZero
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.sqrt(x[0] * x[0], derivativeAtZero: policy) }
}
private struct SquareRoot: StableFunction {
    var policy: SquareRootDerivativeAtZero
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.sqrt(x[0], derivativeAtZero: policy) }
}
private struct XLogX: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.xlogx(x[0]) }
}
private struct XLogY: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.xlogy(x[0], x[1]) }
}
private struct Sinc: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.sinc(x[0]) }
}
private struct LogSumExp: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.logSumExp(x) }
}
private struct Softplus: StableFunction {
    func callAsFunction<S: SimulationScalar>(_ x: [S]) -> S { S.softplus(x[0]) }
}

@Suite("Stable primitives at and near their singular points")
struct StablePrimitivesTests {
    // MARK: norm

    @Test func normAtZeroHasTheZeroSubgradient() {
        expect(Norm(), at: [0, 0, 0], value: 0, gradient: [0, 0, 0])
        expect(Norm(), at: [-0.0, 0], value: 0, gradient: [0, 0])
        expect(Norm2(), at: [0, 0], value: 0, gradient: [0, 0])
    }

    @Test(arguments: [1e-300, Double.leastNonzeroMagnitude, 1e-160, 0.3, 1e160, 1e300])
    func normNearZeroAndFarAwayNeitherUnderflowsNorOverflows(scale: Double) {
        // (3, −4, 12)·scale has norm 13·scale and gradient (3, −4, 12)/13 whatever the scale;
        // squaring 1e-160 underflows and 1e160 overflows in the naive formula.
        let x = [3 * scale, -4 * scale, 12 * scale]
        let expectedValue = 13 * scale
        // Subnormal inputs are not exact multiples: compute the reference from what they are.
        let relative = scale < 1e-307 ? 1e-2 : 1e-14
        expect(Norm(), at: x, value: expectedValue, gradient: x.map { $0 / expectedValue }, relative: relative)
        expect(Norm2(), at: [3 * scale, -4 * scale], value: 5 * scale, gradient: [0.6, -0.8], relative: relative)
    }

    @Test func normOfMoreThanOneStatementsWorthOfComponents() {
        // 600 inputs exceed a statement's 253 arguments: the rule splits the statement.
        let x = (0..<600).map { Double($0 % 7) - 3 }
        let norm = Double.sqrt(x.reduce(0) { $0 + $1 * $1 })
        expect(Norm(), at: x, value: norm, gradient: x.map { $0 / norm })
    }

    // MARK: sqrt policy

    @Test func squareRootPolicyDecidesTheDerivativeAtZero() {
        expect(SquareRoot(policy: .infinity), at: [0], value: 0, gradient: [.infinity])
        expect(SquareRoot(policy: .zero), at: [0], value: 0, gradient: [0])
        // √(x·x) = |x|: the zero policy gives the subgradient 0, the infinite one ∞·0 = NaN.
        expect(RootOfSquare(policy: .zero), at: [0], value: 0, gradient: [0])
        // Reverse mode forms ∞·0 = NaN; tangent mode sees an exactly zero tangent of x·x and
        // gives the strong zero (see CustomRules.swift).
        let infinite = evaluate(RootOfSquare(policy: .infinity), at: [0])
        #expect(infinite.reverse[0].isNaN && infinite.tangent == [0], "\(infinite.reverse), \(infinite.tangent)")
        // Away from 0 the policies agree with 1/(2√x) and with sign(x) for √(x·x).
        for x in [1e-300, 1e-10, 2.0] {
            expect(SquareRoot(policy: .zero), at: [x], value: x.squareRoot(), gradient: [0.5 / x.squareRoot()])
            expect(SquareRoot(policy: .infinity), at: [x], value: x.squareRoot(), gradient: [0.5 / x.squareRoot()])
        }
        expect(RootOfSquare(policy: .zero), at: [-1e-10], value: 1e-10, gradient: [-1])
    }

    // MARK: x log x, x log y

    @Test func xlogxIsZeroAtZeroWithTheOneSidedDerivative() {
        expect(XLogX(), at: [0], value: 0, gradient: [-.infinity])
        for x in [Double.leastNonzeroMagnitude, 1e-300, 1e-8, 0.5, 1, 3] {
            let l = Float80.log(Float80(x))
            expect(XLogX(), at: [x], value: Double(Float80(x) * l), gradient: [Double(l + 1)])
        }
    }

    @Test func xlogyIsZeroWheneverXIsZero() {
        expect(XLogY(), at: [0, 0], value: 0, gradient: [-.infinity, 0])
        expect(XLogY(), at: [0, 2], value: 0, gradient: [Double.log(2), 0])
        expect(XLogY(), at: [0.25, 1e-300], value: 0.25 * Double.log(1e-300), gradient: [Double.log(1e-300), 0.25 / 1e-300])
        expect(XLogY(), at: [3, 0.5], value: 3 * Double.log(0.5), gradient: [Double.log(0.5), 6])
    }

    // MARK: sinc

    /// The derivative of sin(x)/x in 64-bit-significand arithmetic: the quotient rule where
    /// Float80 still has ≥ 49 good bits after cancellation (|x| ≥ 0.01), two series terms where
    /// the next one is below 4e-15 of the sum (|x| ≤ 1e-3).
    static func sincDerivative(_ x: Double) -> Double {
        let t = Float80(x)
        if x.magnitude >= 0.01 { return Double((t * Float80.cos(t) - Float80.sin(t)) / (t * t)) }
        precondition(x.magnitude <= 1e-3, "no accurate reference in (1e-3, 0.01)")
        return Double(-t / 3 + t * t * t / 30)
    }

    @Test(arguments: [0.0, Double.leastNonzeroMagnitude, -1e-300, 1e-8, -1e-5, 1e-3, 0.01, -0.1, 0.5, 0.999, 1, -1.001, 2, 10])
    func sincMatchesTheAnalyticDerivativeAtAndNearZero(x: Double) {
        let value = x == 0 ? 1 : Double(Float80.sin(Float80(x)) / Float80(x))
        expect(Sinc(), at: [x], value: value, gradient: [x == 0 ? 0 : Self.sincDerivative(x)])
    }

    // MARK: logsumexp, softplus

    @Test(arguments: [[1000.0, 999], [-1000, -1001, -1002], [0, 0], [1, 2, 3], [-800, 0], [710, -710, 3]])
    func logSumExpMatchesAnExtendedPrecisionReference(x: [Double]) {
        let t = x.map(Float80.init)
        let m = t.max()!
        let sum = t.reduce(Float80(0)) { $0 + Float80.exp($1 - m) }
        let value = Double(m + Float80.log(sum))
        expect(LogSumExp(), at: x, value: value, gradient: t.map { Double(Float80.exp($0 - m) / sum) })
    }

    @Test func logSumExpOfMinusInfinityIsConstant() {
        expect(LogSumExp(), at: [-.infinity, -.infinity], value: -.infinity, gradient: [0, 0])
        expect(LogSumExp(), at: [-.infinity, 2], value: 2, gradient: [0, 1])
    }

    @Test(arguments: [-1000.0, -745, -40, -1e-10, 0, 1e-10, 1, 40, 709, 800, 1e300])
    func softplusMatchesAnExtendedPrecisionReference(x: Double) {
        let t = Float80(x)
        // Float80 reaches e^11356, so log(1 + eˣ) is direct below that.
        let value = x > 11000 ? x : Double(Float80.log(onePlus: Float80.exp(t)))
        let derivative = Double(1 / (1 + Float80.exp(-t)))
        expect(Softplus(), at: [x], value: value, gradient: [derivative])
    }

    // MARK: composition

    @Test func composedStablePrimitivesStayFiniteWhereTheNaiveFormulasAreNaN() {
        // Distance between coinciding points, through hypot and a 3-vector norm: gradient 0.
        let (value, gradient) = valueWithGradient(at: [1.5, -2, 1.5, -2]) { v in
            Tracked.norm([v[0] - v[2], v[1] - v[3], Tracked.norm(v[0] - v[2], v[1] - v[3])])
        }
        #expect(value == 0)
        #expect(gradient == [0, 0, 0, 0])
        let naive = Rewind.gradient(at: [1.5, -2, 1.5, -2]) { v in
            let dx = v[0] - v[2]
            let dy = v[1] - v[3]
            return Tracked.sqrt(dx * dx + dy * dy)
        }
        #expect(naive.allSatisfy { $0.isNaN }, "the naive norm's gradient at 0 is NaN: \(naive)")
    }
}
