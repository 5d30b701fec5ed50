import ArgumentParser
import Foundation
import Rewind
import RewindModels

struct GradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradient",
        abstract: "Differentiate a model's objective with respect to its initial state and parameters.")

    @OptionGroup var selection: ModelSelection

    // `.unconditional`: the next word is the value even when it starts with a dash, so that
    // `-1KiB` or `-3` is refused for what it is rather than as "missing value".
    @Option(parsing: .unconditional, help: "Memory Rewind may use for the run, e.g. 64MiB, 4MB, 1GiB.")
    var memoryBudget: String = "1GiB"

    @Option(parsing: .unconditional, help: "Snapshots for checkpointing: auto or a number.")
    var snapshots: String = "auto"

    @Option(parsing: .unconditional, help: "Steps taped together by revolve and online: auto (the planner chooses from the budget and a timed sample) or a number.")
    var stepsPerBlock: String = "auto"

    @Option(parsing: .unconditional, help: "auto, store-all, revolve, online, two-level (revolve with snapshots on disk) or spill (store-all with its tape on disk).")
    var strategy: String = "auto"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Directory under which disk snapshots go, in a private subdirectory removed afterwards; lets auto use the disk.",
        valueName: "DIR"))
    var spillDir: String?

    @Flag(help: "Stop at the first NaN or infinity and name the statement and the time step where it entered.")
    var checkFinite = false

    @Option(parsing: .unconditional, help: "Threads: --ensemble members run concurrently (a single gradient is one sweep).")
    var threads: Int = 1

    @Option(parsing: .unconditional, help: "Differentiate K runs at once; member m scales the first parameter by (1 + 0.01·m).")
    var ensemble: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Refuse, before it starts, a run the plan predicts to take longer than this (default one week; inf for no limit).",
            valueName: "SECONDS"))
    var maxPredictedSeconds: Double = CommandLimits.defaultMaximumPredictedSeconds

    @Flag(help: "Print one JSON object on stdout and nothing else.")
    var json = false

    mutating func validate() throws {
        do { _ = try MemoryBudget(parsing: memoryBudget) } catch let error as MemoryBudgetError {
            throw ValidationError(error.description)
        }
        try CommandLimits.validateMaximumPredictedSeconds(maxPredictedSeconds)
        guard ["auto", "store-all", "revolve", "online", "two-level", "spill"].contains(strategy) else {
            throw ValidationError(
                "--strategy must be auto, store-all, revolve, online, two-level or spill (got '\(CommandLineChecks.shortened(strategy))')")
        }
        if snapshots != "auto" {
            guard let count = Int(snapshots), count >= 1 else {
                throw ValidationError(
                    "--snapshots must be auto or a whole number of at least 1 (got '\(CommandLineChecks.shortened(snapshots))')")
            }
            if strategy == "store-all" { throw ValidationError("--snapshots does not apply to --strategy store-all") }
        }
        if stepsPerBlock != "auto" {
            guard let count = Int(stepsPerBlock), count >= 1 else {
                throw ValidationError(
                    "--steps-per-block must be auto or a whole number of at least 1 (got '\(CommandLineChecks.shortened(stepsPerBlock))')")
            }
            if count > 1 && !["auto", "revolve", "online"].contains(strategy) {
                throw ValidationError("--steps-per-block applies to --strategy auto, revolve or online only (got '\(strategy)')")
            }
        }
        try CommandLimits.validateThreads(threads)
        if let ensemble {
            guard (1...CommandLimits.maximumEnsemble).contains(ensemble) else {
                throw ValidationError(
                    "--ensemble must be from 1 to \(CommandLimits.maximumEnsemble) members (got \(ensemble))")
            }
        }
    }

    func run() throws {
        let (model, parameters, steps) = try selection.make()
        let budget = try MemoryBudget(parsing: memoryBudget)
        let physical = ProcessMemory.physicalBytes
        if physical > 0 && budget.bytes > physical {
            // Not an error: the plan may need far less. But the budget no longer protects anything.
            fputs(
                "warning: --memory-budget \(budget) exceeds this machine's memory (\(MemoryBudget.format(physical))); "
                    + "the run is bounded by the machine, not by the budget\n", stderr)
        }
        let count = Int(snapshots)
        let chosen: CheckpointStrategy
        switch strategy {
        case "store-all": chosen = .storeAll
        case "revolve": chosen = .revolve(snapshots: count)
        case "online": chosen = .online(snapshots: count)
        case "two-level": chosen = .twoLevel(memorySnapshots: count, diskSnapshots: nil)
        case "spill": chosen = .spill
        default: chosen = count.map { .revolve(snapshots: $0) } ?? .auto
        }
        do {
            // Before the initial state is built: a heat2d 32768² state alone is 8 GiB.
            try TimeStepping.checkBudgetHoldsStates(budget, stateCount: model.stateCount)
        } catch let error as TimeSteppingError {
            throw CommandFailure(error.description)
        }
        if let ensemble {
            return try runEnsemble(
                model, parameters: parameters, steps: steps, count: ensemble, strategy: chosen, budget: budget,
                maximumPredictedSeconds: CommandLimits.limit(maxPredictedSeconds))
        }
        let progress = ProgressBar(enabled: isatty(2) != 0, label: "\(selection.model) reverse sweep")
        var options = TimeSteppingOptions(
            strategy: chosen, memoryBudget: budget, spillDirectory: spillDir, progress: progress.update)
        options.checksFinite = checkFinite
        options.stepsPerBlock = Int(stepsPerBlock)
        options.maximumPredictedSeconds = CommandLimits.limit(maxPredictedSeconds)
        let result: GradientResult
        do {
            result = try runGradient(model, parameters: parameters, steps: steps, options: options)
        } catch let error as TimeSteppingError {
            progress.finish()
            throw CommandFailure(error.description)
        } catch let error as SpillError {
            progress.finish()
            throw CommandFailure(error.description)
        }
        progress.finish()
        let output = GradientOutput(model: model, parameters: parameters, steps: steps, result: result)
        if json {
            try output.streamJSON()
        } else {
            print(output.text(for: model))
        }
        if let warning = NonFiniteWarning.gradient(
            objective: result.objective, initialState: result.initialStateGradient,
            parameters: result.parameterGradient, model: model)
        {
            fputs("warning: \(warning)\n", stderr)
        }
    }
}

/// Calls the engine with the concrete model type, so that the compiler specialises the whole
/// run (primal, recording and sweep) for it. Opening the existential alone would not: the
/// opened type is only known at run time, and the unspecialised engine is ~30× slower.
func runGradient(_ model: any Model, parameters: [Double], steps: Int, options: TimeSteppingOptions) throws -> GradientResult {
    func run<M: Model>(_ model: M) throws -> GradientResult {
        try TimeStepping.gradient(
            of: model, initialState: model.initialState(), parameters: parameters, steps: steps, options: options)
    }
    return try withConcreteModel(model, lorenz: run, burgers: run, heat2d: run)
}

/// Dispatches on the bundled model's concrete type.
func withConcreteModel<R>(
    _ model: any Model, lorenz: (Lorenz) throws -> R, burgers: (Burgers) throws -> R, heat2d: (Heat2D) throws -> R
) throws -> R {
    switch model {
    case let m as Lorenz: return try lorenz(m)
    case let m as Burgers: return try burgers(m)
    case let m as Heat2D: return try heat2d(m)
    default: preconditionFailure("unknown model type \(type(of: model))")
    }
}

/// An error to report on stderr with exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
