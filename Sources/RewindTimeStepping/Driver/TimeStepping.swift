import RewindCore
import RewindStorage
/// Reverse-mode gradients of time-stepping simulations inside a memory budget.
///
/// ```swift
/// let result = try TimeStepping.gradient(
///     of: Burgers(n: 256), initialState: u0, parameters: [0.01], steps: 1000,
///     options: TimeSteppingOptions(memoryBudget: .mebibytes(64)))
/// result.objective; result.initialStateGradient; result.parameterGradient; result.report
/// ```
///
/// The advances run on `Double`; only the step (or block of steps) being reversed is
/// recorded (store-all records every step). The gradient is bitwise the same for every strategy and snapshot
/// count (see `RecordedSteps`).
public enum TimeStepping {
    /// The gradient of a run of `steps` steps inside the options' memory budget: the
    /// objective `J`, `dJ/dx₀` and `dJ/dp`, with a report of what was done.
    ///
    /// One pipeline: plan (check the inputs, time a sample step, choose strategy, snapshots
    /// and block length from the budget: `PlannedRun`), execute (the plan's schedule), report
    /// (`RunReport`). The gradient is bitwise the same whichever plan runs.
    ///
    /// - Parameters:
    ///   - problem: the step function and objective (`TimeSteppingProblem`).
    ///   - initialState: `x₀`, `problem.stateCount` finite values.
    ///   - parameters: `p`, `problem.parameterCount` finite values.
    ///   - steps: `N ≥ 1`.
    ///   - options: strategy, memory budget, spill directory, check mode, progress.
    /// - Throws: `TimeSteppingError` for bad input, a budget the run cannot fit, a run
    ///   predicted to take too long, or (check mode) where a NaN or infinity enters;
    ///   `SpillError` when a spill directory or file fails.
    @inlinable
    public static func gradient<P: TimeSteppingProblem>(
        of problem: P, initialState: [Double], parameters: [Double], steps: Int,
        options: TimeSteppingOptions = TimeSteppingOptions()
    ) throws -> GradientResult {
        // A distributed run's ranks plan with the smallest of their budgets.
        let options = options.agreedBudget()
        let run = try PlannedRun.gradient(
            problem, initialState: initialState, parameters: parameters, steps: steps, options: options)
        var result = try run.executeGradient(
            problem, initialState: initialState, parameters: parameters, steps: steps, options: options)
        result.report.complete(run)
        options.progress?(1)
        return result
    }

    @inlinable
    package static func validate<P: TimeSteppingProblem>(
        _ problem: P, initialState: [Double], parameters: [Double], steps: Int,
        allowingNonFiniteParameters: Bool = false
    ) throws {
        guard steps >= 1 else { throw TimeSteppingError.invalidSteps(steps) }
        guard initialState.count == problem.stateCount else {
            throw TimeSteppingError.wrongLength(what: "the initial state", expected: problem.stateCount, actual: initialState.count)
        }
        guard parameters.count == problem.parameterCount else {
            throw TimeSteppingError.wrongLength(what: "the parameters", expected: problem.parameterCount, actual: parameters.count)
        }
        if let bad = initialState.firstIndex(where: { !$0.isFinite }) {
            throw TimeSteppingError.nonFinite(what: "the initial state", index: bad, value: initialState[bad])
        }
        if !allowingNonFiniteParameters, let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            throw TimeSteppingError.nonFinite(what: "the parameters", index: bad, value: parameters[bad])
        }
    }
}
