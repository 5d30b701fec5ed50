import Foundation
import Rewind
import Testing

/// The first steps of docs/your-own-simulation.md, compiled and run: the guide quotes this file
/// (`GuideCodeTests` keeps the quotes equal to it).
@Suite("Guide: first steps")
struct GuideFirstStepsTests {
    struct Decay: TimeSteppingProblem {
        let stateCount = 1, parameterCount = 1
        func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
            next[0] = x[0] - 0.1 * p[0] * x[0]
        }
        func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
            x[0] * x[0]
        }
    }

    @Test func theGradientOfTheFirstModelIsTheClosedForm() throws {
        let result = try TimeStepping.gradient(
            of: Decay(), initialState: [1.0], parameters: [0.5], steps: 1000,
            options: TimeSteppingOptions(memoryBudget: .mebibytes(4)))
        // x_N = (1 − 0.05)^N x₀, J = x_N²: dJ/dx₀ = 2·0.95^(2N), dJ/dp = 2·x_N·N·0.95^(N−1)·(−0.1).
        let n = 1000.0
        let decay = pow(0.95, n)
        #expect(abs(result.initialStateGradient[0] - 2 * decay * decay) <= 1e-12 * 2 * decay * decay)
        let dp = 2 * decay * n * pow(0.95, n - 1) * -0.1
        #expect(abs(result.parameterGradient[0] - dp) <= 1e-10 * abs(dp))
    }

    @Test func theCheckPassesOnTheFirstModel() throws {
        let report = try DerivativeCheck().run(
            Decay(), initialState: [1.0], parameters: [0.5], steps: 1000)
        #expect(report.passed, "\(report.failures)")
    }
}
