import Rewind

/// A damped pendulum, x = (θ, ω), parameters p = (g, c), advanced by symplectic Euler with
/// step `dt`. The objective is the energy left after the last step.
struct Pendulum: TimeSteppingProblem {
    let stateCount = 2
    let parameterCount = 2
    let dt = 0.01

    func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
        let omega = x[1] - dt * (p[0] * S.sin(x[0]) + p[1] * x[1])
        next[0] = x[0] + dt * omega
        next[1] = omega
    }

    func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters p: [S]) -> S {
        pendulumEnergy(theta: x[0], omega: x[1], g: p[0])
    }
}
