import RealModule

/// The value and the gradient of a function of several variables at a point.
public struct LocalGradient: Sendable, Equatable {
    /// f(x).
    public var value: Double
    /// ∂f/∂xᵢ, one per variable.
    public var partials: [Double]
    /// - Parameters:
    ///   - value: f(x).
    ///   - partials: ∂f/∂xᵢ, one per variable.
    @inlinable public init(_ value: Double, _ partials: [Double]) {
        self.value = value
        self.partials = partials
    }
}

/// What the derivative of `√x` is at exactly `x = 0`, where the function has a vertical tangent.
///
/// - `infinity`: `+∞`, the true one-sided limit; what `ElementaryRules.sqrt` uses. Honest,
///   but `√(g(x))` with `g(x₀) = 0, g'(x₀) = 0` then differentiates to `∞·0 = NaN`.
/// - `zero`: 0. Right when the argument is a sum of squares that vanishes with its gradient
///   (`√(x²)`, `√(x² + y²)`, `√(uᵀu)`): the composite is a norm, whose minimum-norm
///   subgradient at 0 is 0, and the chain rule gives `0·0 = 0` instead of NaN.
public enum SquareRootDerivativeAtZero: Sendable, Equatable {
    /// `+∞`, the one-sided limit.
    case infinity
    /// 0, the minimum-norm subgradient of a vanishing norm.
    case zero
}

/// Value-and-derivative rules for functions where differentiating the textbook expression
/// operation by operation fails — cancellation, `0·∞`, `∞/∞`, overflow — although the
/// function (and mostly its derivative) is well defined. Each rule states its mathematics and
/// what it does at the singular point; `SimulationScalar`'s stable primitives apply them to any scalar type.
///
/// ```swift
/// StableRules.sinc(0)        // value 1, derivative 0 (sin(x)/x gives NaN, NaN)
/// StableRules.softplus(1000) // value 1000, derivative 1 (log(1 + exp(x)) gives ∞, NaN)
/// ```
public enum StableRules {
    /// The Euclidean norm `‖x‖ = √(Σ xᵢ²)` and its gradient `xᵢ/‖x‖`, with the subgradient 0
    /// at `x = 0`.
    ///
    /// Differentiating `sqrt(Σ x·x)` at 0 gives `(1/(2·0))·(2·0) = ∞·0 = NaN`. Every vector in
    /// the unit ball is a subgradient there; 0 is the one of least norm (what a descent method
    /// wants, and what `abs` uses). The sum is scaled by `2⁻ᵉ`, `e` the exponent of the largest
    /// `|xᵢ|`, before squaring: an exact scaling, so neither `1e200` nor `1e-200` overflows or
    /// underflows. A NaN component gives NaN; an infinite one gives `+∞` with NaN partials
    /// (the direction is undefined).
    public static func norm(_ x: [Double]) -> LocalGradient {
        var largest = 0.0
        for v in x {
            if v.isNaN { return LocalGradient(.nan, x.map { _ in .nan }) }
            largest = Swift.max(largest, v.magnitude)
        }
        if largest == 0 { return LocalGradient(0, x.map { _ in 0 }) }
        if largest.isInfinite { return LocalGradient(.infinity, x.map { _ in .nan }) }
        let e = largest.exponent
        // Double(sign:exponent:significand:) is scalbn: v·2⁻ᵉ with one rounding at most (only
        // when the result is subnormal, i.e. negligible beside the largest term, which is ≥ 1).
        let scaled = x.map { Double(sign: .plus, exponent: -e, significand: $0) }
        var sum = 0.0
        for s in scaled { sum = sum.addingProduct(s, s) }
        let root = Double.sqrt(sum)
        return LocalGradient(Double(sign: .plus, exponent: e, significand: root), scaled.map { $0 / root })
    }

    /// `hypot(x, y) = √(x² + y²)` with partials `x/h, y/h`, and the subgradient `(0, 0)` at the
    /// origin where `ElementaryRules.hypot` gives `0/0 = NaN`. The value is libm's `hypot`,
    /// which neither overflows nor underflows.
    public static func norm(_ x: Double, _ y: Double) -> LocalPartials {
        let h = Double.hypot(x, y)
        if h == 0 { return LocalPartials(0, 0, 0) }
        return LocalPartials(h, x / h, y / h)
    }

    /// `√x` with the derivative `1/(2√x)` for `x > 0` and the policy's value at `x = 0`.
    /// Negative `x` gives NaN and NaN.
    public static func sqrt(_ x: Double, atZero policy: SquareRootDerivativeAtZero) -> LocalDerivative {
        let s = Double.sqrt(x)
        if x == 0 { return LocalDerivative(s, policy == .zero ? 0 : .infinity) }
        return LocalDerivative(s, 0.5 / s)
    }

    /// `x·log x`, extended continuously by `0·log 0 = 0`, with derivative `log x + 1`.
    ///
    /// `x * log(x)` at 0 evaluates `0·(−∞) = NaN`, and its derivative `log x + x·(1/x)` is
    /// `−∞ + 0·∞ = NaN`. The limit of the value is 0 (`x log x → 0` as `x → 0⁺`); the derivative
    /// really is unbounded there, so the rule returns `−∞`, the one-sided limit, rather than a
    /// made-up finite number. Negative `x` gives NaN and NaN.
    public static func xlogx(_ x: Double) -> LocalDerivative {
        if x == 0 { return LocalDerivative(0, -.infinity) }
        let l = Double.log(x)
        return LocalDerivative(x * l, l + 1)
    }

