/// Which partials of a multi-field stencil a point keeps, and which are the same at every point.
///
/// Why: a reaction–diffusion kernel (Gray–Scott) is affine in every neighbour of its Laplacians
/// and not affine only in the centre values its reaction multiplies: `u' = u + D·Δu − u·v² + …`
/// has the partial `D` with respect to each of u's four neighbours at every point. With every
/// entry a lane, a point carried 12 tangent lanes and kept 24 partials; with the constant ones
/// kept once, it carries 4 and keeps 8. `_AffineProbe` proves per entry, from the kernel's
/// structure, that its partials cannot change from point to point (the same proof as for a
/// one-field stencil affine in all its neighbours, `_AffineStencilStatement`, here entry by
/// entry).
///
/// The constant partials are the bits the general recording would hold at every point: each
/// tangent lane is its own computation, so a lane's partial does not depend on which other
/// lanes are seeded, and a lane of an entry the kernel is affine in is made of the parameters'
/// and constants' values only (its products with varying values meet zero tangents). The sweep
/// then adds the same products in the same order (`_MultiFieldStencilStatement.reverse`).
@usableFromInline
package struct _MultiFieldLanes {
    /// Each entry's lane among a point's kept partials, or −1 where its partials are the same
    /// at every point (`constantPartials`).
    @usableFromInline package let laneOfEntry: [Int]
    /// Entries that keep a lane per point; the parameters' lanes follow theirs.
    @usableFromInline package let varyingEntries: Int
    /// Lanes a point keeps: the varying entries, then the parameters.
    @usableFromInline package let laneCount: Int
    /// Output `o`'s partial with respect to entry `k` at `o × entryCount + k`, for the entries
    /// whose lane is −1 (0 for the others); empty when every entry varies.
    @usableFromInline package let constantPartials: [Double]

    /// Every entry a lane of its own at every point (the general recording).
    @inlinable
    package init(everyEntryOf entryCount: Int, parameterCount: Int) {
        laneOfEntry = Array(0..<entryCount)
        varyingEntries = entryCount
        laneCount = entryCount + parameterCount
        constantPartials = []
    }

    @inlinable
    package init(constant: [Bool], partials: [Double], parameterCount: Int) {
        var lane = 0
        laneOfEntry = constant.map { isConstant in
            if isConstant { return -1 }
            defer { lane += 1 }
            return lane
        }
        varyingEntries = lane
        laneCount = lane + parameterCount
        constantPartials = partials
    }

    /// Whether some entry's partials are kept once instead of at every point.
    @inlinable package var hasConstantEntries: Bool { varyingEntries < laneOfEntry.count }
}

