/// An offset from a grid point to one of its neighbours, in rows and columns.
public struct GridOffset: Hashable, Sendable {
    /// Rows to move (negative: towards row 0, wrapping periodically).
    public var row: Int
    /// Columns to move (negative: towards column 0, wrapping periodically).
    public var column: Int
    /// An offset on a two-dimensional grid.
    public init(row: Int, column: Int) {
        self.row = row
        self.column = column
    }
    /// An offset along a one-dimensional grid.
    public init(_ column: Int) { self.init(row: 0, column: column) }
}

/// A periodic grid of `rows × columns` points stored row-major (point `r*columns + c`);
/// a one-dimensional grid has one row.
///
/// Stencil kernels read neighbours through it, and `Tracked` records only the kernel's
/// partials because the grid alone says which values they belong to.
public struct StencilGrid: Hashable, Sendable {
    /// Rows of points (1 for a one-dimensional grid).
    public let rows: Int
    /// Points per row.
    public let columns: Int

    /// A periodic grid of `rows × columns` points, both at least 1.
    public init(rows: Int, columns: Int) {
        precondition(rows >= 1 && columns >= 1, "a grid has at least one point")
        self.rows = rows
        self.columns = columns
    }

    /// A periodic one-dimensional grid of `count` points.
    public static func periodic(_ count: Int) -> StencilGrid { StencilGrid(rows: 1, columns: count) }
    /// A periodic two-dimensional grid.
    public static func periodic(rows: Int, columns: Int) -> StencilGrid { StencilGrid(rows: rows, columns: columns) }

    /// Points in the grid: the length of the arrays a stencil reads and writes.
    public var pointCount: Int { rows * columns }

    @inlinable
    func checkShape(input: Int, output: Int) {
        precondition(
            input == pointCount && output == pointCount,
            "a stencil over \(rows)×\(columns) points needs input and output of \(pointCount) values "
                + "(got \(input) and \(output))")
    }

    /// Calls `body(point, base, indices)` for every point in row-major order; the neighbour
    /// at `offsets[j]` of that point has index `base + indices[j]` (wrapped periodically).
    ///
    /// Inside a row's interior `indices` stays the same from point to point and only `base`
    /// moves, so a kernel's neighbour loads are a fixed pattern the compiler can keep in
    /// registers; only the columns within reach of the edge pay for the periodic wrap.
    ///
    /// - Complexity: O(points × offsets).
    @inlinable @inline(__always)
    public func forEachPoint(_ offsets: [GridOffset], _ body: (_ point: Int, _ base: Int, _ indices: UnsafePointer<Int>) -> Void) {
        forEachPoint(offsets, rows: 0..<rows, body)
    }

    /// The columns where no offset wraps around the row: `start ..< end` (empty when the offsets
    /// reach across the whole row).
    @inlinable @inline(__always)
    package static func _interiorColumns(_ offsets: [GridOffset], columns: Int) -> (start: Int, end: Int) {
        var reachLeft = 0
        var reachRight = 0
        for offset in offsets {
            reachLeft = max(reachLeft, -offset.column)
            reachRight = max(reachRight, offset.column)
        }
        let start = min(reachLeft, columns)
        return (start, max(start, columns - reachRight))
    }

