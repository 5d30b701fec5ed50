import RealModule
#if canImport(Glibc)
import Glibc
#endif

/// A real-number type that simulation code is written against once, to run unchanged on
/// `Double` (the fast primal), `Tracked` (reverse mode) and `Dual` (tangent mode).
///
/// Beyond swift-numerics' `RealFunctions` and `AlgebraicField`, it has hooks through which
/// generic code hands whole local computations to the scalar type: `evaluate(_:_:)` for a
/// small function of a few inputs, `applyStencil(_:on:to:parameters:into:)` for a
/// point-update over a grid and `sumInteractions(_:bodies:parameters:into:)` for an all-pairs
/// sum. On `Double` and `Dual` they simply evaluate; on `Tracked` they
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

    /// The real cube root (defined for negative `x`, unlike `pow(x, 1.0/3)`).
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
    /// `a + b` for a plain `Double` operand; reached through the generic operators.
    static func _add(_ a: Self, _ b: Double) -> Self
    /// `a − b` for a plain `Double` operand; reached through the generic operators.
    static func _subtract(_ a: Self, _ b: Double) -> Self
    /// `a − b` for a plain `Double` operand; reached through the generic operators.
    static func _subtract(_ a: Double, _ b: Self) -> Self
    /// `a · b` for a plain `Double` operand; reached through the generic operators.
    static func _multiply(_ a: Double, _ b: Self) -> Self
    /// `a / b` for a plain `Double` operand; reached through the generic operators.
    static func _divide(_ a: Self, _ b: Double) -> Self
    /// `a / b` for a plain `Double` operand; reached through the generic operators.
    static func _divide(_ a: Double, _ b: Self) -> Self

    // MARK: Custom rules
    //
    // The extension point for functions whose derivative cannot be obtained by differentiating
    // their code operation by operation — `x·log x` at 0, `sin(x)/x` at 0, the norm of a zero
    // vector. Compute the value and the partials once, carefully, in `Double`; each scalar type
    // attaches them its own way: `Double` keeps the value, `Dual` moves its tangent through the
    // partials, `Tracked` records one statement with them.
    //
    //     // f(x) = x³ with its derivative given by hand, on any scalar type
    //     func cube<S: SimulationScalar>(_ x: S) -> S {
    //         let v = x.primal
    //         return S.applying(LocalDerivative(v * v * v, 3 * v * v), to: x)
    //     }
    //
    // Why three requirements rather than one overload per primitive and type: the rules
    // (`StableRules`) are then written once, in `Double`, and every stable primitive below is a
    // generic one-liner, specialised per type like the rest of the simulation code.

    /// The result of a function of one variable, given its value and derivative at `x`.
    ///
    /// ```swift
    /// S.applying(LocalDerivative(v * v * v, 3 * v * v), to: x)   // x³, derivative by hand
    /// ```
    static func applying(_ rule: LocalDerivative, to x: Self) -> Self
    /// The result of a function of two variables, given its value and partials at `(x, y)`.
    static func applying(_ rule: LocalPartials, to x: Self, _ y: Self) -> Self
    /// The result of a function of many variables whose value and partials were computed in
    /// `Double` (a reduction such as an objective): `Tracked` records it as one statement per
    /// 253 inputs instead of two per input.
    static func applying(value: Double, partials: [Double], to inputs: [Self]) -> Self

    // MARK: Stable primitives
    //
    // Where composing elementary operations gives NaN although the derivative is finite (see
    // the extension in Stable/StablePrimitives.swift and docs/pitfalls.md). Requirements, so a
    // generic step reaches them on every scalar type and `Tracked` records each by name.

    /// The Euclidean norm, with gradient `x/‖x‖` and subgradient 0 at 0 (`StableRules.norm`).
    static func norm(_ components: [Self]) -> Self
    /// `√(x² + y²)` with subgradient `(0, 0)` at the origin (`StableRules.norm(_:_:)`).
    static func norm(_ x: Self, _ y: Self) -> Self
    /// `√x` whose derivative at exactly 0 follows `policy` (`SquareRootDerivativeAtZero`).
    static func sqrt(_ x: Self, derivativeAtZero policy: SquareRootDerivativeAtZero) -> Self
    /// `x·log x` with `0·log 0 = 0` and derivative `log x + 1` (`StableRules.xlogx`).
    static func xlogx(_ x: Self) -> Self
    /// `x·log y`, 0 whenever `x = 0` (`StableRules.xlogy`).
    static func xlogy(_ x: Self, _ y: Self) -> Self
    /// `sin(x)/x` with `sinc 0 = 1`, `sinc' 0 = 0` (`StableRules.sinc`).
    static func sinc(_ x: Self) -> Self
    /// `log Σ exp(xᵢ)` without overflow, gradient the softmax (`StableRules.logSumExp`).
    static func logSumExp(_ x: [Self]) -> Self
    /// `log(1 + eˣ)` without overflow, derivative the logistic function (`StableRules.softplus`).
    static func softplus(_ x: Self) -> Self

    /// `function(inputs)` for a function of any number of inputs; `Tracked` preaccumulates it
    /// (⌈n/8⌉ passes of 8 tangent lanes, one statement per output).
    static func evaluate<F: WideLocalFunction>(_ function: F, _ inputs: [Self]) -> [Self]

    /// Evaluates a small local function; `Tracked` records its local Jacobian as one
    /// statement per output.
    static func evaluate<F: LocalFunction>(_ function: F, _ inputs: LocalValues<Self>) -> LocalValues<Self>

    /// Applies a point-update kernel at every point of a periodic grid, reading `input` and
    /// writing `output` (which must not alias it); `Tracked` records one external statement
    /// that stores only the kernel's partials (the neighbours follow from the grid).
    static func applyStencil<K: StencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self])

    /// Applies a multi-field point-update kernel at every point of a periodic grid: `input`
    /// holds the fields one after another and `output` receives the kernel's outputs the same
    /// way (it must not alias `input`); `Tracked` records one external statement per grid (or
    /// per block of rows on a spilling tape) that stores only the kernel's partials.
    ///
    /// ```swift
    /// S.applyStencil(GrayScott(), on: grid, to: uv, parameters: LocalValues([F, k]), into: &next)
    /// ```
    static func applyStencil<K: MultiFieldStencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self])

    /// Sums a pair interaction over all ordered pairs of bodies, `output[i·outputs + k] =
    /// Σ_{j≠i} f_k(body i, body j)` with j ascending; `Tracked` records one external statement
    /// that stores only the kernel's partials (the pair enumeration implies the bodies).
    ///
    /// ```swift
    /// S.sumInteractions(SoftGravity(), bodies: positions, parameters: LocalValues([gm, eps2]), into: &acceleration)
    /// ```
    static func sumInteractions<K: PairInteraction>(
        _ kernel: K, bodies: [Self], parameters: LocalValues<Self>, into output: inout [Self])

    /// Sums a pair interaction over a neighbour list, `output[i·outputs + k] = Σ_j f_k(body i,
    /// body j)` over body i's listed sources in list order; `Tracked` records it like the
    /// all-pairs sum.
    ///
    /// ```swift
    /// S.sumInteractions(SoftGravity(), bodies: positions, neighbours: list, parameters: p, into: &acceleration)
    /// ```
    static func sumInteractions<K: PairInteraction>(
        _ kernel: K, bodies: [Self], neighbours: NeighbourList, parameters: LocalValues<Self>, into output: inout [Self])

    /// `values[0]` as input `lane` of a local function being differentiated: on `Dual`, tangent
    /// lane `lane` is 1 and the others 0; on the other types the value itself (a pair of grid
    /// points reads `values[0]` and `values[1]`). How a stencil's neighbourhood hands a kernel its
    /// seeded inputs (`StencilNeighbourhood`).
    static func _stencilLane(_ values: UnsafePointer<Double>, lane: Int) -> Self
}

