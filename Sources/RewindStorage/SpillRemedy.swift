/// What a caller can change to get past a `SpillError`, as data: the library says it in terms
/// of the spill directory's parent (`TimeSteppingOptions.spillDirectory`, or
/// `SpillDirectory(parent:)`) and the memory budget (`description`); a front end in its own
/// terms (the `rewind` CLI names `--spill-dir` and `--memory-budget`).
public enum SpillRemedy: Equatable, Sendable, CustomStringConvertible {
    /// Check the filesystem, or spill on another one.
    case useAnotherFilesystem
    /// Free space, spill less (a larger memory budget), or spill on a larger filesystem.
    case freeSpace
    /// Spill under a directory the process can write.
    case useWritableDirectory
    /// Create the parent, or spill under an existing directory.
    case useExistingDirectory
    /// Spill under a directory (the parent given is a file).
    case useADirectory
    /// Rerun with a spill directory no other process writes to.
    case usePrivateDirectory
    /// Rerun, preferably spilling to other storage.
    case useAnotherDirectory
    /// Free memory, or give the run more of it.
    case freeMemory

    public var description: String {
        switch self {
        case .useAnotherFilesystem:
            return "check the filesystem or set `TimeSteppingOptions.spillDirectory` to a directory on another one"
        case .freeSpace:
            return "free space, raise `TimeSteppingOptions.memoryBudget` so less is spilled, "
                + "or set `TimeSteppingOptions.spillDirectory` to a directory on a larger filesystem"
        case .useWritableDirectory:
            return "set `TimeSteppingOptions.spillDirectory` to a directory you can write"
        case .useExistingDirectory:
            return "create it or set `TimeSteppingOptions.spillDirectory` (or TMPDIR) to an existing directory"
        case .useADirectory:
            return "set `TimeSteppingOptions.spillDirectory` (or TMPDIR) to a directory"
        case .usePrivateDirectory:
            return "rerun with a private `TimeSteppingOptions.spillDirectory`"
        case .useAnotherDirectory:
            return "rerun, preferably with `TimeSteppingOptions.spillDirectory` on other storage"
        case .freeMemory:
            return "free memory or raise `TimeSteppingOptions.memoryBudget`"
        }
    }
}