extension StencilGrid {
    /// The lanes a multi-field stencil's points keep: one evaluation on `_AffineProbe`s at point
    /// (0, 0) finds the entries the kernel is affine in, their partials are taken there, and one
    /// point in each of up to eight rows must have the same ones. Every entry keeps a lane where the kernel is
    /// affine in none, where a constant partial is not finite (a non-finite state at the
    /// origin), or where a row's point disagrees (the kernel is not the function the probe
    /// saw: it changes between its calls), as the general recording always did.
    @inlinable
    package func _multiFieldLanes<K: MultiFieldStencilKernel>(
        _ kernel: K, _ layout: _MultiFieldLayout, input: [Tracked], parameters: LocalValues<Double>, outputCount: Int
    ) -> _MultiFieldLanes {
        let entryCount = layout.entryCount
        let general = _MultiFieldLanes(everyEntryOf: entryCount, parameterCount: parameters.count)
        guard entryCount > 0, pointCount > 0 else { return general }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: entryCount) { values in
            let values = values.baseAddress!
            _multiFieldValues(layout, row: 0, column: 0, input: input, into: values)
            let marked = layout.fieldStarts.withUnsafeBufferPointer { starts in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: entryCount) { identity in
                    for k in 0..<entryCount { identity[k] = k }
                    return withUnsafeTemporaryAllocation(of: _AffineProbe.self, capacity: entryCount) { probes in
                        for k in 0..<entryCount {
                            (probes.baseAddress! + k).initialize(to: _AffineProbe(values[k], dependsOn: _AffineProbe.bit(k)))
                        }
                        _ = _AffineProbeVerdict.take()
                        _ = kernel(
                            MultiFieldNeighbourhood(
                                values: UnsafePointer(probes.baseAddress!), indices: identity.baseAddress!,
                                fieldStarts: starts.baseAddress!),
                            LocalValues(count: parameters.count) { _AffineProbe(parameters[$0]) })
                        return _AffineProbeVerdict.take()
                    }
                }
            }
            let constant = (0..<entryCount).map { _AffineProbe.bit($0) & marked == 0 }
            guard constant.contains(true) else { return general }
            var partials = [Double](repeating: 0, count: outputCount * entryCount)
            _multiFieldConstantPartials(kernel, layout, at: values, parameters: parameters, constant: constant, into: &partials)
            guard partials.allSatisfy(\.isFinite) else { return general }
            let lanes = _MultiFieldLanes(constant: constant, partials: partials, parameterCount: parameters.count)
            return _multiFieldConstantsHold(kernel, layout, lanes, input: input, parameters: parameters) ? lanes : general
        }
    }

    /// Whether `kernel` still has `lanes`' constant partials: one point in each of up to eight
    /// rows spread over the grid, differentiated with respect to the constant entries, must
    /// give them (compared with `==`: a zero of either sign multiplies an adjoint into a zero;
    /// a partial that is not finite comes from a non-finite value in that neighbourhood, which
    /// the run reports as such). The probe proved the partials constant from the kernel's
    /// structure; what this can still find is a kernel whose calls change it, which a few calls
    /// show as well as one a row (one a row was 7 % of Gray–Scott 64²'s run).
    @inlinable
    package func _multiFieldConstantsHold<K: MultiFieldStencilKernel>(
        _ kernel: K, _ layout: _MultiFieldLayout, _ lanes: _MultiFieldLanes, input: [Tracked],
        parameters: LocalValues<Double>
    ) -> Bool {
        let entryCount = layout.entryCount
        let constant = lanes.laneOfEntry.map { $0 < 0 }
        var atPoint = lanes.constantPartials
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: entryCount) { values in
            let checkedRows = Swift.min(rows, 8)
            for i in 0..<checkedRows {
                let r = i &* rows / checkedRows
                _multiFieldValues(layout, row: r, column: (r &* 7) % columns, input: input, into: values.baseAddress!)
                _multiFieldConstantPartials(
                    kernel, layout, at: values.baseAddress!, parameters: parameters, constant: constant, into: &atPoint)
                for (kept, seen) in zip(lanes.constantPartials, atPoint) where seen != kept && seen.isFinite { return false }
            }
            return true
        }
    }

    /// The values of every entry of `layout` at (`row`, `column`), wrapping at the edges.
    @inlinable
    package func _multiFieldValues(
        _ layout: _MultiFieldLayout, row: Int, column: Int, input: [Tracked], into values: UnsafeMutablePointer<Double>
    ) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: layout.entryCount) { indices in
            _neighbourIndices(layout.offsets, row: row, column: column, into: indices.baseAddress!)
            for k in 0..<layout.entryCount {
                values[k] = input[layout.fieldBases[k] &+ indices[k] &+ column].value
            }
        }
    }

    /// The partials of every output with respect to the `constant` entries at the neighbourhood
    /// `values`, into `partials[o × entryCount + k]`: `Dual`s of eight lanes seeded for eight
    /// of those entries at a time (a lane's partial is the same bits whichever lanes are seeded
    /// beside it).
    @inlinable
    package func _multiFieldConstantPartials<K: MultiFieldStencilKernel>(
        _ kernel: K, _ layout: _MultiFieldLayout, at values: UnsafePointer<Double>, parameters: LocalValues<Double>,
        constant: [Bool], into partials: inout [Double]
    ) {
        let entryCount = layout.entryCount
        let entries = (0..<entryCount).filter { constant[$0] }
        let dualParameters = LocalValues<Dual<SIMD8<Double>>>(count: parameters.count) { Dual(parameters[$0], tangent: .zero) }
        layout.fieldStarts.withUnsafeBufferPointer { starts in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: entryCount) { identity in
                for k in 0..<entryCount { identity[k] = k }
                withUnsafeTemporaryAllocation(of: Dual<SIMD8<Double>>.self, capacity: entryCount) { seeded in
                    let seeded = seeded.baseAddress!
                    for passStart in stride(from: 0, to: entries.count, by: 8) {
                        let passEnd = min(passStart + 8, entries.count)
                        for k in 0..<entryCount { (seeded + k).initialize(to: Dual(values[k], tangent: .zero)) }
                        for i in passStart..<passEnd { seeded[entries[i]].tangent = .unit(i - passStart) }
                        let y = kernel(
                            MultiFieldNeighbourhood(
                                values: UnsafePointer(seeded), indices: identity.baseAddress!, fieldStarts: starts.baseAddress!),
                            dualParameters)
                        precondition(
                            y.count == partials.count / entryCount,
                            "the kernel returned \(y.count) values, not its outputCount \(partials.count / entryCount)")
                        for o in 0..<y.count {
                            for i in passStart..<passEnd { partials[o &* entryCount &+ entries[i]] = y[o].tangent[lane: i - passStart] }
                        }
                    }
                }
            }
        }
    }
}
