import ArgumentParser

/// `auto` or a whole number of at least 1: `--snapshots` and `--steps-per-block`, where auto
/// lets the planner choose from the budget.
///
/// `Option` names the flag, so that a refusal says which one it was.
enum AutoOrCount<Option: NamedOption>: ExpressibleByArgument, Equatable {
    case auto
    case count(Int)

    /// The number given, or nil for auto (the engine's spelling of "choose for me").
    var count: Int? {
        if case .count(let count) = self { return count }
        return nil
    }

    init?(argument: String) {
        if argument == "auto" {
            self = .auto
        } else if let count = Int(argument), count >= 1 {
            self = .count(count)
        } else {
            ArgumentRefusal.record(
                "\(Option.optionName) must be auto or a whole number of at least 1 "
                    + "(got '\(CommandLineChecks.shortened(argument))')")
            return nil
        }
    }

    var defaultValueDescription: String { count.map(String.init) ?? "auto" }
}

enum SnapshotsOption: NamedOption { static let optionName = "--snapshots" }
enum StepsPerBlockOption: NamedOption { static let optionName = "--steps-per-block" }
