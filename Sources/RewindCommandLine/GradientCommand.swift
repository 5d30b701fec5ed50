import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind
import RewindModels

struct GradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradient",
        abstract: "Differentiate a model's objective with respect to its initial state and parameters.")

    @OptionGroup var selection: ModelSelection
    @OptionGroup var checkpointing: CheckpointOptions
    @OptionGroup var limits: RunLimitOptions

    @Option(parsing: .unconditional, help: "Differentiate K runs at once; member m scales the first parameter by (1 + 0.01·m).")
    var ensemble: Int?

    @OptionGroup var output: OutputOptions

    mutating func validate() throws {
        if let ensemble {
            guard (1...CommandLimits.maximumEnsemble).contains(ensemble) else {
                throw ValidationError(
                    "--ensemble must be from 1 to \(CommandLimits.maximumEnsemble) members (got \(ensemble))")
            }
        }
    }

    func run() throws {
        let (model, parameters, steps) = try selection.make(checkingFinite: checkpointing.checkFinite)
        let budget = limits.memoryBudget
        let physical = ProcessMemory.physicalBytes
        if physical > 0 && budget.bytes > physical {
            // Not an error: the plan may need far less. But the budget no longer protects anything.
            fputs(
                "warning: --memory-budget \(budget) exceeds this machine's memory (\(MemoryBudget.format(physical))); "
                    + "the run is bounded by the machine, not by the budget\n", stderr)
        }
        // Before the initial state is built: a heat2d 32768² state alone is 8 GiB.
        try TimeStepping.checkBudgetHoldsStates(budget, stateCount: model.stateCount)
        if let ensemble {
            return try runEnsemble(model, parameters: parameters, steps: steps, count: ensemble)
        }
        let progress = ProgressBar(label: "\(selection.model) reverse sweep")
        var options = limits.timeSteppingOptions(strategy: checkpointing.checkpointStrategy, progress: progress.update)
        checkpointing.apply(to: &options)
        let result: GradientResult
        do {
            defer { progress.finish() }
            result = try runGradient(model, parameters: parameters, steps: steps, options: options)
        }
        let gradient = GradientOutput(model: model, parameters: parameters, steps: steps, result: result)
        if output.json {
            try gradient.streamJSON()
        } else {
            print(gradient.text(for: model))
        }
        if let warning = NonFiniteWarning.gradient(
            objective: result.objective, initialState: result.initialStateGradient,
            parameters: result.parameterGradient, model: model)
        {
            fputs("warning: \(warning)\n", stderr)
        }
    }
}

/// Calls the engine through the model's `_gradient` requirement, whose witness the compiler
/// emitted specialised for the concrete model type where it conforms to `Model` (the whole run,
/// primal, recording and sweep, specialised). Opening the existential in a generic function here
/// would not specialise: the opened type is only known at run time, and the unspecialised engine
/// is ~30× slower.
func runGradient(_ model: any Model, parameters: [Double], steps: Int, options: TimeSteppingOptions) throws -> GradientResult {
    try model._gradient(initialState: model.initialState(), parameters: parameters, steps: steps, options: options)
}

/// An error to report on stderr with exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
