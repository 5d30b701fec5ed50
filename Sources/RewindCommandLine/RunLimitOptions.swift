import ArgumentParser
import Rewind

/// What a run may use — memory, predicted time, threads — for the commands that plan runs
/// (`gradient`, `jacobian`).
struct RunLimitOptions: ParsableArguments {
    // `.unconditional`: the next word is the value even when it starts with a dash, so that
    // `-1KiB` or `-3` is refused for what it is rather than as "missing value".
    @Option(parsing: .unconditional, help: "Memory Rewind may use for the run, e.g. 64MiB, 4MB, 1GiB.")
    var memoryBudget = TimeSteppingOptions().memoryBudget

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Refuse, before it starts, a run the plan predicts to take longer than this (default one week; inf for no limit).",
            valueName: "SECONDS"))
    var maxPredictedSeconds: Double = CommandLimits.defaultMaximumPredictedSeconds

    @Option(
        parsing: .unconditional,
        help: "Threads for the jacobian's reverse sweeps or the gradient's --ensemble members (results are the same for every count).")
    var threads: Int = 1

    mutating func validate() throws {
        try CommandLimits.validateMaximumPredictedSeconds(maxPredictedSeconds)
        try CommandLimits.validateThreads(threads)
    }

    /// The engine's options for a run with `strategy`, within these limits.
    func timeSteppingOptions(
        strategy: CheckpointStrategy, progress: ((Double) -> Void)? = nil
    ) -> TimeSteppingOptions {
        var options = TimeSteppingOptions(strategy: strategy, memoryBudget: memoryBudget, progress: progress)
        options.maximumPredictedSeconds = CommandLimits.limit(maxPredictedSeconds)
        return options
    }
}
