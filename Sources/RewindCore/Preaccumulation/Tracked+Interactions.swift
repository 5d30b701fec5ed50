/// All-pairs sums on tracked values: the kernel is evaluated for each ordered pair with a
/// `Dual` whose lanes are the two bodies' components and the parameters, and the whole sum is
/// recorded as one external statement. It stores, per target body i, the derivatives of its
/// sums with respect to itself and the parameters (accumulated over j in the forward pass),
/// and per pair (i, j) the kernel's derivatives with respect to body j; no identifiers, since
/// the pair enumeration says which body each partial belongs to. A 2-D gravity step of 32
/// bodies is 32·31·2·2 + 32·2·4 = 4224 partials (33 KiB) instead of ~13 000 statements.
extension Tracked {
    /// Sums `kernel` over all ordered pairs and records the whole sum as one external
    /// statement (a few, when a spilling tape needs blocks that fit its chunks).
    ///
    /// The values are those of `Double.sumInteractions` bit for bit (same operations, same
    /// order). With more than 16 lanes (`2·width − differenceComponents + parameters.count`)
    /// it falls back to `sumInteractionsElementary`.
    ///
    /// ```swift
    /// var force = [Tracked](repeating: Tracked(0), count: 2 * n)
    /// Tracked.sumInteractions(SoftGravity(), bodies: xy, parameters: LocalValues([gm, eps2]), into: &force)
    /// ```
    ///
    /// - Parameters:
    ///   - kernel: The pair contribution.
    ///   - bodies: `n × kernel.width` values, body-major; constants among them are fine.
    ///   - parameters: Shared by every pair.
    ///   - output: Receives `n × kernel.outputCount` values, body-major.
    @inlinable
    public static func sumInteractions<K: PairInteraction>(
        _ kernel: K, bodies: [Tracked], parameters: LocalValues<Tracked>, into output: inout [Tracked]
    ) {
        let lanes = 2 * kernel.width - kernel._differenceComponents + parameters.count
        switch lanes {
        case 0...2: _recordInteractions(kernel, bodies, parameters, &output, SIMD2<Double>.self)
        case 3...4: _recordInteractions(kernel, bodies, parameters, &output, SIMD4<Double>.self)
        case 5...8: _recordInteractions(kernel, bodies, parameters, &output, SIMD8<Double>.self)
        case 9...16: _recordInteractions(kernel, bodies, parameters, &output, SIMD16<Double>.self)
        default:
            // Too wide for the lanes we carry: record elementary statements instead.
            sumInteractionsElementary(kernel, bodies: bodies, parameters: parameters, into: &output)
        }
    }

    @inlinable
    static func _recordInteractions<K: PairInteraction, D: TangentDirections>(
        _ kernel: K, _ bodies: [Tracked], _ parameters: LocalValues<Tracked>, _ output: inout [Tracked], _: D.Type
    ) {
        let width = kernel.width
        let outputs = kernel.outputCount
        let parameterCount = parameters.count
        let n = kernel._bodyCount(components: bodies.count, outputs: output.count)
        let live = bodies.first { !$0.isConstant } ?? (0..<parameterCount).lazy.map { parameters[$0] }.first { !$0.isConstant }
        guard let live, n >= 2 else {
            // Nothing depends on a recorded input (or there is no pair): the sums are constants.
            let constants = bodies.map(\.value)
            var values = [Double](repeating: 0, count: output.count)
            Double.sumInteractions(
                kernel, bodies: constants, parameters: LocalValues(count: parameterCount) { parameters[$0].value },
                into: &values)
            for i in values.indices { output[i] = Tracked(values[i]) }
            return
        }
        let recorder = _Recorder.current(for: live.tag)
        let tape = recorder.pointee.tape.takeUnretainedValue()
        let inputs = _StencilInputs(bodies, columns: bodies.count)
        let parameterIdentifiers = (0..<parameterCount).map { parameters[$0].identifier }
        let perBody = _InteractionStatement.partialsPerBody(
            bodyCount: n, width: width, outputs: outputs, parameters: parameterCount)
        // One block of target bodies per external statement: all of them, unless the tape
        // spills and a block must fit its chunk.
        let bodiesPerBlock = tape._spillBlockLimit.map { max(1, $0 / perBody) } ?? n
        let differences = kernel._differenceComponents
        if differences > 0 { _checkDifferenceComponents(kernel, bodies, parameters) }
        let seededParameters = LocalValues<Dual<D>>(count: parameterCount) {
            Dual(parameters[$0].value, tangent: D.unit(2 &* width &- differences &+ $0))
        }
        var first = 0
        while first < n {
            let targets = first..<Swift.min(n, first &+ bodiesPerBlock)
            let statement = _InteractionStatement(
                bodyCount: n, width: width, outputs: outputs, targets: targets, inputs: inputs,
                parameterIdentifiers: parameterIdentifiers)
            _ = tape._pushExternal(statement) { partials in
                bodies.withUnsafeBufferPointer { b in
                    output.withUnsafeMutableBufferPointer { out in
                        _fillInteractionPartials(
                            kernel, b.baseAddress!, n: n, targets: targets, parameters: seededParameters,
                            partials: partials, out: out.baseAddress!)
                    }
                }
            }
            output.withUnsafeMutableBufferPointer { out in
                let start = out.baseAddress! + targets.lowerBound &* outputs
                recorder.pointee.pushLeaves(
                    count: targets.count &* outputs, value: { start[$0].value }, store: { start[$0] = $1 })
            }
            first = targets.upperBound
        }
    }

