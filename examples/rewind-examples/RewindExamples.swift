import RewindCommandLine

/// `rewind-examples`: the `rewind` command line for models that are not bundled, as a user's
/// own executable gets it. Try
///
///     swift run rewind-examples models
///     swift run rewind-examples gradient lotka-volterra --steps 5000 --memory-budget 1MiB
///     swift run rewind-examples check lotka-volterra --steps 500
///     swift run rewind-examples gradient wave2d --size 128 --steps 1000 --memory-budget 64MiB
///     swift run rewind-examples gradient particles --parameter eps2=0.05 --memory-budget 4MiB
///
/// Each model is one file beside this one; add its type to the list to put it on the command line.
@main
enum RewindExamples {
    static let models: [any Model.Type] = [LotkaVolterra.self, WaveEquation2D.self, Particles.self]

    static func main() {
        RewindCommand.main(models: models)
    }
}
