/// A stencil's partials one grid row at a time, and the fingerprint of its values.
///
/// The kernel is evaluated on `Dual`s whose lanes are its neighbours and parameters: two
/// neighbouring interior points at a time on a `_PointPair` where the recording's trial found no
/// decision on values (`StencilGrid._evaluatesInPairs`), point by point where a column wraps or
/// a kernel decides. A row's partials are laid out lane by lane, as the gather reads them.
/// Both storages evaluate here, the recording of a block that keeps partials and the sweep of
/// one that kept its inputs, so that they give the same bits (docs/design-decisions.md).
@usableFromInline
enum _StencilRows {
    /// A hash of `value` at grid point `point`; summed, so that the sweep may visit the points
    /// in another order than the recording (rows last to first).
    ///
    /// Each step is a bijection (the point's XOR; the low half times an odd 32-bit constant
    /// added to the high half; the fold), so one changed value always changes the sum. The fold
    /// makes the hash nonlinear in the bits: without it, a value one unit up at one point and one
    /// down at another would cancel. The multiply is 32 × 32 bits because that is one SSE2
    /// instruction (`pmuludq`) for two points, where a 64-bit one is seven: the hash runs at every
    /// point of an inputs block's recording and of its sweep.
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
    static func evaluate<K: StencilKernel, D: _PairableDirections>(
        _ kernel: K, _: D.Type, window: _StencilWindow, columns: Int, offsets: [GridOffset], parameterCount: Int,
        inPairs: Bool, stored: UnsafePointer<Double>, into destination: ((Int) -> UnsafeMutablePointer<Double>)? = nil,
        outputs: UnsafeMutablePointer<Double>? = nil, fingerprints: Bool = true,
        _ body: ((Int) -> UnsafePointer<Double>) -> Void
    ) -> UInt64 {
        let neighbourCount = offsets.count
        // The neighbours' lanes and the parameters', or the parameters' only (`_ParameterLanes`).
        let lanes = D._keptLanes(neighbourCount: neighbourCount, parameterCount: parameterCount)
        let firstParameterLane = D._firstParameterLane(neighbourCount: neighbourCount)
        let storedParameters = stored + window.rowCount * columns
        let parameters = LocalValues<Dual<D>>(count: parameterCount) {
            Dual(storedParameters[$0], tangent: D.unit(firstParameterLane + $0))
        }
        let pairParameters = LocalValues<_PointPair<D._Pair>>(count: parameterCount) {
            _PointPair(SIMD2(repeating: storedParameters[$0]), tangent: .unit(firstParameterLane + $0))
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