extension SimulationScalar {
    /// The value itself: only `Dual` carries lanes.
    @inlinable @inline(__always)
    public static func _stencilLane(_ values: UnsafePointer<Double>, lane: Int) -> Self { Self(values[0]) }

    /// The default: calls the function (nothing to record on `Double` and `Dual`). Always
    /// inlined: left a call, Lorenz's RK4 step on `Double` passed and returned its values through
    /// memory, and the primal advance of a checkpointed run took 2.5× the C step.
    @inlinable @inline(__always)
    public static func evaluate<F: LocalFunction>(_ function: F, _ inputs: LocalValues<Self>) -> LocalValues<Self> {
        function(inputs)
    }

    /// The default: `applyStencilPointwise` (nothing to record on `Double` and `Dual`).
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
/// `a + b` for a scalar and a plain number.
@inlinable @inline(__always)
public func + <S: SimulationScalar>(a: S, b: Double) -> S { S._add(a, b) }
/// `a + b` for a plain number and a scalar.
@inlinable @inline(__always)
public func + <S: SimulationScalar>(a: Double, b: S) -> S { S._add(b, a) }
/// `a − b` for a scalar and a plain number.
@inlinable @inline(__always)
public func - <S: SimulationScalar>(a: S, b: Double) -> S { S._subtract(a, b) }
/// `a − b` for a plain number and a scalar.
@inlinable @inline(__always)
public func - <S: SimulationScalar>(a: Double, b: S) -> S { S._subtract(a, b) }
/// `a · b` for a scalar and a plain number (one partial, not two: `b` is a constant).
@inlinable @inline(__always)
public func * <S: SimulationScalar>(a: S, b: Double) -> S { S._multiply(b, a) }
/// `a · b` for a plain number and a scalar.
@inlinable @inline(__always)
public func * <S: SimulationScalar>(a: Double, b: S) -> S { S._multiply(a, b) }
/// `a / b` for a scalar and a plain number.
@inlinable @inline(__always)
public func / <S: SimulationScalar>(a: S, b: Double) -> S { S._divide(a, b) }
/// `a / b` for a plain number and a scalar.
@inlinable @inline(__always)
public func / <S: SimulationScalar>(a: Double, b: S) -> S { S._divide(a, b) }

/// Adds a plain number (`a = a + b`).
@inlinable @inline(__always)
public func += <S: SimulationScalar>(a: inout S, b: Double) { a = S._add(a, b) }
/// Subtracts a plain number (`a = a - b`).
@inlinable @inline(__always)
public func -= <S: SimulationScalar>(a: inout S, b: Double) { a = S._subtract(a, b) }
/// Multiplies by a plain number (`a = a * b`).
@inlinable @inline(__always)
public func *= <S: SimulationScalar>(a: inout S, b: Double) { a = S._multiply(b, a) }
/// Divides by a plain number (`a = a / b`).
@inlinable @inline(__always)
public func /= <S: SimulationScalar>(a: inout S, b: Double) { a = S._divide(a, b) }

extension Double: SimulationScalar {
    /// `a + b`, the plain operation.
    @inlinable @inline(__always) public static func _add(_ a: Double, _ b: Double) -> Double { a + b }
    /// `a − b`, the plain operation.
    @inlinable @inline(__always) public static func _subtract(_ a: Double, _ b: Double) -> Double { a - b }
    /// `a · b`, the plain operation.
    @inlinable @inline(__always) public static func _multiply(_ a: Double, _ b: Double) -> Double { a * b }
    /// `a / b`, the plain operation.
    @inlinable @inline(__always) public static func _divide(_ a: Double, _ b: Double) -> Double { a / b }
    /// The value itself.
    @inlinable public var primal: Double { self }
    /// The real cube root (libm's `cbrt`).
    @inlinable public static func cbrt(_ x: Double) -> Double { Glibc.cbrt(x) }
    /// `x^y` with C's `pow` semantics (libm's `pow`).
    @inlinable public static func power(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    /// a·b + c rounded once.
    @inlinable public static func fma(_ a: Double, _ b: Double, _ c: Double) -> Double { c.addingProduct(a, b) }

    /// Applies `kernel` at every point, two neighbouring points at a time where the kernel makes
    /// no decision on values (`StencilGrid._evaluatePrimal`): the same values as point by point.
    @inlinable
    public static func applyStencil<K: StencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Double], parameters: LocalValues<Double>,
        into output: inout [Double]
    ) {
        grid.checkShape(input: input.count, output: output.count)
        guard !input.isEmpty else { return }
        input.withUnsafeBufferPointer { u in
            output.withUnsafeMutableBufferPointer { out in
                let offsets = kernel.neighbours
                let inPairs = grid._evaluatesInPairs(
                    kernel, offsets: offsets, values: u.baseAddress!, parameters: parameters)
                grid._evaluatePrimal(
                    kernel, offsets: offsets, rows: 0..<grid.rows, values: u.baseAddress!, parameters: parameters,
                    inPairs: inPairs
                ) { point, value in out[point] = value }
            }
        }
    }
}

