/// Pair sums over a neighbour list on tracked values: the all-pairs recording
/// (`Tracked+Interactions.swift`) with the sources of each target read from a `NeighbourList`.
/// Same layout of partials per target (its self and parameter derivatives, then one block per
/// listed source), same lanes, same order of additions; the list is kept by the statement.
extension Tracked {
    /// Sums `kernel` over the listed pairs and records the whole sum as one external statement
    /// (a few, when a spilling tape needs blocks that fit its chunks).
    ///
    /// The values are those of `Double.sumInteractions(_:bodies:neighbours:parameters:into:)`
    /// bit for bit. With more than 16 lanes it falls back to the elementary recording.
    ///
    /// ```swift
    /// let list = NeighbourList([[1], [0, 2], [1]])
    /// Tracked.sumInteractions(SoftGravity(), bodies: xy, neighbours: list, parameters: p, into: &force)
    /// ```
    ///
    /// - Parameters:
    ///   - kernel: The pair contribution.
    ///   - bodies: `neighbours.bodyCount × kernel.width` values, body-major; constants are fine.
    ///   - neighbours: Which sources each body sums, in which order.
    ///   - parameters: Shared by every pair.
    ///   - output: Receives `neighbours.bodyCount × kernel.outputCount` values, body-major.
    @inlinable
    public static func sumInteractions<K: PairInteraction>(
        _ kernel: K, bodies: [Tracked], neighbours: NeighbourList, parameters: LocalValues<Tracked>,
        into output: inout [Tracked]
    ) {
        let lanes = 2 * kernel.width - kernel._differenceComponents + parameters.count
        switch lanes {
        case 0...2: _recordNeighbourInteractions(kernel, bodies, neighbours, parameters, &output, SIMD2<Double>.self)
        case 3...4: _recordNeighbourInteractions(kernel, bodies, neighbours, parameters, &output, SIMD4<Double>.self)
        case 5...8: _recordNeighbourInteractions(kernel, bodies, neighbours, parameters, &output, SIMD8<Double>.self)
        case 9...16: _recordNeighbourInteractions(kernel, bodies, neighbours, parameters, &output, SIMD16<Double>.self)
        default:
            sumInteractionsElementary(kernel, bodies: bodies, neighbours: neighbours, parameters: parameters, into: &output)
        }
    }

