import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// A 2-input, 2-output local function with transcendental parts.
private struct Polar: LocalFunction {
    func callAsFunction<T: SimulationScalar>(_ v: LocalValues<T>) -> LocalValues<T> {
        let r = v[0]
        let angle = v[1]
        return LocalValues(count: 2) { $0 == 0 ? r * T.cos(angle) : r * T.sin(angle) * T.exp(r) }
    }
}

/// Six inputs, like a Lorenz RK4 step.
private struct Mix6: LocalFunction {
    func callAsFunction<T: SimulationScalar>(_ v: LocalValues<T>) -> LocalValues<T> {
        let a = v[0] * v[1] - v[2] / v[3]
        let b = T.sin(v[4]) * v[5] + a * a
        return LocalValues(count: 3) { [a, b, a * b + v[0]][$0] }
    }
}

private struct Diffusion: StencilKernel {
    var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[1] + p[0] * (u[0] - 2.0 * u[1] + u[2]) + p[1] * u[1] * u[1]
    }
}

private struct FivePoint: StencilKernel {
    var neighbours: [GridOffset] {
        [GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0), GridOffset(row: 0, column: 1),
         GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0), GridOffset(row: 1, column: 1)]
    }
    func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
        u[4] + p[0] * (((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]) + 0.1 * u[5] * u[4]
    }
}

/// Gradients of Σ wᵢ·outputᵢ with preaccumulation and with elementary recording.
private func compare(
    inputs: [Double], weights: [Double], _ body: (_ x: [Tracked], _ preaccumulate: Bool) -> [Tracked]
) -> ([Double], [Double], Int, Int) {
    var gradients: [[Double]] = []
    var statements: [Int] = []
    for preaccumulate in [true, false] {
        let recorded = RecordedFunction(at: inputs) { body($0, preaccumulate) }
        gradients.append(recorded.pullback(weights))
        statements.append(recorded.tape.statistics.statementCount)
    }
    return (gradients[0], gradients[1], statements[0], statements[1])
}