extension Tracked: SimulationScalar {
    /// `a + b`; records one partial, the constant operand being no input.
    @inlinable @inline(__always)
    public static func _add(_ a: Tracked, _ b: Double) -> Tracked { _unary(a, a.value + b, 1, "+") }
    /// `a − b`; records one partial, the constant operand being no input.
    @inlinable @inline(__always)
    public static func _subtract(_ a: Tracked, _ b: Double) -> Tracked { _unary(a, a.value - b, 1, "-") }
    /// `a − b`; records one partial, the constant operand being no input.
    @inlinable @inline(__always)
    public static func _subtract(_ a: Double, _ b: Tracked) -> Tracked { _unary(b, a - b.value, -1, "-") }
    /// `a · b`; records one partial, the constant operand being no input.
    @inlinable @inline(__always)
    public static func _multiply(_ a: Double, _ b: Tracked) -> Tracked { _unary(b, a * b.value, a, "*") }
    /// `a / b`; records one partial, the constant operand being no input.
    @inlinable @inline(__always)
    public static func _divide(_ a: Tracked, _ b: Double) -> Tracked { _unary(a, a.value / b, 1 / b, "/") }
    /// `a / b`; records one partial, the constant operand being no input.
    @inlinable @inline(__always)
    public static func _divide(_ a: Double, _ b: Tracked) -> Tracked {
        let q = a / b.value
        return _unary(b, q, -q / b.value, "/")
    }
    /// The recorded value; branching on it is not differentiated.
    @inlinable public var primal: Double { value }
}

