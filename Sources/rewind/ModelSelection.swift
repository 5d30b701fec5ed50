import ArgumentParser
import RewindModels

/// The options that choose a model and its configuration, shared by every command that runs one.
struct ModelSelection: ParsableArguments {
    @Argument(help: "The model: lorenz, burgers or heat2d (see `rewind models`).")
    var model: String

    // `.unconditional`: `--steps -1` is refused as a step count, not as a missing value.
    @Option(parsing: .unconditional, help: "Time steps (default: the model's).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Grid size: n for burgers, m for heat2d (default: the model's).")
    var size: Int?

    @Option(name: .customLong("parameter"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Override a parameter, e.g. rho=10 (repeatable).", valueName: "NAME=VALUE"))
    var parameters: [String] = []

    @Flag(help: "Record every arithmetic operation instead of preaccumulating local Jacobians.")
    var elementary = false

    mutating func validate() throws {
        guard let type = ModelCatalog.type(named: model) else {
            throw ValidationError(ModelError.unknownModel(CommandLineChecks.shortened(model)).description)
        }
        if let steps, steps < 1 {
            throw ValidationError("--steps must be at least 1 (got \(steps))")
        }
        if let size {
            if type.defaultSize == nil {
                // The library's words say "without a size"; the flag that gives one is the CLI's.
                throw ValidationError("model '\(model)' has a fixed size; leave out --size")
            }
            guard size >= 3 else { throw ValidationError("--size must be at least 3 (got \(size))") }
            guard size <= 1 << 15 else {
                throw ValidationError("--size \(size) is larger than this tool handles (at most 32768)")
            }
        }
        do { _ = try type.parameters(overriding: parameters) } catch let error as ModelError {
            throw ValidationError(error.description)
        }
    }

    /// The configured model, its parameters and step count.
    func make() throws -> (model: any Model, parameters: [Double], steps: Int) {
        let type = ModelCatalog.type(named: model)!
        var instance = try ModelCatalog.make(model, size: size)
        instance.elementary = elementary
        return (instance, try type.parameters(overriding: parameters), steps ?? type.defaultSteps)
    }
}
