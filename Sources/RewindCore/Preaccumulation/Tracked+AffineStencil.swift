/// Stencils whose kernel is affine in its neighbours (a heat equation, a wave equation, linear
/// advection with a constant speed): the neighbour partials are the same at every point, so the
/// tape keeps them once and only the parameters' partials per point
/// (`_AffineStencilStatement`). Whether a kernel is affine is decided by one evaluation on
/// `_AffineProbe`s per recording, from the kernel's structure, never from its numbers.
extension StencilGrid {
    /// The kernel's partials with respect to its neighbours when it is affine in them (the same
    /// at every point), else `nil`.
    ///
    /// The partials come from a `Dual` evaluation at a neighbourhood of zeros: an affine
    /// kernel's partials do not depend on where it is evaluated, and zeros keep a state's
    /// infinities out of them.
    @inlinable
    package func _affineNeighbourPartials<K: StencilKernel, D: TangentDirections>(
        _ kernel: K, _: D.Type, offsets: [GridOffset], input: [Tracked], parameters: LocalValues<Double>
    ) -> [Double]? {
        guard _isAffine(kernel, offsets: offsets, input: input, parameters: parameters) else { return nil }
        let neighbourCount = offsets.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: neighbourCount) { zeros in
            zeros.initialize(repeating: 0)
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: neighbourCount) { indices in
                for j in 0..<neighbourCount { indices[j] = j }
                let y = kernel(
                    StencilNeighbourhood<Dual<D>>(seeding: UnsafePointer(zeros.baseAddress!), indices: indices.baseAddress!),
                    LocalValues(count: parameters.count) { Dual(parameters[$0], tangent: D.unit(neighbourCount + $0)) })
                return (0..<neighbourCount).map { y.tangent[lane: $0] }
            }
        }
    }

    /// Whether `kernel` is affine in its neighbours: one evaluation on `_AffineProbe`s at point
    /// (0, 0) with the values of `input`, so that decisions on the parameters go the way they go
    /// everywhere.
    @inlinable
    package func _isAffine<K: StencilKernel>(
        _ kernel: K, offsets: [GridOffset], input: [Tracked], parameters: LocalValues<Double>
    ) -> Bool {
        let neighbourCount = offsets.count
        guard neighbourCount > 0, pointCount > 0 else { return false }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: neighbourCount) { atOrigin in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: neighbourCount) { indices in
                _neighbourIndices(offsets, row: 0, column: 0, into: indices.baseAddress!)
                for j in 0..<neighbourCount {
                    atOrigin[j] = input[indices[j]].value
                    indices[j] = j
                }
                _ = _AffineProbeVerdict.take()
                _ = kernel(
                    StencilNeighbourhood<_AffineProbe>(seeding: UnsafePointer(atOrigin.baseAddress!), indices: indices.baseAddress!),
                    LocalValues(count: parameters.count) { _AffineProbe(parameters[$0]) })
                return _AffineProbeVerdict.take() == 0
            }
        }
    }
}

extension Tracked {
    /// Records `kernel`, affine in its neighbours with `neighbourPartials` at every point, as
    /// statements that keep each point's parameter partials, in the row blocks of
    /// `_recordStencil`. The kernel is evaluated on `Dual`s that carry the parameters' lanes
    /// only (`_ParameterLanes`): each lane goes through the operations it would among all the
    /// lanes, so the partials are the bits a block that keeps all of them would hold, at a
    /// fraction of the work.
    @inlinable
    static func _recordAffineStencil<K: StencilKernel, D: TangentDirections>(
        _ kernel: K, _ grid: StencilGrid, values: UnsafeMutablePointer<Double>, _ parameterValues: LocalValues<Double>,
        _ output: inout [Tracked], _: D.Type, tape: Tape, recorder: UnsafeMutablePointer<_Recorder>,
        inputs: _StencilInputs, parameterIdentifiers: [UInt32], inPairs: Bool, neighbourPartials: [Double]
    ) {
        switch parameterValues.count {
        case 0...2:
            _recordAffineStencil(
                kernel, grid, values: values, parameterValues, &output, D.self, SIMD2<Double>.self, tape: tape,
                recorder: recorder, inputs: inputs, parameterIdentifiers: parameterIdentifiers, inPairs: inPairs,
                neighbourPartials: neighbourPartials)
        case 3...4:
            _recordAffineStencil(
                kernel, grid, values: values, parameterValues, &output, D.self, SIMD4<Double>.self, tape: tape,
                recorder: recorder, inputs: inputs, parameterIdentifiers: parameterIdentifiers, inPairs: inPairs,
                neighbourPartials: neighbourPartials)
        default:
            _recordAffineStencil(
                kernel, grid, values: values, parameterValues, &output, D.self, SIMD8<Double>.self, tape: tape,
                recorder: recorder, inputs: inputs, parameterIdentifiers: parameterIdentifiers, inPairs: inPairs,
                neighbourPartials: neighbourPartials)
        }
    }

