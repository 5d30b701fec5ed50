import RewindCommandLine

/// `rewind-examples`: the `rewind` command line for models that are not bundled, as a user's
/// own executable gets it. Try
///
///     swift run rewind-examples models
///     swift run rewind-examples gradient lotka-volterra --steps 5000 --memory-budget 1MiB
///     swift run rewind-examples check lotka-volterra --steps 500
///
/// Each model is one file beside this one; add its type to the list to put it on the command line.
@main
enum RewindExamples {
    static let models: [any Model.Type] = [
        LotkaVolterra.self,
        // WaveEquation2D.self: a 2-D wave equation with two fields (displacement and velocity)
        // on multi-field stencils, to be added in WaveEquation2D.swift on top of that API
        // (examples/README.md).
    ]

    static func main() {
        RewindCommand.main(models: models)
    }
}
