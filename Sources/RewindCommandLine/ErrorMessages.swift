import Rewind

/// The engine's errors in the command line's words: the engine's `summary` of what is wrong,
/// then its `remedy` said with the flags that apply it.
///
/// The engine describes a remedy in terms of `TimeSteppingOptions` (a library caller passes
/// options, not flags); every flag an engine error mentions is named here, and only here.
/// Public for programs with the same flags that run the engine themselves (`rewind-mpi`):
///
/// ```swift
/// let line = ErrorMessages.message(for: error) ?? "\(error)"
/// ```
public enum ErrorMessages {
    /// The message for an engine error that carries a remedy; nil for any other error, whose
    /// own description is already the CLI's.
    public static func message(for error: Error) -> String? {
        switch error {
        case let error as TimeSteppingError: return sentence(error.summary, error.remedy.map(advice))
        case let error as SpillError: return sentence(error.summary, error.remedy.map(advice))
        default: return nil
        }
    }

    static func advice(_ remedy: TimeSteppingRemedy) -> String {
        switch remedy {
        case .snapshotsAtLeastOne:
            return "pass --snapshots 1 or more, or auto"
        case .stepsPerBlockAtLeastOne:
            return "pass --steps-per-block 1 or more, or auto"
        case .blockTapingStrategy:
            return "use --strategy auto, revolve or online, or drop --steps-per-block"
        case .raiseBudget(let bytes, let isLowerBound, let orCheckpointing):
            return "raise --memory-budget \(TimeSteppingRemedy.budgetTarget(bytes, isLowerBound: isLowerBound))"
                + (orCheckpointing ? ", or use --strategy revolve or two-level, which need less" : "")
        case .checkpointOrRaiseBudget:
            return "use --strategy auto or revolve, or raise --memory-budget"
        case .fewerSteps:
            return "pass fewer --steps"
        case .shorterRun:
            return "pass fewer --steps, a larger --memory-budget, or a higher --max-predicted-seconds"
        case .onlineStrategy:
            return "use --strategy online or auto"
        case .pureStep:
            return "make the model's step depend on its state and parameters alone (a counter, a random "
                + "generator or other state it changes as it runs makes each replay differ), or use "
                + "--strategy store-all, which replays no step"
        }
    }

    static func advice(_ remedy: SpillRemedy) -> String {
        switch remedy {
        case .useAnotherFilesystem:
            return "check the filesystem or pass --spill-dir on another one"
        case .freeSpace:
            return "free space, raise --memory-budget so less is spilled, or pass --spill-dir on a larger filesystem"
        case .useWritableDirectory:
            return "pass --spill-dir with a directory you can write"
        case .useExistingDirectory:
            return "create it or pass --spill-dir (or set TMPDIR) to an existing directory"
        case .useADirectory:
            return "pass --spill-dir (or set TMPDIR) to a directory"
        case .usePrivateDirectory:
            return "rerun with a private --spill-dir"
        case .useAnotherDirectory:
            return "rerun, preferably on another --spill-dir"
        case .freeMemory:
            return "free memory or raise --memory-budget"
        }
    }

    /// `summary; advice`, as the engine joins them too.
    private static func sentence(_ summary: String, _ advice: String?) -> String {
        advice.map { "\(summary); \($0)" } ?? summary
    }
}
