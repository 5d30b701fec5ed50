import ArgumentParser

@main
struct RewindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewind",
        abstract: "Reverse-mode gradients of long time-stepping simulations inside a memory budget.",
        discussion: """
            Differentiates the bundled models (see `rewind models`) with store-all taping or \
            binomial checkpointing, choosing from --memory-budget.
            """,
        subcommands: [ModelsCommand.self, GradientCommand.self, ScheduleCommand.self]
    )
}
