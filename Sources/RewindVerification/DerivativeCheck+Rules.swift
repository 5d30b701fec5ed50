import RewindCore
import RewindTimeStepping
/// Checks of hand-written derivative rules against finite differences of their primal, as
/// ChainRules.jl's `test_rrule` does.
///
/// The dot-product test compares the tangent mode with the reverse mode; a custom rule
/// (`SimulationScalar.applying`, `Tracked.custom`) is the same numbers in both, so a wrong rule
/// passes it. These checks differentiate the rule through the real reverse path — the rule
/// applied to `Tracked`, recorded on a tape and swept — and compare that with finite
/// differences of the function's value, which never looks at the rule's derivative. They use
/// the check's `stencil`; order 8 (`DerivativeCheck.forRules`) resolves 12–13 digits of a
/// smooth rule, enough to see one off by 1e-10.
///
/// ```swift
/// let check = DerivativeCheck.forRules
/// check.run(rule: StableRules.sinc, at: 0.7).passed              // true
/// let wrong: (Double) -> LocalDerivative = { x in
///     let r = StableRules.sinc(x)
///     return LocalDerivative(r.value, r.derivative * (1 + 1e-10))
/// }
/// check.run(rule: wrong, at: 0.7).failures
/// // ["finite differences: random direction: agrees to 10.0 digits, 13.0 expected, beyond 10.0× …"]
/// ```
extension DerivativeCheck {
    /// A check with the 9-point, order-8 stencil, for rules: a cheap function differenced
    /// at 8 points per step, two to three digits sharper than the default order 4.
    public static var forRules: DerivativeCheck { DerivativeCheck(stencil: .centered(order: 8)) }

    /// Checks a rule of one variable: its derivative, recorded on a tape and swept, against
    /// finite differences of its value.
    public func run(rule: (Double) -> LocalDerivative, at x: Double) -> DerivativeCheckReport {
        checkScalarRule(at: [x], names: ["x"]) { v in rule(v[0]).value } reverse: { t in
            Tracked.applying(rule(t[0].value), to: t[0])
        } tangent: { d in
            Dual.applying(rule(d[0].value), to: d[0])
        }
    }

    /// Checks a rule of two variables (`LocalPartials`) the same way, both partials and a
    /// random direction.
    public func run(rule: (Double, Double) -> LocalPartials, at x: Double, _ y: Double) -> DerivativeCheckReport {
        checkScalarRule(at: [x, y], names: ["x", "y"]) { v in rule(v[0], v[1]).value } reverse: { t in
            Tracked.applying(rule(t[0].value, t[1].value), to: t[0], t[1])
        } tangent: { d in
            Dual.applying(rule(d[0].value, d[1].value), to: d[0], d[1])
        }
    }

    /// Checks a rule of several variables (`LocalGradient`, as `StableRules.norm` and
    /// `logSumExp` return) the same way.
    public func run(rule: ([Double]) -> LocalGradient, at x: [Double]) -> DerivativeCheckReport {
        checkScalarRule(at: x, names: nil) { v in rule(v).value } reverse: { t in
            let r = rule(t.map(\.value))
            return Tracked.applying(value: r.value, partials: r.partials, to: t)
        } tangent: { d in
            let r = rule(d.map(\.value))
            return Dual.applying(value: r.value, partials: r.partials, to: d)
        }
    }

    /// Checks a custom adjoint (`Tracked.custom`) against finite differences of its primal.
    ///
    /// A random cotangent `w` (seeded) turns the outputs into the scalar `⟨w, primal(x)⟩`; its
    /// gradient is the reverse rule's `Jᵀw`, obtained by recording `Tracked.custom` with
    /// `reverse` on a tape and sweeping it, and its finite differences need only `primal`.
    ///
    /// ```swift
    /// // y = (x0·x1, 3x0), adjoint by hand
    /// let report = DerivativeCheck.forRules.run(
    ///     customAdjoint: { ybar, xbar in
    ///         xbar[0] = 0.5 * ybar[0] + 3 * ybar[1]   // ∂y0/∂x0 = x1 = 0.5 at the point
    ///         xbar[1] = 2 * ybar[0]                    // ∂y0/∂x1 = x0 = 2
    ///     },
    ///     primal: { x in [x[0] * x[1], 3 * x[0]] }, at: [2, 0.5])
    /// ```
    /// The reverse closure sees only adjoints, so it is the rule at this one point: capture
    /// the point's values (or recompute them from `x`) as `Tracked.custom` callers do.
    public func run(
        customAdjoint reverse: @escaping (_ outputAdjoints: UnsafeBufferPointer<Double>, _ inputAdjoints: UnsafeMutableBufferPointer<Double>) -> Void,
        primal: ([Double]) -> [Double], at x: [Double]
    ) -> DerivativeCheckReport {
        let outputs = primal(x)
        var generator = SeededGenerator(seed: seed &+ 2)
        let w = outputs.map { _ in Double.random(in: -1...1, using: &generator) }
        let gradient = vectorJacobianProduct(at: x, cotangent: w) { t in
            Tracked.custom(inputs: t, outputs: outputs, reverse: reverse)
        }
        let weighted: ([Double]) -> Double = { v in
            var sum = 0.0
            for (wi, yi) in zip(w, primal(v)) { sum += wi * yi }
            return sum
        }
        return run(of: weighted, at: x, gradient: gradient, names: x.count == 1 ? { _ in "x" } : nil)
    }

    /// The three rule forms share this: gradient by a recording on `Tracked`, tangents by
    /// `Dual` (so the dot-product test runs too, and checks the two `applying`s agree).
    func checkScalarRule(
        at x: [Double], names: [String]?, value: ([Double]) -> Double,
        reverse: ([Tracked]) -> Tracked, tangent: ([Dual<Double>]) -> Dual<Double>
    ) -> DerivativeCheckReport {
        let gradient = RewindCore.gradient(at: x, of: reverse)
        // `run`'s tangent is optional, hence escaping; this one is only used during the call.
        return withoutActuallyEscaping(tangent) { tangent in
            run(
                of: value, at: x, gradient: gradient,
                tangent: { u in tangent(zip(x, u).map { Dual($0, tangent: $1) }).tangent },
                names: names.map { list in { list[$0] } })
        }
    }
}
