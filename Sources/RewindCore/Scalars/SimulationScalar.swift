import RealModule
#if canImport(Glibc)
import Glibc
#endif

/// A real-number type that simulation code is written against once, to run unchanged on
/// `Double` (the fast primal), `Tracked` (reverse mode) and `Dual` (tangent mode).
///
/// Beyond swift-numerics' `RealFunctions` and `AlgebraicField`, it has two hooks through
/// which generic code hands whole local computations to the scalar type: `evaluate(_:_:)`
/// for a small function of a few inputs and `applyStencil(_:on:to:parameters:into:)` for a
/// point-update over a grid. On `Double` and `Dual` they simply evaluate; on `Tracked` they
/// *preaccumulate*: the local Jacobian is computed with a vector tangent and recorded as one
/// statement per output instead of one per arithmetic operation.
///
/// ```swift
/// func energy<S: SimulationScalar>(_ u: [S]) -> S {
///     u.reduce(0) { $0 + $1 * $1 }
/// }
/// energy([1.0, 2.0])                 // Double
/// // energy(trackedState)            // Tracked: recorded for a reverse sweep
/// ```
public protocol SimulationScalar: RealFunctions, AlgebraicField, Comparable, ExpressibleByFloatLiteral,
    CustomStringConvertible
where Magnitude == Self {
    /// The scalar that equals `value` and depends on nothing.
    init(_ value: Double)
    /// The plain value, for output and for decisions (branches) that are not differentiated.
    var primal: Double { get }

    static func cbrt(_ x: Self) -> Self
    /// `x^y` with C's `pow` semantics on every scalar type: a negative base with an integer
    /// exponent is defined and `0⁰ = 1` (`ElementaryRules.pow` gives the partials).
    ///
    /// Why a second power: generic code's `S.pow(x, y)` reaches swift-numerics' real power on
    /// `Double`, which is NaN for any negative base and for `0⁰`, and `Tracked.pow`/`Dual.pow`
    /// agree with it so that one generic step gives one value on all three types. Where C's
    /// answer is wanted, write `S.power(x, y)`:
    ///
    /// ```swift
    /// func square<S: SimulationScalar>(_ x: S) -> S { S.power(x, 2) }
    /// square(-2.0)   // 4 on Double, Tracked and Dual (S.pow(x, 2.0) is NaN on all three)
    /// ```
    static func power(_ x: Self, _ y: Self) -> Self
    /// a·b + c rounded once.
    static func fma(_ a: Self, _ b: Self, _ c: Self) -> Self

    // Arithmetic with a plain `Double`, reached through the generic operators below. They
    // are named functions, not operator requirements: an operator requirement `(Self,
    // Double)` is, for `Self == Double`, a second candidate beside the standard library's
    // operators and makes `1.0 / 1024` ambiguous everywhere Rewind is imported.
    static func _add(_ a: Self, _ b: Double) -> Self
    static func _subtract(_ a: Self, _ b: Double) -> Self
    static func _subtract(_ a: Double, _ b: Self) -> Self
    static func _multiply(_ a: Double, _ b: Self) -> Self
    static func _divide(_ a: Self, _ b: Double) -> Self
    static func _divide(_ a: Double, _ b: Self) -> Self

    /// The result of a function of many variables whose value and partials were computed in
    /// `Double` (a reduction such as an objective): `Tracked` records it as one statement per
    /// 253 inputs instead of two per input. See `CustomRuleScalar`.
    static func applying(value: Double, partials: [Double], to inputs: [Self]) -> Self

    /// Evaluates a small local function; `Tracked` records its local Jacobian as one
    /// statement per output.
    static func evaluate<F: LocalFunction>(_ function: F, _ inputs: LocalValues<Self>) -> LocalValues<Self>

    /// Applies a point-update kernel at every point of a periodic grid, reading `input` and
    /// writing `output` (which must not alias it); `Tracked` records one external statement
    /// that stores only the kernel's partials (the neighbours follow from the grid).
    static func applyStencil<K: StencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self])
}

extension SimulationScalar {
    @inlinable
    public static func evaluate<F: LocalFunction>(_ function: F, _ inputs: LocalValues<Self>) -> LocalValues<Self> {
        function(inputs)
    }

    @inlinable
    public static func applyStencil<K: StencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        applyStencilPointwise(kernel, on: grid, to: input, parameters: parameters, into: &output)
    }

    /// Applies the kernel point by point on this scalar type: what `applyStencil` does for
    /// `Double` and `Dual`, and for `Tracked` the elementary recording (every operation a
    /// statement) that preaccumulation replaces.
    @inlinable
    public static func applyStencilPointwise<K: StencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        grid.checkShape(input: input.count, output: output.count)
        let offsets = kernel.neighbours
        input.withUnsafeBufferPointer { u in
            output.withUnsafeMutableBufferPointer { out in
                let base = u.baseAddress!
                grid.forEachPoint(offsets) { point, shift, indices in
                    out[point] = kernel(StencilNeighbourhood(values: base + shift, indices: indices), parameters)
                }
            }
        }
    }
}

