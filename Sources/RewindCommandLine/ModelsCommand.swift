import ArgumentParser
import RewindModels

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models, their parameters and default sizes.")

    @Flag(help: "Print one JSON array instead of a table.")
    var json = false

    func run() throws {
        let entries = ModelRegistry.current.models.map { type -> ModelEntry in
            ModelEntry(
                name: type.name, summary: type.summary,
                parameters: Dictionary(uniqueKeysWithValues: zip(type.parameterNames, type.defaultParameters)),
                parameterOrder: type.parameterNames, defaultSize: type.defaultSize, defaultSteps: type.defaultSteps)
        }
        if json {
            print(try JSONOutput.encode(entries))
            return
        }
        // The names in a column at least 8 wide, as wide as the longest name.
        let width = entries.reduce(8) { max($0, $1.name.count) }
        for entry in entries {
            let parameters = entry.parameterOrder.map { "\($0)=\(entry.parameters[$0]!)" }.joined(separator: " ")
            let size = entry.defaultSize.map { "--size \($0) " } ?? ""
            print("\(entry.name.padding(width))  \(entry.summary)")
            print("\("".padding(width + 2))parameters: \(parameters); defaults: \(size)--steps \(entry.defaultSteps)")
        }
    }

    struct ModelEntry: Encodable {
        var name: String
        var summary: String
        var parameters: [String: Double]
        var parameterOrder: [String]
        var defaultSize: Int?
        var defaultSteps: Int
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
