import ArgumentParser
import Rewind

/// `rewind jacobian --sweep`: the engine's own modes, spelled as their raw values.
extension SweepMode: ExpressibleByArgument, ChoiceArgument {
    static let optionName = "--sweep"

    // Public, as a witness for a public type's conformance to a public protocol must be.
    public init?(argument: String) {
        guard let value = Self.choice(argument) else { return nil }
        self = value
    }
}