// Mixed arithmetic with a `Double` (`h * k` with `h: Double`, `k: S`), for generic code and
// for `Tracked` and `Dual` alike. These are the only mixed operators: being generic, they lose
// to every concrete operator, so `1.0 / 1024` keeps meaning `Double / Double` wherever Rewind
// is imported (a concrete `/(Double, Tracked)` would make it ambiguous).
@inlinable @inline(__always)
public func + <S: SimulationScalar>(a: S, b: Double) -> S { S._add(a, b) }
@inlinable @inline(__always)
public func + <S: SimulationScalar>(a: Double, b: S) -> S { S._add(b, a) }
@inlinable @inline(__always)
public func - <S: SimulationScalar>(a: S, b: Double) -> S { S._subtract(a, b) }
@inlinable @inline(__always)
public func - <S: SimulationScalar>(a: Double, b: S) -> S { S._subtract(a, b) }
@inlinable @inline(__always)
public func * <S: SimulationScalar>(a: S, b: Double) -> S { S._multiply(b, a) }
@inlinable @inline(__always)
public func * <S: SimulationScalar>(a: Double, b: S) -> S { S._multiply(a, b) }
@inlinable @inline(__always)
public func / <S: SimulationScalar>(a: S, b: Double) -> S { S._divide(a, b) }
@inlinable @inline(__always)
public func / <S: SimulationScalar>(a: Double, b: S) -> S { S._divide(a, b) }

@inlinable @inline(__always)
public func += <S: SimulationScalar>(a: inout S, b: Double) { a = S._add(a, b) }
@inlinable @inline(__always)
public func -= <S: SimulationScalar>(a: inout S, b: Double) { a = S._subtract(a, b) }
@inlinable @inline(__always)
public func *= <S: SimulationScalar>(a: inout S, b: Double) { a = S._multiply(b, a) }
@inlinable @inline(__always)
public func /= <S: SimulationScalar>(a: inout S, b: Double) { a = S._divide(a, b) }

extension Double: SimulationScalar {
    @inlinable @inline(__always) public static func _add(_ a: Double, _ b: Double) -> Double { a + b }
    @inlinable @inline(__always) public static func _subtract(_ a: Double, _ b: Double) -> Double { a - b }
    @inlinable @inline(__always) public static func _multiply(_ a: Double, _ b: Double) -> Double { a * b }
    @inlinable @inline(__always) public static func _divide(_ a: Double, _ b: Double) -> Double { a / b }
    @inlinable public var primal: Double { self }
    @inlinable public static func cbrt(_ x: Double) -> Double { Glibc.cbrt(x) }
    @inlinable public static func power(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inlinable public static func fma(_ a: Double, _ b: Double, _ c: Double) -> Double { c.addingProduct(a, b) }
}

extension Tracked: SimulationScalar {
    @inlinable @inline(__always)
    public static func _add(_ a: Tracked, _ b: Double) -> Tracked { _unary(a, a.value + b, 1, "+") }
    @inlinable @inline(__always)
    public static func _subtract(_ a: Tracked, _ b: Double) -> Tracked { _unary(a, a.value - b, 1, "-") }
    @inlinable @inline(__always)
    public static func _subtract(_ a: Double, _ b: Tracked) -> Tracked { _unary(b, a - b.value, -1, "-") }
    @inlinable @inline(__always)
    public static func _multiply(_ a: Double, _ b: Tracked) -> Tracked { _unary(b, a * b.value, a, "*") }
    @inlinable @inline(__always)
    public static func _divide(_ a: Tracked, _ b: Double) -> Tracked { _unary(a, a.value / b, 1 / b, "/") }
    @inlinable @inline(__always)
    public static func _divide(_ a: Double, _ b: Tracked) -> Tracked {
        let q = a / b.value
        return _unary(b, q, -q / b.value, "/")
    }
    @inlinable public var primal: Double { value }
}

extension Dual: SimulationScalar {
    @inlinable @inline(__always)
    public static func _add(_ a: Dual, _ b: Double) -> Dual { Dual(a.value + b, tangent: a.tangent) }
    @inlinable @inline(__always)
    public static func _subtract(_ a: Dual, _ b: Double) -> Dual { Dual(a.value - b, tangent: a.tangent) }
    @inlinable @inline(__always)
    public static func _subtract(_ a: Double, _ b: Dual) -> Dual { Dual(a - b.value, tangent: -b.tangent) }
    @inlinable @inline(__always)
    public static func _multiply(_ a: Double, _ b: Dual) -> Dual { Dual(a * b.value, tangent: a * b.tangent) }
    @inlinable @inline(__always)
    public static func _divide(_ a: Dual, _ b: Double) -> Dual { Dual(a.value / b, tangent: (1 / b) * a.tangent) }
    @inlinable @inline(__always)
    public static func _divide(_ a: Double, _ b: Dual) -> Dual {
        let q = a / b.value
        return Dual(q, tangent: (-q / b.value) * b.tangent)
    }
    @inlinable public var primal: Double { value }
}
