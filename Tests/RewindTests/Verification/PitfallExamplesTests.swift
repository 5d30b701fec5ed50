import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// The worked examples of docs/pitfalls.md, run for real: every number the document quotes
/// is checked here by its printed form, so the document cannot drift from what Rewind does.
@Suite("docs/pitfalls.md examples")
struct PitfallExamplesTests {
    /// `(value, gradient)` printed the way the document shows them.
    static func shown(_ r: (value: Double, gradient: [Double])) -> String {
        "\(r.value) \(r.gradient)"
    }

    static func naiveAndStable(
        at x: [Double], naive: ([Tracked]) -> Tracked, stable: ([Tracked]) -> Tracked
    ) -> (naive: String, stable: String) {
        (shown(valueWithGradient(at: x, of: naive)), shown(valueWithGradient(at: x, of: stable)))
    }

    @Test func quotientOfAVariableByItself() {
        let r = valueWithGradient(at: [0.1]) { x in x[0] / x[0] }
        #expect(Self.shown(r) == "1.0 [0.0]")
        let tiny = valueWithGradient(at: [1e-320]) { x in x[0] / x[0] }
        #expect(Self.shown(tiny) == "1.0 [0.0]")
        let zero = valueWithGradient(at: [0.0]) { x in x[0] / x[0] }
        #expect(Self.shown(zero) == "-nan [nan]")
    }

    @Test func squareRootOfASquare() {
        let r = Self.naiveAndStable(at: [0]) { x in Tracked.sqrt(x[0] * x[0]) } stable: { x in
            Tracked.sqrt(x[0] * x[0], derivativeAtZero: .zero)
        }
        #expect(r.naive == "0.0 [-nan]")
        #expect(r.stable == "0.0 [0.0]")
    }

