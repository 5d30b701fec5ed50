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
    public var value: Double
    public var tangent: Directions

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
    @inlinable @inline(__always)
    public static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, tangent: a.tangent + b.tangent) }
    @inlinable @inline(__always)
    public static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, tangent: a.tangent - b.tangent) }
    @inlinable @inline(__always)
    public static func * (a: Dual, b: Dual) -> Dual {
        Dual(a.value * b.value, tangent: a.value * b.tangent + b.value * a.tangent)
    }
    @inlinable @inline(__always)
    public static func / (a: Dual, b: Dual) -> Dual {
        let q = a.value / b.value
        return Dual(q, tangent: (1 / b.value) * (a.tangent - q * b.tangent))
    }
    @inlinable @inline(__always)
    public static prefix func - (a: Dual) -> Dual { Dual(-a.value, tangent: -a.tangent) }

    @inlinable public static func += (a: inout Dual, b: Dual) { a = a + b }
    @inlinable public static func -= (a: inout Dual, b: Dual) { a = a - b }
    @inlinable public static func *= (a: inout Dual, b: Dual) { a = a * b }
    @inlinable public static func /= (a: inout Dual, b: Dual) { a = a / b }
}

extension Dual: Comparable {
    @inlinable public static func == (a: Dual, b: Dual) -> Bool { a.value == b.value }
    @inlinable public static func < (a: Dual, b: Dual) -> Bool { a.value < b.value }
}

extension Dual: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    @inlinable public init(floatLiteral value: Double) { self.init(value) }
    @inlinable public init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension Dual: CustomStringConvertible {
    public var description: String { "\(value) + \(tangent)ε" }
}

extension Dual: AlgebraicField {
    public typealias Magnitude = Dual
    @inlinable public static var zero: Dual { Dual(0) }
    @inlinable public init?<T: BinaryInteger>(exactly source: T) {
        guard let value = Double(exactly: source) else { return nil }
        self.init(value)
    }
    @inlinable public var magnitude: Dual { Dual._chain(self, ElementaryRules.abs(value)) }
    @inlinable public var reciprocal: Dual? { value == 0 ? nil : 1.0 / self }
}

extension Dual: RealFunctions {
    @inlinable public static func exp(_ x: Dual) -> Dual { _chain(x, ElementaryRules.exp(x.value)) }
    @inlinable public static func expMinusOne(_ x: Dual) -> Dual { _chain(x, ElementaryRules.expMinusOne(x.value)) }
    @inlinable public static func exp2(_ x: Dual) -> Dual { _chain(x, ElementaryRules.exp2(x.value)) }
    @inlinable public static func exp10(_ x: Dual) -> Dual { _chain(x, ElementaryRules.exp10(x.value)) }
    @inlinable public static func cosh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.cosh(x.value)) }
    @inlinable public static func sinh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.sinh(x.value)) }
    @inlinable public static func tanh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.tanh(x.value)) }
    @inlinable public static func cos(_ x: Dual) -> Dual { _chain(x, ElementaryRules.cos(x.value)) }
    @inlinable public static func sin(_ x: Dual) -> Dual { _chain(x, ElementaryRules.sin(x.value)) }
    @inlinable public static func tan(_ x: Dual) -> Dual { _chain(x, ElementaryRules.tan(x.value)) }
    @inlinable public static func log(_ x: Dual) -> Dual { _chain(x, ElementaryRules.log(x.value)) }
    @inlinable public static func log(onePlus x: Dual) -> Dual { _chain(x, ElementaryRules.log(onePlus: x.value)) }
    @inlinable public static func log2(_ x: Dual) -> Dual { _chain(x, ElementaryRules.log2(x.value)) }
    @inlinable public static func log10(_ x: Dual) -> Dual { _chain(x, ElementaryRules.log10(x.value)) }
    @inlinable public static func acosh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.acosh(x.value)) }
    @inlinable public static func asinh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.asinh(x.value)) }
    @inlinable public static func atanh(_ x: Dual) -> Dual { _chain(x, ElementaryRules.atanh(x.value)) }
    @inlinable public static func acos(_ x: Dual) -> Dual { _chain(x, ElementaryRules.acos(x.value)) }
    @inlinable public static func asin(_ x: Dual) -> Dual { _chain(x, ElementaryRules.asin(x.value)) }
    @inlinable public static func atan(_ x: Dual) -> Dual { _chain(x, ElementaryRules.atan(x.value)) }
    @inlinable public static func sqrt(_ x: Dual) -> Dual { _chain(x, ElementaryRules.sqrt(x.value)) }
    @inlinable public static func cbrt(_ x: Dual) -> Dual { _chain(x, ElementaryRules.cbrt(x.value)) }
    @inlinable public static func root(_ x: Dual, _ n: Int) -> Dual { _chain(x, ElementaryRules.root(x.value, n)) }
    @inlinable public static func pow(_ x: Dual, _ n: Int) -> Dual { _chain(x, ElementaryRules.pow(x.value, n)) }
    /// The real power of swift-numerics (NaN for a negative base and for `0⁰`), as `S.pow` is on
    /// `Double`; `power` and `pow(_:_: Double)` follow C.
    @inlinable public static func pow(_ x: Dual, _ y: Dual) -> Dual { _chain(x, y, ElementaryRules.realPow(x.value, y.value)) }
    /// `x^y` with C's `pow` semantics (`ElementaryRules.pow`).
    @inlinable public static func power(_ x: Dual, _ y: Dual) -> Dual { _chain(x, y, ElementaryRules.pow(x.value, y.value)) }
    /// `x^y` for a constant exponent, with C's `pow` semantics: `pow(-2, 2.0)` is 4.
    @inlinable public static func pow(_ x: Dual, _ y: Double) -> Dual { _chain(x, ElementaryRules.pow(x.value, y).derivativeInFirst) }
    @inlinable public static func atan2(y: Dual, x: Dual) -> Dual {
        _chain(y, x, ElementaryRules.atan2(y: y.value, x: x.value))
    }
    @inlinable public static func hypot(_ x: Dual, _ y: Dual) -> Dual { _chain(x, y, ElementaryRules.hypot(x.value, y.value)) }
    @inlinable public static func erf(_ x: Dual) -> Dual { _chain(x, ElementaryRules.erf(x.value)) }
    @inlinable public static func erfc(_ x: Dual) -> Dual { _chain(x, ElementaryRules.erfc(x.value)) }
    @inlinable public static func gamma(_ x: Dual) -> Dual { _chain(x, ElementaryRules.gamma(x.value)) }
    @inlinable public static func logGamma(_ x: Dual) -> Dual { _chain(x, ElementaryRules.logGamma(x.value)) }
    @inlinable public static func signGamma(_ x: Dual) -> FloatingPointSign { Double.signGamma(x.value) }
    @inlinable public static func abs(_ x: Dual) -> Dual { x.magnitude }
    @inlinable public static func _mulAdd(_ a: Dual, _ b: Dual, _ c: Dual) -> Dual { a * b + c }
    @inlinable public static func fma(_ a: Dual, _ b: Dual, _ c: Dual) -> Dual {
        Dual(c.value.addingProduct(a.value, b.value), tangent: b.value * a.tangent + a.value * b.tangent + c.tangent)
    }
}
