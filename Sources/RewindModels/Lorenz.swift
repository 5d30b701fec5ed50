import Rewind

/// P1 "lorenz": the Lorenz-63 system integrated with classic RK4, `dt = 0.01`, objective
/// `J = 0.5·dt·Σ_{n=1..N} |s_n|²` over the states after each step.
///
/// The RK4 step is one `LocalFunction` of 6 inputs (state and parameters), so `Tracked`
/// records it as 3 statements of 6 partials instead of about 80 elementary ones.
public struct Lorenz: Model {
    public static let name = "lorenz"
    public static let summary = "Lorenz-63, classic RK4 (dt = 0.01), J = 0.5·dt·Σ|s_n|²"
    public static let parameterNames = ["sigma", "rho", "beta"]
    public static let defaultParameters = [10.0, 28.0, 8.0 / 3.0]
    public static let defaultSteps = 1000
    public static let defaultSize: Int? = nil
    public static let dt = 0.01

    public var elementary = false
    public init() {}

    public var size: Int? { nil }
    public var stateCount: Int { 3 }
    public var parameterCount: Int { 3 }
    public var hasRunningCost: Bool { true }
    public func initialState() -> [Double] { [1.0, 1.0, 1.0] }
    public func stateName(_ index: Int) -> String { ["x", "y", "z"][index] }

    @inlinable
    public func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let inputs = LocalValues<S>(count: 6) { $0 < 3 ? state[$0] : parameters[$0 - 3] }
        let outputs = elementary ? RK4Step()(inputs) : S.evaluate(RK4Step(), inputs)
        next.withUnsafeMutableBufferPointer { next in
            next[0] = outputs[0]
            next[1] = outputs[1]
            next[2] = outputs[2]
        }
    }

    @inlinable
    public func runningCost<S: SimulationScalar>(_ state: [S], parameters: [S]) -> S {
        let inputs = LocalValues<S>(count: 3) { state[$0] }
        return (elementary ? SquaredNorm()(inputs) : S.evaluate(SquaredNorm(), inputs))[0]
    }

    @inlinable
    public func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        (0.5 * Lorenz.dt) * runningCostSum
    }

    /// `(x, y, z, sigma, rho, beta) ↦ s + h6·(((k1 + 2k2) + 2k3) + k4)`, in the order of PROBLEMS.md.
    /// Public so that a benchmark can evaluate the step alone on any scalar type.
    ///
    /// ```swift
    /// let next = Lorenz.RK4Step()(LocalValues([1.0, 1.0, 1.0, 10.0, 28.0, 8.0 / 3.0]))
    /// ```
    public struct RK4Step: LocalFunction {
        @inlinable public init() {}
        @inlinable @inline(__always)
        func f<T: SimulationScalar>(_ x: T, _ y: T, _ z: T, _ sigma: T, _ rho: T, _ beta: T) -> (T, T, T) {
            (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)
        }

        /// The state after one step.
        @inlinable @inline(__always)
        public func callAsFunction<T: SimulationScalar>(_ v: LocalValues<T>) -> LocalValues<T> {
            let dt = Lorenz.dt
            let h2 = 0.5 * dt
            let h6 = dt / 6.0
            let (x, y, z, sigma, rho, beta) = (v[0], v[1], v[2], v[3], v[4], v[5])
            let k1 = f(x, y, z, sigma, rho, beta)
            let k2 = f(x + h2 * k1.0, y + h2 * k1.1, z + h2 * k1.2, sigma, rho, beta)
            let k3 = f(x + h2 * k2.0, y + h2 * k2.1, z + h2 * k2.2, sigma, rho, beta)
            let k4 = f(x + dt * k3.0, y + dt * k3.1, z + dt * k3.2, sigma, rho, beta)
            let nx = x + h6 * (((k1.0 + 2.0 * k2.0) + 2.0 * k3.0) + k4.0)
            let ny = y + h6 * (((k1.1 + 2.0 * k2.1) + 2.0 * k3.1) + k4.1)
            let nz = z + h6 * (((k1.2 + 2.0 * k2.2) + 2.0 * k3.2) + k4.2)
            return LocalValues(count: 3) { $0 == 0 ? nx : ($0 == 1 ? ny : nz) }
        }
    }

    /// `x·x + y·y + z·z`, left to right.
    @usableFromInline
    struct SquaredNorm: LocalFunction {
        @inlinable init() {}
        @inlinable @inline(__always)
        func callAsFunction<T: SimulationScalar>(_ v: LocalValues<T>) -> LocalValues<T> {
            let s = (v[0] * v[0] + v[1] * v[1]) + v[2] * v[2]
            return LocalValues(count: 1) { _ in s }
        }
    }
}