    @Test func normOfTheZeroVector() {
        let r = Self.naiveAndStable(at: [0, 0, 0]) { x in Tracked.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) } stable: {
            Tracked.norm($0)
        }
        #expect(r.naive == "0.0 [-nan, -nan, -nan]")
        #expect(r.stable == "0.0 [0.0, 0.0, 0.0]")
        let tiny = Self.naiveAndStable(at: [3e-300, 4e-300]) { x in Tracked.sqrt(x[0] * x[0] + x[1] * x[1]) } stable: {
            Tracked.norm($0)
        }
        #expect(tiny.naive == "0.0 [inf, inf]")
        #expect(tiny.stable == "5.0000000000000006e-300 [0.6, 0.7999999999999999]")
        let h = Self.naiveAndStable(at: [0, 0]) { Tracked.hypot($0[0], $0[1]) } stable: { Tracked.norm($0[0], $0[1]) }
        #expect(h.naive == "0.0 [-nan, -nan]")
        #expect(h.stable == "0.0 [0.0, 0.0]")
    }

    @Test func sineOverXAtAndNearZero() {
        let at0 = Self.naiveAndStable(at: [0]) { Tracked.sin($0[0]) / $0[0] } stable: { Tracked.sinc($0[0]) }
        #expect(at0.naive == "-nan [nan]")
        #expect(at0.stable == "1.0 [0.0]")
        let near = Self.naiveAndStable(at: [1e-5]) { Tracked.sin($0[0]) / $0[0] } stable: { Tracked.sinc($0[0]) }
        #expect(near.naive == "0.9999999999833332 [-3.3333199098706245e-06]")
        #expect(near.stable == "0.9999999999833332 [-3.3333333333e-06]")
        // −x/3 + x³/30 at 1e-5, in extended precision.
        #expect(Double(Float80(-1e-5) / 3 + Float80(1e-15) / 30) == -3.3333333333e-06)
    }

    @Test func xLogXAtZero() {
        let r = Self.naiveAndStable(at: [0]) { $0[0] * Tracked.log($0[0]) } stable: { Tracked.xlogx($0[0]) }
        #expect(r.naive == "-nan [-nan]")
        #expect(r.stable == "0.0 [-inf]")
        let y = Self.naiveAndStable(at: [0, 0]) { $0[0] * Tracked.log($0[1]) } stable: { Tracked.xlogy($0[0], $0[1]) }
        #expect(y.naive == "-nan [-inf, -nan]")
        #expect(y.stable == "0.0 [-inf, 0.0]")
    }

    /// Issue 12: the sweep skips a zero adjoint only behind finite partials, so 0·∞ is NaN.
    @Test func zeroAdjointsMeetingInfinitePartials() {
        let rows: [(String, [Double], ([Tracked]) -> Tracked)] = [
            ("sqrt(x)·sqrt(x)", [0], { Tracked.sqrt($0[0]) * Tracked.sqrt($0[0]) }),
            ("exp(log x)", [0], { Tracked.exp(Tracked.log($0[0])) }),
            ("log(exp x)", [800], { Tracked.log(Tracked.exp($0[0])) }),
            ("log(x^1000)", [10], { Tracked.log(Tracked.pow($0[0], 1000)) }),
            ("log(e^x + e^y)", [1000, 1000], { Tracked.log(Tracked.exp($0[0]) + Tracked.exp($0[1])) }),
            ("unused sqrt", [0], { x in _ = Tracked.sqrt(x[0]); return 2.0 * x[0] }),
            ("0·sqrt(x) + y", [0, 2], { x in 0.0 * Tracked.sqrt(x[0]) + x[1] }),
        ]
        let shown = rows.map { "\($0.0): " + Self.shown(valueWithGradient(at: $0.1, of: $0.2)) }
        #expect(
            shown == [
                "sqrt(x)·sqrt(x): 0.0 [-nan]", "exp(log x): 0.0 [-nan]", "log(exp x): inf [-nan]",
                "log(x^1000): inf [-nan]", "log(e^x + e^y): inf [-nan, -nan]", "unused sqrt: 0.0 [-nan]",
                "0·sqrt(x) + y: 2.0 [-nan, 1.0]",
            ])
    }

    /// Issue 12: `sqrt(x·x, derivativeAtZero: .zero)` cannot see an underflowed square.
    @Test func underflowedSquares() {
        let rows: [(String, ([Tracked]) -> Tracked)] = [
            ("sqrt(x·x, .zero)", { Tracked.sqrt($0[0] * $0[0], derivativeAtZero: .zero) }),
            ("abs(x)", { Tracked.abs($0[0]) }),
            ("norm([x])", { Tracked.norm([$0[0]]) }),
        ]
        let shown = rows.map { "\($0.0): " + Self.shown(valueWithGradient(at: [1e-200], of: $0.1)) }
        #expect(shown == ["sqrt(x·x, .zero): 0.0 [0.0]", "abs(x): 1e-200 [1.0]", "norm([x]): 1e-200 [1.0]"])
    }

    /// Issue 12: C's pow for a constant exponent; the real power for `pow(x, y)`.
    @Test func powersOfNegativeBasesAndZeroToTheZero() {
        let rows: [(String, [Double], ([Tracked]) -> Tracked)] = [
            ("pow(x, 2.0)", [-2], { Tracked.pow($0[0], 2.0) }),
            ("pow(x, 0.0)", [0], { Tracked.pow($0[0], 0.0) }),
            ("pow(x, 2.5)", [-2], { Tracked.pow($0[0], 2.5) }),
            ("pow(x, y)", [-2, 2], { Tracked.pow($0[0], $0[1]) }),
            ("power(x, y)", [-2, 2], { Tracked.power($0[0], $0[1]) }),
            ("power(x, y)", [0, 0], { Tracked.power($0[0], $0[1]) }),
            ("pow(x, y)", [0, 0], { Tracked.pow($0[0], $0[1]) }),
        ]
        let shown = rows.map { "\($0.0) at \($0.1): " + Self.shown(valueWithGradient(at: $0.1, of: $0.2)) }
        #expect(
            shown == [
                "pow(x, 2.0) at [-2.0]: 4.0 [-4.0]", "pow(x, 0.0) at [0.0]: 1.0 [0.0]",
                "pow(x, 2.5) at [-2.0]: -nan [-nan]", "pow(x, y) at [-2.0, 2.0]: nan [nan, nan]",
                "power(x, y) at [-2.0, 2.0]: 4.0 [-4.0, nan]", "power(x, y) at [0.0, 0.0]: 1.0 [0.0, nan]",
                "pow(x, y) at [0.0, 0.0]: nan [nan, nan]",
            ])
    }

    @Test func powerWithAZeroBase() {
        // x¹ = x: the derivative at 0 is 1. exp(y log x) gives NaN: the zero adjoint below
        // exp(−∞) = 0 meets log's +∞ at 0, and the sweep forms 0·∞ as IEEE does.
        let r = Self.naiveAndStable(at: [0, 1]) { Tracked.exp($0[1] * Tracked.log($0[0])) } stable: {
            Tracked.pow($0[0], $0[1])
        }
        #expect(r.naive == "0.0 [-nan, -nan]")
        #expect(r.stable == "0.0 [1.0, 0.0]")
        let big = valueWithGradient(at: [0, 2.5]) { Tracked.pow($0[0], $0[1]) }
        #expect(Self.shown(big) == "0.0 [0.0, 0.0]")
        let half = valueWithGradient(at: [0, 0.5]) { Tracked.pow($0[0], $0[1]) }
        #expect(Self.shown(half) == "0.0 [inf, 0.0]")
    }

    @Test func logSumExpOfLargeArguments() {
        let r = Self.naiveAndStable(at: [1000, 999]) { Tracked.log(Tracked.exp($0[0]) + Tracked.exp($0[1])) } stable: {
            Tracked.logSumExp($0)
        }
        #expect(r.naive == "inf [-nan, -nan]")
        #expect(r.stable == "1000.3132616875182 [0.7310585786300049, 0.2689414213699951]")
    }

    @Test func softplusAtBothEnds() {
        let big = Self.naiveAndStable(at: [1000]) { Tracked.log(1 + Tracked.exp($0[0])) } stable: { Tracked.softplus($0[0]) }
        #expect(big.naive == "inf [-nan]")
        #expect(big.stable == "1000.0 [1.0]")
        let small = Self.naiveAndStable(at: [-40]) { Tracked.log(1 + Tracked.exp($0[0])) } stable: { Tracked.softplus($0[0]) }
        #expect(small.naive == "0.0 [4.248354255291589e-18]")
        #expect(small.stable == "4.248354255291589e-18 [4.248354255291589e-18]")
    }
}