    @inlinable
    static func _recordNeighbourInteractions<K: PairInteraction, D: TangentDirections>(
        _ kernel: K, _ bodies: [Tracked], _ neighbours: NeighbourList, _ parameters: LocalValues<Tracked>,
        _ output: inout [Tracked], _: D.Type
    ) {
        let width = kernel.width
        let outputs = kernel.outputCount
        let parameterCount = parameters.count
        let n = kernel._bodyCount(components: bodies.count, outputs: output.count)
        precondition(n == neighbours.bodyCount, "a neighbour list of \(neighbours.bodyCount) bodies for \(n) bodies")
        let live = bodies.first { !$0.isConstant } ?? (0..<parameterCount).lazy.map { parameters[$0] }.first { !$0.isConstant }
        guard let live, !neighbours.sources.isEmpty else {
            // Nothing depends on a recorded input (or nothing is listed): the sums are constants.
            var values = [Double](repeating: 0, count: output.count)
            Double.sumInteractions(
                kernel, bodies: bodies.map(\.value), neighbours: neighbours,
                parameters: LocalValues(count: parameterCount) { parameters[$0].value }, into: &values)
            for i in values.indices { output[i] = Tracked(values[i]) }
            return
        }
        let recorder = _Recorder.current(for: live.tag)
        let tape = recorder.pointee.tape.takeUnretainedValue()
        let inputs = _StencilInputs(bodies, columns: bodies.count)
        let parameterIdentifiers = (0..<parameterCount).map { parameters[$0].identifier }
        let differences = kernel._differenceComponents
        // The check pairs body 0 with body 1, listed or not: any two bodies do.
        if differences > 0 && n >= 2 { _checkDifferenceComponents(kernel, bodies, parameters) }
        let seededParameters = LocalValues<Dual<D>>(count: parameterCount) {
            Dual(parameters[$0].value, tangent: D.unit(2 &* width &- differences &+ $0))
        }
        let selfPartials = outputs * (width + parameterCount)
        let pairPartials = outputs * width
        let limit = tape._spillBlockLimit
        var first = 0
        while first < n {
            // The targets of one block: all, unless the tape spills and a block must fit its chunk.
            var last = first &+ 1
            if let limit {
                var count = selfPartials + (neighbours.offsets[last] - neighbours.offsets[first]) * pairPartials
                while last < n {
                    let more = selfPartials + (neighbours.offsets[last + 1] - neighbours.offsets[last]) * pairPartials
                    if count + more > limit { break }
                    count += more
                    last &+= 1
                }
            } else {
                last = n
            }
            let targets = first..<last
            let statement = _NeighbourInteractionStatement(
                neighbours: neighbours, width: width, outputs: outputs, targets: targets, inputs: inputs,
                parameterIdentifiers: parameterIdentifiers)
            _ = tape._pushExternal(statement) { partials in
                bodies.withUnsafeBufferPointer { b in
                    output.withUnsafeMutableBufferPointer { out in
                        neighbours.sources.withUnsafeBufferPointer { sources in
                            neighbours.offsets.withUnsafeBufferPointer { offsets in
                                _fillNeighbourPartials(
                                    kernel, b.baseAddress!, sources: sources.baseAddress!, offsets: offsets.baseAddress!,
                                    targets: targets, parameters: seededParameters, partials: partials,
                                    out: out.baseAddress!)
                            }
                        }
                    }
                }
            }
            output.withUnsafeMutableBufferPointer { out in
                let start = out.baseAddress! + targets.lowerBound &* outputs
                recorder.pointee.pushLeaves(
                    count: targets.count &* outputs, value: { start[$0].value }, store: { start[$0] = $1 })
            }
            first = last
        }
    }

    /// `_fillInteractionPartials` with the sources of target i read from the list.
    @inlinable @inline(__always)
    static func _fillNeighbourPartials<K: PairInteraction, D: TangentDirections>(
        _ kernel: K, _ b: UnsafePointer<Tracked>, sources: UnsafePointer<Int>, offsets: UnsafePointer<Int>,
        targets: Range<Int>, parameters: LocalValues<Dual<D>>, partials: UnsafeMutablePointer<Double>,
        out: UnsafeMutablePointer<Tracked>
    ) {
        let width = kernel.width
        let outputs = kernel.outputCount
        let parameterCount = parameters.count
        let selfStride = width &+ parameterCount
        let differences = kernel._differenceComponents
        var row = partials
        for i in targets {
            let target = LocalValues<Dual<D>>(count: width) {
                $0 < differences
                    ? Dual(b[i &* width &+ $0].value)
                    : Dual(b[i &* width &+ $0].value, tangent: D.unit(width &+ $0 &- differences))
            }
            var sum = LocalValues<Dual<D>>(count: outputs) { _ in Dual(0) }
            var pair = row + outputs &* selfStride
            for q in offsets[i]..<offsets[i &+ 1] {
                let j = sources[q]
                let source = LocalValues<Dual<D>>(count: width) { Dual(b[j &* width &+ $0].value, tangent: D.unit($0)) }
                let f = kernel(target, source, parameters)
                for k in 0..<outputs {
                    let fk = f[k]
                    sum[k] = sum[k] + fk
                    for c in 0..<width { pair[k &* width &+ c] = fk.tangent[lane: c] }
                }
                pair += outputs &* width
            }
            for k in 0..<outputs {
                let s = sum[k]
                out[i &* outputs &+ k] = Tracked(s.value)
                let selfRow = row + k &* selfStride
                for c in 0..<width {
                    selfRow[c] = c < differences ? -s.tangent[lane: c] : s.tangent[lane: width &+ c &- differences]
                }
                for p in 0..<parameterCount {
                    selfRow[width &+ p] = s.tangent[lane: 2 &* width &- differences &+ p]
                }
            }
            row = pair
        }
    }
}

