import ArgumentParser
import RewindModels

/// The options that choose a model and its configuration, shared by every command that runs one.
///
/// The models are the registry's (`ModelRegistry.current`): the help lists them, and a name,
/// a size or `--elementary` is checked against the model it names.
struct ModelSelection: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The model: \(ModelRegistry.alternatives(ModelRegistry.current.names)) (see `\(ModelRegistry.current.commandName) models`)."))
    var model: String

    // `.unconditional`: `--steps -1` is refused as a step count, not as a missing value.
    @Option(parsing: .unconditional, help: "Time steps (default: the model's).")
    var steps: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp(ModelSelection.sizeHelp))
    var size: Int?

    @Option(name: .customLong("parameter"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Override a parameter, e.g. \(ModelRegistry.current.models[0].exampleAssignment) (repeatable).", valueName: "NAME=VALUE"))
    var parameters: [String] = []

    @Flag(help: "Record every arithmetic operation instead of preaccumulating local Jacobians.")
    var elementary = false

    /// `--size`'s help names the models that have a size.
    static var sizeHelp: String {
        let sized = ModelRegistry.current.sized.map { $0.name }
        guard !sized.isEmpty else { return "Grid size (no model here has one)." }
        return "Grid size of \(ModelRegistry.alternatives(sized)) (default: the model's)."
    }

    mutating func validate() throws {
        guard let type = ModelRegistry.current.type(named: model) else {
            throw ValidationError(
                ModelError.unknownModel(CommandLineChecks.shortened(model), known: ModelRegistry.current.names).description)
        }
        if let steps, steps < 1 {
            throw ValidationError("--steps must be at least 1 (got \(steps))")
        }
        if let size {
            if type.defaultSize == nil {
                // The library's words say "without a size"; the flag that gives one is the CLI's.
                throw ValidationError("model '\(model)' has a fixed size; leave out --size")
            }
            let range = type.sizeRange
            guard size >= range.lowerBound else {
                throw ValidationError("--size must be at least \(range.lowerBound) (got \(size))")
            }
            guard size <= range.upperBound else {
                throw ValidationError("--size \(size) is larger than \(model) allows (at most \(range.upperBound))")
            }
        }
        do { _ = try type.parameters(overriding: parameters) } catch let error as ModelError {
            throw ValidationError(error.description)
        }
        if elementary {
            var instance = try type.make(size: size)
            instance.elementary = true
            guard instance.elementary else {
                throw ValidationError("model '\(model)' has no elementwise recording; leave out --elementary")
            }
        }
    }

    /// The configured model, its parameters and step count.
    ///
    /// A parameter set to NaN or an infinity is refused here, by its flag (the engine would
    /// say "the parameters[0]"), unless `checkingFinite`: `gradient --check-finite` lets one in
    /// on purpose, to see where it goes (nil: the command has no `--check-finite`).
    func make(checkingFinite: Bool? = nil) throws -> (model: any Model, parameters: [Double], steps: Int) {
        let type = ModelRegistry.current.type(named: model)!
        var instance: any Model = try type.make(size: size)
        if elementary { instance.elementary = true }
        let values = try type.parameters(overriding: parameters)
        if checkingFinite != true, let bad = values.firstIndex(where: { !$0.isFinite }) {
            let name = type.parameterNames[bad]
            throw CommandFailure(
                "--parameter \(name)=\(values[bad]): every parameter must be a finite number"
                    + (checkingFinite == false ? " (--check-finite lets a NaN or infinity in, to see where it goes)" : ""))
        }
        return (instance, values, steps ?? type.defaultSteps)
    }
}
