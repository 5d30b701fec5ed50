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
    /// a·b + c rounded once.
    static func fma(_ a: Self, _ b: Self, _ c: Self) -> Self

    static func + (a: Self, b: Double) -> Self
    static func + (a: Double, b: Self) -> Self
    static func - (a: Self, b: Double) -> Self
    static func - (a: Double, b: Self) -> Self
    static func * (a: Self, b: Double) -> Self
    static func * (a: Double, b: Self) -> Self
    static func / (a: Self, b: Double) -> Self

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

extension Double: SimulationScalar {
    @inlinable public var primal: Double { self }
    @inlinable public static func cbrt(_ x: Double) -> Double { Glibc.cbrt(x) }
    @inlinable public static func fma(_ a: Double, _ b: Double, _ c: Double) -> Double { c.addingProduct(a, b) }
}

extension Tracked: SimulationScalar {
    @inlinable public var primal: Double { value }
}

extension Dual: SimulationScalar {
    @inlinable public var primal: Double { value }
}
