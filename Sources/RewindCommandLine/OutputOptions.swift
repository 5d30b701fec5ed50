import ArgumentParser

/// How a command prints its result, shared by every command that prints one object.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON object on stdout and nothing else.")
    var json = false
}
