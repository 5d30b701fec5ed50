/// Multi-field stencils on tracked values: the kernel is evaluated at each point with `Dual`s
/// whose lanes are every field's neighbours and the parameters, and the whole grid update is
/// recorded as one external statement (one per block of rows when the tape spills) holding
/// `points × outputs × (neighbours + parameters)` partials, without argument identifiers.
///
/// Lanes: up to 8 in one `SIMD2`/`SIMD4`/`SIMD8` pass as for one field; 9 to 12 in one pass of
/// twelve lanes (a `SIMD8` and a `SIMD4`: a two-field five-point kernel with two parameters has
/// 12); more in passes of `SIMD16<Double>`, each pass seeding the next 16 lanes. There is no
/// limit on the neighbours beyond that of the outputs and parameters (`LocalValues.capacity`,
/// 8 each), so there is no elementary fallback.
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
        let layout = grid._multiFieldLayout(kernel, input: input.count, output: output.count)
        let outputCount = kernel.outputCount
        let parameterCount = parameters.count
        let parameterValues = LocalValues<Double>(count: parameterCount) { parameters[$0].value }
        let live = input.first { !$0.isConstant } ?? (0..<parameterCount).lazy.map { parameters[$0] }.first { !$0.isConstant }
        guard let live else {
            // Nothing depends on a recorded input: the update is a constant.
            let constants = input.map(\.value)
            var values = [Double](repeating: 0, count: output.count)
            Double.applyStencil(kernel, on: grid, to: constants, parameters: parameterValues, into: &values)
            for i in values.indices { output[i] = Tracked(values[i]) }
            return
        }
        // The entries whose partials are the same at every point keep no lane.
        let lanes = grid._multiFieldLanes(kernel, layout, input: input, parameters: parameterValues, outputCount: outputCount)
        let tape = _Recorder.current(for: live.tag).pointee.tape.takeUnretainedValue()
        let firstStatement = tape._externalCount
        defer {
            // A kernel that changed during the recording (after the checks before it) no longer
            // has the kept partials: its statements sweep NaN, and the tape names the fault.
            if lanes.hasConstantEntries
                && !grid._multiFieldConstantsHold(kernel, layout, lanes, input: input, parameters: parameterValues)
            {
                tape._noteStencilKernelFault(.changedAfterProbe, statementsFrom: firstStatement)
            }
        }
        func record<D: TangentDirections>(_: D.Type) {
            _recordMultiFieldStencil(kernel, grid, layout, lanes, input, parameters, live: live, &output, D.self)
        }
        switch lanes.laneCount {
        case 0...2: record(SIMD2<Double>.self)
        case 3...4: record(SIMD4<Double>.self)
        case 5...8: record(SIMD8<Double>.self)
        case let laneCount:
            switch _multiFieldPassWidth {
            case 8: record(SIMD8<Double>.self)
            case 16: record(SIMD16<Double>.self)
            default: if laneCount <= 12 { record(_Lanes12.self) } else { record(SIMD16<Double>.self) }
            }
        }
    }

    /// Lanes per pass past 8 lanes: 0 (the default: 12 lanes for 9–12, passes of 16 beyond,
    /// measured fastest: docs/PERFORMANCE.md, "Multi-field stencils"), 16 or 8. Only the
    /// benchmark and the tests change it, to measure and compare the choices; all give the same
    /// partials bit for bit, each lane being its own computation.
    @usableFromInline nonisolated(unsafe) package static var _multiFieldPassWidth = 0

    @inlinable
    static func _recordMultiFieldStencil<K: MultiFieldStencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, _ layout: _MultiFieldLayout, _ lanes: _MultiFieldLanes, _ input: [Tracked],
        _ parameters: LocalValues<Tracked>, live: Tracked, _ output: inout [Tracked], _: D.Type
    ) {
        let outputCount = kernel.outputCount
        let entryCount = layout.entryCount
        let parameterCount = parameters.count
        let laneCount = lanes.laneCount
        let width = D.laneCount
        let passes = max(1, (laneCount + width - 1) / width)
        let recorder = _Recorder.current(for: live.tag)
        let tape = recorder.pointee.tape.takeUnretainedValue()
        let parameterIdentifiers = (0..<parameterCount).map { parameters[$0].identifier }
        // The fields' array is `fieldCount × rows` grid rows: its identifiers are consecutive,
        // consecutive per row (a spilled stencil's outputs), or a list.
        let inputs = _StencilInputs(input, columns: grid.columns)
        let partialsPerPoint = outputCount * laneCount
        let rowsPerBlock =
            tape._spillBlockLimit.map { max(1, $0 / max(1, grid.columns * partialsPerPoint)) } ?? grid.rows
        // Scratch on the stack, none per point: the parameters seeded for each pass, the
        // neighbours seeded for each pass (their tangents set here once; a point only writes
        // the values: copying 16-lane unit tangents per point was a third of the recording),
        // and the identity indices.
        withUnsafeTemporaryAllocation(of: LocalValues<Dual<D>>.self, capacity: passes) { seededParameters in
          withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, entryCount)) { identity in
            withUnsafeTemporaryAllocation(of: Dual<D>.self, capacity: max(1, passes * entryCount)) { seeded in
                layout.fieldStarts.withUnsafeBufferPointer { fieldStarts in
                    for pass in 0..<passes {
                        let firstLane = pass * width
                        (seededParameters.baseAddress! + pass).initialize(
                            to: LocalValues(count: parameterCount) { j in
                                let lane = lanes.varyingEntries + j - firstLane
                                return Dual(parameters[j].value, tangent: lane >= 0 && lane < width ? D.unit(lane) : .zero)
                            })
                        // An entry whose partials are constant carries no lane: zero tangents.
                        for k in 0..<entryCount {
                            let entryLane = lanes.laneOfEntry[k]
                            let lane = entryLane - firstLane
                            (seeded.baseAddress! + pass * entryCount + k).initialize(
                                to: Dual(0, tangent: entryLane >= 0 && lane >= 0 && lane < width ? D.unit(lane) : .zero))
                        }
                    }
                    for k in 0..<max(1, entryCount) { identity[k] = k }
                    var firstRow = 0
                    while firstRow < grid.rows {
                        let rows = firstRow..<min(grid.rows, firstRow + rowsPerBlock)
                        _recordMultiFieldStencilBlock(
                            kernel, grid, layout, rows: rows, outputCount: outputCount, lanes: laneCount, passes: passes,
                            input: input, output: &output, tape: tape, recorder: recorder,
                            statement: _MultiFieldStencilStatement(
                                grid: grid, rows: rows, layout: layout, lanes: lanes, outputCount: outputCount,
                                inputs: inputs, parameterIdentifiers: parameterIdentifiers),
                            parameters: UnsafePointer(seededParameters.baseAddress!),
                            identity: UnsafePointer(identity.baseAddress!),
                            fieldStarts: fieldStarts.baseAddress!, seeded: seeded.baseAddress!)
                        firstRow = rows.upperBound
                    }
                }
            }
          }
        }
    }

    /// Records the rows `rows` of a multi-field stencil as one external statement: at each
    /// point, per pass, the kernel on `Dual`s seeded with that pass's unit tangents (`seeded`,
    /// `entryCount` per pass, whose values it sets),
    /// each output's tangent lanes stored in its row of partials (point-major, then output,
    /// then lane); then the block's outputs as leaves, output by output.
    @inlinable @inline(__always)
    static func _recordMultiFieldStencilBlock<K: MultiFieldStencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, _ layout: _MultiFieldLayout, rows: Range<Int>, outputCount: Int, lanes: Int,
        passes: Int, input: [Tracked], output: inout [Tracked], tape: Tape, recorder: UnsafeMutablePointer<_Recorder>,
        statement: _MultiFieldStencilStatement, parameters: UnsafePointer<LocalValues<Dual<D>>>,
        identity: UnsafePointer<Int>, fieldStarts: UnsafePointer<Int>,
        seeded: UnsafeMutablePointer<Dual<D>>
    ) {
        let entryCount = layout.entryCount
        let width = D.laneCount
        let points = grid.pointCount
        let firstPoint = rows.lowerBound * grid.columns
        let blockPoints = rows.count * grid.columns
        let partialsPerPoint = outputCount &* lanes
        _ = tape._pushExternal(statement) { partials in
            input.withUnsafeBufferPointer { u in
                output.withUnsafeMutableBufferPointer { out in
                    grid._forEachPoint(layout.offsets, fieldBases: layout.fieldBases, rows: rows) { point, shift, neighbour in
                        let pointPartials = partials + (point &- firstPoint) &* partialsPerPoint
                        for pass in 0..<passes {
                            let values = seeded + pass &* entryCount
                            for k in 0..<entryCount { values[k].value = u[shift &+ neighbour[k]].value }
                            let y = kernel(
                                MultiFieldNeighbourhood(values: UnsafePointer(values), indices: identity, fieldStarts: fieldStarts),
                                parameters[pass])
                            precondition(
                                y.count == outputCount, "the kernel returned \(y.count) values, not its outputCount \(outputCount)")
                            if pass == 0 {
                                for o in 0..<outputCount { out[o &* points &+ point] = Tracked(y[o].value) }
                            }
                            let firstLane = pass &* width
                            let count = Swift.min(width, lanes &- firstLane)
                            // No lane at all (a kernel affine in every entry, without parameters):
                            // the point keeps nothing.
                            for o in 0..<outputCount where count > 0 {
                                let row = pointPartials + (o &* lanes &+ firstLane)
                                let tangent = y[o].tangent
                                // A whole vector where it fits, and also where its idle
                                // lanes land on the next row (one pass: rows are written in
                                // address order, and a vector is less than two rows wide), which
                                // is written after; lane by lane only for the block's last row.
                                // (A copy of `count` lanes was a `memmove` call per row: 16 % of
                                // a 7-lane wave-equation run.)
                                if count == width
                                    || (passes == 1 && (point &- firstPoint &+ 1 < blockPoints || o &+ 1 < outputCount))
                                {
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
/// identifiers, output by output, one per point of its rows. Each point keeps the partials of
/// its varying entries and of the parameters (`_MultiFieldLanes`); those of the entries the
/// kernel is affine in live here once.
@usableFromInline
package final class _MultiFieldStencilStatement: _StencilFaultReporting {
    let grid: StencilGrid
    /// Input fields: the inputs are `fieldCount × rows` grid rows.
    let fieldCount: Int
    let rows: Range<Int>
    let offsets: [GridOffset]
    /// The field each entry of `offsets` reads.
    let fields: [Int]
    let fieldBases: [Int]
    let outputCount: Int
    let inputs: _StencilInputs
    let parameterIdentifiers: [UInt32]
    /// Which partials a point keeps, and the constant ones.
    let lanes: _MultiFieldLanes
    /// A kernel found changed since its constant partials were taken.
    @usableFromInline package let faultMark = _StencilFaultMark()

    @usableFromInline
    package init(
        grid: StencilGrid, rows: Range<Int>, layout: _MultiFieldLayout, lanes: _MultiFieldLanes, outputCount: Int,
        inputs: _StencilInputs, parameterIdentifiers: [UInt32]
    ) {
        self.grid = grid
        fieldCount = layout.fieldCount
        self.rows = rows
        offsets = layout.offsets
        fields = layout.fields
        fieldBases = layout.fieldBases
        self.outputCount = outputCount
        self.inputs = inputs
        self.parameterIdentifiers = parameterIdentifiers
        self.lanes = lanes
    }

    var pointCount: Int { rows.count * grid.columns }

    @usableFromInline package var partialCount: Int { pointCount * outputCount * lanes.laneCount }

    /// Shared input lists are counted by the block that covers row 0.
    @usableFromInline package var byteCount: Int {
        96 + offsets.count * 40 + parameterIdentifiers.count * 4 + lanes.constantPartials.count * 8
            + (rows.lowerBound == 0 ? inputs.byteCount : 0)
    }

    /// `Σₒ partial(o) × adjoint(o)` over the outputs in order, output o's partial `stride`
    /// after output 0's and its adjoint `adjointStride` after output 0's.
    @inline(__always)
    static func contribution(
        _ partial: UnsafePointer<Double>, stride: Int, _ outputCount: Int, _ adjoint: UnsafePointer<Double>,
        adjointStride: Int
    ) -> Double {
        // One and two outputs spelled out (the same operations in the same order as the loop).
        switch outputCount {
        case 1: return partial[0] * adjoint[0]
        case 2: return partial[0] * adjoint[0] + partial[stride] * adjoint[adjointStride]
        default: break
        }
        var sum = partial[0] * adjoint[0]
        var o = 1
        while o < outputCount {
            sum += partial[o &* stride] * adjoint[o &* adjointStride]
            o &+= 1
        }
        return sum
    }

    /// Rows from the last to the first; in each, entry by entry, every point's contribution to
    /// the input that entry reads (`Σₒ partial × adjoint(o)` over the outputs in order), then
    /// the parameters' contributions summed over the row's points in order. An entry's inputs
    /// along a row are a row of the field (shifted, wrapping once), so for an entry whose
    /// partials are constant the loop is a scaled sum of the output adjoints' rows added into
    /// it, with no partial read. The same additions in the same order whether the grid was
    /// recorded as one block or split into several, and whether an entry's partials were kept
    /// per point or once: the gradient stays bitwise equal. Zero output adjoints are not
    /// skipped: their contributions are zeros of either sign, which change no adjoint (none is
    /// −0), and a partial that is not finite makes them NaN, as it must.
    @usableFromInline
    package func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        lanes.constantPartials.withUnsafeBufferPointer { constants in
            lanes.laneOfEntry.withUnsafeBufferPointer { laneOfEntry in
                reverse(
                    firstOutput: firstOutput, partials: partials, adjoints: adjoints, constants: constants,
                    laneOfEntry: laneOfEntry)
            }
        }
    }

    func reverse(
        firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>,
        constants: UnsafeBufferPointer<Double>, laneOfEntry: UnsafeBufferPointer<Int>
    ) {
        // A kernel found at fault has no partials to trust: NaN for everything it reads.
        defer { if _slowPath(faultMark.isSet) { poisonInputs(adjoints) } }
        let entryCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let lanes = self.lanes.laneCount
        let varyingEntries = self.lanes.varyingEntries
        let outputCount = self.outputCount
        let partialsPerPoint = outputCount * lanes
        let columns = grid.columns
        let firstPoint = rows.lowerBound * columns
        let blockPoints = pointCount
        // Output o's adjoint at grid point p: outputAdjoints[o·blockPoints + p].
        let outputAdjoints = adjoints + (Int(firstOutput) &- firstPoint)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(parameterCount, 1)) { sums in
            let sums = sums.baseAddress!
            for r in rows.reversed() {
                let rowStart = r &* columns
                let rowPartials = partials + (rowStart &- firstPoint) &* partialsPerPoint
                let rowAdjoints = UnsafePointer(outputAdjoints + rowStart)
                for k in 0..<entryCount {
                    var inputRow = (r + offsets[k].row) % grid.rows
                    if inputRow < 0 { inputRow += grid.rows }
                    // Point c reads column c + shift, wrapping once: columns 0 ..< split read
                    // c + shift, the rest c + shift − columns.
                    var shift = offsets[k].column % columns
                    if shift < 0 { shift += columns }
                    let split = columns &- shift
                    let inputStart = fieldBases[k] &+ inputRow &* columns
                    // Point c's partial for output o: the point's lane of the entry, or the
                    // entry's constant (the same number at every point).
                    let lane = laneOfEntry[k]
                    let (weights, pointStride, outputStride) = lane >= 0
                        ? (rowPartials + lane, partialsPerPoint, lanes) : (constants.baseAddress! + k, 0, entryCount)
                    @inline(__always) func add(_ target: (Int) -> UnsafeMutablePointer<Double>) {
                        @inline(__always) func contribution(_ c: Int) -> Double {
                            Self.contribution(
                                weights + c &* pointStride, stride: outputStride, outputCount, rowAdjoints + c,
                                adjointStride: blockPoints)
                        }
                        for c in 0..<split { target(c &+ shift).pointee += contribution(c) }
                        for c in split..<columns { target(c &+ shift &- columns).pointee += contribution(c) }
                    }
                    if let ids = inputs.explicitIdentifiers {
                        ids.withUnsafeBufferPointer { ids in
                            let row = ids.baseAddress! + inputStart
                            add { adjoints + Int(row[$0]) }
                        }
                    } else {
                        let row = adjoints + (inputStart &+ inputs.offset(ofRow: fields[k] &* grid.rows &+ inputRow))
                        add { row + $0 }
                    }
                }
                if parameterCount > 0 {
                    sums.initialize(repeating: 0, count: parameterCount)
                    for c in 0..<columns {
                        let pointPartials = rowPartials + (c &* partialsPerPoint &+ varyingEntries)
                        for j in 0..<parameterCount {
                            sums[j] += Self.contribution(
                                pointPartials + j, stride: lanes, outputCount, rowAdjoints + c, adjointStride: blockPoints)
                        }
                    }
                    for j in 0..<parameterCount {
                        adjoints[Int(parameterIdentifiers[j])] += sums[j]
                    }
                }
            }
        }
    }

    /// NaN into the adjoint of every input and parameter of the stencil.
    func poisonInputs(_ adjoints: UnsafeMutablePointer<Double>) {
        inputs.poison(adjoints, rows: fieldCount * grid.rows, columns: grid.columns, parameters: parameterIdentifiers)
    }
}
