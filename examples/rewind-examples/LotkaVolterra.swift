import RewindCommandLine

/// "lotka-volterra": predators and prey, `x' = alpha·x - beta·x·y`, `y' = delta·x·y - gamma·y`,
/// integrated with classic RK4 (`dt = 0.01`) from 10 prey and 10 predators; the objective is the
/// predators integrated over the run, `J = dt·Σ_{n=1..N} y_n`.
///
/// A model of fixed size needs no more than this: the names and defaults the command line shows,
/// the initial state, and the step and objective written once over `SimulationScalar`. Everything
/// else (`size`, `stateName`, `elementary`, the specialised entry points) has a default; the state
/// names are given here only to read better than `x[0]` and `x[1]`.
///
/// The RK4 step is one `LocalFunction` of 6 inputs (the state and the parameters): `Tracked`
/// records it as 2 statements of 6 partials each instead of about 50 elementary operations.
struct LotkaVolterra: Model {
    static let name = "lotka-volterra"
    static let summary = "predator-prey ODE, classic RK4 (dt = 0.01), J = dt·Σ y_n (predators over time)"
    static let parameterNames = ["alpha", "beta", "delta", "gamma"]
    static let defaultParameters = [1.1, 0.4, 0.1, 0.4]
    static let defaultSteps = 5000
    static let dt = 0.01

    var stateCount: Int { 2 }
    var parameterCount: Int { 4 }
    var hasRunningCost: Bool { true }

    func initialState() -> [Double] { [10.0, 10.0] }
    func stateName(_ index: Int) -> String { ["prey", "predators"][index] }

    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let inputs = LocalValues<S>(count: 6) { $0 < 2 ? state[$0] : parameters[$0 - 2] }
        let outputs = S.evaluate(RK4Step(), inputs)
        next[0] = outputs[0]
        next[1] = outputs[1]
    }

    func runningCost<S: SimulationScalar>(_ state: [S], parameters: [S]) -> S { state[1] }

    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        LotkaVolterra.dt * runningCostSum
    }

    /// `(x, y, alpha, beta, delta, gamma) ↦ s + h6·(((k1 + 2k2) + 2k3) + k4)`.
    struct RK4Step: LocalFunction {
        @inline(__always)
        func f<T: SimulationScalar>(_ x: T, _ y: T, _ p: (T, T, T, T)) -> (T, T) {
            let (alpha, beta, delta, gamma) = p
            return (alpha * x - beta * x * y, delta * x * y - gamma * y)
        }

        @inline(__always)
        func callAsFunction<T: SimulationScalar>(_ v: LocalValues<T>) -> LocalValues<T> {
            let dt = LotkaVolterra.dt
            let h2 = 0.5 * dt
            let h6 = dt / 6.0
            let (x, y) = (v[0], v[1])
            let p = (v[2], v[3], v[4], v[5])
            let k1 = f(x, y, p)
            let k2 = f(x + h2 * k1.0, y + h2 * k1.1, p)
            let k3 = f(x + h2 * k2.0, y + h2 * k2.1, p)
            let k4 = f(x + dt * k3.0, y + dt * k3.1, p)
            let nx = x + h6 * (((k1.0 + 2.0 * k2.0) + 2.0 * k3.0) + k4.0)
            let ny = y + h6 * (((k1.1 + 2.0 * k2.1) + 2.0 * k3.1) + k4.1)
            return LocalValues(count: 2) { $0 == 0 ? nx : ny }
        }
    }
}
