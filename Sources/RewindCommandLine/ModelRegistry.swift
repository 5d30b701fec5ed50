import RewindModels

/// The models a command line runs, by name: the list given to `RewindCommand.main(models:)`,
/// and the name the command is called by in help and messages.
///
/// Set once, before the arguments are parsed; ArgumentParser's commands are types, so the
/// options that name a model (`ModelSelection`) read it from here.
struct ModelRegistry {
    /// The registry of the running command; `rewind`'s bundled models until `main` sets it.
    nonisolated(unsafe) static var current = ModelRegistry(ModelCatalog.models, commandName: "rewind")

    let models: [any Model.Type]
    /// `rewind`, or the user's executable's name.
    let commandName: String

    /// Checks what a command line relies on (a programmer error traps with what is wrong):
    /// at least one model, distinct names that cannot be mistaken for an option, as many
    /// default parameters as names, a default size only in `sizeRange`.
    init(_ models: [any Model.Type], commandName: String) {
        precondition(!models.isEmpty, "RewindCommand.main(models:) needs at least one model")
        var seen: Set<String> = []
        for model in models {
            let name = model.name
            precondition(
                !name.isEmpty && !name.hasPrefix("-") && !name.contains(where: \.isWhitespace),
                "model name '\(name)' of \(model) must be one word not starting with '-'")
            precondition(seen.insert(name).inserted, "two models are named '\(name)'")
            precondition(
                model.parameterNames.count == model.defaultParameters.count,
                "model '\(name)': \(model.parameterNames.count) parameter names but \(model.defaultParameters.count) defaults")
            precondition(model.defaultSteps >= 1, "model '\(name)': defaultSteps must be at least 1")
            if let size = model.defaultSize {
                precondition(
                    model.sizeRange.contains(size), "model '\(name)': defaultSize \(size) is outside sizeRange \(model.sizeRange)")
            }
        }
        self.models = models
        self.commandName = commandName
    }

    var names: [String] { models.map { $0.name } }

    func type(named name: String) -> (any Model.Type)? { models.first { $0.name == name } }

    /// The models with a size, for `--size`.
    var sized: [any Model.Type] { models.filter { $0.defaultSize != nil } }

    /// `a`, `a or b`, `a, b or c`.
    static func alternatives(_ words: [String]) -> String {
        guard let last = words.last else { return "" }
        return words.count == 1 ? last : words.dropLast().joined(separator: ", ") + " or " + last
    }
}
