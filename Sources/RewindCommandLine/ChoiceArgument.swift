import ArgumentParser

/// An option whose value is one of a fixed list of words (`--strategy`, `--sweep`): parsed
/// from its raw value, listed in the help by ArgumentParser, and refused with the list.
protocol ChoiceArgument: ExpressibleByArgument, CaseIterable, RawRepresentable, NamedOption
where RawValue == String {}

extension ChoiceArgument {
    init?(argument: String) {
        guard let value = Self.choice(argument) else { return nil }
        self = value
    }

    /// The case spelled `argument`, or nil with the refusal recorded (`ArgumentRefusal`).
    static func choice(_ argument: String) -> Self? {
        guard let value = Self(rawValue: argument) else {
            ArgumentRefusal.record(
                "\(optionName) must be \(choices) (got '\(CommandLineChecks.shortened(argument))')")
            return nil
        }
        return value
    }

    /// The accepted words as a sentence lists them: `auto, scalar, simd4 or simd8`.
    static var choices: String {
        let names = allCases.map(\.rawValue)
        guard let last = names.last, names.count > 1 else { return names.joined() }
        return names.dropLast().joined(separator: ", ") + " or " + last
    }
}