    /// The kernel's value at one point (`row`, `column`) of the grid `values`, on `Double`,
    /// wrapping at the edges.
    @inlinable
    package func _evaluatePoint<K: StencilKernel>(
        _ kernel: K, offsets: [GridOffset], row: Int, column: Int, values: UnsafePointer<Double>,
        parameters: LocalValues<Double>
    ) -> Double {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(offsets.count, 1)) { indices in
            _neighbourIndices(offsets, row: row, column: column, into: indices.baseAddress!)
            return kernel(StencilNeighbourhood(values: values + column, indices: indices.baseAddress!), parameters)
        }
    }

    /// The indices of point (`row`, `column`)'s neighbours relative to the point's column in
    /// row 0 (`r · columns + c − column`), wrapped periodically: a neighbourhood of one point
    /// built at `values + column`.
    @inlinable
    package func _neighbourIndices(_ offsets: [GridOffset], row: Int, column: Int, into indices: UnsafeMutablePointer<Int>) {
        for j in 0..<offsets.count {
            var r = (row + offsets[j].row) % rows
            if r < 0 { r += rows }
            var c = (column + offsets[j].column) % columns
            if c < 0 { c += columns }
            indices[j] = r * columns + c - column
        }
    }

    /// `forEachPoint(_:_:)` restricted to the rows `rowRange`.
    @inlinable @inline(__always)
    public func forEachPoint(
        _ offsets: [GridOffset], rows rowRange: Range<Int>,
        _ body: (_ point: Int, _ base: Int, _ indices: UnsafePointer<Int>) -> Void
    ) {
        precondition(offsets.count <= 16, "a stencil reads at most 16 neighbours")
        _forEachPoint(offsets, fieldBases: nil, rows: rowRange, body)
    }

    /// `forEachPoint(_:rows:_:)` without its limit of 16 offsets, for a multi-field kernel
    /// whose fields' offsets are concatenated: `fieldBases[j]` (when given) is added to the
    /// index of `offsets[j]`, the first point of the field it reads in the fields' array
    /// (`field × pointCount`), so that `base + indices[j]` indexes that array directly.
    @inlinable @inline(__always)
    package func _forEachPoint(
        _ offsets: [GridOffset], fieldBases: [Int]?, rows rowRange: Range<Int>,
        _ body: (_ point: Int, _ base: Int, _ indices: UnsafePointer<Int>) -> Void
    ) {
        let count = offsets.count
        precondition(
            offsets.allSatisfy { abs($0.row) <= rows && abs($0.column) <= columns },
            "stencil offsets must not reach further than one period")
        let (interiorStart, interiorEnd) = Self._interiorColumns(offsets, columns: columns)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * count + 1) { scratch in
            let rowBase = scratch.baseAddress!
            let shifted = rowBase + count
            let neighbour = shifted + count
            for r in rowRange {
                for j in 0..<count {
                    var rr = r + offsets[j].row
                    if rr < 0 { rr += rows } else if rr >= rows { rr -= rows }
                    rowBase[j] = rr * columns + (fieldBases?[j] ?? 0)
                    shifted[j] = rowBase[j] + offsets[j].column
                }
                let rowStart = r * columns
                for c in 0..<interiorStart {
                    for j in 0..<count {
                        var cc = c + offsets[j].column
                        if cc < 0 { cc += columns } else if cc >= columns { cc -= columns }
                        neighbour[j] = rowBase[j] + cc
                    }
                    body(rowStart + c, 0, UnsafePointer(neighbour))
                }
                for c in interiorStart..<interiorEnd {
                    body(rowStart + c, c, UnsafePointer(shifted))
                }
                for c in interiorEnd..<columns {
                    for j in 0..<count {
                        var cc = c + offsets[j].column
                        if cc < 0 { cc += columns } else if cc >= columns { cc -= columns }
                        neighbour[j] = rowBase[j] + cc
                    }
                    body(rowStart + c, 0, UnsafePointer(neighbour))
                }
            }
        }
    }
}

