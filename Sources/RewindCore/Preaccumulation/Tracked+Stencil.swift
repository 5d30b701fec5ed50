/// Stencils on tracked values: the kernel is evaluated at each point with a `Dual` whose
/// lanes are the neighbours and parameters, and the whole grid update is recorded as one
/// external statement holding `points × (neighbours + parameters)` partials. The argument
/// identifiers are not stored: the grid says which input each partial belongs to, so a
/// burgers point-update costs 4 partials (32 bytes) instead of ~22 elementary statements.
/// A tape whose `stencilStorage` is `.inputs` keeps the values the kernel read instead, and its
/// sweep computes the partials again (`Tracked+StencilInputs.swift`).
extension Tracked {
    /// Applies `kernel` at every point of `grid` and records the whole update as one external
    /// statement of `points × (neighbours + parameters)` partials (or, when the tape's
    /// `stencilStorage` is `.inputs`, of the values the kernel read).
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
        case 5...6: _recordStencil(kernel, grid, input, parameters, &output, _Lanes6.self)
        case 7...8: _recordStencil(kernel, grid, input, parameters, &output, SIMD8<Double>.self)
        default:
            // Too wide for the lanes we carry: record elementary statements instead.
            applyStencilPointwise(kernel, on: grid, to: input, parameters: parameters, into: &output)
        }
    }

    @inlinable
    static func _recordStencil<K: StencilKernel, D: _PairableDirections>(
        _ kernel: K, _ grid: StencilGrid, _ input: [Tracked], _ parameters: LocalValues<Tracked>,
        _ output: inout [Tracked], _: D.Type
    ) {
        grid.checkShape(input: input.count, output: output.count)
        let offsets = kernel.neighbours
        let lanes = offsets.count + parameters.count
        precondition(
            offsets.allSatisfy { Swift.abs($0.row) <= grid.rows && Swift.abs($0.column) <= grid.columns },
            "stencil offsets must not reach further than one period")
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
        // The statements this call records, for a fault found in them.
        let firstStatement = tape._externalCount
        let parameterIdentifiers = (0..<parameters.count).map { parameters[$0].identifier }
        let parameterValues = LocalValues<Double>(count: parameters.count) { parameters[$0].value }
        // The kernel reads plain values (a seeding neighbourhood gives them their lanes), copied
        // once into per-thread scratch: a small grid records a stencil every step. The
        // parameters' values follow them, then, when partials are kept, room for the outputs
        // (a state's worth that `RunPlanner.stateArrayBytes` charges).
        let pointCount = grid.pointCount
        // A kernel affine in its neighbours keeps only its parameter partials, in either storage:
        // as many numbers a point as the inputs would be (`Tracked+AffineStencil.swift`).
        let neighbourPartials = grid._affineNeighbourPartials(
            kernel, D.self, offsets: offsets, input: input, parameters: parameterValues)
        let keepsInputs = tape.stencilStorage == .inputs && neighbourPartials == nil
        _ThreadScratch.withDoubles((keepsInputs ? 1 : 2) * pointCount + parameters.count) { values in
            let inputs = _StencilInputs(input, columns: grid.columns, copyingValuesInto: values)
            for j in 0..<parameters.count { values[pointCount + j] = parameterValues[j] }
            // One trial for the recording and every sweep of its statements.
            let inPairs = grid._evaluatesInPairs(kernel, offsets: offsets, values: values, parameters: parameterValues)
            if let neighbourPartials {
                _recordAffineStencil(
                    kernel, grid, values: values, parameterValues, &output, D.self, tape: tape, recorder: recorder,
                    inputs: inputs, parameterIdentifiers: parameterIdentifiers, inPairs: inPairs,
                    neighbourPartials: neighbourPartials)
                checkPurity(outputs: values + pointCount + parameters.count)
                return
            }
            if keepsInputs {
                _recordStencilInputs(
                    kernel, grid, values: UnsafePointer(values), parameterValues, &output, D.self, tape: tape,
                    recorder: recorder, inputs: inputs, parameterIdentifiers: parameterIdentifiers, inPairs: inPairs)
                return
            }
            // One block of rows per external statement: the whole grid, unless the tape spills
            // and a block must fit its chunk.
            let rowsPerBlock = tape._spillBlockLimit.map { max(1, $0 / max(1, grid.columns * lanes)) } ?? grid.rows
            let window = _StencilWindow(grid: grid, rows: 0..<grid.rows, reach: _StencilWindow.reach(of: offsets))
            let outputs = values + pointCount + parameters.count
            var firstRow = 0
            while firstRow < grid.rows {
                let rows = firstRow..<min(grid.rows, firstRow + rowsPerBlock)
                let statement = _StencilStatement(
                    grid: grid, rows: rows, offsets: offsets, inputs: inputs, parameterIdentifiers: parameterIdentifiers)
                // Every partial is written, so the tape need not zero them first.
                _ = tape._pushExternal(statement, fillsEveryPartial: true) { partials in
                    let rowLength = grid.columns &* lanes
                    _ = _StencilRows.evaluate(
                        kernel, D.self, window: window, columns: grid.columns, offsets: offsets,
                        parameterCount: parameters.count, inPairs: inPairs, stored: values,
                        into: { partials + ($0 &- rows.lowerBound) &* rowLength }, outputs: outputs, fingerprints: false
                    ) { partialsOfRow in
                        for r in rows { _ = partialsOfRow(r) }
                    }
                }
                output.withUnsafeMutableBufferPointer { out in
                    let first = rows.lowerBound &* grid.columns
                    recorder.pointee.pushLeaves(
                        count: rows.count &* grid.columns, value: { outputs[first &+ $0] },
                        store: { out[first &+ $0] = $1 })
                }
                firstRow = rows.upperBound
            }
            checkPurity(outputs: outputs)
            // A block that keeps partials has no second evaluation for a fingerprint to check:
            // its first point, evaluated again on `Double`, must give the value recorded, or the
            // kernel depends on state its own calls change (a counter, a random number), and
            // the partials belong to values no replay of the run reproduces.
            func checkPurity(outputs: UnsafeMutablePointer<Double>) {
                if pointCount > 0
                    && grid._evaluatePoint(kernel, offsets: offsets, row: 0, column: 0, values: values, parameters: parameterValues)
                        .bitPattern != outputs[0].bitPattern
                {
                    tape._noteStencilKernelFault(.changedBetweenEvaluations, statementsFrom: firstStatement)
                }
            }
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
    package convenience init(_ inputs: [Tracked], columns: Int) {
        // The common case first, without allocating: one run of consecutive identifiers.
        let consecutive = inputs.withUnsafeBufferPointer { inputs in
            guard let first = inputs.first?.identifier, first != 0 else { return false }
            return Tracked._identifiersAreConsecutive(inputs, from: first)
        }
        self.init(inputs, columns: columns, consecutive: consecutive)
    }

    /// The inputs of a stencil, their values copied into `values` on the same pass that checks
    /// their identifiers (a stencil's recording reads its input array once, not twice).
    @inlinable
    package convenience init(_ inputs: [Tracked], columns: Int, copyingValuesInto values: UnsafeMutablePointer<Double>) {
        let consecutive = inputs.withUnsafeBufferPointer { inputs in
            let first = inputs.first?.identifier ?? 0
            // Every value copied, even when the first is a constant (identifier 0).
            let run = Tracked._identifiersAreConsecutive(inputs, from: first, copyingValuesInto: values)
            return run && first != 0
        }
        self.init(inputs, columns: columns, consecutive: consecutive)
    }

    @usableFromInline
    init(_ inputs: [Tracked], columns: Int, consecutive: Bool) {
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

    /// NaN into the adjoint of each of these `rows × columns` inputs and of `parameters`: the
    /// sweep of a stencil found at fault (`StencilKernelFault`).
    func poison(_ adjoints: UnsafeMutablePointer<Double>, rows: Int, columns: Int, parameters: [UInt32]) {
        if let identifiers = explicitIdentifiers {
            for identifier in identifiers where identifier != 0 { adjoints[Int(identifier)] = .nan }
        } else {
            for r in 0..<rows {
                (adjoints + (offset(ofRow: r) &+ r &* columns)).update(repeating: .nan, count: columns)
            }
        }
        for identifier in parameters where identifier != 0 { adjoints[Int(identifier)] = .nan }
    }
}

/// The external statement of a recorded stencil block: the grid rows it covers, the
/// neighbours, and where the inputs' adjoints live. Its outputs are consecutive identifiers,
/// one per point of its rows.
@usableFromInline
package class _StencilStatement: _StencilFaultReporting {
    let grid: StencilGrid
    let rows: Range<Int>
    let offsets: [GridOffset]
    let inputs: _StencilInputs
    let parameterIdentifiers: [UInt32]
    /// A `StencilKernelFault` found while recording or sweeping this block.
    @usableFromInline package let faultMark = _StencilFaultMark()

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

    /// Calls `body` with a function that gives the partials of the block's grid row `r`
    /// (`columns × lanes`, lane by lane: `partials[lane · columns + column]`, so that the gather
    /// reads each lane contiguously), from this statement's `stored` data. Here they were
    /// stored so; a statement that keeps the kernel's inputs computes them
    /// (`_StencilInputsStatement`).
    func withRowPartials(stored: UnsafePointer<Double>, _ body: ((Int) -> UnsafePointer<Double>) -> Void) {
        let rowLength = grid.columns &* (offsets.count + parameterIdentifiers.count)
        let first = rows.lowerBound
        body { r in stored + (r &- first) &* rowLength }
    }

    /// Shared input lists are counted by the block that covers row 0.
    @usableFromInline package var byteCount: Int {
        64 + offsets.count * 16 + parameterIdentifiers.count * 4 + (rows.lowerBound == 0 ? inputs.byteCount : 0)
    }

    @usableFromInline
    package func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        // A kernel found at fault, before this sweep or during it, has no partials to trust:
        // NaN for everything it reads, never a finite number (`StencilKernelFault`).
        defer { if _slowPath(faultMark.isSet) { poisonInputs(adjoints) } }
        let neighbourCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let lanes = neighbourCount + parameterCount
        // Output identifier of grid point p: firstOutput + (p − the block's first point).
        let outputBase = Int(firstOutput) &- rows.lowerBound * grid.columns
        if inputs.explicitIdentifiers == nil {
            reverseGathering(outputBase: outputBase, partials: partials, adjoints: adjoints)
            return
        }
        let laneStride = grid.columns
        // Rows from the last to the first, each row's parameter contributions summed on their
        // own: the same additions in the same order whether the grid was recorded as one block
        // or split into several (as a spilling tape does), so the gradient stays bitwise equal.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(parameterCount, 1)) { parameterAdjoints in
          withRowPartials(stored: partials) { rowPartials in
            let parameterSums = parameterAdjoints.baseAddress!
            for r in rows.reversed() {
                parameterAdjoints.initialize(repeating: 0)
                let rowStart = r &* grid.columns
                let thisRow = rowPartials(r)
                inputs.explicitIdentifiers!.withUnsafeBufferPointer { ids in
                    grid.forEachPoint(offsets, rows: r..<(r + 1)) { point, shift, neighbour in
                        let a = adjoints[outputBase &+ point]
                        let row = thisRow + (point &- rowStart)
                        // The tape's rule: skip a zero adjoint only where no partial is
                        // infinite or NaN (Tape._skipsZeroAdjoint).
                        if a == 0 && Tape._skipsZeroAdjoint(row, count: lanes, stride: laneStride) { return }
                        for j in 0..<neighbourCount {
                            adjoints[Int(ids[shift &+ neighbour[j]])] += row[j &* laneStride] * a
                        }
                        for j in 0..<parameterCount {
                            parameterSums[j] += row[(neighbourCount &+ j) &* laneStride] * a
                        }
                    }
                }
                for j in 0..<parameterCount {
                    adjoints[Int(parameterIdentifiers[j])] += parameterSums[j]
                }
            }
          }
        }
    }

    /// NaN into the adjoint of every input and parameter of the stencil.
    func poisonInputs(_ adjoints: UnsafeMutablePointer<Double>) {
        inputs.poison(adjoints, rows: grid.rows, columns: grid.columns, parameters: parameterIdentifiers)
    }

    /// The sweep in gather form, for inputs whose identifiers are consecutive within each grid
    /// row: each input sums the contributions of the outputs that read it, then adds them once,
    /// instead of every output scattering into each of its neighbours. Fewer read-modify-writes
    /// of the adjoint vector, and loops the compiler keeps in registers.
    ///
    /// The additions follow the rows, not the blocks: output rows from the last to the first;
    /// for each, the neighbours that share a row offset (the left, centre and right of a
    /// five-point stencil; every neighbour of a 1-D one) are summed per input and added once to
    /// that input row; then the row's parameter contributions, in four running sums combined at
    /// the end. A spilling tape that splits the grid into row blocks therefore adds the same
    /// numbers in the same order as one whole-grid block, and every strategy gives the same bits.
    /// Every contribution is the plain product `partial × adjoint`, as in the tape's sweep: a
    /// zero adjoint adds ±0 for a finite partial (no bit changes) and NaN for an infinite one.
    func reverseGathering(outputBase: Int, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let n = grid.columns
        let neighbourCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let constants = constantNeighbourPartials
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * max(neighbourCount, 1)) { scratch in
          withUnsafeTemporaryAllocation(of: Double.self, capacity: max(neighbourCount, 1)) { groupWeights in
          withRowPartials(stored: partials) { partialsOfRow in
            let members = scratch.baseAddress!
            let shifts = members + neighbourCount
            let weights = groupWeights.baseAddress!
            for r in rows.reversed() {
                let outputAdjoints = UnsafePointer(adjoints + (outputBase &+ r &* n))
                let rowPartials = partialsOfRow(r)
                var grouped: UInt32 = 0
                for first in 0..<neighbourCount where grouped & (1 << first) == 0 {
                    let rowOffset = offsets[first].row
                    var count = 0
                    for j in first..<neighbourCount where offsets[j].row == rowOffset {
                        members[count] = j
                        shifts[count] = offsets[j].column
                        count += 1
                        grouped |= 1 << j
                    }
                    var inputRow = r + rowOffset
                    if inputRow < 0 { inputRow += grid.rows } else if inputRow >= grid.rows { inputRow -= grid.rows }
                    let inputAdjoints = adjoints + (inputs.offset(ofRow: inputRow) &+ inputRow &* n)
                    if let constants {
                        // The same products: each point's partial is the kept weight.
                        for k in 0..<count { weights[k] = constants[members[k]] }
                        _StencilStatement.gatherRow(
                            into: inputAdjoints, columns: n, outputAdjoints: outputAdjoints,
                            partials: _ConstantLanes(weights: weights), shifts: shifts, count: count)
                    } else {
                        _StencilStatement.gatherRow(
                            into: inputAdjoints, columns: n, outputAdjoints: outputAdjoints, partials: rowPartials,
                            members: members, shifts: shifts, count: count)
                    }
                }
                for k in 0..<parameterCount {
                    adjoints[Int(parameterIdentifiers[k])] += _StencilStatement.dot(
                        rowPartials + (neighbourCount &+ k) &* n, outputAdjoints, count: n)
                }
            }
          }
          }
        }
    }

    /// The neighbour partials when they are the same at every point (`_AffineStencilStatement`),
    /// for a gather that multiplies by them without loading a row of them.
    var constantNeighbourPartials: [Double]? { nil }

    /// Adds to each input `i` of a row `Σ partials[member(k)·columns + o] × adjoint[o]` over the
    /// group's neighbours `k`, where `o = i − shifts[k]` (wrapped) is the output that reads `i`:
    /// term by term in the group's order, two inputs at a time, since each lane is contiguous.
    @inline(__always)
    static func gatherRow(
        into inputAdjoints: UnsafeMutablePointer<Double>, columns n: Int, outputAdjoints: UnsafePointer<Double>,
        partials: UnsafePointer<Double>, members: UnsafePointer<Int>, shifts: UnsafePointer<Int>, count: Int
    ) {
        gatherRow(
            into: inputAdjoints, columns: n, outputAdjoints: outputAdjoints,
            partials: _RowLanes(partials: partials, members: members, columns: n), shifts: shifts, count: count)
    }

    /// `gatherRow` with each group member's partials from `partials`: a row's lanes, or one
    /// weight for every point (`_AffineStencilStatement`, whose weights then need no loads).
    @inline(__always)
    static func gatherRow<Lanes: _GatherLanes>(
        into inputAdjoints: UnsafeMutablePointer<Double>, columns n: Int, outputAdjoints: UnsafePointer<Double>,
        partials: Lanes, shifts: UnsafePointer<Int>, count: Int
    ) {
        var reachLeft = 0
        var reachRight = 0
        for k in 0..<count {
            reachLeft = max(reachLeft, shifts[k])
            reachRight = max(reachRight, -shifts[k])
        }
        @inline(__always) func gatherOne(_ i: Int) {
            var sum = 0.0
            for k in 0..<count {
                var o = i &- shifts[k]
                if o < 0 { o += n } else if o >= n { o -= n }
                sum += partials.partial(k, at: o) * outputAdjoints[o]
            }
            inputAdjoints[i] += sum
        }
        let start = min(reachLeft, n)
        let end = max(start, n - reachRight)
        for i in 0..<start { gatherOne(i) }
        // Lane k's partials and the outputs, both shifted by the neighbour's offset.
        @inline(__always) func load(_ p: UnsafePointer<Double>) -> SIMD2<Double> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD2<Double>.self)
        }
        var i = start
        if count <= 3 {
            let p0 = partials.shifted(0, by: shifts[0]), a0 = outputAdjoints - shifts[0]
            let p1 = count > 1 ? partials.shifted(1, by: shifts[1]) : p0
            let a1 = count > 1 ? outputAdjoints - shifts[1] : a0
            let p2 = count > 2 ? partials.shifted(2, by: shifts[2]) : p0
            let a2 = count > 2 ? outputAdjoints - shifts[2] : a0
            // One loop per count, so that no iteration asks how many terms it has.
            @inline(__always) func gatherPairs(terms: Int) {
                while i &+ 2 <= end {
                    var sum = SIMD2<Double>(repeating: 0)
                    sum += p0.pair(at: i) * load(a0 + i)
                    if terms > 1 { sum += p1.pair(at: i) * load(a1 + i) }
                    if terms > 2 { sum += p2.pair(at: i) * load(a2 + i) }
                    let target = UnsafeMutableRawPointer(inputAdjoints + i)
                    target.storeBytes(of: target.loadUnaligned(as: SIMD2<Double>.self) + sum, as: SIMD2<Double>.self)
                    i &+= 2
                }
            }
            switch count {
            case 1: gatherPairs(terms: 1)
            case 2: gatherPairs(terms: 2)
            default: gatherPairs(terms: 3)
            }
        } else {
            while i &+ 2 <= end {
                var sum = SIMD2<Double>(repeating: 0)
                for k in 0..<count {
                    let o = i &- shifts[k]
                    sum += partials.shifted(k, by: 0).pair(at: o) * load(outputAdjoints + o)
                }
                let target = UnsafeMutableRawPointer(inputAdjoints + i)
                target.storeBytes(of: target.loadUnaligned(as: SIMD2<Double>.self) + sum, as: SIMD2<Double>.self)
                i &+= 2
            }
        }
        while i < n { gatherOne(i); i &+= 1 }
    }

    /// `Σ column[o] × adjoints[o]` in four running sums combined at the end: one sum would
    /// be a chain of dependent additions (half of the 1-D sweep's time in `perf`). The grouping
    /// is fixed, so the result is the same in every strategy.
    @inline(__always)
    static func dot(_ column: UnsafePointer<Double>, _ adjoints: UnsafePointer<Double>, count n: Int) -> Double {
        @inline(__always) func load(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
        }
        var sums = SIMD4<Double>()
        var o = 0
        while o &+ 4 <= n {
            sums += load(column + o) * load(adjoints + o)
            o &+= 4
        }
        var sum = (sums[0] + sums[1]) + (sums[2] + sums[3])
        while o < n {
            sum += column[o] * adjoints[o]
            o &+= 1
        }
        return sum
    }
}