    /// `x·log y`, defined as 0 whenever `x = 0` (even at `y = 0`), with partials `log y` and
    /// `x/y`.
    ///
    /// The cross-entropy term `p log q`: for `x = 0` the function is 0 for every `y`, so
    /// `∂/∂y = 0` exactly (the naive `x/y` is `0/0 = NaN` at `y = 0`) and `∂/∂x = log y`
    /// (`−∞` at `y = 0`, the true value). This is SciPy's `xlogy` convention.
    public static func xlogy(_ x: Double, _ y: Double) -> LocalPartials {
        let l = Double.log(y)
        if x == 0 { return LocalPartials(0, l, 0) }
        return LocalPartials(x * l, l, x / y)
    }

    /// `sinc x = sin(x)/x`, with its removable singularity filled: `sinc 0 = 1`, `sinc' 0 = 0`.
    ///
    /// The quotient rule gives `(x cos x − sin x)/x²`, which is `0/0` at 0 and loses about
    /// `log₂(3/x²)` bits to cancellation near it (half the digits at `x = 1e-4`). For
    /// `|x| < 1` the rule sums the Taylor series instead,
    /// `sinc'(x) = Σ_{k≥1} (−1)ᵏ 2k x²ᵏ⁻¹ / (2k+1)!  = −x/3 + x³/30 − x⁵/840 + …`,
    /// through `k = 10`, whose first omitted term is below `1e-21` of the sum there; for
    /// `|x| ≥ 1` the quotient loses at most a few bits. The value `sin(x)/x` needs no care: its
    /// two roundings are accurate right down to the smallest subnormal.
    public static func sinc(_ x: Double) -> LocalDerivative {
        if x == 0 { return LocalDerivative(1, 0) }
        let value = Double.sin(x) / x
        if x.magnitude < 1 {
            let t = x * x
            // Horner in t = x², innermost (smallest) coefficient first.
            var sum = 1.0 / 2_554_547_108_585_472_000
            sum = sum * t - 1.0 / 6_758_061_133_824_000
            sum = sum * t + 1.0 / 22_230_464_256_000
            sum = sum * t - 1.0 / 93_405_312_000
            sum = sum * t + 1.0 / 518_918_400
            sum = sum * t - 1.0 / 3_991_680
            sum = sum * t + 1.0 / 45_360
            sum = sum * t - 1.0 / 840
            sum = sum * t + 1.0 / 30
            sum = sum * t - 1.0 / 3
            return LocalDerivative(value, x * sum)
        }
        return LocalDerivative(value, (x * Double.cos(x) - Double.sin(x)) / (x * x))
    }

    /// `log Σ exp(xᵢ)` and its gradient, the softmax `exp(xᵢ)/Σ exp(xⱼ)`.
    ///
    /// The naive form overflows at `xᵢ > 709` (value `∞`, softmax `∞/∞ = NaN`) and underflows
    /// to `log 0 = −∞` when every `xᵢ < −745`. With `m = max xᵢ` attained at `k`,
    /// `log Σ exp xᵢ = m + log(1 + Σ_{i≠k} exp(xᵢ − m))`: every exponent is `≤ 0`, and
    /// `log(onePlus:)` keeps the small sum's digits. The softmax is `exp(xᵢ − m)/(1 + s)`.
    /// With every `xᵢ = −∞` the value is `−∞` and the partials 0 (the function is constant
    /// there); a `+∞` or NaN component gives that value with NaN partials; an empty input is
    /// `log 0 = −∞`.
    public static func logSumExp(_ x: [Double]) -> LocalGradient {
        guard let k = x.indices.max(by: { x[$0] < x[$1] }) else { return LocalGradient(-.infinity, []) }
        if x.contains(where: \.isNaN) { return LocalGradient(.nan, x.map { _ in .nan }) }
        let m = x[k]
        if m == -.infinity { return LocalGradient(-.infinity, x.map { _ in 0 }) }
        if m == .infinity { return LocalGradient(.infinity, x.map { _ in .nan }) }
        let terms = x.indices.map { $0 == k ? 1 : Double.exp(x[$0] - m) }
        var rest = 0.0
        for i in x.indices where i != k { rest += terms[i] }
        let denominator = 1 + rest
        return LocalGradient(m + Double.log(onePlus: rest), terms.map { $0 / denominator })
    }

    /// `softplus x = log(1 + eˣ)` and its derivative, the logistic function `σ(x) = 1/(1 + e⁻ˣ)`.
    ///
    /// The naive form overflows for `x > 709` (value `∞`, derivative `eˣ/(1 + eˣ) = ∞/∞ =
    /// NaN`) and, for `x < −37`, rounds `1 + eˣ` to 1 and returns 0 instead of `≈ eˣ`. The rule
    /// uses `log(1 + eˣ) = x + log(1 + e⁻ˣ)` for `x > 0` and `log(onePlus: eˣ)` otherwise, so
    /// the exponential never exceeds 1; the derivative is `1/(1 + e⁻ˣ)` for `x ≥ 0` and
    /// `eˣ/(1 + eˣ)` for `x < 0`, each free of overflow and cancellation.
    public static func softplus(_ x: Double) -> LocalDerivative {
        if x > 0 {
            let e = Double.exp(-x)
            return LocalDerivative(x + Double.log(onePlus: e), 1 / (1 + e))
        }
        let e = Double.exp(x)
        return LocalDerivative(Double.log(onePlus: e), e / (1 + e))
    }
}