extension StencilGrid {
    /// Whether `kernel` may be evaluated two points at a time (`_PointPair`): when one evaluation
    /// on a pair makes no decision on values. Every decision a kernel can take on values (a
    /// comparison, `primal`, `reciprocal`, a custom rule) marks the evaluation, whatever the
    /// scalar's lanes, and its control flow cannot depend on values before the first one; so one
    /// trial settles it for every point, for the primal and for the sweep's `Dual`s alike. The
    /// trial is the first interior pair of row 0 of `values` (the grid): a kernel that checks its
    /// inputs (neighbours that differ, a positive density) sees real ones.
    @inlinable
    package func _evaluatesInPairs<K: StencilKernel>(
        _ kernel: K, offsets: [GridOffset], values: UnsafePointer<Double>, parameters: LocalValues<Double>
    ) -> Bool {
        let (interiorStart, interiorEnd) = Self._interiorColumns(offsets, columns: columns)
        // No two neighbouring columns without wrapping: there is no pair to evaluate.
        guard interiorEnd - interiorStart >= 2 else { return false }
        _ = _PointPairDivergence.take()
        let pairParameters = LocalValues<_PointPair<_NoLanes>>(count: parameters.count) {
            _PointPair(SIMD2(repeating: parameters[$0]), tangent: _NoLanes())
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(offsets.count, 1)) { indices in
            for j in 0..<offsets.count {
                var row = offsets[j].row % rows
                if row < 0 { row += rows }
                indices[j] = row * columns + offsets[j].column
            }
            _ = kernel(
                StencilNeighbourhood<_PointPair<_NoLanes>>(seeding: values + interiorStart, indices: indices.baseAddress!),
                pairParameters)
        }
        return !_PointPairDivergence.take()
    }

    /// Calls `body(point, value)` with the kernel's value at every point of `rows`, reading the
    /// grid `values`: two neighbouring interior points at a time on a `_PointPair` where
    /// `inPairs` (the answer of `_evaluatesInPairs`; one instruction for both points'
    /// arithmetic, the same bits as `Double`), point by point where a column wraps.
    ///
    /// A pair that meets a decision on values all the same (a kernel whose control flow changed
    /// since its trial: hidden state) sends its row and the rest of the grid point by point, as
    /// the sweep does: `redoing(points)` is called first with the row's points evaluated in
    /// pairs, and `body` is then called again for each of them with its value point by point,
    /// the one that stands.
    @inlinable @inline(__always)
    package func _evaluatePrimal<K: StencilKernel>(
        _ kernel: K, offsets: [GridOffset], rows rowRange: Range<Int>, values: UnsafePointer<Double>,
        parameters: LocalValues<Double>, inPairs: Bool, redoing: (_ points: Range<Int>) -> Void = { _ in },
        _ body: (_ point: Int, _ value: Double) -> Void
    ) {
        var inPairs = inPairs
        let count = offsets.count
        precondition(
            offsets.allSatisfy { abs($0.row) <= rows && abs($0.column) <= columns },
            "stencil offsets must not reach further than one period")
        let (interiorStart, interiorEnd) = Self._interiorColumns(offsets, columns: columns)
        let pairParameters = LocalValues<_PointPair<_NoLanes>>(count: parameters.count) {
            _PointPair(SIMD2(repeating: parameters[$0]), tangent: _NoLanes())
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * count + 1) { scratch in
            let rowBase = scratch.baseAddress!
            let interior = rowBase + count
            let wrapped = interior + count
            @inline(__always) func prepare(row r: Int) {
                for j in 0..<count {
                    var rr = r + offsets[j].row
                    if rr < 0 { rr += rows } else if rr >= rows { rr -= rows }
                    rowBase[j] = rr * columns
                    interior[j] = rowBase[j] + offsets[j].column
                }
            }
            if inPairs { _ = _PointPairDivergence.take() }
            for r in rowRange {
                prepare(row: r)
                let rowStart = r * columns
                @inline(__always) func single(_ c: Int, _ indices: UnsafePointer<Int>) {
                    body(rowStart &+ c, kernel(StencilNeighbourhood(values: values + c, indices: indices), parameters))
                }
                @inline(__always) func wrapping(_ c: Int) {
                    for j in 0..<count {
                        var cc = c + offsets[j].column
                        if cc < 0 { cc += columns } else if cc >= columns { cc -= columns }
                        wrapped[j] = rowBase[j] + cc - c
                    }
                    single(c, wrapped)
                }
                for c in 0..<interiorStart { wrapping(c) }
                var c = interiorStart
                if inPairs {
                    while c &+ 2 <= interiorEnd {
                        let y = kernel(
                            StencilNeighbourhood<_PointPair<_NoLanes>>(seeding: values + c, indices: interior),
                            pairParameters)
                        body(rowStart &+ c, y.value[0])
                        body(rowStart &+ c &+ 1, y.value[1])
                        c &+= 2
                    }
                    if _slowPath(_PointPairDivergence.take()) {
                        inPairs = false
                        redoing(rowStart &+ interiorStart ..< rowStart &+ c)
                        c = interiorStart
                    }
                }
                while c < interiorEnd {
                    single(c, interior)
                    c &+= 1
                }
                for c in interiorEnd..<columns { wrapping(c) }
            }
        }
    }
}

