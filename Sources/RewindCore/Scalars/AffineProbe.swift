import RealModule

/// A value that knows which of a stencil's neighbours it depends on, for one evaluation that
/// decides in which neighbours a kernel is affine: `u + r·(u[-1] − 2u + u[+1])` is affine in
/// all of them, for any `r`; `u·u[+1]`, `sin(u)` are not affine in the neighbours they read,
/// and `u > 0 ? u : 0` is affine in none (a decision may change every partial).
///
/// Why: a kernel affine in a neighbour has the same partial with respect to it at every grid
/// point (made of its parameters and constants only), so a stencil needs to keep only the
/// other partials per point and those once (`_AffineStencilStatement`, and
/// `_MultiFieldStencilStatement`'s constant lanes): a heat equation's step then stores one
/// number a point instead of six, and its sweep reads the neighbour partials from cache.
///
/// The proof is structural, not numerical. Every operation that is not affine in a varying
/// operand marks the neighbours it depends on (`_AffineProbeVerdict`): a product or quotient of
/// varying values, a varying divisor, any elementary function of a varying value. Every
/// decision or conversion that looks at a varying value (a comparison, `primal`, a custom rule,
/// the description) marks all of them: the path taken may change every partial. With no
/// decision on the neighbours, every point takes the path this one takes, so what holds here
/// holds everywhere. The values themselves are the real ones, so that decisions on parameters
/// and constants go the way they go at every point.
@frozen @usableFromInline
package struct _AffineProbe {
    @usableFromInline package var value: Double
    /// The neighbours the value depends on, one bit each (the 64th and later share the last bit).
    @usableFromInline package var dependsOn: UInt64

    @inlinable @inline(__always)
    package init(_ value: Double, dependsOn: UInt64) {
        self.value = value
        self.dependsOn = dependsOn
    }

    /// Whether the value depends on a neighbour.
    @inlinable package var varies: Bool { dependsOn != 0 }

    /// The bit of neighbour `lane`.
    @inlinable @inline(__always)
    package static func bit(_ lane: Int) -> UInt64 { 1 << UInt64(Swift.min(lane, 63)) }

    /// `f(x)`, marking the neighbours `x` depends on.
    @inlinable
    static func _nonlinear(_ x: Self, _ f: (Double) -> Double) -> Self {
        if x.varies { _AffineProbeVerdict.mark(x.dependsOn) }
        return Self(f(x.value), dependsOn: x.dependsOn)
    }

    /// `f(x, y)`, marking the neighbours either depends on.
    @inlinable
    static func _nonlinear(_ x: Self, _ y: Self, _ f: (Double, Double) -> Double) -> Self {
        let both = x.dependsOn | y.dependsOn
        if both != 0 { _AffineProbeVerdict.mark(both) }
        return Self(f(x.value, y.value), dependsOn: both)
    }

    /// A decision on `values`, marking every neighbour when one of them varies.
    @inlinable
    static func _deciding<T>(_ answer: T, _ values: Self...) -> T {
        if values.contains(where: \.varies) { _AffineProbeVerdict.mark(.max) }
        return answer
    }

    /// `a · b`: affine unless both vary.
    @inlinable @inline(__always)
    static func _product(_ a: Self, _ b: Self, _ value: Double) -> Self {
        if a.varies && b.varies { _AffineProbeVerdict.mark(a.dependsOn | b.dependsOn) }
        return Self(value, dependsOn: a.dependsOn | b.dependsOn)
    }
}

/// The neighbours an affine probe on this thread found the kernel not affine in (a bit each,
/// every bit after a decision on one); cleared by `take()`.
@usableFromInline
package enum _AffineProbeVerdict {
    @usableFromInline
    static func mark(_ neighbours: UInt64) { _ThreadScratch.markNotAffine(neighbours) }
    /// The neighbours marked since the last call (0: affine in all); clears the marks.
    @usableFromInline
    static func take() -> UInt64 { _ThreadScratch.takeNotAffine() }
}