/// Where a gather finds the partials of a group's members (`_StencilStatement.gatherRow`).
protocol _GatherLanes {
    associatedtype Shifted: _GatherLane
    /// Member `k`'s partial for the output at column `o`.
    func partial(_ k: Int, at o: Int) -> Double
    /// Member `k`'s partials for the outputs at columns `i − shift`, by `i`.
    func shifted(_ k: Int, by shift: Int) -> Shifted
}

/// One member's partials, by input column.
protocol _GatherLane {
    /// The partials for inputs `i` and `i + 1`.
    func pair(at i: Int) -> SIMD2<Double>
}

/// A row's partials lane by lane (`partials[member(k) · columns + o]`).
struct _RowLanes: _GatherLanes {
    let partials: UnsafePointer<Double>
    let members: UnsafePointer<Int>
    let columns: Int

    @inline(__always)
    func partial(_ k: Int, at o: Int) -> Double { partials[members[k] &* columns &+ o] }
    @inline(__always)
    func shifted(_ k: Int, by shift: Int) -> _LanePointer { _LanePointer(base: partials + (members[k] &* columns &- shift)) }
}

struct _LanePointer: _GatherLane {
    let base: UnsafePointer<Double>
    @inline(__always)
    func pair(at i: Int) -> SIMD2<Double> { UnsafeRawPointer(base + i).loadUnaligned(as: SIMD2<Double>.self) }
}

/// One weight a member, the same at every point: a kernel affine in its neighbours.
struct _ConstantLanes: _GatherLanes {
    /// Member `k`'s weight.
    let weights: UnsafePointer<Double>

    @inline(__always)
    func partial(_ k: Int, at o: Int) -> Double { weights[k] }
    @inline(__always)
    func shifted(_ k: Int, by shift: Int) -> _Weight { _Weight(pair: SIMD2(repeating: weights[k])) }
}

struct _Weight: _GatherLane {
    let pair: SIMD2<Double>
    @inline(__always)
    func pair(at i: Int) -> SIMD2<Double> { pair }
}
