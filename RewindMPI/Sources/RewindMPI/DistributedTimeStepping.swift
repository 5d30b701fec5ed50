import Rewind

/// Gradients of a time-stepping problem whose state is split across the ranks of an MPI job:
/// each rank runs `TimeStepping.gradient` on its part, with the same plan on every rank.
///
/// ```swift
/// let world = MPICommunicator.world
/// let burgers = DistributedBurgers(n: 4096, communicator: world)
/// let result = try DistributedTimeStepping.gradient(
///     of: burgers, initialState: burgers.initialState(), parameters: [0.01], steps: 1000,
///     options: TimeSteppingOptions(memoryBudget: .mebibytes(64)), communicator: world)
/// // result.initialStateGradient: dJ/du₀ for this rank's cells; result.parameterGradient: dJ/dp, on every rank
/// ```
///
/// The problem's step communicates (`HaloExchange`) and its objective is a sum over the ranks
/// (`MPICommunicator.sum`), so every rank must call this together, with the same `steps`,
/// `parameters` and strategy; budgets and spill directories are per rank (the plan is made
/// for the smallest budget, see `TimeSteppingGroup`).
public enum DistributedTimeStepping {
    /// This rank's part of the gradient: the objective (the same on every rank), `dJ/dx₀` for
    /// the rank's part of the state, and `dJ/dp` summed over the ranks (each rank's sweep
    /// yields its part's share; they are added in rank order, the same bits on every rank).
    ///
    /// - Throws: what `TimeStepping.gradient` throws, on every rank when the failure is in
    ///   the inputs, the budget or the sample (a failed rank's peers throw
    ///   `MPIError.rankFailed`). A failure later in the run (a spill error on one rank)
    ///   reaches only its rank: end the job then (`MPICommunicator.abort`), as
    ///   `rewind-mpi-tests` does.
    @inlinable  // so that the engine is specialised for the caller's problem (unspecialised, ~30× slower)
    public static func gradient<P: TimeSteppingProblem>(
        of problem: P, initialState: [Double], parameters: [Double], steps: Int,
        options: TimeSteppingOptions = TimeSteppingOptions(), communicator: MPICommunicator
    ) throws -> GradientResult {
        var options = options
        options.group = communicator
        var result = try TimeStepping.gradient(
            of: problem, initialState: initialState, parameters: parameters, steps: steps, options: options)
        result.parameterGradient = communicator.orderedSum(result.parameterGradient)
        return result
    }
}
