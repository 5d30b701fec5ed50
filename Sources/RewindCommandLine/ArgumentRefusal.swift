/// Why the last typed option value was refused, in the CLI's own words.
///
/// `ExpressibleByArgument.init?(argument:)` cannot throw: for a nil, ArgumentParser writes its
/// generic "The value '…' is invalid for '…'" (for six choices or more, a bulleted list over
/// several lines). The CLI's usage errors say what is wrong and what is accepted on one line
/// ("--strategy must be auto, … or spill (got 'magic')"), so a refusing initializer records
/// its reason here and `RewindCommand.main` reports it for the usage error that ends parsing.
/// Parsing runs on one thread and stops at the first refused value, so the last reason
/// recorded is the one for that error.
enum ArgumentRefusal {
    nonisolated(unsafe) private(set) static var reason: String?

    /// Records why `init?(argument:)` is about to return nil.
    static func record(_ reason: String) {
        self.reason = reason
    }
}

/// A typed option that knows its flag, so that its refusal can name it.
protocol NamedOption {
    /// The flag as written on the command line, e.g. `--strategy`.
    static var optionName: String { get }
}
