import RealModule
#if canImport(Glibc)
import Glibc
#endif

/// The value and local derivative of a function of one variable at a point.
public struct LocalDerivative: Sendable, Equatable {
    /// f(x).
    public var value: Double
    /// f′(x): what `Tracked` records as the partial and `Dual` multiplies its tangent by.
    public var derivative: Double
    /// - Parameters:
    ///   - value: f(x).
    ///   - derivative: f′(x).
    @inlinable public init(_ value: Double, _ derivative: Double) {
        self.value = value
        self.derivative = derivative
    }
}

/// The value and both partial derivatives of a function of two variables at a point.
public struct LocalPartials: Sendable, Equatable {
    /// f(x, y).
    public var value: Double
    /// ∂f/∂x, the partial in the first variable.
    public var first: Double
    /// ∂f/∂y, the partial in the second variable.
    public var second: Double
    /// - Parameters:
    ///   - value: f(x, y).
    ///   - first: ∂f/∂x.
    ///   - second: ∂f/∂y.
    @inlinable public init(_ value: Double, _ first: Double, _ second: Double) {
        self.value = value
        self.first = first
        self.second = second
    }
    /// The function of the first variable alone (the second held constant).
    @inlinable public var derivativeInFirst: LocalDerivative { LocalDerivative(value, first) }
    /// The function of the second variable alone (the first held constant).
    @inlinable public var derivativeInSecond: LocalDerivative { LocalDerivative(value, second) }
}