/// The values a stencil kernel reads at one point: `neighbourhood[j]` is the value at the
/// kernel's `neighbours[j]`.
///
/// It only points at values that live elsewhere (the grid), so building one per point costs
/// nothing. To differentiate a point it points at plain numbers instead and seeds each value
/// it hands out with its own tangent lane (`SimulationScalar._stencilLane`): made where the
/// kernel reads it, `u[1]` of a `Dual` has a tangent the compiler knows (lane 1 is 1, the
/// others 0), so the products of the kernel with those lanes fold away, and no seeded `Dual`s
/// go through memory.
@frozen
public struct StencilNeighbourhood<Value> {
    /// `Value`s, or `Double`s when `seedsLanes`.
    @usableFromInline package let base: UnsafeRawPointer
    @usableFromInline package let indices: UnsafePointer<Int>
    @usableFromInline package let seedsLanes: Bool

    // Only the stencil machinery builds neighbourhoods; a kernel reads them.
    @inlinable @inline(__always)
    package init(values: UnsafePointer<Value>, indices: UnsafePointer<Int>) {
        base = UnsafeRawPointer(values)
        self.indices = indices
        seedsLanes = false
    }

    /// The neighbours of a point to differentiate: `u[j]` is `Value._stencilLane(values + indices[j], lane: j)`.
    @inlinable @inline(__always)
    package init(seeding values: UnsafePointer<Double>, indices: UnsafePointer<Int>) {
        base = UnsafeRawPointer(values)
        self.indices = indices
        seedsLanes = true
    }
}

extension StencilNeighbourhood where Value: SimulationScalar {
    /// The value at the kernel's `neighbours[j]`.
    @inlinable
    public subscript(j: Int) -> Value {
        @inline(__always) get {
            seedsLanes
                ? Value._stencilLane(base.assumingMemoryBound(to: Double.self) + indices[j], lane: j)
                : base.assumingMemoryBound(to: Value.self)[indices[j]]
        }
    }
}

/// A point-update of a grid computation: the new value at a point from the old values of its
/// neighbours and a few parameters, written once for every scalar type.
///
/// ```swift
/// struct Diffusion: StencilKernel {
///     let neighbours = [GridOffset(-1), GridOffset(0), GridOffset(1)]
///     func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
///         u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2])
///     }
/// }
/// S.applyStencil(Diffusion(), on: .periodic(n), to: u, parameters: LocalValues([r]), into: &next)
/// ```
public protocol StencilKernel {
    /// The neighbours read at each point; the kernel receives their values in this order.
    var neighbours: [GridOffset] { get }
    /// The new value at one point.
    ///
    /// Written once, generically: Rewind calls it with `Double` for the forward sweeps and with a
    /// `Dual` whose lanes are the neighbours and parameters to obtain the point's partials, which
    /// it records without the identifiers (the grid implies them).
    ///
    /// - Parameters:
    ///   - neighbours: The old values at `self.neighbours`, in that order.
    ///   - parameters: The parameters (differentiated too, when tracked).
    /// - Returns: The updated value at the point.
    func callAsFunction<T: SimulationScalar>(_ neighbours: StencilNeighbourhood<T>, _ parameters: LocalValues<T>) -> T
}
