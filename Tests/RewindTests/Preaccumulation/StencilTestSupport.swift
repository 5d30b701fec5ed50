import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage

/// What `stencilGradient` gives: the gradient, the numbers the tape stores, the objective, and
/// the fault the tape found in the kernel, if any.
typealias StencilGradient = (gradient: [Double], storedNumbers: Int, values: [Double], fault: StencilKernelFault?)

/// The gradient of Σ wᵢ·uᵢ after `steps` stencil steps, with the stencils stored as `storage`,
/// optionally on a tape that spills chunks of `spillChunk` statements.
func stencilGradient<K: StencilKernel>(
    _ kernel: K, grid: StencilGrid, parameters: [Double], steps: Int, storage: StencilStorage = .partials,
    spillChunk: Int? = nil, scatter: Bool = false, poison: Int? = nil
) throws -> StencilGradient {
    let tape = Tape()
    tape.stencilStorage = storage
    let directory = try SpillDirectory()
    defer { try? directory.remove() }
    if let spillChunk { try tape.enableSpilling(to: directory, statementsPerChunk: spillChunk) }
    let count = grid.pointCount
    let (inputs, output) = tape.record { () -> ([Tracked], Tracked) in
        let inputs = (0..<(count + parameters.count)).map { k in
            tape.registerInput(k < count ? (k == poison ? .nan : Double.cos(0.37 * Double(k))) : parameters[k - count])
        }
        // Scattered: the first step reads its points in reverse order (an identifier list).
        var u = scatter ? Array(inputs[0..<count].reversed()) : Array(inputs[0..<count])
        let p = LocalValues(count: parameters.count) { inputs[count + $0] }
        for _ in 0..<steps {
            var next = u
            Tracked.applyStencil(kernel, on: grid, to: u, parameters: p, into: &next)
            u = next
        }
        var sum = Tracked(0)
        for k in 0..<count { sum = sum + u[k] * (1 + 0.01 * Double(k % 7)) }
        return (inputs, sum)
    }
    let adjoints = AdjointVector()
    tape.reverse(adjoints, seeding: [(output, 1)])
    #expect(tape.spillError == nil)
    return (inputs.map { adjoints[$0] }, tape.statistics.partialCount, [output.value], tape.stencilKernelFault)
}
