/// A point-update of a system of grid fields (u and v of a reaction–diffusion system, h and hu
/// of shallow water): several values at a point from the old values of several fields at fixed
/// offsets and a few parameters, written once for every scalar type.
///
/// The fields are stored one after another in one array, as a `TimeSteppingProblem`'s state
/// is one array: field `f` of a grid of `n` points is `state[f*n ..< (f+1)*n]`. The outputs
/// are laid out the same way: output `o` at point `p` is `next[o*n + p]`.
///
/// Each field has its own neighbour list (`neighbours[f]`), so a kernel that reads one field at
/// five points and the other at its centre only carries six lanes, not ten.
///
/// ```swift
/// /// Gray–Scott: u' = u + Du·Δu − uv² + F(1 − u),  v' = v + Dv·Δv + uv² − (F + k)v.
/// struct GrayScott: MultiFieldStencilKernel {
///     let fivePoint = [GridOffset(row: -1, column: 0), GridOffset(row: 1, column: 0),
///                      GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 1), GridOffset(row: 0, column: 0)]
///     var neighbours: [[GridOffset]] { [fivePoint, fivePoint] }
///     var outputCount: Int { 2 }
///     func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
///         let u = x.field(0), v = x.field(1)
///         let uvv = u[4] * v[4] * v[4]
///         let lu = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
///         let lv = ((v[0] + v[1]) + (v[2] + v[3])) - 4.0 * v[4]
///         return LocalValues(count: 2) {
///             $0 == 0 ? u[4] + 0.2 * lu - uvv + p[0] * (1.0 - u[4]) : v[4] + 0.1 * lv + uvv - (p[0] + p[1]) * v[4]
///         }
///     }
/// }
/// // state = u followed by v, 2·n values; next likewise.
/// S.applyStencil(GrayScott(), on: grid, to: state, parameters: LocalValues([F, k]), into: &next)
/// ```
public protocol MultiFieldStencilKernel {
    /// The offsets read in each input field: `neighbours[f]` lists those of field `f`, and the
    /// kernel receives their values in that order (`x.field(f)[j]`). `neighbours.count` is
    /// the number of input fields.
    ///
    /// ```swift
    /// var neighbours: [[GridOffset]] { [[GridOffset(-1), GridOffset(0), GridOffset(1)], [GridOffset(0)]] }
    /// ```
    var neighbours: [[GridOffset]] { get }
    /// Values the kernel writes per point (1 to `LocalValues.capacity`): the fields of the
    /// output array.
    ///
    /// ```swift
    /// var outputCount: Int { 2 }   // the new u and v
    /// ```
    var outputCount: Int { get }
    /// The new values at one point, `outputCount` of them.
    ///
    /// Written once, generically: Rewind calls it with `Double` for the forward sweeps and with
    /// a `Dual` whose lanes are every field's neighbours and the parameters to obtain the
    /// point's partials, which it records without the identifiers (the grid implies them).
    ///
    /// ```swift
    /// func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
    ///     LocalValues(count: 1) { _ in x[1, 0] * p[0] }   // field 1 at its first offset, scaled
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - fields: The old values of every field at its offsets.
    ///   - parameters: The parameters (differentiated too, when tracked).
    /// - Returns: The `outputCount` updated values at the point.
    func callAsFunction<T: SimulationScalar>(
        _ fields: MultiFieldNeighbourhood<T>, _ parameters: LocalValues<T>
    ) -> LocalValues<T>
}

extension MultiFieldStencilKernel {
    /// Input fields read: `neighbours.count`.
    ///
    /// ```swift
    /// GrayScott().fieldCount   // 2
    /// ```
    public var fieldCount: Int { neighbours.count }
}

/// The values a multi-field kernel reads at one point: `x[f, j]` (or `x.field(f)[j]`) is field
/// `f` at the kernel's `neighbours[f][j]`.
///
/// It only points at values that live elsewhere (the fields' array, or a few seeded duals), so
/// building one per point costs nothing.
///
/// ```swift
/// let u = x.field(0), v = x.field(1)
/// let reaction = u[4] * v[4] * v[4]    // same as x[0, 4] * x[1, 4] * x[1, 4]
/// ```
@frozen
public struct MultiFieldNeighbourhood<Value> {
    @usableFromInline package let values: UnsafePointer<Value>
    @usableFromInline package let indices: UnsafePointer<Int>
    @usableFromInline package let fieldStarts: UnsafePointer<Int>

    // Only the stencil machinery builds neighbourhoods; a kernel reads them.
    @inlinable @inline(__always)
    package init(values: UnsafePointer<Value>, indices: UnsafePointer<Int>, fieldStarts: UnsafePointer<Int>) {
        self.values = values
        self.indices = indices
        self.fieldStarts = fieldStarts
    }

    /// Field `f` at its `j`-th offset (the kernel's `neighbours[f][j]`).
    ///
    /// ```swift
    /// let centreOfV = x[1, 4]
    /// ```
    @inlinable
    public subscript(field: Int, j: Int) -> Value {
        @inline(__always) get { values[indices[fieldStarts[field] &+ j]] }
    }

