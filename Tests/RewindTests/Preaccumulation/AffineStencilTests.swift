import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage

/// Five-point diffusion, affine in the neighbours for any parameter.
private struct Diffusion2D: StencilKernel {
    var neighbours: [GridOffset] {
        [GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: 1),
         GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0)]
    }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[4] + p[0] * (((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4])
    }
}

/// `Diffusion2D` with a decision on a neighbour that never changes the result: the same
/// arithmetic, recorded the general way (every partial at every point).
private struct DecidingDiffusion2D: StencilKernel {
    var neighbours: [GridOffset] { Diffusion2D().neighbours }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let y = Diffusion2D()(u, p)
        return u[4] > 1e300 ? y + 1.0 : y
    }
}

/// Advection–diffusion in 1-D with two parameters, a constant source and a branch on a
/// parameter: affine in the neighbours.
private struct AdvectionDiffusion: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let upwind = p[1] > 0 ? u[1] - u[0] : u[2] - u[1]
        return u[1] + p[0] * ((u[0] - 2.0 * u[1]) + u[2]) - 0.5 * p[1] * upwind / 3.0 + 0.01
    }
}

private struct DecidingAdvectionDiffusion: StencilKernel {
    var neighbours: [GridOffset] { AdvectionDiffusion().neighbours }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let y = AdvectionDiffusion()(u, p)
        return u[0] == 1e300 ? y - 1.0 : y
    }
}

/// Affine at first, then with other weights: a kernel whose calls change it.
private final class Shifting: StencilKernel, @unchecked Sendable {
    var evaluations = 0
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        evaluations += 1
        let weight = evaluations > 2 ? 2.0 : 1.0
        return u[1] + weight * p[0] * ((u[0] - 2.0 * u[1]) + u[2])
    }
}

/// Whether `kernel` is found affine in its neighbours at `values` (three points of a 1-D grid)
/// with `parameters`.
private func isAffine<K: StencilKernel>(_ kernel: K, values: [Double] = [0.3, -0.2, 0.7], parameters: [Double] = [0.1]) -> Bool {
    StencilGrid.periodic(values.count)._isAffine(
        kernel, offsets: kernel.neighbours, input: values.map { Tracked($0) }, parameters: LocalValues(parameters))
}

private struct Kernel1D: StencilKernel {
    let body: @Sendable (StencilNeighbourhood<_AffineProbe>, LocalValues<_AffineProbe>) -> _AffineProbe
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        // Only the probe is asked here; any other scalar type is a test error.
        guard T.self == _AffineProbe.self else { preconditionFailure("Kernel1D is for the probe only") }
        return unsafeBitCast(
            body(unsafeBitCast(u, to: StencilNeighbourhood<_AffineProbe>.self), unsafeBitCast(p, to: LocalValues<_AffineProbe>.self)),
            to: T.self)
    }
}

@Suite("Stencils affine in their neighbours")
struct AffineStencilTests {
    @Test func theProbeFindsAffineKernels() {
        #expect(isAffine(Diffusion2DAs1D()))
        #expect(isAffine(AdvectionDiffusion(), parameters: [0.1, 0.3]))
        #expect(isAffine(AdvectionDiffusion(), parameters: [0.1, -0.3]))
        #expect(isAffine(Kernel1D { u, p in p[0] * u[0] / 2.0 - u[2] / p[0] + 3.0 }))
        // A function of parameters only is a coefficient like any other.
        #expect(isAffine(Kernel1D { u, p in _AffineProbe.exp(p[0]) * u[1] + _AffineProbe.sqrt(p[0] * p[0]) }))
        #expect(isAffine(Kernel1D { u, p in p[0] > 0 ? u[0] : u[2] }))
    }

    /// Every operation that is not affine in a neighbour, and every decision on one.
    @Test func theProbeFindsEveryNonAffineOperation() {
        let cases: [(String, @Sendable (StencilNeighbourhood<_AffineProbe>, LocalValues<_AffineProbe>) -> _AffineProbe)] = [
            ("product", { u, _ in u[0] * u[1] }),
            ("quotient", { u, _ in u[1] / u[0] }),
            ("constant over a neighbour", { u, _ in 2.0 / u[0] }),
            ("fma", { u, p in _AffineProbe.fma(u[0], u[1], p[0]) }),
            ("sin", { u, _ in _AffineProbe.sin(u[1]) }),
            ("sqrt", { u, _ in _AffineProbe.sqrt(u[1]) }),
            ("pow", { u, _ in _AffineProbe.pow(u[1], 2) }),
            ("atan2", { u, p in _AffineProbe.atan2(y: p[0], x: u[1]) }),
            ("magnitude", { u, _ in u[1].magnitude }),
            ("comparison", { u, _ in u[1] > u[0] ? u[1] : u[0] }),
            ("equality", { u, _ in u[1] == 0 ? u[0] : u[2] }),
            ("primal", { u, _ in u[1] * u[0].primal }),
            ("description", { u, _ in u[1] * (u[0].description.count > 3 ? 2.0 : 1.0) }),
            ("custom rule", { u, _ in _AffineProbe.applying(LocalDerivative(1, 2), to: u[1]) }),
            ("reciprocal", { u, _ in u[1].reciprocal ?? u[0] }),
            ("norm", { u, _ in _AffineProbe.norm(u[0], u[1]) }),
        ]
        for (name, body) in cases {
            #expect(!isAffine(Kernel1D(body: body)), "\(name)")
        }
    }