/// Differentiation rules of the elementary functions, written once for every scalar type.
///
/// `Tracked` records `derivative` as a statement's partial; `Dual` multiplies its tangent by
/// it. Keeping the rules in one place means one test checks both modes. Where the textbook
/// formula loses accuracy the rule uses a better-conditioned form, and the comment says why.
public enum ElementaryRules {
    /// eˣ, and its derivative eˣ.
    @inlinable public static func exp(_ x: Double) -> LocalDerivative {
        let e = Double.exp(x)
        return LocalDerivative(e, e)
    }
    /// eˣ − 1, accurate where x is near 0 (where `exp(x) - 1` cancels), and its derivative eˣ.
    @inlinable public static func expMinusOne(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.expMinusOne(x), Double.exp(x))
    }
    /// 2ˣ, and its derivative 2ˣ·ln 2.
    @inlinable public static func exp2(_ x: Double) -> LocalDerivative {
        let e = Double.exp2(x)
        return LocalDerivative(e, e * 0.693_147_180_559_945_309_4)
    }
    /// 10ˣ, and its derivative 10ˣ·ln 10.
    @inlinable public static func exp10(_ x: Double) -> LocalDerivative {
        let e = Double.exp10(x)
        return LocalDerivative(e, e * 2.302_585_092_994_045_684)
    }
    /// At ±0 the derivative is +∞, the limit from the domain's side.
    @inlinable public static func log(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.log(x), x == 0 ? .infinity : 1 / x)
    }
    /// ln(1 + x), accurate where x is near 0, and its derivative 1/(1 + x).
    @inlinable public static func log(onePlus x: Double) -> LocalDerivative {
        LocalDerivative(Double.log(onePlus: x), 1 / (1 + x))
    }
    // (1/x)·(1/ln b) rather than 1/(x ln b): x·ln b overflows for x near the top of the range.
    /// The base-2 logarithm, and its derivative 1/(x·ln 2).
    @inlinable public static func log2(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.log2(x), x == 0 ? .infinity : (1 / x) * 1.442_695_040_888_963_407_4)
    }
    /// The base-10 logarithm, and its derivative 1/(x·ln 10).
    @inlinable public static func log10(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.log10(x), x == 0 ? .infinity : (1 / x) * 0.434_294_481_903_251_827_65)
    }
    /// The sine, and its derivative cos x.
    @inlinable public static func sin(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.sin(x), Double.cos(x))
    }
    /// The cosine, and its derivative −sin x.
    @inlinable public static func cos(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.cos(x), -Double.sin(x))
    }
    /// The tangent, and its derivative 1 + tan² x.
    @inlinable public static func tan(_ x: Double) -> LocalDerivative {
        let t = Double.tan(x)
        return LocalDerivative(t, 1 + t * t)
    }
    // (1 - x)(1 + x) instead of 1 - x² keeps full relative accuracy near |x| = 1.
    /// The arc sine, and its derivative 1/√((1 − x)(1 + x)).
    @inlinable public static func asin(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.asin(x), 1 / Double.sqrt((1 - x) * (1 + x)))
    }
    /// The arc cosine, and its derivative −1/√((1 − x)(1 + x)).
    @inlinable public static func acos(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.acos(x), -1 / Double.sqrt((1 - x) * (1 + x)))
    }
    /// The arc tangent, and its derivative 1/(1 + x²).
    @inlinable public static func atan(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.atan(x), 1 / (1 + x * x))
    }
    /// The hyperbolic sine, and its derivative cosh x.
    @inlinable public static func sinh(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.sinh(x), Double.cosh(x))
    }
    /// The hyperbolic cosine, and its derivative sinh x.
    @inlinable public static func cosh(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.cosh(x), Double.sinh(x))
    }
    // sech² x = 1/cosh² x keeps full relative accuracy where 1 − tanh² x cancels (|x| ≳ 5).
    /// The hyperbolic tangent, and its derivative sech² x = 1/cosh² x (accurate where 1 − tanh² x
    /// cancels).
    @inlinable public static func tanh(_ x: Double) -> LocalDerivative {
        let c = Double.cosh(x)
        return LocalDerivative(Double.tanh(x), 1 / (c * c))
    }
    // hypot(x, 1) does not overflow where x² + 1 would.
    /// The inverse hyperbolic sine, and its derivative 1/√(x² + 1), as 1/hypot(x, 1) so that it
    /// cannot overflow.
    @inlinable public static func asinh(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.asinh(x), 1 / Double.hypot(x, 1))
    }
    /// The inverse hyperbolic cosine, and its derivative 1/(√(x − 1)·√(x + 1)).
    @inlinable public static func acosh(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.acosh(x), 1 / (Double.sqrt(x - 1) * Double.sqrt(x + 1)))
    }
    /// The inverse hyperbolic tangent, and its derivative 1/((1 − x)(1 + x)).
    @inlinable public static func atanh(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.atanh(x), 1 / ((1 - x) * (1 + x)))
    }
    /// At 0 the derivative is +∞ (the true one-sided limit); `SimulationScalar.sqrt(_:derivativeAtZero:)` has the
    /// alternatives.
    @inlinable public static func sqrt(_ x: Double) -> LocalDerivative {
        let s = Double.sqrt(x)
        return LocalDerivative(s, x == 0 ? .infinity : 0.5 / s)
    }
    /// The cube root, and its derivative 1/(3∛x²).
    @inlinable public static func cbrt(_ x: Double) -> LocalDerivative {
        let c = Glibc.cbrt(x)
        return LocalDerivative(c, 1 / (3 * c * c))
    }
    /// The real n-th root x^(1/n), and its derivative r^(1−n)/n with r the root, exact at 0.
    @inlinable public static func root(_ x: Double, _ n: Int) -> LocalDerivative {
        let r = Double.root(x, n)
        // d/dx x^(1/n) = r^(1-n) / n: exact at x = 0 (+∞, or 1 for n = 1) and free of the
        // overflow of n·x.
        return LocalDerivative(r, Double.pow(r, 1 - n) / Double(n))
    }
    /// xⁿ for an integer exponent, and its derivative n·xⁿ⁻¹.
    @inlinable public static func pow(_ x: Double, _ n: Int) -> LocalDerivative {
        if n == 0 { return LocalDerivative(1, 0) }
        return LocalDerivative(Double.pow(x, n), Double(n) * Double.pow(x, n - 1))
    }
    /// `x^y` with C's `pow` semantics (the C standard, Annex F): a negative base with an
    /// integer exponent is defined (`pow(-2, 2) = 4`, `pow(-2, 3) = -8`), `0⁰ = 1`, and
    /// `x⁰ = 1` for every `x`. The value is libm's `pow`.
    ///
    /// Partials:
    /// - `∂/∂x = y·x^(y−1)`, computed with the same C `pow`, which gives the right limits at
    ///   `x = 0` without a special case (`1` for `y = 1`, `0` for `y > 1`, `+∞` for
    ///   `0 < y < 1`, `−∞` for `y < 0`) and is finite for a negative base with an integer
    ///   exponent; except `y = 0`, where `x⁰ ≡ 1` and the derivative is exactly 0 (the formula
    ///   would be `0·x⁻¹`, NaN at `x = 0`).
    /// - `∂/∂y = x^y·log x` for `x > 0`; `0` at `x = 0, y > 0` (`0^y ≡ 0` near such `y`); and
    ///   NaN where `x^y` is not a differentiable function of `y`: a negative base (defined
    ///   only at integer `y`) or `x = 0, y ≤ 0` (a jump to 1 or ∞). A constant exponent never
    ///   uses it (`Tracked.pow(x, 2.0)` records only `∂/∂x`; `Dual` multiplies it by a zero
    ///   tangent, which its strong-zero rule takes as 0).
    ///
    /// This differs from swift-numerics' `Double.pow(_:_:)` (NaN for any negative base and for
    /// `0⁰`), which is what generic code's `S.pow` reaches on `Double`; `realPow` keeps that
    /// agreement for `Tracked.pow`/`Dual.pow`, and `SimulationScalar.power` is C's on all three.
    @inlinable public static func pow(_ x: Double, _ y: Double) -> LocalPartials {
        let v = Glibc.pow(x, y)
        let dx = y == 0 ? 0 : y * Glibc.pow(x, y - 1)
        let dy: Double
        if x > 0 {
            dy = v * Double.log(x)
        } else if x == 0 && y > 0 {
            dy = 0
        } else {
            // A negative base, 0 with y ≤ 0, or NaN: not differentiable in y.
            dy = .nan
        }
        return LocalPartials(v, dx, dy)
    }

    /// `x^y` as swift-numerics' `Double.pow(_:_:)` defines it, the real power `exp(y·log x)`:
    /// NaN (value and partials) for a negative base and for `0⁰`, otherwise `pow(_:_:)`.
    /// `Tracked.pow` and `Dual.pow` use it so that generic code calling `S.pow` gives the same
    /// value on `Double`, `Tracked` and `Dual`.
    @inlinable public static func realPow(_ x: Double, _ y: Double) -> LocalPartials {
        if x < 0 || (x == 0 && y == 0) { return LocalPartials(.nan, .nan, .nan) }
        return pow(x, y)
    }
    /// The angle of the point (x, y), and its partials x/(x² + y²) in y and −y/(x² + y²) in x,
    /// scaled by the hypotenuse first so that neither overflows.
    @inlinable public static func atan2(y: Double, x: Double) -> LocalPartials {
        // Scale by the hypotenuse first so that x² + y² cannot overflow or underflow.
        let h = Double.hypot(x, y)
        let cy = (x / h) / h
        let cx = (-y / h) / h
        return LocalPartials(Double.atan2(y: y, x: x), cy, cx)
    }
    /// √(x² + y²) without intermediate overflow, and its partials x/h and y/h, h the hypotenuse.
    @inlinable public static func hypot(_ x: Double, _ y: Double) -> LocalPartials {
        let h = Double.hypot(x, y)
        return LocalPartials(h, x / h, y / h)
    }
    /// The error function, and its derivative (2/√π)·e^(−x²).
    @inlinable public static func erf(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.erf(x), 1.128_379_167_095_512_573_9 * Double.exp(-x * x))
    }
    /// The complementary error function 1 − erf x, accurate where erf x is near 1, and its
    /// derivative −(2/√π)·e^(−x²).
    @inlinable public static func erfc(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.erfc(x), -1.128_379_167_095_512_573_9 * Double.exp(-x * x))
    }
    /// The gamma function Γ(x), and its derivative Γ(x)·ψ(x), ψ the digamma function.
    @inlinable public static func gamma(_ x: Double) -> LocalDerivative {
        let g = Double.gamma(x)
        return LocalDerivative(g, g * digamma(x))
    }
    /// log |Γ(x)|, and its derivative ψ(x), the digamma function.
    @inlinable public static func logGamma(_ x: Double) -> LocalDerivative {
        LocalDerivative(Double.logGamma(x), digamma(x))
    }
    /// |x|, with the subgradient 0 at 0.
    @inlinable public static func abs(_ x: Double) -> LocalDerivative {
        LocalDerivative(Swift.abs(x), x > 0 ? 1 : (x < 0 ? -1 : 0))
    }

    /// The digamma function ψ(x) = Γ'(x)/Γ(x), the derivative of log Γ.
    ///
    /// Reflection ψ(1-x) - π cot(πx) for negative x, the recurrence ψ(x) = ψ(x+1) - 1/x up to
    /// x ≥ 10, then the asymptotic series ln x - 1/(2x) - Σ B₂ₖ/(2k x²ᵏ) through x⁻¹⁴, whose
    /// first omitted term is below 1e-16 there.
    public static func digamma(_ x: Double) -> Double {
        if x.isNaN || x == -.infinity { return .nan }
        if x <= 0 && x == x.rounded(.down) { return .nan }
        if x < 0 {
            // cot(πx) has period 1: reduce first, so that π·x is not rounded at large |x|; at
            // half-integers it is exactly 0 (tan(π/2) is only a large finite number).
            let reduced = x - x.rounded()
            let cotangent = Swift.abs(reduced) == 0.5 ? 0 : 1 / Double.tan(Double.pi * reduced)
            return digamma(1 - x) - Double.pi * cotangent
        }
        var x = x
        var shift = 0.0
        while x < 10 {
            shift -= 1 / x
            x += 1
        }
        let inv2 = 1 / (x * x)
        let series =
            inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12))))))
        return shift + Double.log(x) - 0.5 / x - series
    }
}