    /// `_recordAffineStencil` with `P` lanes for the parameters and `D` for every input (the
    /// spot checks).
    @inlinable
    static func _recordAffineStencil<K: StencilKernel, D: TangentDirections, P: _PairableDirections>(
        _ kernel: K, _ grid: StencilGrid, values: UnsafeMutablePointer<Double>, _ parameterValues: LocalValues<Double>,
        _ output: inout [Tracked], _: D.Type, _: P.Type, tape: Tape, recorder: UnsafeMutablePointer<_Recorder>,
        inputs: _StencilInputs, parameterIdentifiers: [UInt32], inPairs: Bool, neighbourPartials: [Double]
    ) {
        let offsets = kernel.neighbours
        let columns = grid.columns
        let parameterCount = parameterValues.count
        let pointCount = grid.pointCount
        let rowsPerBlock =
            tape._spillBlockLimit.map { max(1, $0 / max(1, columns * parameterCount)) } ?? grid.rows
        let window = _StencilWindow(grid: grid, rows: 0..<grid.rows, reach: _StencilWindow.reach(of: offsets))
        let outputs = values + pointCount + parameterCount
        let firstStatement = tape._externalCount
        var firstRow = 0
        while firstRow < grid.rows {
            let rows = firstRow..<min(grid.rows, firstRow + rowsPerBlock)
            let statement = _AffineStencilStatement(
                grid: grid, rows: rows, offsets: offsets, inputs: inputs, parameterIdentifiers: parameterIdentifiers,
                neighbourPartials: neighbourPartials)
            _ = tape._pushExternal(statement, fillsEveryPartial: true) { stored in
                let rowLength = columns &* parameterCount
                _ = _StencilRows.evaluate(
                    kernel, _ParameterLanes<P>.self, window: window, columns: columns, offsets: offsets,
                    parameterCount: parameterCount, inPairs: inPairs, stored: values,
                    into: { stored + ($0 &- rows.lowerBound) &* rowLength }, outputs: outputs, fingerprints: false
                ) { partialsOfRow in
                    for r in rows { _ = partialsOfRow(r) }
                }
            }
            output.withUnsafeMutableBufferPointer { out in
                let first = rows.lowerBound &* columns
                recorder.pointee.pushLeaves(
                    count: rows.count &* columns, value: { outputs[first &+ $0] }, store: { out[first &+ $0] = $1 })
            }
            firstRow = rows.upperBound
        }
        // One point of every row, differentiated with respect to everything, must have the
        // neighbour partials kept for all (compared with `==`: a zero of either sign multiplies
        // an adjoint into a zero). A finite one that differs means the kernel is not the
        // function the probe saw: it changes between its calls (a counter, a random number).
        // Its statements then sweep NaN, not the finite, wrong gradient of the kept weights,
        // and the tape names the fault (`StencilKernelFault.changedAfterProbe`). A partial
        // that is not finite comes from a non-finite value in the neighbourhood (`u·0`), which
        // the run reports as such; the kept partials are the affine kernel's true ones.
        for r in 0..<grid.rows {
            let partials = grid._evaluatePointTangent(
                kernel, D.self, offsets: offsets, row: r, column: (r &* 7) % columns, values: values,
                parameters: parameterValues)
            for j in neighbourPartials.indices
            where partials[lane: j] != neighbourPartials[j] && partials[lane: j].isFinite {
                tape._noteStencilKernelFault(.changedAfterProbe, statementsFrom: firstStatement)
                return
            }
        }
    }
}

extension StencilGrid {
    /// The kernel's partials at one point (`row`, `column`) of the grid `values`, on `Dual<D>`,
    /// wrapping at the edges: lane `j` of the tangent is the partial with respect to neighbour
    /// `j` (no array: the spot checks ask for one point of every row at every recording).
    @inlinable
    package func _evaluatePointTangent<K: StencilKernel, D: TangentDirections>(
        _ kernel: K, _: D.Type, offsets: [GridOffset], row: Int, column: Int, values: UnsafePointer<Double>,
        parameters: LocalValues<Double>
    ) -> D {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(offsets.count, 1)) { indices in
            _neighbourIndices(offsets, row: row, column: column, into: indices.baseAddress!)
            return kernel(
                StencilNeighbourhood<Dual<D>>(seeding: values + column, indices: indices.baseAddress!),
                LocalValues(count: parameters.count) { Dual(parameters[$0], tangent: D.unit(offsets.count + $0)) }
            ).tangent
        }
    }
}

/// A stencil block whose kernel is affine in its neighbours: the tape keeps each point's
/// parameter partials (`parameters × columns` a row, lane by lane), and the neighbour partials,
/// the same at every point, live here once. Its sweep hands the ordinary sweep of
/// `_StencilStatement` rows built from both, so that it adds the same numbers in the same order.
@usableFromInline
final class _AffineStencilStatement: _StencilStatement {
    let neighbourPartials: [Double]

    @usableFromInline
    init(
        grid: StencilGrid, rows: Range<Int>, offsets: [GridOffset], inputs: _StencilInputs,
        parameterIdentifiers: [UInt32], neighbourPartials: [Double]
    ) {
        self.neighbourPartials = neighbourPartials
        super.init(grid: grid, rows: rows, offsets: offsets, inputs: inputs, parameterIdentifiers: parameterIdentifiers)
    }

    override var partialCount: Int { pointCount * parameterIdentifiers.count }

    override var byteCount: Int { super.byteCount + 32 + neighbourPartials.count * 8 }

    override var constantNeighbourPartials: [Double]? { neighbourPartials }

    override func withRowPartials(stored: UnsafePointer<Double>, _ body: ((Int) -> UnsafePointer<Double>) -> Void) {
        let n = grid.columns
        let neighbourCount = offsets.count
        let rowLength = n &* parameterIdentifiers.count
        let first = rows.lowerBound
        _ThreadScratch.withDoubles(n &* (neighbourCount &+ parameterIdentifiers.count)) { row in
            for j in 0..<neighbourCount { (row + j &* n).initialize(repeating: neighbourPartials[j], count: n) }
            let parameterLanes = row + neighbourCount &* n
            body { r in
                parameterLanes.update(from: stored + (r &- first) &* rowLength, count: rowLength)
                return UnsafePointer(row)
            }
        }
    }
}