    /// Evaluates the kernel for every pair (i, j), i in `targets`, with `Dual` lanes seeded
    /// with the target's components, then the source's, then the parameters (seeded by the
    /// caller); writes each target's sums (as constants, to be replaced by leaves) to `out` and
    /// its partials in `_InteractionStatement`'s layout.
    @inlinable @inline(__always)
    static func _fillInteractionPartials<K: PairInteraction, D: TangentDirections>(
        _ kernel: K, _ b: UnsafePointer<Tracked>, n: Int, targets: Range<Int>, parameters: LocalValues<Dual<D>>,
        partials: UnsafeMutablePointer<Double>, out: UnsafeMutablePointer<Tracked>
    ) {
        let width = kernel.width
        let outputs = kernel.outputCount
        let parameterCount = parameters.count
        let selfStride = width &+ parameterCount
        let perBody = _InteractionStatement.partialsPerBody(
            bodyCount: n, width: width, outputs: outputs, parameters: parameterCount)
        // Lanes: the source's components 0..<width, then the target's past its difference
        // components (whose derivatives are minus the source's), then the parameters.
        let differences = kernel._differenceComponents
        for i in targets {
            let row = partials + (i &- targets.lowerBound) &* perBody
            // Seeds from `D.unit` with lanes the specialiser knows (width is the kernel's constant):
            // the tangents of the first differences fold to constants.
            let target = LocalValues<Dual<D>>(count: width) {
                $0 < differences
                    ? Dual(b[i &* width &+ $0].value)
                    : Dual(b[i &* width &+ $0].value, tangent: D.unit(width &+ $0 &- differences))
            }
            var sum = LocalValues<Dual<D>>(count: outputs) { _ in Dual(0) }
            var pair = row + outputs &* selfStride
            for j in 0..<n where j != i {
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
                // A difference component's derivative is minus the source's, summed over j:
                // the negated sum of the pairs' source derivatives (negation is exact).
                for c in 0..<width {
                    selfRow[c] = c < differences ? -s.tangent[lane: c] : s.tangent[lane: width &+ c &- differences]
                }
                for p in 0..<parameterCount {
                    selfRow[width &+ p] = s.tangent[lane: 2 &* width &- differences &+ p]
                }
            }
        }
    }

    /// Traps unless the kernel's derivatives with respect to the target's difference components
    /// are minus those with respect to the source's, at the first pair of this call (one extra
    /// evaluation with all `2·width + parameters` lanes; skipped past 16 lanes). A kernel that
    /// declares a component it reads on its own would otherwise get a wrong gradient silently.
    @inlinable
    static func _checkDifferenceComponents<K: PairInteraction>(
        _ kernel: K, _ bodies: [Tracked], _ parameters: LocalValues<Tracked>
    ) {
        typealias Lanes = SIMD16<Double>
        let width = kernel.width
        guard 2 * width + parameters.count <= Lanes.laneCount else { return }
        let target = LocalValues<Dual<Lanes>>(count: width) { Dual(bodies[$0].value, tangent: .unit($0)) }
        let source = LocalValues<Dual<Lanes>>(count: width) { Dual(bodies[width + $0].value, tangent: .unit(width + $0)) }
        let seeded = LocalValues<Dual<Lanes>>(count: parameters.count) {
            Dual(parameters[$0].value, tangent: .unit(2 * width + $0))
        }
        let f = kernel(target, source, seeded)
        for k in 0..<kernel.outputCount {
            for c in 0..<kernel._differenceComponents {
                let t = f[k].tangent[c]
                let s = f[k].tangent[width + c]
                let agree = t == -s || (t.isNaN && s.isNaN) || (t + s).magnitude <= 1e-12 * Swift.max(t.magnitude, s.magnitude)
                precondition(
                    agree,
                    "\(K.self) declares differenceComponents = \(kernel._differenceComponents), but output \(k)'s "
                        + "derivative in target component \(c) is \(t), not minus that in source component \(c) (\(s))")
            }
        }
    }
}