extension _AffineProbe {
    @inlinable package static func + (a: Self, b: Self) -> Self { Self(a.value + b.value, dependsOn: a.dependsOn | b.dependsOn) }
    @inlinable package static func - (a: Self, b: Self) -> Self { Self(a.value - b.value, dependsOn: a.dependsOn | b.dependsOn) }
    @inlinable package static func * (a: Self, b: Self) -> Self { _product(a, b, a.value * b.value) }
    @inlinable package static func / (a: Self, b: Self) -> Self {
        if b.varies { _AffineProbeVerdict.mark(a.dependsOn | b.dependsOn) }
        return Self(a.value / b.value, dependsOn: a.dependsOn | b.dependsOn)
    }
    @inlinable package static prefix func - (a: Self) -> Self { Self(-a.value, dependsOn: a.dependsOn) }
    @inlinable package static func += (a: inout Self, b: Self) { a = a + b }
    @inlinable package static func -= (a: inout Self, b: Self) { a = a - b }
    @inlinable package static func *= (a: inout Self, b: Self) { a = a * b }
    @inlinable package static func /= (a: inout Self, b: Self) { a = a / b }
}

extension _AffineProbe: Comparable {
    @inlinable package static func == (a: Self, b: Self) -> Bool { _deciding(a.value == b.value, a, b) }
    @inlinable package static func < (a: Self, b: Self) -> Bool { _deciding(a.value < b.value, a, b) }
}

extension _AffineProbe: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    @inlinable package init(floatLiteral value: Double) { self.init(value) }
    @inlinable package init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension _AffineProbe: CustomStringConvertible {
    @usableFromInline package var description: String { Self._deciding("\(value)", self) }
}

extension _AffineProbe: AlgebraicField {
    @usableFromInline package typealias Magnitude = Self
    @inlinable package static var zero: Self { Self(0) }
    @inlinable package init?<T: BinaryInteger>(exactly source: T) {
        guard let value = Double(exactly: source) else { return nil }
        self.init(value)
    }
    @inlinable package var magnitude: Self { Self._nonlinear(self) { $0.magnitude } }
    @inlinable package var reciprocal: Self? { Self._deciding(value == 0, self) ? nil : 1.0 / self }
}

extension _AffineProbe: RealFunctions {
    @inlinable package static func exp(_ x: Self) -> Self { _nonlinear(x, Double.exp) }
    @inlinable package static func expMinusOne(_ x: Self) -> Self { _nonlinear(x, Double.expMinusOne) }
    @inlinable package static func exp2(_ x: Self) -> Self { _nonlinear(x, Double.exp2) }
    @inlinable package static func exp10(_ x: Self) -> Self { _nonlinear(x, Double.exp10) }
    @inlinable package static func cosh(_ x: Self) -> Self { _nonlinear(x, Double.cosh) }
    @inlinable package static func sinh(_ x: Self) -> Self { _nonlinear(x, Double.sinh) }
    @inlinable package static func tanh(_ x: Self) -> Self { _nonlinear(x, Double.tanh) }
    @inlinable package static func cos(_ x: Self) -> Self { _nonlinear(x, Double.cos) }
    @inlinable package static func sin(_ x: Self) -> Self { _nonlinear(x, Double.sin) }
    @inlinable package static func tan(_ x: Self) -> Self { _nonlinear(x, Double.tan) }
    @inlinable package static func log(_ x: Self) -> Self { _nonlinear(x) { Double.log($0) } }
    @inlinable package static func log(onePlus x: Self) -> Self { _nonlinear(x) { Double.log(onePlus: $0) } }
    @inlinable package static func log2(_ x: Self) -> Self { _nonlinear(x, Double.log2) }
    @inlinable package static func log10(_ x: Self) -> Self { _nonlinear(x, Double.log10) }
    @inlinable package static func acosh(_ x: Self) -> Self { _nonlinear(x, Double.acosh) }
    @inlinable package static func asinh(_ x: Self) -> Self { _nonlinear(x, Double.asinh) }
    @inlinable package static func atanh(_ x: Self) -> Self { _nonlinear(x, Double.atanh) }
    @inlinable package static func acos(_ x: Self) -> Self { _nonlinear(x, Double.acos) }
    @inlinable package static func asin(_ x: Self) -> Self { _nonlinear(x, Double.asin) }
    @inlinable package static func atan(_ x: Self) -> Self { _nonlinear(x, Double.atan) }
    @inlinable package static func sqrt(_ x: Self) -> Self { _nonlinear(x) { Double.sqrt($0) } }
    @inlinable package static func cbrt(_ x: Self) -> Self { _nonlinear(x, Double.cbrt) }
    @inlinable package static func root(_ x: Self, _ n: Int) -> Self { _nonlinear(x) { Double.root($0, n) } }
    @inlinable package static func pow(_ x: Self, _ n: Int) -> Self { _nonlinear(x) { Double.pow($0, n) } }
    @inlinable package static func pow(_ x: Self, _ y: Self) -> Self { _nonlinear(x, y) { Double.pow($0, $1) } }
    @inlinable package static func power(_ x: Self, _ y: Self) -> Self { _nonlinear(x, y) { Double.power($0, $1) } }
    @inlinable package static func atan2(y: Self, x: Self) -> Self { _nonlinear(y, x) { Double.atan2(y: $0, x: $1) } }
    @inlinable package static func hypot(_ x: Self, _ y: Self) -> Self { _nonlinear(x, y, Double.hypot) }
    @inlinable package static func erf(_ x: Self) -> Self { _nonlinear(x, Double.erf) }
    @inlinable package static func erfc(_ x: Self) -> Self { _nonlinear(x, Double.erfc) }
    @inlinable package static func gamma(_ x: Self) -> Self { _nonlinear(x, Double.gamma) }
    @inlinable package static func logGamma(_ x: Self) -> Self { _nonlinear(x, Double.logGamma) }
    @inlinable package static func signGamma(_ x: Self) -> FloatingPointSign { _deciding(Double.signGamma(x.value), x) }
    @inlinable package static func abs(_ x: Self) -> Self { x.magnitude }
    @inlinable package static func _mulAdd(_ a: Self, _ b: Self, _ c: Self) -> Self { a * b + c }
    @inlinable package static func fma(_ a: Self, _ b: Self, _ c: Self) -> Self {
        let product = _product(a, b, 0)
        return Self(Double.fma(a.value, b.value, c.value), dependsOn: product.dependsOn | c.dependsOn)
    }
}

