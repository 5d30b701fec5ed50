/// Stencils on tracked values: the kernel is evaluated at each point with a `Dual` whose
/// lanes are the neighbours and parameters, and the whole grid update is recorded as one
/// external statement holding `points × (neighbours + parameters)` partials. The argument
/// identifiers are not stored: the grid says which input each partial belongs to, so a
/// burgers point-update costs 4 partials (32 bytes) instead of ~22 elementary statements.
extension Tracked {
    /// Applies `kernel` at every point of `grid` and records the whole update as one external
    /// statement of `points × (neighbours + parameters)` partials.
    ///
    /// - Parameters:
    ///   - kernel: The point-update.
    ///   - grid: The periodic grid; `input` and `output` hold `grid.pointCount` values.
    ///   - input: The old values.
    ///   - parameters: Parameters shared by every point.
    ///   - output: Receives the new values; must not alias `input`.
    @inlinable
    public static func applyStencil<K: StencilKernel>(
        _ kernel: K, on grid: StencilGrid, to input: [Tracked], parameters: LocalValues<Tracked>,
        into output: inout [Tracked]
    ) {
        let lanes = kernel.neighbours.count + parameters.count
        switch lanes {
        case 0...2: _recordStencil(kernel, grid, input, parameters, &output, SIMD2<Double>.self)
        case 3...4: _recordStencil(kernel, grid, input, parameters, &output, SIMD4<Double>.self)
        case 5...8: _recordStencil(kernel, grid, input, parameters, &output, SIMD8<Double>.self)
        default:
            // Too wide for the lanes we carry: record elementary statements instead.
            applyStencilPointwise(kernel, on: grid, to: input, parameters: parameters, into: &output)
        }
    }

    @inlinable
    static func _recordStencil<K: StencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, _ input: [Tracked], _ parameters: LocalValues<Tracked>,
        _ output: inout [Tracked], _: D.Type
    ) {
        grid.checkShape(input: input.count, output: output.count)
        let offsets = kernel.neighbours
        let neighbourCount = offsets.count
        let lanes = neighbourCount + parameters.count
        let live = input.first { !$0.isConstant } ?? (0..<parameters.count).lazy.map { parameters[$0] }.first { !$0.isConstant }
        guard let live else {
            // Nothing depends on a recorded input: the update is a constant.
            let constants = input.map(\.value)
            var values = [Double](repeating: 0, count: grid.pointCount)
            Double.applyStencil(
                kernel, on: grid, to: constants, parameters: LocalValues(count: parameters.count) { parameters[$0].value },
                into: &values)
            for i in values.indices { output[i] = Tracked(values[i]) }
            return
        }
        let recorder = _Recorder.current(for: live.tag)
        let tape = recorder.pointee.tape.takeUnretainedValue()
        let parameterIdentifiers = (0..<parameters.count).map { parameters[$0].identifier }
        let inputs = _StencilInputs(input, columns: grid.columns)
        let seededParameters = LocalValues<Dual<D>>(count: parameters.count) {
            Dual(parameters[$0].value, tangent: D.unit(neighbourCount + $0))
        }
        // One block of rows per external statement: the whole grid, unless the tape spills and
        // a block must fit its chunk.
        let rowsPerBlock = tape._spillBlockLimit.map { max(1, $0 / max(1, grid.columns * lanes)) } ?? grid.rows
        // Scratch on the stack: a small grid records a stencil every step, and heap arrays here
        // were most of its mallocs (burgers on 256 points: 9 a step).
        let width = max(neighbourCount, 1)
        withUnsafeTemporaryAllocation(of: D.self, capacity: width) { units in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: width) { indices in
                withUnsafeTemporaryAllocation(of: Dual<D>.self, capacity: width) { seeded in
                    for j in 0..<width {
                        units[j] = D.unit(j)
                        indices[j] = j
                        seeded[j] = Dual(0)
                    }
                    var firstRow = 0
                    while firstRow < grid.rows {
                        let rows = firstRow..<min(grid.rows, firstRow + rowsPerBlock)
                        _recordStencilBlock(
                            kernel, grid, rows: rows, input: input, output: &output, tape: tape, recorder: recorder,
                            statement: _StencilStatement(
                                grid: grid, rows: rows, offsets: offsets, inputs: inputs,
                                parameterIdentifiers: parameterIdentifiers),
                            offsets: offsets, parameters: seededParameters, units: UnsafeBufferPointer(units),
                            indices: UnsafeBufferPointer(indices), seeded: seeded.baseAddress!)
                        firstRow = rows.upperBound
                    }
                }
            }
        }
    }

    /// Records the rows `rows` of a stencil as one external statement: the kernel evaluated on
    /// `Dual`s seeded with unit tangents (`units`), each point's tangent lanes stored as its
    /// row of partials, then the block's outputs as leaves.
    @inlinable @inline(__always)
    static func _recordStencilBlock<K: StencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, rows: Range<Int>, input: [Tracked], output: inout [Tracked], tape: Tape,
        recorder: UnsafeMutablePointer<_Recorder>, statement: _StencilStatement, offsets: [GridOffset],
        parameters: LocalValues<Dual<D>>,
        units: UnsafeBufferPointer<D>, indices: UnsafeBufferPointer<Int>, seeded: UnsafeMutablePointer<Dual<D>>
    ) {
        let neighbourCount = offsets.count
        let lanes = neighbourCount + parameters.count
        let firstPoint = rows.lowerBound * grid.columns
        _ = tape._pushExternal(statement) { partials in
            input.withUnsafeBufferPointer { u in
                output.withUnsafeMutableBufferPointer { out in
                    grid.forEachPoint(offsets, rows: rows) { point, shift, neighbour in
                        for j in 0..<neighbourCount {
                            seeded[j] = Dual(u[shift &+ neighbour[j]].value, tangent: units[j])
                        }
                        let y = kernel(
                            StencilNeighbourhood(values: UnsafePointer(seeded), indices: indices.baseAddress!), parameters)
                        out[point] = Tracked(y.value)
                        let row = partials + (point &- firstPoint) &* lanes
                        if lanes == D.laneCount {
                            UnsafeMutableRawPointer(row).storeBytes(of: y.tangent, as: D.self)
                        } else {
                            for j in 0..<lanes { row[j] = y.tangent[lane: j] }
                        }
                    }
                }
            }
        }
        output.withUnsafeMutableBufferPointer { out in
            let first = out.baseAddress! + firstPoint
            recorder.pointee.pushLeaves(
                count: rows.count * grid.columns, value: { first[$0].value }, store: { first[$0] = $1 })
        }
    }
}