extension Dual: SimulationScalar {
    /// `value` with tangent lane `lane` 1 and the others 0.
    @inlinable @inline(__always)
    public static func _stencilLane(_ values: UnsafePointer<Double>, lane: Int) -> Dual {
        Dual(values[0], tangent: .unit(lane))
    }
    /// `a + b`; the constant operand carries no tangent.
    @inlinable @inline(__always)
    public static func _add(_ a: Dual, _ b: Double) -> Dual { Dual(a.value + b, tangent: a.tangent) }
    /// `a − b`; the constant operand carries no tangent.
    @inlinable @inline(__always)
    public static func _subtract(_ a: Dual, _ b: Double) -> Dual { Dual(a.value - b, tangent: a.tangent) }
    /// `a − b`; the constant operand carries no tangent.
    @inlinable @inline(__always)
    public static func _subtract(_ a: Double, _ b: Dual) -> Dual { Dual(a - b.value, tangent: -b.tangent) }
    /// `a · b`; the constant operand carries no tangent.
    @inlinable @inline(__always)
    public static func _multiply(_ a: Double, _ b: Dual) -> Dual { Dual(a * b.value, tangent: a * b.tangent) }
    /// `a / b`; the constant operand carries no tangent.
    @inlinable @inline(__always)
    public static func _divide(_ a: Dual, _ b: Double) -> Dual { Dual(a.value / b, tangent: (1 / b) * a.tangent) }
    /// `a / b`; the constant operand carries no tangent.
    @inlinable @inline(__always)
    public static func _divide(_ a: Double, _ b: Dual) -> Dual {
        let q = a / b.value
        return Dual(q, tangent: (-q / b.value) * b.tangent)
    }
    /// The recorded value; branching on it is not differentiated.
    @inlinable public var primal: Double { value }
}
