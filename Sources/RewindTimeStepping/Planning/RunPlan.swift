import RewindCore
/// How a time-stepping gradient will run, as `RunPlanner` chose it from the budget and a
/// timed sample: the strategy, snapshots, block length, spilling, and the predicted advances,
/// time and memory. `summary` is the one line a report shows.
@usableFromInline
package struct RunPlan {
    @usableFromInline package var strategy: CheckpointStrategy
    @usableFromInline package var snapshots: Int
    /// Of `snapshots`, how many live on disk.
    @usableFromInline package var diskSnapshots: Int = 0
    @usableFromInline package var predictedAdvances: Int
    @usableFromInline package var predictedSeconds: Double
    @usableFromInline package var stepWorkingSetBytes: Int
    @usableFromInline package var snapshotBytes: Int
    @usableFromInline package var storeAllBytes: Int
    /// When one step's tape does not fit: the chunk size (in statements) at which the step
    /// tapes spill to disk.
    @usableFromInline package var spillChunkStatements: Int?
    /// Steps taped together; the schedule runs over blocks of this many steps.
    @usableFromInline package var stepsPerBlock = 1
    /// Step tapes swept into paged adjoints (`PagedAdjointVector`): one step's dense adjoint
    /// vector does not fit the budget.
    @usableFromInline package var pagedAdjoints = false
    /// Snapshots the budget would hold, when the plan takes fewer (see `revolvePlan`).
    @usableFromInline package var snapshotsThatFit: Int?

    @usableFromInline package var summary: String {
        var strategyText: String
        switch strategy {
        case .storeAll: strategyText = "store-all"
        case .revolve:
            strategyText = stepsPerBlock == 1
                ? "revolve with \(snapshots) snapshots"
                : "revolve over blocks of \(stepsPerBlock) steps with \(snapshots) snapshots"
            if let snapshotsThatFit, snapshotsThatFit > snapshots {
                strategyText += " (of \(snapshotsThatFit) that fit: more would cost more in fresh pages than they save in advances)"
            }
        case .online:
            strategyText = "online with \(snapshots) snapshots"
                + (stepsPerBlock == 1 ? "" : " over blocks of \(stepsPerBlock) steps")
        case .twoLevel:
            strategyText = "two-level revolve with \(snapshots - diskSnapshots) snapshots in memory and \(diskSnapshots) on disk"
        case .spill: strategyText = "store-all with its tape spilled to disk"
        case .auto: strategyText = "auto"
        }
        if let spillChunkStatements {
            strategyText += ", step tapes spilled to disk in chunks of \(spillChunkStatements) statements"
        }
        if pagedAdjoints { strategyText += ", adjoints paged" }
        return "\(strategyText): \(predictedAdvances) advances predicted, about "
            + "\(formatSeconds(predictedSeconds)); one \(stepsPerBlock == 1 ? "step" : "block")'s working set "
            + "\(MemoryBudget.format(stepWorkingSetBytes)), "
            + "snapshot \(MemoryBudget.format(snapshotBytes)), store-all \(MemoryBudget.format(storeAllBytes))"
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : "\((seconds * 100).rounded() / 100) s"
}