    /// An affine kernel keeps one parameter partial a point and gives the bits of the same
    /// arithmetic recorded with every partial, in both storages, spilled in row blocks or not,
    /// with inputs in rows (the gather by weights) or scattered (the sweep by identifiers).
    @Test func affineKernelsGiveTheBitsOfEveryPartialAndStoreFewerNumbers() throws {
        let grid = StencilGrid.periodic(rows: 7, columns: 6)
        for storage in [StencilStorage.partials, .inputs] {
            for chunk in [nil, 8, 40] as [Int?] {
                let affine = try stencilGradient(Diffusion2D(), grid: grid, parameters: [0.1], steps: 3, storage: storage, spillChunk: chunk)
                let general = try stencilGradient(DecidingDiffusion2D(), grid: grid, parameters: [0.1], steps: 3, storage: .partials)
                #expect(affine.gradient.map(\.bitPattern) == general.gradient.map(\.bitPattern), "\(storage), \(String(describing: chunk))")
                #expect(affine.values.map(\.bitPattern) == general.values.map(\.bitPattern))
                if chunk == nil {
                    // Three steps, five neighbour partials a point kept once instead of at every point.
                    #expect(general.storedNumbers - affine.storedNumbers == 3 * grid.pointCount * 5)
                }
            }
        }
        let scattered = try stencilGradient(Diffusion2D(), grid: grid, parameters: [0.1], steps: 2, scatter: true)
        let scatteredGeneral = try stencilGradient(DecidingDiffusion2D(), grid: grid, parameters: [0.1], steps: 2, scatter: true)
        #expect(scattered.gradient.map(\.bitPattern) == scatteredGeneral.gradient.map(\.bitPattern), "scattered")
        let line = StencilGrid.periodic(11)
        for parameters in [[0.1, 0.3], [0.2, -0.4]] {
            let affine = try stencilGradient(AdvectionDiffusion(), grid: line, parameters: parameters, steps: 4)
            let general = try stencilGradient(DecidingAdvectionDiffusion(), grid: line, parameters: parameters, steps: 4)
            #expect(affine.gradient.map(\.bitPattern) == general.gradient.map(\.bitPattern), "\(parameters)")
        }
    }

    /// A kernel with no parameters keeps nothing a point, and constant parameters (no inputs)
    /// are weights like any other: the bits of the general path either way.
    @Test func kernelsWithoutTrackedParametersGiveTheBitsOfTheGeneralPath() throws {
        let line = StencilGrid.periodic(10)
        let averaging = try stencilGradient(Averaging(), grid: line, parameters: [], steps: 3)
        let decidingAveraging = try stencilGradient(DecidingAveraging(), grid: line, parameters: [], steps: 3)
        #expect(averaging.gradient.map(\.bitPattern) == decidingAveraging.gradient.map(\.bitPattern))
        #expect(averaging.values.map(\.bitPattern) == decidingAveraging.values.map(\.bitPattern))
        // Parameters given as constants: the kernel sees plain numbers for them.
        let tape = Tape()
        let grid = StencilGrid.periodic(rows: 3, columns: 5)
        func run<K: StencilKernel>(_ kernel: K) -> [Double] {
            let (inputs, output) = tape.record { () -> ([Tracked], Tracked) in
                let u = tape.registerInputs((0..<grid.pointCount).map { Double.sin(Double($0)) })
                var next = u
                Tracked.applyStencil(kernel, on: grid, to: u, parameters: LocalValues([Tracked(0.2)]), into: &next)
                return (u, next.reduce(Tracked(0)) { $0 + $1 * $1 })
            }
            let adjoints = AdjointVector()
            tape.reverse(adjoints, seeding: [(output, 1)])
            defer { tape.reset() }
            return inputs.map { adjoints[$0] }
        }
        #expect(run(Diffusion2D()).map(\.bitPattern) == run(DecidingDiffusion2D()).map(\.bitPattern))
    }

    /// A NaN in the state makes the objective NaN and the parameters' gradient NaN; the state's
    /// gradient of an affine map does not depend on the values, and stays what it is.
    @Test func aNaNInTheStateReachesTheObjectiveAndTheParameters() throws {
        let grid = StencilGrid.periodic(rows: 5, columns: 6)
        let poisoned = try stencilGradient(Diffusion2D(), grid: grid, parameters: [0.1], steps: 2, poison: 7)
        let clean = try stencilGradient(Diffusion2D(), grid: grid, parameters: [0.1], steps: 2)
        #expect(poisoned.values[0].isNaN)
        #expect(poisoned.gradient.last!.isNaN, "the parameter's partials read the NaN")
        #expect(poisoned.gradient.dropLast() == clean.gradient.dropLast())
    }

    /// A kernel that changes between its calls is caught by the spot checks of every row, not
    /// differentiated with the weights its first call had: the tape names the fault and the
    /// gradient is NaN.
    @Test func aKernelThatChangesAfterTheProbeIsCaught() throws {
        let result = try stencilGradient(Shifting(), grid: .periodic(9), parameters: [0.1], steps: 1)
        #expect(result.fault == .changedAfterProbe)
        #expect(result.gradient.allSatisfy { $0.isNaN })
    }
}

/// `Diffusion2D`'s arithmetic on a 1-D neighbourhood of three, for the probe.
private struct Diffusion2DAs1D: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[1] + p[0] * ((u[0] + u[2]) - 2.0 * u[1])
    }
}

/// A weighted average of three neighbours: affine, with no parameters at all.
private struct Averaging: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        0.25 * u[0] + 0.5 * u[1] + 0.25 * u[2]
    }
}

private struct DecidingAveraging: StencilKernel {
    var neighbours: [GridOffset] { Averaging().neighbours }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        let y = Averaging()(u, p)
        return u[2] < -1e300 ? y : y
    }
}
