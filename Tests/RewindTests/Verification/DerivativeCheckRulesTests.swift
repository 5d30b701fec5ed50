import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// `rule` with its derivative scaled by `1 + relativeError`: a rule that is wrong by that much.
private func off(by relativeError: Double, _ rule: @escaping (Double) -> LocalDerivative) -> (Double) -> LocalDerivative {
    { x in
        let r = rule(x)
        return LocalDerivative(r.value, r.derivative * (1 + relativeError))
    }
}

/// Rules of one variable and points where each is smooth.
private let rulesOfOneVariable: [(name: String, rule: (Double) -> LocalDerivative, points: [Double])] = [
    ("sinc", StableRules.sinc, [-2.5, -0.7, 0.3, 0.9, 1.7]),
    ("softplus", StableRules.softplus, [-12, -1.5, 0.2, 3, 9]),
    ("xlogx", StableRules.xlogx, [0.05, 0.4, 1.3, 3.9]),
    ("exp", ElementaryRules.exp, [-3, -0.2, 0.5, 2.5]),
    ("log", { ElementaryRules.log($0) }, [0.02, 0.6, 7, 90]),
    ("sin", ElementaryRules.sin, [-4, -1, 0.3, 2.2]),
]

@Suite("Custom rules against finite differences of their primal (test_rrule)")
struct DerivativeCheckRulesTests {
    @Test(arguments: rulesOfOneVariable.indices)
    func correctRulesPassAtEveryPoint(index: Int) {
        let (name, rule, points) = rulesOfOneVariable[index]
        for x in points {
            let report = DerivativeCheck.forRules.run(rule: rule, at: x)
            #expect(report.passed, "\(name) at \(x): \(report.failures)")
            #expect(report.finiteDifferences.entries.allSatisfy { $0.expectedDigits >= 11 },
                    "\(name) at \(x): \(report.finiteDifferences.entries.map(\.summary))")
        }
    }

    /// The dot-product test cannot see these (the tangent mode applies the same wrong rule);
    /// finite differences of the value can, down to 1e-10 relative. Margins, measured at these
    /// points: a 1e-10 error is at least 9.8 times the tolerance, while a correct rule uses at
    /// most 0.1 of it.
    @Test(arguments: rulesOfOneVariable.indices, [1e-6, 1e-8, 1e-10])
    func rulesOffBy1e6To1e10FailAtEveryPoint(index: Int, relativeError: Double) {
        let (name, rule, points) = rulesOfOneVariable[index]
        for x in points {
            let report = DerivativeCheck.forRules.run(rule: off(by: relativeError, rule), at: x)
            #expect(!report.passed, "\(name) off by \(relativeError) at \(x) passed: \(report.finiteDifferences.entries.map(\.summary))")
            #expect(!report.finiteDifferences.entries[0].passed, "\(report.finiteDifferences.entries.map(\.summary))")
            #expect(report.failures.contains { $0.hasPrefix("finite differences:") && $0.contains("agrees to") }, "\(report.failures)")
            #expect(report.dotProduct!.relativeError < 1e-14, "tangent and reverse share the rule, so they agree")
        }
    }

    @Test func rulesOfTwoAndManyVariables() {
        let check = DerivativeCheck.forRules
        for (x, y) in [(0.3, 0.7), (2.5, 0.05), (1.0, 4.0)] {
            #expect(check.run(rule: StableRules.xlogy, at: x, y).passed, "xlogy at \(x), \(y)")
            #expect(check.run(rule: StableRules.norm, at: x, -y).passed, "norm at \(x), \(-y)")
            let wrong: (Double, Double) -> LocalPartials = { x, y in
                let r = StableRules.xlogy(x, y)
                return LocalPartials(r.value, r.first, r.second * (1 + 1e-9))
            }
            let report = check.run(rule: wrong, at: x, y)
            #expect(!report.passed && !report.finiteDifferences.entries[1].passed, "\(report.finiteDifferences.entries.map(\.summary))")
        }
        let point = [0.3, -1.2, 2.0, 0.5]
        #expect(check.run(rule: StableRules.logSumExp, at: point).passed)
        #expect(check.run(rule: StableRules.norm, at: point).passed)
        let wrongSoftmax: ([Double]) -> LocalGradient = { x in
            var r = StableRules.logSumExp(x)
            r.partials[2] *= 1 + 1e-9
            return r
        }
        let report = check.run(rule: wrongSoftmax, at: point)
        #expect(!report.passed && !report.finiteDifferences.entries[2].passed, "\(report.finiteDifferences.entries.map(\.summary))")
    }

    /// `y = A⁻¹ b` for a 2×2 `A` with entries `x0…x3` and `b = (x4, x5)`: the classic custom
    /// adjoint, `b̄ = A⁻ᵀ ȳ`, `Ā = −b̄ yᵀ`.
    @Test(arguments: [0.0, 1e-6, 1e-8, 1e-10])
    func aCustomAdjointIsCheckedAgainstItsPrimal(relativeError: Double) {
        let x = [3.0, 1.0, 0.5, 2.0, 1.0, -2.0]
        let solve: ([Double]) -> [Double] = { x in
            let det = x[0] * x[3] - x[1] * x[2]
            return [(x[3] * x[4] - x[1] * x[5]) / det, (x[0] * x[5] - x[2] * x[4]) / det]
        }
        let y = solve(x)
        let det = x[0] * x[3] - x[1] * x[2]
        let reverse: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void = { ybar, xbar in
            // b̄ = A⁻ᵀ ȳ
            let b0 = (x[3] * ybar[0] - x[2] * ybar[1]) / det
            let b1 = (-x[1] * ybar[0] + x[0] * ybar[1]) / det
            xbar[0] = -b0 * y[0]
            xbar[1] = -b0 * y[1] * (1 + relativeError)
            xbar[2] = -b1 * y[0]
            xbar[3] = -b1 * y[1]
            xbar[4] = b0
            xbar[5] = b1
        }
        let report = DerivativeCheck.forRules.run(customAdjoint: reverse, primal: solve, at: x)
        if relativeError == 0 {
            #expect(report.passed, "\(report.failures)")
        } else {
            #expect(!report.passed, "\(report.finiteDifferences.entries.map(\.summary))")
            #expect(!report.finiteDifferences.entries[1].passed, "\(report.finiteDifferences.entries.map(\.summary))")
            #expect(report.finiteDifferences.entries.filter { !$0.passed }.allSatisfy { ["x[1]", "random direction"].contains($0.name) })
        }
    }

    /// Ill-conditioned functions, correct gradients: the check must pass, because its tolerance
    /// follows what the estimate can resolve (2 digits for a cancelling primal, 13 for a
    /// Hilbert form) instead of a fixed line.
    @Test func correctGradientsOfIllConditionedFunctionsPass() {
        let hilbert = (0..<8).map { i in (0..<8).map { j in 1.0 / Double(i + j + 1) } }
        typealias Case = (name: String, point: [Double], f: ([Double]) -> Double, tracked: ([Tracked]) -> Tracked)
        var cases: [Case] = [
            ("hilbert quadratic form (cond 1.5e10)", (0..<8).map { Double($0 % 3) - 0.7 },
             { x in var s = 0.0; for i in 0..<8 { for j in 0..<8 { s += x[i] * hilbert[i][j] * x[j] } }; return s },
             { x in var s = Tracked(0); for i in 0..<8 { for j in 0..<8 { s = s + x[i] * hilbert[i][j] * x[j] } }; return s }),
            ("rosenbrock near its minimum", [0.999, 0.998],
             { x in 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]) },
             { x in 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]) }),
            ("1e8 (x − y) eˣ with x ≈ y", [1.0000001, 1.0],
             { x in 1e8 * (x[0] - x[1]) * Double.exp(x[0]) }, { x in 1e8 * (x[0] - x[1]) * Tracked.exp(x[0]) }),
        ]
        // (1 − cos x)/x² written naively: the primal cancels, 2–9 digits left.
        for x in [1e-3, 3e-3, 0.01, 0.05, 0.2] {
            cases.append(("naive (1 − cos x)/x² at \(x)", [x],
                          { v in (1 - Double.cos(v[0])) / (v[0] * v[0]) }, { v in (1 - Tracked.cos(v[0])) / (v[0] * v[0]) }))
        }
        for order in [4, 8] {
            for c in cases {
                let (_, g) = valueWithGradient(at: c.point, of: c.tracked)
                let report = DerivativeCheck(stencil: .centered(order: order)).run(of: c.f, at: c.point, gradient: g)
                #expect(report.passed, "order \(order), \(c.name): \(report.failures)")
            }
        }
    }

    /// The estimated error is what the tolerance multiplies, so it must bound the true error:
    /// against exact derivatives at 40 points of each function, the largest ratio stays far
    /// below the safety factor of 10.
    @Test(arguments: [4, 8])
    func theEstimatedErrorBoundsTheTrueError(order: Int) {
        let functions: [(Double) -> Double] = [{ Double.exp($0) }, { Double.sin($0) }, { Double.atan($0) }, { Double.log(2 + $0) }]
        let derivatives: [(Double) -> Double] = [{ Double.exp($0) }, { Double.cos($0) }, { 1 / (1 + $0 * $0) }, { 1 / (2 + $0) }]
        var generator = SeededGenerator(seed: 12)
        var worst = 0.0
        for (f, df) in zip(functions, derivatives) {
            for _ in 0..<40 {
                let x = Double.random(in: -1.5...1.5, using: &generator)
                let e = FiniteDifference.partialDerivative(
                    of: { f($0[0]) }, at: [x], index: 0, stencil: .centered(order: order))
                worst = Swift.max(worst, (e.derivative - df(x)).magnitude / e.estimatedError)
            }
        }
        #expect(worst < 3, "largest |FD − exact| / estimate: \(worst)")
    }

    /// A primal carrying only 10 digits (f(x) = x + 1e-10·n(x), n a hash of x's bits in
    /// [−1, 1], as a long simulation's rounding might look): the estimate's rounding part is
    /// measured from the scatter at small steps, not taken as ε|f|/h, so a right derivative
    /// passes with about 9 digits expected and a wrong one by 1e-6 still fails.
    @Test func theRoundingPartIsMeasuredWhenThePrimalIsNoisierThanOneUlp() {
        let f: ([Double]) -> Double = { x in
            var g = SeededGenerator(seed: x[0].bitPattern)
            return x[0] + 1e-10 * Double.random(in: -1...1, using: &g)
        }
        for x in [0.3, 1.7, 5.0] {
            let e = FiniteDifference.partialDerivative(of: f, at: [x], index: 0)
            #expect((e.derivative - 1).magnitude <= e.estimatedError, "\(e)")
            #expect(e.roundingError > 1e3 * Double.ulpOfOne * x / e.step, "measured, not ε|f|/h: \(e)")
            let right = DerivativeCheck().run(of: f, at: [x], gradient: [1])
            #expect(right.finiteDifferences.passed, "\(right.finiteDifferences.entries.map(\.summary))")
            #expect(right.finiteDifferences.entries.allSatisfy { (6...11).contains($0.expectedDigits) },
                    "\(right.finiteDifferences.entries.map(\.summary))")
            let wrong = DerivativeCheck().run(of: f, at: [x], gradient: [1 + 1e-6])
            #expect(!wrong.finiteDifferences.passed, "\(wrong.finiteDifferences.entries.map(\.summary))")
        }
    }

    /// A chaotic map (the logistic map at r = 3.7, 60 steps: ∂f/∂x₀ ≈ −6.7e8) varies on a length
    /// of 1e-9. Its estimates at large steps are noise of size 1/h that can agree by chance;
    /// the scan must go on to the linear regime and pick the estimate with the most digits.
    @Test(arguments: [4, 8])
    func theScanFindsTheDerivativeOfAChaoticMap(order: Int) {
        let f: ([Double]) -> Double = { x in
            var v = x[0]
            for _ in 0..<60 { v = x[1] * v * (1 - v) }
            return v
        }
        let (_, g) = valueWithGradient(at: [0.3, 3.7]) { x in
            var v = x[0]
            for _ in 0..<60 { v = x[1] * v * (1 - v) }
            return v
        }
        let e = FiniteDifference.partialDerivative(of: f, at: [0.3, 3.7], index: 0, stencil: .centered(order: order), scale: 2)
        #expect(e.estimatedError < 1e-4 * g[0].magnitude, "\(e)")
        #expect((e.derivative - g[0]).magnitude <= 10 * e.estimatedError, "FD \(e), AD \(g[0])")
    }
}