@Suite("Preaccumulation: local functions and stencils")
struct PreaccumulationTests {
    @Test func localFunctionGradientEqualsElementary() {
        let (fast, slow, fastCount, slowCount) = compare(inputs: [0.8, 0.3], weights: [0.5, -2]) { x, pre in
            let input = LocalValues(count: 2) { x[$0] }
            let y = pre ? Tracked.evaluate(Polar(), input) : Polar()(input)
            return [y[0], y[1]]
        }
        for k in fast.indices { #expect(abs(fast[k] - slow[k]) <= 1e-14 * abs(slow[k])) }
        #expect(fastCount == 2 + 2, "two inputs and one statement per output")
        #expect(slowCount > fastCount)
    }

    @Test func sixInputsUseEightLanes() {
        let point = [0.5, -1.2, 0.7, 2.0, 0.1, 3.0]
        let (fast, slow, fastCount, _) = compare(inputs: point, weights: [1, 1, 1]) { x, pre in
            let input = LocalValues(count: 6) { x[$0] }
            let y = pre ? Tracked.evaluate(Mix6(), input) : Mix6()(input)
            return [y[0], y[1], y[2]]
        }
        for k in fast.indices { #expect(abs(fast[k] - slow[k]) <= 1e-13 * max(1, abs(slow[k])), "input \(k)") }
        #expect(fastCount == 6 + 3)
    }

    @Test func constantInputsAreLeftOutOfTheStatement() {
        let tape = Tape()
        tape.record {
            let x = tape.registerInput(0.5)
            let before = tape.statistics.argumentCount
            _ = Tracked.evaluate(Polar(), LocalValues(count: 2) { $0 == 0 ? x : Tracked(0.25) })
            #expect(tape.statistics.argumentCount - before == 2, "one argument per output, the constant left out")
        }
    }

    @Test(arguments: [3, 4, 5, 17])
    func oneDimensionalStencilMatchesElementaryAndStoresOnlyPartials(points: Int) {
        let u0 = (0..<points).map { Double.sin(Double($0)) }
        let weights = (0..<points).map { 1 + 0.1 * Double($0) }
        let (fast, slow, _, _) = compare(inputs: u0 + [0.2, 0.05], weights: weights) { x, pre in
            let u = Array(x[0..<points])
            let p = LocalValues(count: 2) { x[points + $0] }
            var next = u
            if pre {
                Tracked.applyStencil(Diffusion(), on: .periodic(points), to: u, parameters: p, into: &next)
            } else {
                Tracked.applyStencilPointwise(Diffusion(), on: .periodic(points), to: u, parameters: p, into: &next)
            }
            return next
        }
        for k in fast.indices { #expect(abs(fast[k] - slow[k]) <= 1e-14 * max(1, abs(slow[k])), "input \(k)") }
    }

    @Test(arguments: [(3, 3), (4, 5), (6, 6)])
    func twoDimensionalStencilMatchesElementary(shape: (Int, Int)) {
        let (rows, columns) = shape
        let count = rows * columns
        let u0 = (0..<count).map { Double.cos(0.3 * Double($0)) }
        let weights = (0..<count).map { Double($0 % 5) - 2 }
        let grid = StencilGrid.periodic(rows: rows, columns: columns)
        let (fast, slow, _, _) = compare(inputs: u0 + [0.1], weights: weights) { x, pre in
            let u = Array(x[0..<count])
            let p = LocalValues(count: 1) { _ in x[count] }
            var next = u
            // Two steps: the second reads the first's outputs (consecutive identifiers).
            for _ in 0..<2 {
                let current = next
                if pre {
                    Tracked.applyStencil(FivePoint(), on: grid, to: current, parameters: p, into: &next)
                } else {
                    Tracked.applyStencilPointwise(FivePoint(), on: grid, to: current, parameters: p, into: &next)
                }
            }
            return next
        }
        for k in fast.indices { #expect(abs(fast[k] - slow[k]) <= 1e-14 * max(1, abs(slow[k])), "input \(k)") }
    }

    @Test func stencilOverScatteredInputsUsesAnIdentifierList() {
        let points = 6
        let u0 = (0..<points).map { Double($0) * 0.1 }
        let (fast, slow, _, _) = compare(inputs: u0 + [0.2, 0.0], weights: [Double](repeating: 1, count: points)) { x, pre in
            // Reverse the order so identifiers are not consecutive.
            let u = Array(x[0..<points].reversed())
            let p = LocalValues(count: 2) { x[points + $0] }
            var next = u
            if pre {
                Tracked.applyStencil(Diffusion(), on: .periodic(points), to: u, parameters: p, into: &next)
            } else {
                Tracked.applyStencilPointwise(Diffusion(), on: .periodic(points), to: u, parameters: p, into: &next)
            }
            return next
        }
        for k in fast.indices { #expect(abs(fast[k] - slow[k]) <= 1e-14 * max(1, abs(slow[k]))) }
    }

    @Test func stencilOnDoubleFollowsTheKernelAtEveryPoint() {
        let u = [1.0, 2.0, 4.0, 8.0]
        var next = u
        Double.applyStencil(Diffusion(), on: .periodic(4), to: u, parameters: LocalValues([0.5, 0]), into: &next)
        let expected: [Double] = [1 + 0.5 * 8, 2 + 0.5 * 1, 4 + 0.5 * 2, 8 + 0.5 * -11]
        #expect(next == expected)
    }

    /// How a point is differentiated: a seeding neighbourhood hands out `u[j]` with tangent lane
    /// `j` set, read through the point's indices, and plain values to the other scalar types.
    @Test func aSeedingNeighbourhoodGivesEachNeighbourItsOwnLane() {
        let values = [10.0, 20.0, 30.0, 40.0]
        let indices = [3, 0, 2]
        values.withUnsafeBufferPointer { values in
            indices.withUnsafeBufferPointer { indices in
                let seeded = StencilNeighbourhood<Dual<SIMD4<Double>>>(
                    seeding: values.baseAddress!, indices: indices.baseAddress!)
                for j in 0..<3 {
                    #expect(seeded[j].value == values[indices[j]])
                    #expect(seeded[j].tangent == SIMD4<Double>.unit(j))
                }
                let plain = StencilNeighbourhood<Double>(seeding: values.baseAddress!, indices: indices.baseAddress!)
                #expect((0..<3).map { plain[$0] } == [40, 10, 30])
            }
        }
    }
}