/// Where the adjoints of a stencil's inputs live: consecutive identifiers (the outputs of a
/// previous whole-grid stencil), consecutive within each grid row (the outputs of a stencil that
/// a spilling tape split into row blocks: each block's marker statement takes an identifier
/// between them), or an explicit list.
///
/// Why rows: an explicit list costs 4 bytes a point and lives as long as the tape, so a spilled
/// store-all run kept a list per step in memory (39 MiB for heat2d 512²×40, over its budget),
/// and the sweep through a list is an indirect access per neighbour. With one offset per row
/// the sweep stays the shifted-copy loop of the consecutive case.
@usableFromInline
package final class _StencilInputs {
    /// The first identifier when all are consecutive, else 0.
    let firstInput: UInt32
    /// Per grid row, identifier − point index, when each row is consecutive (and not all are).
    let rowOffsets: [Int]?
    let explicitIdentifiers: [UInt32]?

    @usableFromInline
    package init(_ inputs: [Tracked], columns: Int) {
        // The common case first, without allocating: one run of consecutive identifiers.
        let consecutive = inputs.withUnsafeBufferPointer { inputs in
            guard let first = inputs.first?.identifier, first != 0 else { return false }
            for k in inputs.indices where inputs[k].identifier != first &+ UInt32(truncatingIfNeeded: k) { return false }
            return true
        }
        if consecutive {
            firstInput = inputs[0].identifier
            rowOffsets = nil
            explicitIdentifiers = nil
            return
        }
        let runs = Self.runStarts(of: inputs)
        let hasConstants = inputs.contains { $0.isConstant }
        if runs.count == 1 && !hasConstants {
            firstInput = inputs[0].identifier
            rowOffsets = nil
            explicitIdentifiers = nil
        } else if !hasConstants && columns > 0 && inputs.count % columns == 0 && runs.allSatisfy({ $0 % columns == 0 }) {
            firstInput = 0
            rowOffsets = stride(from: 0, to: inputs.count, by: columns).map { Int(inputs[$0].identifier) - $0 }
            explicitIdentifiers = nil
        } else {
            firstInput = 0
            rowOffsets = nil
            explicitIdentifiers = inputs.map(\.identifier)
        }
    }

    /// The points where a run of consecutive identifiers starts.
    static func runStarts(of inputs: [Tracked]) -> [Int] {
        var starts: [Int] = []
        inputs.withUnsafeBufferPointer { inputs in
            var expected: UInt32 = 0
            for point in inputs.indices {
                let identifier = inputs[point].identifier
                if starts.isEmpty || identifier != expected { starts.append(point) }
                expected = identifier &+ 1
            }
        }
        return starts
    }

    var isContiguous: Bool { firstInput != 0 }

    /// Identifier − point index for the inputs of grid row `row`.
    @inline(__always)
    func offset(ofRow row: Int) -> Int {
        rowOffsets?[row] ?? Int(firstInput)
    }

    var byteCount: Int { 32 + (explicitIdentifiers?.count ?? 0) * 4 + (rowOffsets?.count ?? 0) * 8 }
}

