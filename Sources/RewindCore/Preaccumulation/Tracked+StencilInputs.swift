/// Stencils recorded by their inputs (`StencilStorage.inputs`): the tape keeps the values the
/// kernel read and the parameters' values, one number a point, and each sweep evaluates the
/// kernel on `Dual`s again, one grid row at a time, into a row of scratch partials that the
/// statement's ordinary sweep then uses. The `Dual` sees the same values as it would have
/// while recording, so the partials, and the gradient, are bitwise those of
/// `StencilStorage.partials`.
extension Tracked {
    /// Records `kernel` over `grid` as statements that keep its inputs: the outputs come from
    /// the kernel on `Double` (the same values a `Dual` would give), the block's input rows
    /// (with the rows its neighbours reach) and the parameters go to the tape. `values` are the
    /// inputs' values, the grid the kernel reads.
    @inlinable
    static func _recordStencilInputs<K: StencilKernel, D: _PairableDirections>(
        _ kernel: K, _ grid: StencilGrid, values: UnsafePointer<Double>, _ parameterValues: LocalValues<Double>,
        _ output: inout [Tracked], _: D.Type, tape: Tape, recorder: UnsafeMutablePointer<_Recorder>,
        inputs: _StencilInputs, parameterIdentifiers: [UInt32], inPairs: Bool
    ) {
        let offsets = kernel.neighbours
        let reach = _StencilWindow.reach(of: offsets)
        let columns = grid.columns
        // A spilling tape's block must fit its chunk: its rows and the rows they reach.
        let rowsPerBlock = tape._spillBlockLimit.map { limit in
            max(1, (limit - parameterValues.count) / max(1, columns) - reach.up - reach.down)
        } ?? grid.rows
        var firstRow = 0
        while firstRow < grid.rows {
            let rows = firstRow..<min(grid.rows, firstRow + rowsPerBlock)
            let window = _StencilWindow(grid: grid, rows: rows, reach: reach)
            // Built here, where `K` and `D` are known, so that the sweep runs the specialised
            // kernel: a generic class's overridden method would run unspecialised.
            let parameterCount = parameterValues.count
            let statement = _StencilInputsStatement(
                window: window, grid: grid, rows: rows, offsets: offsets, inputs: inputs,
                parameterIdentifiers: parameterIdentifiers
            ) { stored, body in
                _StencilRows.evaluate(
                    kernel, D.self, window: window, columns: columns, offsets: offsets,
                    parameterCount: parameterCount, inPairs: inPairs, stored: stored, body)
            }
            _ = tape._pushExternal(statement, fillsEveryPartial: true) { stored in
                for k in 0..<window.rowCount {
                    (stored + k &* columns).update(from: values + window.gridRow(ofLocal: k) &* columns, count: columns)
                }
                let storedParameters = stored + window.rowCount &* columns
                for j in 0..<parameterValues.count { storedParameters[j] = parameterValues[j] }
            }
            output.withUnsafeMutableBufferPointer { out in
                var checksum: UInt64 = 0
                grid._evaluatePrimal(
                    kernel, offsets: offsets, rows: rows, values: values, parameters: parameterValues,
                    inPairs: inPairs,
                    redoing: { points in for point in points { checksum &-= _StencilRows.fingerprint(out[point].value, at: point) } }
                ) { point, y in
                    checksum &+= _StencilRows.fingerprint(y, at: point)
                    out[point] = Tracked(y)
                }
                statement.outputChecksum = checksum
                let first = out.baseAddress! + rows.lowerBound * columns
                recorder.pointee.pushLeaves(
                    count: rows.count * columns, value: { first[$0].value }, store: { first[$0] = $1 })
            }
            firstRow = rows.upperBound
        }
    }
}

/// The grid rows a block of a stencil reads: its own rows and those its neighbours reach above
/// and below, or every row once that covers the grid (then no row is kept twice).
@usableFromInline
package struct _StencilWindow {
    /// The grid row of local row 0, before wrapping (may be negative); 0 for the whole grid.
    @usableFromInline let firstRow: Int
    /// Rows kept.
    @usableFromInline let rowCount: Int
    @usableFromInline let wholeGrid: Bool
    @usableFromInline let gridRows: Int

    /// How many rows the offsets reach above (towards row 0) and below.
    @usableFromInline
    static func reach(of offsets: [GridOffset]) -> (up: Int, down: Int) {
        (offsets.map { -$0.row }.max().map { max($0, 0) } ?? 0, offsets.map(\.row).max().map { max($0, 0) } ?? 0)
    }

    @usableFromInline
    init(grid: StencilGrid, rows: Range<Int>, reach: (up: Int, down: Int)) {
        gridRows = grid.rows
        if rows.count + reach.up + reach.down >= grid.rows {
            wholeGrid = true
            firstRow = 0
            rowCount = grid.rows
        } else {
            wholeGrid = false
            firstRow = rows.lowerBound - reach.up
            rowCount = rows.count + reach.up + reach.down
        }
    }

    /// The grid row kept as local row `k`.
    @usableFromInline
    func gridRow(ofLocal k: Int) -> Int {
        let row = firstRow + k
        return row < 0 ? row + gridRows : row >= gridRows ? row - gridRows : row
    }

    /// The local row holding grid row `row + offset` (wrapped periodically).
    @usableFromInline
    func localRow(_ row: Int, offset: Int) -> Int {
        if wholeGrid {
            let wrapped = row + offset
            return wrapped < 0 ? wrapped + gridRows : wrapped >= gridRows ? wrapped - gridRows : wrapped
        }
        return row + offset - firstRow
    }
}

/// A stencil block that keeps its inputs: `rowCount × columns` values of its window, then the
/// parameters' values. Its sweep computes each row's partials with the kernel on `Dual`s,
/// exactly as recording with `StencilStorage.partials` would have, and hands them to the
/// ordinary sweep of `_StencilStatement`.
@usableFromInline
final class _StencilInputsStatement: _StencilStatement {
    /// `withRowPartials` for this block, specialised for its kernel where it was recorded.
    let evaluate: (UnsafePointer<Double>, ((Int) -> UnsafePointer<Double>) -> Void) -> UInt64
    let window: _StencilWindow
    /// The sum of the recorded outputs' fingerprints: the sweep's `Dual`s must give the same
    /// values, or the partials it computes are not those of the recording.
    @usableFromInline var outputChecksum: UInt64 = 0

    @usableFromInline
    init(
        window: _StencilWindow, grid: StencilGrid, rows: Range<Int>, offsets: [GridOffset], inputs: _StencilInputs,
        parameterIdentifiers: [UInt32],
        evaluate: @escaping (UnsafePointer<Double>, ((Int) -> UnsafePointer<Double>) -> Void) -> UInt64
    ) {
        self.window = window
        self.evaluate = evaluate
        super.init(grid: grid, rows: rows, offsets: offsets, inputs: inputs, parameterIdentifiers: parameterIdentifiers)
    }

    override var partialCount: Int { window.rowCount * grid.columns + parameterIdentifiers.count }

    override var byteCount: Int { super.byteCount + 64 }

    override func withRowPartials(stored: UnsafePointer<Double>, _ body: ((Int) -> UnsafePointer<Double>) -> Void) {
        // A kernel that reads state changed since the recording (a forcing object the step
        // updates, a counter) would give other partials here, and a wrong finite gradient; the
        // values it gives now betray it. A sweep asks for every row of the block once.
        // The rows' partials have gone into the sweep by the time the sum is known: the fault
        // makes `reverse` overwrite what they gave with NaN.
        if evaluate(stored, body) != outputChecksum { note(.changedSinceRecording) }
    }
}
