/// Checks of the raw command line that ArgumentParser does not make: an option given twice
/// (it would silently keep the last value) and whether the caller asked for JSON (so that a
/// failure can be reported as a JSON object too).
enum CommandLineChecks {
    /// Options that may be given several times: each occurrence adds a value.
    static let repeatable: Set<String> = ["--parameter"]

    /// The first option other than the repeatable ones that appears twice, with its two
    /// values as written (`--steps=5` and `--steps 5` are the same option), or nil.
    ///
    /// Scanning stops at `--`, after which everything is a positional argument. A value that
    /// itself starts with `--` (`--spill-dir --x`) is counted as an option: such a command
    /// line is ambiguous anyway.
    static func firstRepeatedOption(in arguments: [String]) -> (name: String, first: String, second: String)? {
        var seen: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                index += 1
                continue
            }
            let name: String
            let value: String
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
                let next = index + 1 < arguments.count ? arguments[index + 1] : ""
                value = next.hasPrefix("--") ? "" : next
            }
            if !repeatable.contains(name) {
                if let first = seen[name] { return (name, first, value) }
                seen[name] = value
            }
            index += 1
        }
        return nil
    }

    /// The usage error for an option given twice.
    static func repeatedOptionMessage(_ repeated: (name: String, first: String, second: String)) -> String {
        // A flag has no value; the word after it is then the next argument, not worth quoting.
        let values = repeated.first.isEmpty || repeated.second.isEmpty
            ? "" : " ('\(shortened(repeated.first))' and '\(shortened(repeated.second))')"
        return "\(repeated.name) is given twice\(values); give it once"
    }

    /// Whether `--json` appears before any `--`.
    static func asksForJSON(_ arguments: [String]) -> Bool {
        for argument in arguments {
            if argument == "--" { return false }
            if argument == "--json" { return true }
        }
        return false
    }

    /// At most 60 characters of a value quoted back in a message (a fuzzer's megabyte string
    /// does not belong on one error line).
    static func shortened(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(57)) + "…"
    }
}