/// The external statement of a recorded stencil block: the grid rows it covers, the
/// neighbours, and where the inputs' adjoints live. Its outputs are consecutive identifiers,
/// one per point of its rows.
@usableFromInline
package final class _StencilStatement: _ExternalStatement {
    let grid: StencilGrid
    let rows: Range<Int>
    let offsets: [GridOffset]
    let inputs: _StencilInputs
    let parameterIdentifiers: [UInt32]

    @usableFromInline
    package init(grid: StencilGrid, rows: Range<Int>, offsets: [GridOffset], inputs: _StencilInputs, parameterIdentifiers: [UInt32]) {
        self.grid = grid
        self.rows = rows
        self.offsets = offsets
        self.inputs = inputs
        self.parameterIdentifiers = parameterIdentifiers
    }

    var pointCount: Int { rows.count * grid.columns }

    @usableFromInline package var partialCount: Int { pointCount * (offsets.count + parameterIdentifiers.count) }

    /// Shared input lists are counted by the block that covers row 0.
    @usableFromInline package var byteCount: Int {
        64 + offsets.count * 16 + parameterIdentifiers.count * 4 + (rows.lowerBound == 0 ? inputs.byteCount : 0)
    }

    @usableFromInline
    package func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let neighbourCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let lanes = neighbourCount + parameterCount
        let firstPoint = rows.lowerBound * grid.columns
        // Output identifier of grid point p: firstOutput + (p − firstPoint).
        let outputBase = Int(firstOutput) &- firstPoint
        if grid.rows == 1 && inputs.isContiguous && offsets.allSatisfy({ $0.row == 0 }) {
            reverseOneRow(outputBase: outputBase, partials: partials, adjoints: adjoints)
            return
        }
        // Rows from the last to the first, each row's parameter contributions summed on their
        // own: the same additions in the same order whether the grid was recorded as one block
        // or split into several (as a spilling tape does), so the gradient stays bitwise equal.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(parameterCount, 1)) { parameterAdjoints in
          withUnsafeTemporaryAllocation(of: Int.self, capacity: max(neighbourCount, 1)) { neighbourOffsets in
            let parameterSums = parameterAdjoints.baseAddress!
            for r in rows.reversed() {
                parameterAdjoints.initialize(repeating: 0)
                if let ids = inputs.explicitIdentifiers {
                    ids.withUnsafeBufferPointer { ids in
                        grid.forEachPoint(offsets, rows: r..<(r + 1)) { point, shift, neighbour in
                            let a = adjoints[outputBase &+ point]
                            let row = partials + (point &- firstPoint) &* lanes
                            // The tape's rule: skip a zero adjoint only where no partial is
                            // infinite or NaN (Tape._skipsZeroAdjoint).
                            if a == 0 && Tape._skipsZeroAdjoint(row, count: lanes) { return }
                            for j in 0..<neighbourCount {
                                adjoints[Int(ids[shift &+ neighbour[j]])] += row[j] * a
                            }
                            for j in 0..<parameterCount { parameterSums[j] += row[neighbourCount &+ j] * a }
                        }
                    }
                } else {
                    // Each neighbour row's inputs are consecutive identifiers: their adjoints
                    // are a shifted copy of that row.
                    for j in 0..<neighbourCount {
                        var neighbourRow = r + offsets[j].row
                        if neighbourRow < 0 { neighbourRow += grid.rows } else if neighbourRow >= grid.rows { neighbourRow -= grid.rows }
                        neighbourOffsets[j] = inputs.offset(ofRow: neighbourRow)
                    }
                    let shifts = neighbourOffsets.baseAddress!
                    grid.forEachPoint(offsets, rows: r..<(r + 1)) { point, shift, neighbour in
                        let a = adjoints[outputBase &+ point]
                        let row = partials + (point &- firstPoint) &* lanes
                        if a == 0 && Tape._skipsZeroAdjoint(row, count: lanes) { return }
                        let target = adjoints + shift
                        for j in 0..<neighbourCount {
                            target[neighbour[j] &+ shifts[j]] += row[j] * a
                        }
                        for j in 0..<parameterCount { parameterSums[j] += row[neighbourCount &+ j] * a }
                    }
                }
                for j in 0..<parameterCount {
                    adjoints[Int(parameterIdentifiers[j])] += parameterSums[j]
                }
            }
          }
        }
    }

    /// The one-dimensional sweep in gather form: each input sums the contributions of the
    /// outputs that read it, then adds them once, instead of every output scattering into
    /// three inputs. Fewer read-modify-writes of the adjoint vector; a block covering a single
    /// row is never split, so every strategy still adds the same numbers in the same order.
    /// Every contribution is the plain product `partial × adjoint`, as in the tape's sweep: a
    /// zero adjoint adds ±0 for a finite partial (no bit changes) and NaN for an infinite one.
    func reverseOneRow(outputBase: Int, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let n = grid.columns
        let neighbourCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let lanes = neighbourCount + parameterCount
        let outputAdjoints = UnsafePointer(adjoints + outputBase)
        let inputAdjoints = adjoints + Int(inputs.firstInput)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(neighbourCount, 1)) { shifts in
            for j in 0..<neighbourCount { shifts[j] = offsets[j].column }
            var reachLeft = 0
            var reachRight = 0
            for j in 0..<neighbourCount {
                reachLeft = max(reachLeft, shifts[j])
                reachRight = max(reachRight, -shifts[j])
            }
            // Input i is read by output o = i − shift_j as its neighbour j.
            @inline(__always) func gather(_ i: Int, wrapping: Bool) {
                var sum = 0.0
                for j in 0..<neighbourCount {
                    var o = i &- shifts[j]
                    if wrapping {
                        if o < 0 { o += n } else if o >= n { o -= n }
                    }
                    let a = outputAdjoints[o]
                    sum += partials[o &* lanes &+ j] * a
                }
                inputAdjoints[i] += sum
            }
            let interior = min(reachLeft, n)..<max(min(reachLeft, n), n - reachRight)
            for i in 0..<interior.lowerBound { gather(i, wrapping: true) }
            for i in interior { gather(i, wrapping: false) }
            for i in interior.upperBound..<n { gather(i, wrapping: true) }
        }
        for k in 0..<parameterCount {
            // Four running sums, combined at the end: one sum would be a chain of dependent
            // additions (half of this sweep's time in `perf`). The grouping is fixed, so the
            // result is the same in every strategy.
            var sums = SIMD4<Double>()
            let column = partials + (neighbourCount &+ k)
            var o = 0
            while o &+ 4 <= n {
                let a = SIMD4(outputAdjoints[o], outputAdjoints[o &+ 1], outputAdjoints[o &+ 2], outputAdjoints[o &+ 3])
                let p = SIMD4(
                    column[o &* lanes], column[(o &+ 1) &* lanes], column[(o &+ 2) &* lanes], column[(o &+ 3) &* lanes])
                sums += p * a
                o &+= 4
            }
            var sum = (sums[0] + sums[1]) + (sums[2] + sums[3])
            while o < n {
                let a = outputAdjoints[o]
                sum += column[o &* lanes] * a
                o &+= 1
            }
            adjoints[Int(parameterIdentifiers[k])] += sum
        }
    }
}