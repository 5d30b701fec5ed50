import RealModule

/// A dual number: a value and its directional derivative(s), for the tangent (forward) mode.
///
/// Evaluating a function on `Dual(x, tangent: v)` gives `f(x)` and the Jacobian–vector
/// product `J v` in one pass, with no tape. With `Directions` a SIMD vector, each lane
/// carries its own direction, so `Dual<SIMD4<Double>>` computes four products at once.
///
/// ```swift
/// let x = Dual<Double>(2.0, tangent: 1)       // seed d/dx
/// let y = Dual.sin(x) * x
/// y.tangent                                   // sin(2) + 2 cos(2)
/// ```
@frozen
public struct Dual<Directions: TangentDirections> {
    /// The primal value f(x), exactly as the same computation on `Double` gives it.
    public var value: Double
    /// The directional derivative(s) `J v`: one per lane of `Directions`.
    public var tangent: Directions

    /// A value with its tangent: seed an input with the direction you want the derivative along.
    ///
    /// - Parameters:
    ///   - value: The primal value.
    ///   - tangent: The direction(s), one per lane; `Directions.unit(k)` seeds the k-th input.
    @inlinable @inline(__always)
    public init(_ value: Double, tangent: Directions) {
        self.value = value
        self.tangent = tangent
    }

    /// A constant: its tangent is zero.
    @inlinable @inline(__always)
    public init(_ value: Double) {
        self.init(value, tangent: .zero)
    }

    @inlinable @inline(__always)
    static func _chain(_ x: Dual, _ rule: LocalDerivative) -> Dual {
        Dual(rule.value, tangent: _scale(rule.derivative, x.tangent))
    }

    @inlinable @inline(__always)
    static func _chain(_ x: Dual, _ y: Dual, _ rule: LocalPartials) -> Dual {
        Dual(rule.value, tangent: _scale(rule.first, x.tangent) + _scale(rule.second, y.tangent))
    }

    /// A partial times a tangent; an infinite partial of an input that does not move gives 0
    /// (tangent mode's strong zero: a zero tangent is usually structural, a direction that
    /// does not move that input). The reverse sweep differs on purpose: it cannot tell a
    /// structural zero adjoint from a computed one, so it follows IEEE and forms `0·∞ = NaN`
    /// (docs/pitfalls.md, "Zero adjoints and infinite partials").
    @inlinable @inline(__always)
    static func _scale(_ partial: Double, _ tangent: Directions) -> Directions {
        if _slowPath(!partial.isFinite) { return Directions._strongZeroProduct(partial, tangent) }
        return partial * tangent
    }
}

extension Dual {
    /// The sum; tangents add.
    @inlinable @inline(__always)
    public static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, tangent: a.tangent + b.tangent) }
    /// The difference; tangents subtract.
    @inlinable @inline(__always)
    public static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, tangent: a.tangent - b.tangent) }
    /// The product; the tangent follows the product rule, `a·ḃ + b·ȧ`.
    @inlinable @inline(__always)
    public static func * (a: Dual, b: Dual) -> Dual {
        Dual(a.value * b.value, tangent: a.value * b.tangent + b.value * a.tangent)
    }
    /// The quotient q = a/b; the tangent is `(ȧ − q·ḃ)/b`, which avoids forming `b²`.
    @inlinable @inline(__always)
    public static func / (a: Dual, b: Dual) -> Dual {
        let q = a.value / b.value
        return Dual(q, tangent: (1 / b.value) * (a.tangent - q * b.tangent))
    }
    /// The negation; the tangent is negated.
    @inlinable @inline(__always)
    public static prefix func - (a: Dual) -> Dual { Dual(-a.value, tangent: -a.tangent) }

    /// Adds `b` to `a` (`a = a + b`).
    @inlinable public static func += (a: inout Dual, b: Dual) { a = a + b }
    /// Subtracts `b` from `a` (`a = a - b`).
    @inlinable public static func -= (a: inout Dual, b: Dual) { a = a - b }
    /// Multiplies `a` by `b` (`a = a * b`).
    @inlinable public static func *= (a: inout Dual, b: Dual) { a = a * b }
    /// Divides `a` by `b` (`a = a / b`).
    @inlinable public static func /= (a: inout Dual, b: Dual) { a = a / b }
}

extension Dual: Comparable {
    /// Compares values only: branches in differentiated code decide on the primal, and the tangent
    /// of a branch is that of the side taken.
    @inlinable public static func == (a: Dual, b: Dual) -> Bool { a.value == b.value }
    /// Orders by value only (see `==`).
    @inlinable public static func < (a: Dual, b: Dual) -> Bool { a.value < b.value }
}

