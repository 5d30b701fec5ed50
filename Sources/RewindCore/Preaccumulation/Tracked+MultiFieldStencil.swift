/// Multi-field stencils on tracked values: the kernel is evaluated at each point with `Dual`s
/// whose lanes are every field's neighbours and the parameters, and the whole grid update is
/// recorded as one external statement (one per block of rows when the tape spills) holding
/// `points × outputs × (neighbours + parameters)` partials, without argument identifiers.
///
/// Lanes: up to 8 in one `SIMD2`/`SIMD4`/`SIMD8` pass as for one field; more in passes of
/// `SIMD16<Double>` (a two-field five-point kernel with two parameters has 12 lanes: one pass),
/// each pass seeding the next 16 lanes. There is no limit on the neighbours beyond that of the
/// outputs and parameters (`LocalValues.capacity`, 8 each).
extension Tracked {
    /// Applies a multi-field `kernel` at every point of `grid` and records the whole update as
    /// one external statement of `points × outputs × (neighbours + parameters)` partials.
    ///
    /// ```swift
    /// Tracked.applyStencil(GrayScott(), on: .periodic(rows: 64, columns: 64), to: uv, parameters: p, into: &next)
    /// ```
    ///
    /// - Parameters:
    ///   - kernel: The point-update.
    ///   - grid: The periodic grid of `n = grid.pointCount` points.
    ///   - input: The fields one after another, `kernel.fieldCount × n` values.
    ///   - parameters: Parameters shared by every point.
    ///   - output: Receives the outputs one after another, `kernel.outputCount × n` values;
    ///     must not alias `input`.
    @inlinable
    public static func applyStencil<K: MultiFieldStencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Tracked], parameters: LocalValues<Tracked>,
        into output: inout [Tracked]
    ) {
        let layout = _MultiFieldLayout(kernel.neighbours, pointCount: grid.pointCount)
        switch layout.entryCount + parameters.count {
        case 0...2: _recordMultiFieldStencil(kernel, grid, layout, input, parameters, &output, SIMD2<Double>.self)
        case 3...4: _recordMultiFieldStencil(kernel, grid, layout, input, parameters, &output, SIMD4<Double>.self)
        case 5...8: _recordMultiFieldStencil(kernel, grid, layout, input, parameters, &output, SIMD8<Double>.self)
        default:
            if _multiFieldPassWidth == 8 {
                _recordMultiFieldStencil(kernel, grid, layout, input, parameters, &output, SIMD8<Double>.self)
            } else {
                _recordMultiFieldStencil(kernel, grid, layout, input, parameters, &output, SIMD16<Double>.self)
            }
        }
    }

    /// Lanes per pass past 8 lanes: 16 (the default, measured faster: docs/PERFORMANCE.md,
    /// "Multi-field stencils") or 8; only the benchmark changes it, to measure the choice.
    /// Both give the same partials bit for bit: each lane is its own computation.
    @usableFromInline nonisolated(unsafe) package static var _multiFieldPassWidth = 16

    @inlinable
    static func _recordMultiFieldStencil<K: MultiFieldStencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, _ layout: _MultiFieldLayout, _ input: [Tracked],
        _ parameters: LocalValues<Tracked>, _ output: inout [Tracked], _: D.Type
    ) {
        let outputCount = kernel.outputCount
        precondition(
            outputCount >= 1 && outputCount <= LocalValues<Tracked>.capacity,
            "a multi-field stencil writes 1 to \(LocalValues<Tracked>.capacity) values per point (got \(outputCount))")
        grid.checkShape(fields: layout.fieldCount, input: input.count, outputs: outputCount, output: output.count)
        let entryCount = layout.entryCount
        let parameterCount = parameters.count
        let lanes = entryCount + parameterCount
        let width = D.laneCount
        let passes = max(1, (lanes + width - 1) / width)
        let live = input.first { !$0.isConstant } ?? (0..<parameterCount).lazy.map { parameters[$0] }.first { !$0.isConstant }
        guard let live else {
            // Nothing depends on a recorded input: the update is a constant.
            let constants = input.map(\.value)
            var values = [Double](repeating: 0, count: output.count)
            Double.applyStencil(
                kernel, on: grid, to: constants, parameters: LocalValues(count: parameterCount) { parameters[$0].value },
                into: &values)
            for i in values.indices { output[i] = Tracked(values[i]) }
            return
        }
        let recorder = _Recorder.current(for: live.tag)
        let tape = recorder.pointee.tape.takeUnretainedValue()
        let parameterIdentifiers = (0..<parameterCount).map { parameters[$0].identifier }
        // The fields' array is `fieldCount × rows` grid rows: its identifiers are consecutive,
        // consecutive per row (a spilled stencil's outputs), or a list.
        let inputs = _StencilInputs(input, columns: grid.columns)
        let partialsPerPoint = outputCount * lanes
        let rowsPerBlock =
            tape._spillBlockLimit.map { max(1, $0 / max(1, grid.columns * partialsPerPoint)) } ?? grid.rows
        // Scratch on the stack, none per point: the parameters seeded for each pass, each
        // entry's tangent in each pass, the seeded neighbour values and the identity indices.
        withUnsafeTemporaryAllocation(of: LocalValues<Dual<D>>.self, capacity: passes) { seededParameters in
          withUnsafeTemporaryAllocation(of: D.self, capacity: max(1, passes * entryCount)) { units in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, entryCount)) { identity in
              withUnsafeTemporaryAllocation(of: Dual<D>.self, capacity: max(1, entryCount)) { seeded in
                layout.fieldStarts.withUnsafeBufferPointer { fieldStarts in
                    for pass in 0..<passes {
                        let firstLane = pass * width
                        (seededParameters.baseAddress! + pass).initialize(
                            to: LocalValues(count: parameterCount) { j in
                                let lane = entryCount + j - firstLane
                                return Dual(parameters[j].value, tangent: lane >= 0 && lane < width ? D.unit(lane) : .zero)
                            })
                        for k in 0..<entryCount {
                            let lane = k - firstLane
                            units[pass * entryCount + k] = lane >= 0 && lane < width ? D.unit(lane) : .zero
                        }
                    }
                    for k in 0..<max(1, entryCount) {
                        identity[k] = k
                        seeded[k] = Dual(0)
                    }
                    var firstRow = 0
                    while firstRow < grid.rows {
                        let rows = firstRow..<min(grid.rows, firstRow + rowsPerBlock)
                        _recordMultiFieldStencilBlock(
                            kernel, grid, layout, rows: rows, outputCount: outputCount, passes: passes,
                            input: input, output: &output, tape: tape, recorder: recorder,
                            statement: _MultiFieldStencilStatement(
                                grid: grid, rows: rows, layout: layout, outputCount: outputCount, inputs: inputs,
                                parameterIdentifiers: parameterIdentifiers),
                            parameters: UnsafePointer(seededParameters.baseAddress!),
                            units: UnsafePointer(units.baseAddress!), identity: UnsafePointer(identity.baseAddress!),
                            fieldStarts: fieldStarts.baseAddress!, seeded: seeded.baseAddress!)
                        firstRow = rows.upperBound
                    }
                }
              }
            }
          }
        }
    }

    /// Records the rows `rows` of a multi-field stencil as one external statement: at each
    /// point, per pass, the kernel on `Dual`s seeded with that pass's unit tangents (`units`),
    /// each output's tangent lanes stored in its row of partials (point-major, then output,
    /// then lane); then the block's outputs as leaves, output by output.
    @inlinable @inline(__always)
    static func _recordMultiFieldStencilBlock<K: MultiFieldStencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, _ layout: _MultiFieldLayout, rows: Range<Int>, outputCount: Int,
        passes: Int, input: [Tracked], output: inout [Tracked], tape: Tape, recorder: UnsafeMutablePointer<_Recorder>,
        statement: _MultiFieldStencilStatement, parameters: UnsafePointer<LocalValues<Dual<D>>>,
        units: UnsafePointer<D>, identity: UnsafePointer<Int>, fieldStarts: UnsafePointer<Int>,
        seeded: UnsafeMutablePointer<Dual<D>>
    ) {
        let entryCount = layout.entryCount
        let lanes = entryCount + parameters[0].count
        let width = D.laneCount
        let points = grid.pointCount
        let firstPoint = rows.lowerBound * grid.columns
        let blockPoints = rows.count * grid.columns
        let partialsPerPoint = outputCount &* lanes
        _ = tape._pushExternal(statement) { partials in
            input.withUnsafeBufferPointer { u in
                output.withUnsafeMutableBufferPointer { out in
                    let neighbourhood = MultiFieldNeighbourhood(
                        values: UnsafePointer(seeded), indices: identity, fieldStarts: fieldStarts)
                    grid._forEachPoint(layout.offsets, fieldBases: layout.fieldBases, rows: rows) { point, shift, neighbour in
                        let pointPartials = partials + (point &- firstPoint) &* partialsPerPoint
                        for pass in 0..<passes {
                            let tangents = units + pass &* entryCount
                            for k in 0..<entryCount {
                                seeded[k] = Dual(u[shift &+ neighbour[k]].value, tangent: tangents[k])
                            }
                            let y = kernel(neighbourhood, parameters[pass])
                            precondition(
                                y.count == outputCount, "the kernel returned \(y.count) values, not its outputCount \(outputCount)")
                            if pass == 0 {
                                for o in 0..<outputCount { out[o &* points &+ point] = Tracked(y[o].value) }
                            }
                            let firstLane = pass &* width
                            let count = Swift.min(width, lanes &- firstLane)
                            for o in 0..<outputCount {
                                let row = pointPartials + (o &* lanes &+ firstLane)
                                let tangent = y[o].tangent
                                if count == width {
                                    UnsafeMutableRawPointer(row).storeBytes(of: tangent, as: D.self)
                                } else {
                                    for j in 0..<count { row[j] = tangent[lane: j] }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The outputs' leaves, output by output: output o at point p of the block is
        // firstOutput + o·blockPoints + (p − firstPoint).
        output.withUnsafeMutableBufferPointer { out in
            for o in 0..<outputCount {
                let first = out.baseAddress! + o * points + firstPoint
                recorder.pointee.pushLeaves(count: blockPoints, value: { first[$0].value }, store: { first[$0] = $1 })
            }
        }
    }
}

/// The external statement of a recorded multi-field stencil block: the grid rows it covers,
/// every field's neighbours, and where the inputs' adjoints live. Its outputs are consecutive
/// identifiers, output by output, one per point of its rows.
@usableFromInline
package final class _MultiFieldStencilStatement: _ExternalStatement {
    let grid: StencilGrid
    let rows: Range<Int>
    let offsets: [GridOffset]
    /// The field each entry of `offsets` reads.
    let fields: [Int]
    let fieldBases: [Int]
    let outputCount: Int
    let inputs: _StencilInputs
    let parameterIdentifiers: [UInt32]

    @usableFromInline
    package init(
        grid: StencilGrid, rows: Range<Int>, layout: _MultiFieldLayout, outputCount: Int, inputs: _StencilInputs,
        parameterIdentifiers: [UInt32]
    ) {
        self.grid = grid
        self.rows = rows
        offsets = layout.offsets
        fields = layout.fields
        fieldBases = layout.fieldBases
        self.outputCount = outputCount
        self.inputs = inputs
        self.parameterIdentifiers = parameterIdentifiers
    }

    var pointCount: Int { rows.count * grid.columns }
    var lanes: Int { offsets.count + parameterIdentifiers.count }

    @usableFromInline package var partialCount: Int { pointCount * outputCount * lanes }

    /// Shared input lists are counted by the block that covers row 0.
    @usableFromInline package var byteCount: Int {
        96 + offsets.count * 32 + parameterIdentifiers.count * 4 + (rows.lowerBound == 0 ? inputs.byteCount : 0)
    }

    /// Rows from the last to the first; in each, points in order and each point's outputs in
    /// order, each output's contributions scattered to its inputs' adjoints and its parameter
    /// contributions summed per row: the same additions in the same order whether the grid
    /// was recorded as one block or split into several, so the gradient stays bitwise equal.
    @usableFromInline
    package func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let entryCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let lanes = entryCount + parameterCount
        let outputCount = self.outputCount
        let partialsPerPoint = outputCount * lanes
        let firstPoint = rows.lowerBound * grid.columns
        let blockPoints = pointCount
        // Output o's identifier at grid point p: outputBase + o·blockPoints + p.
        let outputBase = Int(firstOutput) &- firstPoint
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(parameterCount, 1)) { parameterAdjoints in
          withUnsafeTemporaryAllocation(of: Int.self, capacity: max(entryCount, 1)) { rowShifts in
            let sums = parameterAdjoints.baseAddress!
            let shifts = rowShifts.baseAddress!
            for r in rows.reversed() {
                parameterAdjoints.initialize(repeating: 0)
                if let ids = inputs.explicitIdentifiers {
                    ids.withUnsafeBufferPointer { ids in
                        let ids = ids.baseAddress!
                        grid._forEachPoint(offsets, fieldBases: fieldBases, rows: r..<(r + 1)) { point, shift, neighbour in
                            let pointPartials = partials + (point &- firstPoint) &* partialsPerPoint
                            for o in 0..<outputCount {
                                let a = adjoints[outputBase &+ o &* blockPoints &+ point]
                                let row = pointPartials + o &* lanes
                                // The tape's rule: skip a zero adjoint only where no partial is
                                // infinite or NaN (Tape._skipsZeroAdjoint).
                                if a == 0 && Tape._skipsZeroAdjoint(row, count: lanes) { continue }
                                for k in 0..<entryCount {
                                    adjoints[Int(ids[shift &+ neighbour[k]])] += row[k] * a
                                }
                                for j in 0..<parameterCount { sums[j] += row[entryCount &+ j] * a }
                            }
                        }
                    }
                } else {
                    // Each field row's inputs are consecutive identifiers: their adjoints are a
                    // shifted copy of that row.
                    for k in 0..<entryCount {
                        var neighbourRow = r + offsets[k].row
                        if neighbourRow < 0 { neighbourRow += grid.rows } else if neighbourRow >= grid.rows { neighbourRow -= grid.rows }
                        shifts[k] = inputs.offset(ofRow: fields[k] &* grid.rows &+ neighbourRow)
                    }
                    grid._forEachPoint(offsets, fieldBases: fieldBases, rows: r..<(r + 1)) { point, shift, neighbour in
                        let pointPartials = partials + (point &- firstPoint) &* partialsPerPoint
                        let target = adjoints + shift
                        for o in 0..<outputCount {
                            let a = adjoints[outputBase &+ o &* blockPoints &+ point]
                            let row = pointPartials + o &* lanes
                            if a == 0 && Tape._skipsZeroAdjoint(row, count: lanes) { continue }
                            for k in 0..<entryCount {
                                target[neighbour[k] &+ shifts[k]] += row[k] * a
                            }
                            for j in 0..<parameterCount { sums[j] += row[entryCount &+ j] * a }
                        }
                    }
                }
                for j in 0..<parameterCount {
                    adjoints[Int(parameterIdentifiers[j])] += sums[j]
                }
            }
          }
        }
    }
}
