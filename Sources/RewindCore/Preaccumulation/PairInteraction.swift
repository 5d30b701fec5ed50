/// The contribution of one body to another in an all-pairs sum (a force, a kernel density, a
/// potential), written once for every scalar type.
///
/// Each body has `width` components stored consecutively (position x, y[, z], maybe a mass or
/// a charge); the kernel returns `outputCount` values (force components, say). Rewind sums it
/// over all ordered pairs with `SimulationScalar.sumInteractions(_:bodies:parameters:into:)`:
/// on `Double` and `Dual` that is a plain double loop; on `Tracked` the kernel runs on `Dual`
/// values whose lanes are the two bodies' components and the parameters, and the whole sum is
/// recorded as one external statement holding only partials (the pair enumeration says which
/// bodies they belong to).
///
/// ```swift
/// /// Plummer-softened gravity in 2-D: bodies are (x, y), parameters (G·m, ε²).
/// struct SoftGravity: PairInteraction {
///     var width: Int { 2 }
///     var outputCount: Int { 2 }
///     func callAsFunction<T: SimulationScalar>(
///         _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
///     ) -> LocalValues<T> {
///         let dx = source[0] - target[0], dy = source[1] - target[1]
///         let r2 = dx * dx + dy * dy + p[1]
///         let s = p[0] / (r2 * T.sqrt(r2))
///         return LocalValues(count: 2) { $0 == 0 ? s * dx : s * dy }
///     }
/// }
/// var acceleration = [S](repeating: 0, count: positions.count)
/// S.sumInteractions(SoftGravity(), bodies: positions, parameters: LocalValues([gm, eps2]),
///                   into: &acceleration)
/// ```
public protocol PairInteraction {
    /// Components per body, 1 through `LocalValues.capacity` (8): the stride of the bodies array.
    ///
    /// ```swift
    /// var width: Int { 3 }   // x, y and a charge
    /// ```
    var width: Int { get }
    /// Values the kernel returns per pair, 1 through `LocalValues.capacity` (8): the stride
    /// of the output array.
    ///
    /// ```swift
    /// var outputCount: Int { 2 }   // the force's x and y
    /// ```
    var outputCount: Int { get }
    /// How many leading components the kernel reads only through differences
    /// `source[c] − target[c]` (0 by default): positions, for a force that depends on where
    /// two bodies are relative to each other and not on where they are.
    ///
    /// A declaration, not a guess: for these components the derivative with respect to the
    /// target is minus that with respect to the source, so `Tracked` does not carry the target's
    /// lanes — `2·width − differenceComponents + parameters` lanes instead of
    /// `2·width + parameters` (4 instead of 6 for 2-D gravity with two parameters, which
    /// then fit a `SIMD4`). It checks the declaration at the first pair of every call and traps
    /// if the derivatives disagree. Declare only components that enter nothing else (a
    /// mass or charge component cannot be one).
    ///
    /// ```swift
    /// struct SoftGravity: PairInteraction {
    ///     var width: Int { 2 }
    ///     var outputCount: Int { 2 }
    ///     var differenceComponents: Int { 2 }   // x and y enter only as source − target
    ///     // ...
    /// }
    /// ```
    var differenceComponents: Int { get }
    /// The contribution of `source` to `target`.
    ///
    /// Written once, generically: Rewind calls it with `Double` for the forward sweeps and with
    /// a `Dual` whose lanes are the target's components, the source's components and the
    /// parameters, to obtain the pair's partials. It is never called with a body paired with
    /// itself, so a kernel singular at zero distance is fine as long as no two distinct bodies
    /// coincide.
    ///
    /// - Parameters:
    ///   - target: The `width` components of the body that receives the contribution (body i).
    ///   - source: The `width` components of the body that exerts it (body j).
    ///   - parameters: Parameters shared by every pair (differentiated too, when tracked).
    /// - Returns: `outputCount` values, added into body i's outputs.
    ///
    /// ```swift
    /// let f = SoftGravity()(LocalValues([0.0, 0.0]), LocalValues([1.0, 0.0]), LocalValues([1.0, 0.0]))
    /// f[0]   // 1: body j pulls body i towards +x
    /// ```
    func callAsFunction<T: SimulationScalar>(
        _ target: LocalValues<T>, _ source: LocalValues<T>, _ parameters: LocalValues<T>
    ) -> LocalValues<T>
}

