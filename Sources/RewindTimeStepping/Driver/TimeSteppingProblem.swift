import RewindCore
/// A time-stepping simulation `x_{n+1} = F(x_n, p)` with an objective, written once for every
/// scalar type so that Rewind can run it on `Double` (fast advances) and record it on
/// `Tracked` (the one step being reversed).
///
/// The objective is `J(x_N, S, p)` where `S` is the running sum of `runningCost(x_n, p)` over
/// the states after each step, accumulated left to right from 0.0, when `hasRunningCost`.
///
/// ```swift
/// struct Decay: TimeSteppingProblem {
///     let stateCount = 1, parameterCount = 1
///     func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
///         next[0] = x[0] - 0.1 * p[0] * x[0]
///     }
///     func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
///         x[0] * x[0]
///     }
/// }
/// ```
public protocol TimeSteppingProblem {
    var stateCount: Int { get }
    var parameterCount: Int { get }
    /// Writes `F(state, parameters)` into `next` (same length as `state`, never aliasing it).
    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S])
    /// Whether `runningCost` contributes to the objective.
    var hasRunningCost: Bool { get }
    /// The cost of the state after each step, summed into `S`.
    func runningCost<S: SimulationScalar>(_ state: [S], parameters: [S]) -> S
    /// The objective from the final state and the running sum.
    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S
}

extension TimeSteppingProblem {
    /// No running cost unless a problem declares one.
    public var hasRunningCost: Bool { false }
    /// Zero: a problem without a running cost needs not write one.
    public func runningCost<S: SimulationScalar>(_ state: [S], parameters: [S]) -> S { 0 }
}

extension TimeSteppingProblem {
    /// Runs the simulation on any scalar: `Double` for the primal, `Dual` for the tangent
    /// mode (a Jacobian–vector product of the whole run), `Tracked` to record it whole.
    @inlinable
    public func run<S: SimulationScalar>(
        initialState: [S], parameters: [S], steps: Int
    ) -> (objective: S, finalState: [S]) {
        var state = initialState
        var next = initialState
        var sum: S = 0.0
        for _ in 0..<steps {
            step(state, parameters: parameters, into: &next)
            swap(&state, &next)
            if hasRunningCost { sum = sum + runningCost(state, parameters: parameters) }
        }
        return (objective(finalState: state, runningCostSum: sum, parameters: parameters), state)
    }

    /// Runs the primal on `Double`: the objective and the final state.
    @inlinable
    public func primal(initialState: [Double], parameters: [Double], steps: Int) -> (objective: Double, finalState: [Double]) {
        run(initialState: initialState, parameters: parameters, steps: steps)
    }
}