/// The external statement of a recorded all-pairs sum over the target bodies `targets`.
///
/// Its partials, per target body i in `targets` (`partialsPerBody` each):
/// `outputs × (width + parameters)` derivatives of i's sums with respect to body i's
/// components and the parameters (already summed over j), then for each j ≠ i ascending
/// `outputs × width` derivatives of the pair's contribution with respect to body j.
/// Its outputs are consecutive identifiers, `outputs` per target body.
@usableFromInline
package final class _InteractionStatement: _ExternalStatement {
    let bodyCount: Int
    let width: Int
    let outputs: Int
    let targets: Range<Int>
    let inputs: _StencilInputs
    let parameterIdentifiers: [UInt32]

    @usableFromInline
    package init(
        bodyCount: Int, width: Int, outputs: Int, targets: Range<Int>, inputs: _StencilInputs,
        parameterIdentifiers: [UInt32]
    ) {
        self.bodyCount = bodyCount
        self.width = width
        self.outputs = outputs
        self.targets = targets
        self.inputs = inputs
        self.parameterIdentifiers = parameterIdentifiers
    }

    /// Partials recorded per target body.
    @inlinable
    package static func partialsPerBody(bodyCount: Int, width: Int, outputs: Int, parameters: Int) -> Int {
        outputs * (width + parameters) + (bodyCount - 1) * outputs * width
    }

    @usableFromInline package var partialCount: Int {
        targets.count
            * Self.partialsPerBody(
                bodyCount: bodyCount, width: width, outputs: outputs, parameters: parameterIdentifiers.count)
    }

    /// The shared input list is counted by the block that covers body 0.
    @usableFromInline package var byteCount: Int {
        64 + parameterIdentifiers.count * 4 + (targets.lowerBound == 0 ? inputs.byteCount : 0)
    }

    /// Target bodies from the last to the first; for each, the contributions of its output
    /// adjoints to itself, to the parameters and to each source body j ascending, each input's
    /// contribution summed over the outputs and then added once. The same additions in the same
    /// order whether the sum was recorded as one block or split into several (as a spilling
    /// tape does), so the gradient stays bitwise equal.
    @usableFromInline
    package func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let n = bodyCount
        let width = width
        let outputs = outputs
        let parameterCount = parameterIdentifiers.count
        let selfStride = width + parameterCount
        let perBody = Self.partialsPerBody(bodyCount: n, width: width, outputs: outputs, parameters: parameterCount)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: n * width + parameterCount) { index in
            // Where each body component's and each parameter's adjoint lives.
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
                    let row = partials + (i &- targets.lowerBound) &* perBody
                    let outputAdjoints = adjoints + (Int(firstOutput) &+ (i &- targets.lowerBound) &* outputs)
                    var allZero = true
                    for k in 0..<outputs {
                        a[k] = outputAdjoints[k]
                        if a[k] != 0 { allZero = false }
                    }
                    // The tape's rule: skip zero adjoints only where no partial is infinite or
                    // NaN (Tape._skipsZeroAdjoint), so 0·∞ still reaches the inputs as NaN.
                    if allZero && Tape._skipsZeroAdjoint(row, count: perBody) { continue }
                    for c in 0..<selfStride {
                        var sum = 0.0
                        for k in 0..<outputs { sum += row[k &* selfStride &+ c] * a[k] }
                        let target = c < width ? bodyIndex[i &* width &+ c] : parameterIndex[c &- width]
                        adjoints[target] += sum
                    }
                    let pairs = UnsafePointer(row + outputs &* selfStride)
                    let a = UnsafePointer(a.baseAddress!)
                    // The common shapes as literals, so that the inner loops unroll.
                    switch (width, outputs) {
                    case (1, 1): Self.addSourceContributions(i, n, 1, 1, pairs, a, bodyIndex, adjoints)
                    case (2, 2): Self.addSourceContributions(i, n, 2, 2, pairs, a, bodyIndex, adjoints)
                    case (3, 3): Self.addSourceContributions(i, n, 3, 3, pairs, a, bodyIndex, adjoints)
                    case (4, 3): Self.addSourceContributions(i, n, 4, 3, pairs, a, bodyIndex, adjoints)
                    case (4, 4): Self.addSourceContributions(i, n, 4, 4, pairs, a, bodyIndex, adjoints)
                    default: Self.addSourceContributions(i, n, width, outputs, pairs, a, bodyIndex, adjoints)
                    }
                }
            }
        }
    }

    /// Adds target i's pair contributions to the source bodies' adjoints, j ascending: for each
    /// source component, Σₖ partial·āₖ over the outputs, then one addition into its adjoint.
    @inline(__always)
    static func addSourceContributions(
        _ i: Int, _ n: Int, _ width: Int, _ outputs: Int, _ pairs: UnsafePointer<Double>, _ a: UnsafePointer<Double>,
        _ bodyIndex: UnsafePointer<Int>, _ adjoints: UnsafeMutablePointer<Double>
    ) {
        var pair = pairs
        for j in 0..<n where j != i {
            for c in 0..<width {
                var sum = 0.0
                for k in 0..<outputs { sum += pair[k &* width &+ c] * a[k] }
                adjoints[bodyIndex[j &* width &+ c]] += sum
            }
            pair += outputs &* width
        }
    }
}
