/// Stencils on tracked values: the kernel is evaluated at each point with a `Dual` whose
/// lanes are the neighbours and parameters, and the whole grid update is recorded as one
/// external statement holding `points × (neighbours + parameters)` partials. The argument
/// identifiers are not stored: the grid says which input each partial belongs to, so a
/// burgers point-update costs 4 partials (32 bytes) instead of ~22 elementary statements.
extension Tracked {
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
        let statement = _StencilStatement(
            grid: grid, offsets: offsets, inputs: input, parameters: (0..<parameters.count).map { parameters[$0] })
        let seededParameters = LocalValues<Dual<D>>(count: parameters.count) {
            Dual(parameters[$0].value, tangent: D.unit(neighbourCount + $0))
        }
        let units = (0..<max(neighbourCount, 1)).map { D.unit($0) }
        let identity = Array(0..<max(neighbourCount, 1))
        let seeded = UnsafeMutablePointer<Dual<D>>.allocate(capacity: max(neighbourCount, 1))
        seeded.initialize(repeating: Dual(0), count: max(neighbourCount, 1))
        defer { seeded.deallocate() }
        let firstOutput = tape._pushExternal(statement) { partials in
            input.withUnsafeBufferPointer { u in
                output.withUnsafeMutableBufferPointer { out in
                  units.withUnsafeBufferPointer { unit in
                    identity.withUnsafeBufferPointer { indices in
                    grid.forEachPoint(offsets) { point, shift, neighbour in
                        for j in 0..<neighbourCount {
                            seeded[j] = Dual(u[shift &+ neighbour[j]].value, tangent: unit[j])
                        }
                        let y = kernel(
                            StencilNeighbourhood(values: UnsafePointer(seeded), indices: indices.baseAddress!),
                            seededParameters)
                        out[point] = Tracked(y.value)
                        let row = partials + point &* lanes
                        if lanes == D.laneCount {
                            UnsafeMutableRawPointer(row).storeBytes(of: y.tangent, as: D.self)
                        } else {
                            for j in 0..<lanes { row[j] = y.tangent[lane: j] }
                        }
                    }
                    }
                  }
                }
            }
        }
        for i in output.indices {
            output[i] = recorder.pointee.pushLeaf(output[i].value)
        }
        assert(output.isEmpty || output[0].identifier == firstOutput, "stencil outputs must follow their marker")
    }
}

/// The external statement of a recorded stencil: the grid, the neighbours, and where the
/// inputs' adjoints live (a contiguous identifier range, or an explicit list when the input
/// was assembled from scattered values).
@usableFromInline
final class _StencilStatement: _ExternalStatement {
    let grid: StencilGrid
    let offsets: [GridOffset]
    let firstInput: UInt32
    let inputIdentifiers: [UInt32]?
    let parameterIdentifiers: [UInt32]

    @usableFromInline
    init(grid: StencilGrid, offsets: [GridOffset], inputs: [Tracked], parameters: [Tracked]) {
        self.grid = grid
        self.offsets = offsets
        parameterIdentifiers = parameters.map(\.identifier)
        let first = inputs.first?.identifier ?? 0
        let contiguous =
            first != 0 && inputs.indices.allSatisfy { inputs[$0].identifier == first &+ UInt32(truncatingIfNeeded: $0) }
        firstInput = contiguous ? first : 0
        inputIdentifiers = contiguous ? nil : inputs.map(\.identifier)
    }

    @usableFromInline var partialCount: Int { grid.pointCount * (offsets.count + parameterIdentifiers.count) }

    @usableFromInline var byteCount: Int {
        64 + offsets.count * 16 + parameterIdentifiers.count * 4 + (inputIdentifiers?.count ?? 0) * 4
    }

    @usableFromInline
    func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let neighbourCount = offsets.count
        let parameterCount = parameterIdentifiers.count
        let lanes = neighbourCount + parameterCount
        let outputBase = Int(firstOutput)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(parameterCount, 1)) { parameterAdjoints in
            parameterAdjoints.initialize(repeating: 0)
            let parameterSums = parameterAdjoints.baseAddress!
            if let inputIdentifiers {
                inputIdentifiers.withUnsafeBufferPointer { ids in
                    grid.forEachPoint(offsets) { point, shift, neighbour in
                        let a = adjoints[outputBase &+ point]
                        if a == 0 { return }
                        let row = partials + point &* lanes
                        for j in 0..<neighbourCount {
                            adjoints[Int(ids[shift &+ neighbour[j]])] += row[j] * a
                        }
                        for j in 0..<parameterCount { parameterSums[j] += row[neighbourCount &+ j] * a }
                    }
                }
            } else {
                // Inputs are consecutive identifiers: their adjoints are a shifted copy of the grid.
                let inputAdjoints = adjoints + Int(firstInput)
                grid.forEachPoint(offsets) { point, shift, neighbour in
                    let a = adjoints[outputBase &+ point]
                    if a == 0 { return }
                    let row = partials + point &* lanes
                    let target = inputAdjoints + shift
                    for j in 0..<neighbourCount {
                        target[neighbour[j]] += row[j] * a
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