extension PairInteraction {
    /// None: every component may enter the kernel on its own.
    ///
    /// ```swift
    /// SoftGravity().differenceComponents   // 0 unless the kernel declares otherwise
    /// ```
    public var differenceComponents: Int { 0 }

    /// `differenceComponents`, checked to lie in `0...width`.
    @inlinable
    var _differenceComponents: Int {
        let m = differenceComponents
        precondition(m >= 0 && m <= width, "differenceComponents must be in 0...width (got \(m) for width \(width))")
        return m
    }

    /// Bodies in an array of `components` values; traps unless the shapes agree.
    @inlinable
    func _bodyCount(components: Int, outputs: Int) -> Int {
        precondition(
            width >= 1 && width <= 8 && outputCount >= 1 && outputCount <= 8,
            "a pair interaction has 1...8 components per body and 1...8 outputs (got \(width) and \(outputCount))")
        precondition(
            components % width == 0,
            "bodies of \(width) components need a multiple of \(width) values (got \(components))")
        let count = components / width
        precondition(
            outputs == count * outputCount,
            "\(count) bodies with \(outputCount) outputs each need an output of \(count * outputCount) values (got \(outputs))")
        return count
    }
}

extension SimulationScalar {
    /// The default: `sumInteractionsElementary` (nothing to record on `Double` and `Dual`).
    ///
    /// ```swift
    /// var force = [Double](repeating: 0, count: 2 * n)
    /// Double.sumInteractions(SoftGravity(), bodies: xy, parameters: LocalValues([1, 0.01]), into: &force)
    /// ```
    @inlinable
    public static func sumInteractions<K: PairInteraction>(
        _ kernel: K, bodies: [Self], parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        sumInteractionsElementary(kernel, bodies: bodies, parameters: parameters, into: &output)
    }

    /// Sums `kernel` over all ordered pairs on this scalar type: `output[i·outputCount + k] =
    /// Σ_{j≠i} kernel(body i, body j, parameters)[k]`, each sum starting from 0 and adding j in
    /// ascending order. What `sumInteractions` does for `Double` and `Dual`, and for `Tracked`
    /// the elementary recording (every operation a statement) that the preaccumulated path
    /// replaces.
    ///
    /// ```swift
    /// Tracked.sumInteractionsElementary(SoftGravity(), bodies: xy, parameters: p, into: &force)
    /// ```
    ///
    /// - Parameters:
    ///   - kernel: The pair contribution.
    ///   - bodies: `n × kernel.width` values, body-major (body i's components at
    ///     `i·width ..< (i+1)·width`).
    ///   - parameters: Shared by every pair.
    ///   - output: Receives `n × kernel.outputCount` values, body-major.
    /// - Complexity: n(n−1) kernel calls.
    @inlinable
    public static func sumInteractionsElementary<K: PairInteraction>(
        _ kernel: K, bodies: [Self], parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        let width = kernel.width
        let outputs = kernel.outputCount
        let n = kernel._bodyCount(components: bodies.count, outputs: output.count)
        bodies.withUnsafeBufferPointer { b in
            output.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    let target = LocalValues<Self>(count: width) { b[i &* width &+ $0] }
                    var sum = LocalValues<Self>(count: outputs) { _ in 0 }
                    for j in 0..<n where j != i {
                        let f = kernel(target, LocalValues<Self>(count: width) { b[j &* width &+ $0] }, parameters)
                        for k in 0..<outputs { sum[k] = sum[k] + f[k] }
                    }
                    for k in 0..<outputs { out[i &* outputs &+ k] = sum[k] }
                }
            }
        }
    }
}