/// The external statement of a pair sum over a neighbour list, for the targets `targets`: per
/// target, `outputs × (width + parameters)` self and parameter derivatives, then
/// `outputs × width` per listed source in list order (`_InteractionStatement`'s layout).
@usableFromInline
package final class _NeighbourInteractionStatement: _ExternalStatement {
    let neighbours: NeighbourList
    let width: Int
    let outputs: Int
    let targets: Range<Int>
    let inputs: _StencilInputs
    let parameterIdentifiers: [UInt32]

    @usableFromInline
    package init(
        neighbours: NeighbourList, width: Int, outputs: Int, targets: Range<Int>, inputs: _StencilInputs,
        parameterIdentifiers: [UInt32]
    ) {
        self.neighbours = neighbours
        self.width = width
        self.outputs = outputs
        self.targets = targets
        self.inputs = inputs
        self.parameterIdentifiers = parameterIdentifiers
    }

    @usableFromInline package var partialCount: Int {
        let pairs = neighbours.offsets[targets.upperBound] - neighbours.offsets[targets.lowerBound]
        return targets.count * outputs * (width + parameterIdentifiers.count) + pairs * outputs * width
    }

    /// The shared input and neighbour lists are counted by the block that covers body 0.
    @usableFromInline package var byteCount: Int {
        64 + parameterIdentifiers.count * 4
            + (targets.lowerBound == 0 ? inputs.byteCount + 8 * (neighbours.offsets.count + neighbours.sources.count) : 0)
    }

    /// Targets from the last to the first, as `_InteractionStatement.reverse`, with each
    /// target's sources in list order.
    @usableFromInline
    package func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let n = neighbours.bodyCount
        let width = width
        let outputs = outputs
        let parameterCount = parameterIdentifiers.count
        let selfStride = width + parameterCount
        let offsets = neighbours.offsets
        let sources = neighbours.sources
        withUnsafeTemporaryAllocation(of: Int.self, capacity: n * width + parameterCount) { index in
            if let ids = inputs.explicitIdentifiers {
                for k in 0..<(n * width) { index[k] = Int(ids[k]) }
            } else {
                let first = Int(inputs.firstInput)
                for k in 0..<(n * width) { index[k] = first &+ k }
            }
            for p in 0..<parameterCount { index[n * width + p] = Int(parameterIdentifiers[p]) }
            let bodyIndex = UnsafePointer(index.baseAddress!)
            let parameterIndex = bodyIndex + n * width
            withUnsafeTemporaryAllocation(of: Double.self, capacity: outputs) { a in
                for i in targets.reversed() {
                    let row = partials
                        + ((i &- targets.lowerBound) &* outputs &* selfStride
                            &+ (offsets[i] &- offsets[targets.lowerBound]) &* outputs &* width)
                    let rowCount = outputs &* selfStride &+ (offsets[i &+ 1] &- offsets[i]) &* outputs &* width
                    let outputAdjoints = adjoints + (Int(firstOutput) &+ (i &- targets.lowerBound) &* outputs)
                    var allZero = true
                    for k in 0..<outputs {
                        a[k] = outputAdjoints[k]
                        if a[k] != 0 { allZero = false }
                    }
                    // The tape's rule: skip zero adjoints only where every partial is finite.
                    if allZero && Tape._skipsZeroAdjoint(row, count: rowCount) { continue }
                    for c in 0..<selfStride {
                        var sum = 0.0
                        for k in 0..<outputs { sum += row[k &* selfStride &+ c] * a[k] }
                        let target = c < width ? bodyIndex[i &* width &+ c] : parameterIndex[c &- width]
                        adjoints[target] += sum
                    }
                    var pair = row + outputs &* selfStride
                    for q in offsets[i]..<offsets[i &+ 1] {
                        let j = sources[q]
                        for c in 0..<width {
                            var sum = 0.0
                            for k in 0..<outputs { sum += pair[k &* width &+ c] * a[k] }
                            adjoints[bodyIndex[j &* width &+ c]] += sum
                        }
                        pair += outputs &* width
                    }
                }
            }
        }
    }
}
