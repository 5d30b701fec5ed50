/// An offset from a grid point to one of its neighbours, in rows and columns.
public struct GridOffset: Hashable, Sendable {
    public var row: Int
    public var column: Int
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
    public let rows: Int
    public let columns: Int

    public init(rows: Int, columns: Int) {
        precondition(rows >= 1 && columns >= 1, "a grid has at least one point")
        self.rows = rows
        self.columns = columns
    }

    /// A periodic one-dimensional grid of `count` points.
    public static func periodic(_ count: Int) -> StencilGrid { StencilGrid(rows: 1, columns: count) }
    /// A periodic two-dimensional grid.
    public static func periodic(rows: Int, columns: Int) -> StencilGrid { StencilGrid(rows: rows, columns: columns) }

    public var pointCount: Int { rows * columns }

    @inlinable
    func checkShape(input: Int, output: Int) {
        precondition(
            input == pointCount && output == pointCount,
            "a stencil over \(rows)×\(columns) points needs input and output of \(pointCount) values "
                + "(got \(input) and \(output))")
    }

    /// Calls `body(point, neighbourIndex)` for every point in row-major order, where
    /// `neighbourIndex[j]` is the index of the point at `offsets[j]` (wrapped periodically).
    ///
    /// - Complexity: O(points × offsets), with one wrap test per neighbour.
    @inlinable
    public func forEachPoint(_ offsets: [GridOffset], _ body: (Int, UnsafePointer<Int>) -> Void) {
        let count = offsets.count
        precondition(count <= 16, "a stencil reads at most 16 neighbours")
        precondition(
            offsets.allSatisfy { abs($0.row) <= rows && abs($0.column) <= columns },
            "stencil offsets must not reach further than one period")
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count + 1) { scratch in
            let rowBase = scratch.baseAddress!
            let neighbour = rowBase + count
            for r in 0..<rows {
                for j in 0..<count {
                    var rr = r + offsets[j].row
                    if rr < 0 { rr += rows } else if rr >= rows { rr -= rows }
                    rowBase[j] = rr * columns
                }
                for c in 0..<columns {
                    for j in 0..<count {
                        var cc = c + offsets[j].column
                        if cc < 0 { cc += columns } else if cc >= columns { cc -= columns }
                        neighbour[j] = rowBase[j] + cc
                    }
                    body(r * columns + c, UnsafePointer(neighbour))
                }
            }
        }
    }
}

/// A point-update of a grid computation: the new value at a point from the old values of its
/// neighbours and a few parameters, written once for every scalar type.
///
/// ```swift
/// struct Diffusion: StencilKernel {
///     let neighbours = [GridOffset(-1), GridOffset(0), GridOffset(1)]
///     func callAsFunction<T: SimulationScalar>(_ u: LocalValues<T>, _ p: LocalValues<T>) -> T {
///         u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2])
///     }
/// }
/// S.applyStencil(Diffusion(), on: .periodic(n), to: u, parameters: LocalValues([r]), into: &next)
/// ```
public protocol StencilKernel {
    /// The neighbours read at each point; the kernel receives their values in this order.
    var neighbours: [GridOffset] { get }
    func callAsFunction<T: SimulationScalar>(_ neighbours: LocalValues<T>, _ parameters: LocalValues<T>) -> T
}
