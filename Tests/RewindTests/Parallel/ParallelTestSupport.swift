import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// Thread counts every parallel test runs with: serial, the machine's 2 cores, oversubscribed.
let parallelThreadCounts = [1, 2, 8]

/// Whether two matrices hold the same doubles bit for bit (NaNs included).
func bitwiseEqual(_ a: [[Double]], _ b: [[Double]]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { bitwiseEqual($0, $1) }
}

func bitwiseEqual(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// Lorenz-63 with RK4 recorded as one local function per step (no external statements), and
/// a running cost, as the bundled model does; RewindTests does not depend on RewindModels.
struct TestLorenz: TimeSteppingProblem {
    var stateCount: Int { 3 }
    var parameterCount: Int { 3 }
    var hasRunningCost: Bool { true }

    struct RK4: LocalFunction {
        func f<T: SimulationScalar>(_ x: T, _ y: T, _ z: T, _ s: T, _ r: T, _ b: T) -> (T, T, T) {
            (s * (y - x), x * (r - z) - y, x * y - b * z)
        }
        func callAsFunction<T: SimulationScalar>(_ v: LocalValues<T>) -> LocalValues<T> {
            let dt = 0.01, h2 = 0.005, h6 = 0.01 / 6.0
            let (x, y, z, s, r, b) = (v[0], v[1], v[2], v[3], v[4], v[5])
            let k1 = f(x, y, z, s, r, b)
            let k2 = f(x + h2 * k1.0, y + h2 * k1.1, z + h2 * k1.2, s, r, b)
            let k3 = f(x + h2 * k2.0, y + h2 * k2.1, z + h2 * k2.2, s, r, b)
            let k4 = f(x + dt * k3.0, y + dt * k3.1, z + dt * k3.2, s, r, b)
            let nx = x + h6 * (((k1.0 + 2.0 * k2.0) + 2.0 * k3.0) + k4.0)
            let ny = y + h6 * (((k1.1 + 2.0 * k2.1) + 2.0 * k3.1) + k4.1)
            let nz = z + h6 * (((k1.2 + 2.0 * k2.2) + 2.0 * k3.2) + k4.2)
            return LocalValues(count: 3) { $0 == 0 ? nx : ($0 == 1 ? ny : nz) }
        }
    }

    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let inputs = LocalValues<S>(count: 6) { $0 < 3 ? state[$0] : parameters[$0 - 3] }
        let outputs = S.evaluate(RK4(), inputs)
        for i in 0..<3 { next[i] = outputs[i] }
    }

    func runningCost<S: SimulationScalar>(_ state: [S], parameters: [S]) -> S {
        (state[0] * state[0] + state[1] * state[1]) + state[2] * state[2]
    }

    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        0.005 * runningCostSum
    }
}

/// Periodic 1D diffusion with a nonlinear source, one stencil (external) statement per step.
struct TestDiffusion: TimeSteppingProblem {
    var n: Int
    var stateCount: Int { n }
    var parameterCount: Int { 1 }

    struct Update: StencilKernel {
        var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
        func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
            u[1] + p[0] * ((u[0] - 2.0 * u[1]) + u[2]) - 0.01 * u[1] * u[1]
        }
    }

    func initialState() -> [Double] { (0..<n).map { Double.sin(Double($0) * 0.7) + 0.3 } }

    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let d = 0.2 * parameters[0]
        S.applyStencil(Update(), on: .periodic(n), to: state, parameters: LocalValues<S>(count: 1) { _ in d }, into: &next)
    }

    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum: S = 0.0
        for u in finalState { sum = sum + u * u }
        return sum
    }
}

/// `problem` with the objective replaced by one component of the final state: its gradient is
/// one row of the final-state Jacobian, computed by the one-seed serial machinery.
struct ComponentObjective<Base: TimeSteppingProblem>: TimeSteppingProblem {
    var base: Base
    var component: Int
    var stateCount: Int { base.stateCount }
    var parameterCount: Int { base.parameterCount }
    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        base.step(state, parameters: parameters, into: &next)
    }
    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        finalState[component]
    }
}

/// A deterministic generator for test data (SeededGenerator).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