extension _AffineProbe: SimulationScalar {
    /// A constant.
    @inlinable package init(_ value: Double) { self.init(value, dependsOn: 0) }
    /// The value: a number read from a varying value is a decision on it.
    @inlinable package var primal: Double { Self._deciding(value, self) }
    @inlinable package static func _add(_ a: Self, _ b: Double) -> Self { Self(a.value + b, dependsOn: a.dependsOn) }
    @inlinable package static func _subtract(_ a: Self, _ b: Double) -> Self { Self(a.value - b, dependsOn: a.dependsOn) }
    @inlinable package static func _subtract(_ a: Double, _ b: Self) -> Self { Self(a - b.value, dependsOn: b.dependsOn) }
    @inlinable package static func _multiply(_ a: Double, _ b: Self) -> Self { Self(a * b.value, dependsOn: b.dependsOn) }
    @inlinable package static func _divide(_ a: Self, _ b: Double) -> Self { Self(a.value / b, dependsOn: a.dependsOn) }
    @inlinable package static func _divide(_ a: Double, _ b: Self) -> Self { _nonlinear(b) { a / $0 } }
    /// A neighbour: it depends on itself.
    @inlinable package static func _stencilLane(_ values: UnsafePointer<Double>, lane: Int) -> Self {
        Self(values[0], dependsOn: bit(lane))
    }
    // A custom rule's value and partials were computed from `primal`, a decision already; these
    // mark again for a rule computed from anything else.
    @inlinable package static func applying(_ rule: LocalDerivative, to x: Self) -> Self {
        _nonlinear(x) { _ in rule.value }
    }
    @inlinable package static func applying(_ rule: LocalPartials, to x: Self, _ y: Self) -> Self {
        _nonlinear(x, y) { _, _ in rule.value }
    }
    @inlinable package static func applying(value: Double, partials: [Double], to inputs: [Self]) -> Self {
        let all = inputs.reduce(0) { $0 | $1.dependsOn }
        if all != 0 { _AffineProbeVerdict.mark(all) }
        return Self(value, dependsOn: all)
    }
}
