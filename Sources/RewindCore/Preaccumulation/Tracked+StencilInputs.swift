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
                _StencilInputsStatement._evaluateRows(
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
                    inPairs: inPairs
                ) { point, y in
                    checksum &+= _StencilInputsStatement.fingerprint(y, at: point)
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
        let checksum = evaluate(stored, body)
        precondition(
            checksum == outputChecksum,
            "a stencil kernel gave other values in the reverse sweep than while recording: a kernel must depend "
                + "only on its neighbours, its parameters and its own stored properties, not on state that changes "
                + "between steps (pass such values as parameters)")
    }

    /// A hash of `value` at grid point `point`; summed, so that the sweep may visit the points
    /// in another order than the recording (rows last to first).
    ///
    /// Each step is a bijection (the point's XOR; the low half times an odd 32-bit constant
    /// added to the high half; the fold), so one changed value always changes the sum. The fold
    /// makes the hash nonlinear in the bits: without it, a value one unit up at one point and one
    /// down at another would cancel. The multiply is 32 × 32 bits because that is one SSE2
    /// instruction (`pmuludq`) for two points, where a 64-bit one is seven: the hash runs at every
    /// point of the recording and of the sweep.
    @inlinable @inline(__always)
    static func fingerprint(_ value: Double, at point: Int) -> UInt64 {
        let x = value.bitPattern ^ UInt64(bitPattern: Int64(point))
        let h = (x & 0xFFFF_FFFF_0000_0000) &+ (x & 0xFFFF_FFFF) &* 0x9E37_79B9
        return h ^ (h >> 32)
    }

    /// `fingerprint` of two points, `point` and `point + 1`, lane by lane.
    @inlinable @inline(__always)
    static func fingerprint(_ values: SIMD2<Double>, at point: Int) -> SIMD2<UInt64> {
        let first = UInt64(bitPattern: Int64(point))
        let x = unsafeBitCast(values, to: SIMD2<UInt64>.self) ^ SIMD2(first, first &+ 1)
        let h = (x & 0xFFFF_FFFF_0000_0000) &+ (x & 0xFFFF_FFFF) &* 0x9E37_79B9
        return h ^ (h &>> 32)
    }

    /// Calls `body` with a function that evaluates `kernel` on `Dual<D>`s over grid row `r` of
    /// the block from the `stored` window and returns that row's partials, lane by lane
    /// (`partials[lane · columns + column]`), in per-thread scratch or, when `destination` is
    /// given, at `destination(r)`; the values go to `outputs[r · columns + column]` when given.
    /// Returns the sum of the values' fingerprints (0 unless `fingerprints`). The sweep of a
    /// block that kept its inputs and the recording of a block that keeps its partials both
    /// evaluate here, so that they give the same bits.
    @inlinable
    static func _evaluateRows<K: StencilKernel, D: _PairableDirections>(
        _ kernel: K, _: D.Type, window: _StencilWindow, columns: Int, offsets: [GridOffset], parameterCount: Int,
        inPairs: Bool, stored: UnsafePointer<Double>, into destination: ((Int) -> UnsafeMutablePointer<Double>)? = nil,
        outputs: UnsafeMutablePointer<Double>? = nil, fingerprints: Bool = true,
        _ body: ((Int) -> UnsafePointer<Double>) -> Void
    ) -> UInt64 {
        let neighbourCount = offsets.count
        let lanes = neighbourCount + parameterCount
        let storedParameters = stored + window.rowCount * columns
        let parameters = LocalValues<Dual<D>>(count: parameterCount) {
            Dual(storedParameters[$0], tangent: D.unit(neighbourCount + $0))
        }
        let pairParameters = LocalValues<_PointPair<D._Pair>>(count: parameterCount) {
            _PointPair(SIMD2(repeating: storedParameters[$0]), tangent: .unit(neighbourCount + $0))
        }
        var inPairs = inPairs
        let (interiorStart, interiorEnd) = StencilGrid._interiorColumns(offsets, columns: columns)
        let width = max(neighbourCount, 1)
        var checksum: UInt64 = 0
        if inPairs { _ = _PointPairDivergence.take() }
        func evaluate(scratch: UnsafeMutablePointer<Double>?) {
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * width) { integers in
                // Indices of the neighbours relative to the point's column in the window: one
                // set for the interior of a row, one rebuilt per point where a column wraps.
                let rowStarts = integers.baseAddress!
                let shifts = rowStarts + width
                let interior = shifts + width
                let wrapped = interior + width
                for j in 0..<neighbourCount { shifts[j] = offsets[j].column }
                body { r in
                    let partials = destination?(r) ?? scratch!
                    // Copied into locals: the loops' stores through `partials` could alias the
                    // captured originals, which the compiler would then load again at every point.
                    let (outputs, fingerprints, lanes) = (outputs, fingerprints, lanes)
                    for j in 0..<neighbourCount {
                        rowStarts[j] = window.localRow(r, offset: offsets[j].row) &* columns
                        interior[j] = rowStarts[j] &+ shifts[j]
                    }
                    var rowChecksum: UInt64 = 0
                    var pairChecksums = SIMD2<UInt64>()
                    @inline(__always) func evaluate(_ c: Int, _ indices: UnsafePointer<Int>) {
                        let y = kernel(StencilNeighbourhood(seeding: stored + c, indices: indices), parameters)
                        if fingerprints { rowChecksum &+= fingerprint(y.value, at: r &* columns &+ c) }
                        outputs?[r &* columns &+ c] = y.value
                        for j in 0..<lanes { partials[j &* columns &+ c] = y.tangent[lane: j] }
                    }
                    // Columns c and c + 1 at once (`_PointPair`), both in the interior.
                    @inline(__always) func evaluatePair(_ c: Int) {
                        let y = kernel(
                            StencilNeighbourhood<_PointPair<D._Pair>>(seeding: stored + c, indices: interior),
                            pairParameters)
                        if fingerprints { pairChecksums &+= fingerprint(y.value, at: r &* columns &+ c) }
                        if let outputs {
                            UnsafeMutableRawPointer(outputs + (r &* columns &+ c)).storeBytes(of: y.value, as: SIMD2<Double>.self)
                        }
                        @inline(__always) func store(_ j: Int) {
                            UnsafeMutableRawPointer(partials + (j &* columns &+ c)).storeBytes(
                                of: y.tangent.lanePair(j), as: SIMD2<Double>.self)
                        }
                        // Every lane used (Burgers' 4 in a `SIMD4`): a count the compiler knows.
                        if lanes == D.laneCount {
                            for j in 0..<D.laneCount { store(j) }
                        } else {
                            for j in 0..<lanes { store(j) }
                        }
                    }
                    @inline(__always) func evaluateWrapping(_ c: Int) {
                        for j in 0..<neighbourCount {
                            var column = c &+ shifts[j]
                            if column < 0 { column += columns } else if column >= columns { column -= columns }
                            wrapped[j] = rowStarts[j] &+ column &- c
                        }
                        evaluate(c, wrapped)
                    }
                    for c in 0..<interiorStart { evaluateWrapping(c) }
                    var c = interiorStart
                    if inPairs {
                        while c &+ 2 <= interiorEnd {
                            evaluatePair(c)
                            c &+= 2
                        }
                        // The recording's trial (`StencilGrid._evaluatesInPairs`) found no decision
                        // on values; one here all the same sends this row and the rest point by point.
                        if _slowPath(_PointPairDivergence.take()) {
                            inPairs = false
                            rowChecksum = 0
                            pairChecksums = SIMD2()
                            for c in 0..<interiorStart { evaluateWrapping(c) }
                            c = interiorStart
                        }
                    }
                    while c < interiorEnd {
                        evaluate(c, interior)
                        c &+= 1
                    }
                    for c in interiorEnd..<columns { evaluateWrapping(c) }
                    checksum &+= rowChecksum &+ pairChecksums[0] &+ pairChecksums[1]
                    return UnsafePointer(partials)
                }
            }
        }
        if destination != nil {
            evaluate(scratch: nil)
        } else {
            _ThreadScratch.withDoubles(columns * lanes + D.laneCount) { evaluate(scratch: $0) }
        }
        return checksum
    }
}