extension Dual: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// A constant from a literal, so that `0.5 * x` and `x + 1` read as in `Double` code.
    @inlinable public init(floatLiteral value: Double) { self.init(value) }
    /// A constant from an integer literal.
    @inlinable public init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension Dual: CustomStringConvertible {
    /// The value and tangent, as `v + tε`.
    public var description: String { "\(value) + \(tangent)ε" }
}

extension Dual: AlgebraicField {
    /// `magnitude` is itself a dual, so that `abs` carries a tangent.
    public typealias Magnitude = Dual
    /// The constant 0.
    @inlinable public static var zero: Dual { Dual(0) }
    /// The constant equal to `source`, or `nil` when a `Double` cannot hold it exactly.
    @inlinable public init?<T: BinaryInteger>(exactly source: T) {
        guard let value = Double(exactly: source) else { return nil }
        self.init(value)
    }
    /// |x|, with the subgradient 0 at 0.
    @inlinable public var magnitude: Dual { Dual._chain(self, ElementaryRules.abs(value)) }
    /// 1/x, or `nil` at 0.
    @inlinable public var reciprocal: Dual? { value == 0 ? nil : 1.0 / self }
}

extension Dual: RealFunctions {
    /// eˣ; the tangent is multiplied by eˣ.
    @inlinable public static func exp(_ x: Dual) -> Dual { _chain(x, ElementaryRules.exp(x.value)) }
    /// eˣ − 1, accurate where x is near 0 (where `exp(x) - 1` cancels); the tangent is multiplied
    /// by eˣ.
    @inlinable public static func expMinusOne(_ x: Dual) -> Dual { _chain(x, ElementaryRules.expMinusOne(x.value)) }
    /// 2ˣ; the tangent is multiplied by 2ˣ·ln 2.
    @inlinable public static func exp2(_ x: Dual) -> Dual { _chain(x, ElementaryRules.exp2(x.value)) }
    /// 10ˣ; the tangent is multiplied by 10ˣ·ln 10.
    @inlinable public static func exp10(_ x: Dual) -> Dual { _chain(x, ElementaryRules.exp10(x.value)) }
    /// The hyperbolic cosine; the tangent is multiplied by sinh x.
    @inlinable public static func cosh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.cosh(x.value)) }
    /// The hyperbolic sine; the tangent is multiplied by cosh x.
    @inlinable public static func sinh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.sinh(x.value)) }
    /// The hyperbolic tangent; the tangent is multiplied by sech² x = 1/cosh² x (accurate where 1 −
    /// tanh² x cancels).
    @inlinable public static func tanh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.tanh(x.value)) }
    /// The cosine; the tangent is multiplied by −sin x.
    @inlinable public static func cos(_ x: Dual) -> Dual { _chain(x, ElementaryRules.cos(x.value)) }
    /// The sine; the tangent is multiplied by cos x.
    @inlinable public static func sin(_ x: Dual) -> Dual { _chain(x, ElementaryRules.sin(x.value)) }
    /// The tangent; the tangent is multiplied by 1 + tan² x.
    @inlinable public static func tan(_ x: Dual) -> Dual { _chain(x, ElementaryRules.tan(x.value)) }
    /// The natural logarithm; the tangent is multiplied by 1/x (+∞ at ±0, the limit from inside the
    /// domain).
    @inlinable public static func log(_ x: Dual) -> Dual { _chain(x, ElementaryRules.log(x.value)) }
    /// ln(1 + x), accurate where x is near 0; the tangent is multiplied by 1/(1 + x).
    @inlinable public static func log(onePlus x: Dual) -> Dual { _chain(x, ElementaryRules.log(onePlus: x.value)) }
    /// The base-2 logarithm; the tangent is multiplied by 1/(x·ln 2).
    @inlinable public static func log2(_ x: Dual) -> Dual { _chain(x, ElementaryRules.log2(x.value)) }
    /// The base-10 logarithm; the tangent is multiplied by 1/(x·ln 10).
    @inlinable public static func log10(_ x: Dual) -> Dual { _chain(x, ElementaryRules.log10(x.value)) }
    /// The inverse hyperbolic cosine; the tangent is multiplied by 1/(√(x − 1)·√(x + 1)).
    @inlinable public static func acosh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.acosh(x.value)) }
    /// The inverse hyperbolic sine; the tangent is multiplied by 1/√(x² + 1), as 1/hypot(x, 1) so
    /// that it cannot overflow.
    @inlinable public static func asinh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.asinh(x.value)) }
    /// The inverse hyperbolic tangent; the tangent is multiplied by 1/((1 − x)(1 + x)).
    @inlinable public static func atanh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.atanh(x.value)) }
    /// The arc cosine; the tangent is multiplied by −1/√((1 − x)(1 + x)).
    @inlinable public static func acos(_ x: Dual) -> Dual { _chain(x, ElementaryRules.acos(x.value)) }
    /// The arc sine; the tangent is multiplied by 1/√((1 − x)(1 + x)).
    @inlinable public static func asin(_ x: Dual) -> Dual { _chain(x, ElementaryRules.asin(x.value)) }
    /// The arc tangent; the tangent is multiplied by 1/(1 + x²).
    @inlinable public static func atan(_ x: Dual) -> Dual { _chain(x, ElementaryRules.atan(x.value)) }
    /// The square root; the tangent is multiplied by 1/(2√x) (+∞ at 0;
    /// `SimulationScalar.sqrt(_:derivativeAtZero:)` has the alternatives).
    @inlinable @inline(__always) public static func sqrt(_ x: Dual) -> Dual { _chain(x, ElementaryRules.sqrt(x.value)) }
    /// The cube root; the tangent is multiplied by 1/(3∛x²).
    @inlinable public static func cbrt(_ x: Dual) -> Dual { _chain(x, ElementaryRules.cbrt(x.value)) }
    /// The real n-th root x^(1/n); the tangent is multiplied by r^(1−n)/n with r the root, exact at
    /// 0.
    @inlinable public static func root(_ x: Dual, _ n: Int) -> Dual { _chain(x, ElementaryRules.root(x.value, n)) }
    /// xⁿ for an integer exponent; the tangent is multiplied by n·xⁿ⁻¹.
    @inlinable public static func pow(_ x: Dual, _ n: Int) -> Dual { _chain(x, ElementaryRules.pow(x.value, n)) }
    /// The real power of swift-numerics (NaN for a negative base and for `0⁰`), as `S.pow` is on
    /// `Double`; `power` and `pow(_:_: Double)` follow C.
    @inlinable public static func pow(_ x: Dual, _ y: Dual) -> Dual { _chain(x, y, ElementaryRules.realPow(x.value, y.value)) }
    /// `x^y` with C's `pow` semantics (`ElementaryRules.pow`).
    @inlinable public static func power(_ x: Dual, _ y: Dual) -> Dual { _chain(x, y, ElementaryRules.pow(x.value, y.value)) }
    /// `x^y` for a constant exponent, with C's `pow` semantics: `pow(-2, 2.0)` is 4.
    @inlinable public static func pow(_ x: Dual, _ y: Double) -> Dual { _chain(x, ElementaryRules.pow(x.value, y).derivativeInFirst) }
    /// The angle of the point (x, y); the tangent is multiplied by the partials x/(x² + y²) in y
    /// and −y/(x² + y²) in x, scaled by the hypotenuse first so that neither overflows.
    @inlinable public static func atan2(y: Dual, x: Dual) -> Dual {
        _chain(y, x, ElementaryRules.atan2(y: y.value, x: x.value))
    }
    /// √(x² + y²) without intermediate overflow; the tangent is multiplied by the partials x/h and
    /// y/h, h the hypotenuse.
    @inlinable public static func hypot(_ x: Dual, _ y: Dual) -> Dual { _chain(x, y, ElementaryRules.hypot(x.value, y.value)) }
    /// The error function; the tangent is multiplied by (2/√π)·e^(−x²).
    @inlinable public static func erf(_ x: Dual) -> Dual { _chain(x, ElementaryRules.erf(x.value)) }
    /// The complementary error function 1 − erf x, accurate where erf x is near 1; the tangent is
    /// multiplied by −(2/√π)·e^(−x²).
    @inlinable public static func erfc(_ x: Dual) -> Dual { _chain(x, ElementaryRules.erfc(x.value)) }
    /// The gamma function Γ(x); the tangent is multiplied by Γ(x)·ψ(x), ψ the digamma function.
    @inlinable public static func gamma(_ x: Dual) -> Dual { _chain(x, ElementaryRules.gamma(x.value)) }
    /// log |Γ(x)|; the tangent is multiplied by ψ(x), the digamma function.
    @inlinable public static func logGamma(_ x: Dual) -> Dual { _chain(x, ElementaryRules.logGamma(x.value)) }
    /// The sign of Γ(x): piecewise constant, so it carries no tangent.
    @inlinable public static func signGamma(_ x: Dual) -> FloatingPointSign { Double.signGamma(x.value) }
    /// |x|, with the subgradient 0 at 0 (`magnitude`).
    @inlinable public static func abs(_ x: Dual) -> Dual { x.magnitude }
    /// a·b + c with two roundings (swift-numerics' requirement).
    @inlinable public static func _mulAdd(_ a: Dual, _ b: Dual, _ c: Dual) -> Dual { a * b + c }
    /// a·b + c rounded once; the tangent is `ȧ·b + a·ḃ + ċ`.
    @inlinable public static func fma(_ a: Dual, _ b: Dual, _ c: Dual) -> Dual {
        Dual(c.value.addingProduct(a.value, b.value), tangent: b.value * a.tangent + a.value * b.tangent + c.tangent)
    }
}
