import RewindCore
import RewindTimeStepping
extension DerivativeCheck {
    /// Checks the gradient `TimeStepping.gradient` computes for a whole run — with respect to
    /// the initial state and the parameters together — against finite differences of the
    /// `Double` primal, the Taylor test, and the tangent mode (the run on `Dual`).
    ///
    /// ```swift
    /// let report = try DerivativeCheck().run(
    ///     Lorenz(), initialState: [1, 1, 1], parameters: [10, 28, 8.0 / 3], steps: 1000)
    /// report.taylor.minRate   // ≈ 2
    /// ```
    ///
    /// Inputs are perturbed relative to their size: a parameter by `|pⱼ|` (1 if 0), a state
    /// component by `max(|xᵢ|, mean |x|)`, so that `nu = 0.01` is not perturbed as much as
    /// `u ≈ 1` (which would turn diffusion into anti-diffusion and blow the run up). Every
    /// parameter's partial is differenced; of the state, `stateComponents` partials (half the
    /// largest, half evenly spaced), because each costs 20–50 runs.
    ///
    /// - Parameters:
    ///   - problem: The simulation.
    ///   - initialState: `x₀`, the point of the state half of the check.
    ///   - parameters: `p`, the point of the parameter half.
    ///   - steps: Steps of the run.
    ///   - options: how to run the gradient; store-all by default (every strategy gives the
    ///     same bits, so checking one checks all).
    ///   - stateComponents: How many partials with respect to the initial state to difference.
    ///   - names: names of the inputs, state first then parameters (default `x[i]`, `p[j]`).
    /// - Returns: What each check found, over the state and the parameters together.
    /// - Throws: What `TimeStepping.gradient` throws (a budget that cannot hold the run, a
    ///   failed spill).
    ///
    /// `@inlinable` so that it is specialised for the caller's problem type: the closures
    /// below run the primal and the tangent mode 20–50 times per differenced input, and
    /// unspecialised (every scalar operation of the step a call through the protocol's
    /// witness table, on a generic `S`) they ran 20–70 times slower than the same check
    /// written by hand with closures (docs/PERFORMANCE.md, "Derivative check of a user's
    /// model"). Everything the body touches is public; the work that does not depend on `P`
    /// (`run(of:at:gradient:…)`) stays out of line.
    @inlinable
    public func run<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int,
        options: TimeSteppingOptions = TimeSteppingOptions(strategy: .storeAll),
        stateComponents: Int = 4, names: ((Int) -> String)? = nil
    ) throws -> DerivativeCheckReport {
        let n = initialState.count
        let result = try TimeStepping.gradient(
            of: problem, initialState: initialState, parameters: parameters, steps: steps, options: options)
        let point = initialState + parameters
        let gradient = result.initialStateGradient + result.parameterGradient

        let objective: ([Double]) -> Double = { x in
            problem.primal(initialState: Array(x[..<n]), parameters: Array(x[n...]), steps: steps).objective
        }
        let tangent: ([Double]) -> Double = { u in
            let dual = zip(point, u).map { Dual<Double>($0, tangent: $1) }
            return problem.run(initialState: Array(dual[..<n]), parameters: Array(dual[n...]), steps: steps).objective.tangent
        }

        let stateScales = DerivativeCheck.defaultScales(initialState)
        let scales = stateScales + parameters.map { $0 != 0 && $0.isFinite ? $0.magnitude : 1 }
        var chosen: [Int]
        if n <= stateComponents {
            chosen = Array(0..<n)
        } else {
            let weighted = (0..<n).map { (gradient[$0] * stateScales[$0]).magnitude }
            let largest = weighted.indices.sorted { weighted[$0] > weighted[$1] }.prefix((stateComponents + 1) / 2)
            let spaced = (0..<(stateComponents / 2)).map { $0 * n / Swift.max(1, stateComponents / 2) }
            chosen = Array(Set(largest).union(spaced)).sorted()
        }
        chosen += parameters.indices.map { n + $0 }

        return run(
            of: objective, at: point, gradient: gradient, tangent: tangent, components: chosen, scales: scales,
            names: names ?? { $0 < n ? "x[\($0)]" : "p[\($0 - n)]" })
    }
}