    /// Field `f`'s values at its offsets, as a single-field kernel sees them.
    ///
    /// ```swift
    /// let u = x.field(0)
    /// let laplacian = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
    /// ```
    @inlinable @inline(__always)
    public func field(_ f: Int) -> StencilNeighbourhood<Value> {
        StencilNeighbourhood(values: values, indices: indices + fieldStarts[f])
    }
}

/// A multi-field kernel's offsets flattened into one list, as the grid walks them: entry `k`
/// reads field `fields[k]` at `offsets[k]`, and `fieldBases[k] = fields[k] × points` moves its
/// index into that field's part of the state. Field `f`'s entries are
/// `fieldStarts[f] ..< fieldStarts[f + 1]`, which is also the lane of its first entry.
@usableFromInline
package struct _MultiFieldLayout {
    @usableFromInline package let offsets: [GridOffset]
    @usableFromInline package let fields: [Int]
    @usableFromInline package let fieldBases: [Int]
    @usableFromInline package let fieldStarts: [Int]

    @inlinable
    package init(_ neighbours: [[GridOffset]], pointCount: Int) {
        var offsets: [GridOffset] = []
        var fields: [Int] = []
        var starts: [Int] = [0]
        for (f, list) in neighbours.enumerated() {
            offsets += list
            fields += repeatElement(f, count: list.count)
            starts.append(offsets.count)
        }
        self.offsets = offsets
        self.fields = fields
        fieldBases = fields.map { $0 * pointCount }
        fieldStarts = starts
    }

    /// Entries (neighbour lanes) over all fields.
    @inlinable package var entryCount: Int { offsets.count }
    /// Input fields.
    @inlinable package var fieldCount: Int { fieldStarts.count - 1 }
}

extension StencilGrid {
    /// `kernel`'s entries laid out over this grid, once its output count and the lengths of
    /// the input and output arrays are checked.
    @inlinable
    func _multiFieldLayout<K: MultiFieldStencilKernel>(_ kernel: K, input: Int, output: Int) -> _MultiFieldLayout {
        let layout = _MultiFieldLayout(kernel.neighbours, pointCount: pointCount)
        let outputCount = kernel.outputCount
        precondition(
            outputCount >= 1 && outputCount <= LocalValues<Double>.capacity,
            "a multi-field stencil writes 1 to \(LocalValues<Double>.capacity) values per point (got \(outputCount))")
        checkShape(fields: layout.fieldCount, input: input, outputs: outputCount, output: output)
        return layout
    }

    @inlinable
    func checkShape(fields: Int, input: Int, outputs: Int, output: Int) {
        precondition(
            input == fields * pointCount && output == outputs * pointCount,
            "a \(fields)-field stencil with \(outputs) outputs over \(rows)×\(columns) points needs an input of "
                + "\(fields * pointCount) and an output of \(outputs * pointCount) values (got \(input) and \(output))")
    }
}

extension SimulationScalar {
    /// The default: `applyStencilPointwise` (nothing to record on `Double` and `Dual`).
    ///
    /// ```swift
    /// S.applyStencil(GrayScott(), on: .periodic(rows: 64, columns: 64), to: uv, parameters: LocalValues([F, k]), into: &next)
    /// ```
    @inlinable
    public static func applyStencil<K: MultiFieldStencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        applyStencilPointwise(kernel, on: grid, to: input, parameters: parameters, into: &output)
    }

    /// Applies a multi-field kernel point by point on this scalar type: what `applyStencil`
    /// does for `Double` and `Dual`, and for `Tracked` the elementary recording (every operation
    /// a statement) that preaccumulation replaces, kept for tests and comparisons.
    ///
    /// ```swift
    /// Tracked.applyStencilPointwise(GrayScott(), on: grid, to: uv, parameters: p, into: &next)   // the slow reference
    /// ```
    ///
    /// - Parameters:
    ///   - kernel: The point-update.
    ///   - grid: The periodic grid of `n = grid.pointCount` points.
    ///   - input: The fields one after another: `kernel.fieldCount × n` values.
    ///   - parameters: Parameters shared by every point.
    ///   - output: Receives the outputs one after another, `kernel.outputCount × n` values;
    ///     must not alias `input`.
    @inlinable
    public static func applyStencilPointwise<K: MultiFieldStencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Self], parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        let layout = grid._multiFieldLayout(kernel, input: input.count, output: output.count)
        let outputCount = kernel.outputCount
        let points = grid.pointCount
        input.withUnsafeBufferPointer { u in
            output.withUnsafeMutableBufferPointer { out in
                layout.fieldStarts.withUnsafeBufferPointer { starts in
                    guard let base = u.baseAddress, let first = out.baseAddress else { return }
                    grid._forEachPoint(layout.offsets, fieldBases: layout.fieldBases, rows: 0..<grid.rows) {
                        point, shift, indices in
                        let y = kernel(
                            MultiFieldNeighbourhood(values: base + shift, indices: indices, fieldStarts: starts.baseAddress!),
                            parameters)
                        precondition(y.count == outputCount, "the kernel returned \(y.count) values, not its outputCount \(outputCount)")
                        for o in 0..<outputCount { first[o &* points &+ point] = y[o] }
                    }
                }
            }
        }
    }
}
