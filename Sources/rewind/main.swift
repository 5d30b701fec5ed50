// `rewind`: the command line (module RewindCommandLine) with the bundled models. A program
// of your own gets the same commands for its models the same way (docs/cli.md, "Your own
// model on the command line").
import RewindCommandLine

RewindCommand.main(models: ModelCatalog.models, commandName: "rewind")
