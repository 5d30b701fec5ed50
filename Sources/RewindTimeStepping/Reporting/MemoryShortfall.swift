/// What needs the memory a budget refused (`TimeSteppingError.budgetTooSmall`): the parts of
/// the run's minimum, with their sizes, so that a caller can show them or act on them.
///
/// Its `description` says it in words, without advice: what to change is the error's
/// `TimeSteppingError.remedy`.
public indirect enum MemoryShortfall: Equatable, Sendable, CustomStringConvertible {
    /// The states and leaves of one recorded step (and, when `withCallerArrays`, the arrays the
    /// caller allocates beside them) alone: a floor known before the run is sampled, so the
    /// run's true minimum is higher (the refusal's `minimum` is this floor).
    case statesAlone(withCallerArrays: Bool)
    /// One recorded step, or block of `stepsPerBlock` steps, taking `workingSetBytes`, beside
    /// `snapshots` snapshots of `snapshotBytes` each.
    case stepAndSnapshots(stepsPerBlock: Int, workingSetBytes: Int, snapshots: Int, snapshotBytes: Int)
    /// Even with its tape spilled and its adjoints paged, one step keeps `residentBytes` (its
    /// states and its inputs' adjoints) plus chunk buffers and two snapshots of `snapshotBytes`.
    case pagedStep(residentBytes: Int, snapshotBytes: Int)
    /// A spilled store-all tape still keeps the adjoints of every statement, `adjointBytes`.
    case spilledStoreAll(adjointBytes: Int)
    /// `base`, plus the `adjointBytes` of adjoints the Jacobian's `rows` rows carry.
    case withJacobianRows(MemoryShortfall, rows: Int, adjointBytes: Int)

    /// Whether the refusal's minimum is a floor below the run's true minimum.
    public var isLowerBound: Bool {
        switch self {
        case .statesAlone: return true
        case .withJacobianRows(let base, _, _): return base.isLowerBound
        default: return false
        }
    }

    /// Whether checkpointing (revolve, two-level) would need less than the strategy refused.
    public var checkpointingNeedsLess: Bool {
        switch self {
        case .spilledStoreAll: return true
        case .withJacobianRows(let base, _, _): return base.checkpointingNeedsLess
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .statesAlone(let withCallerArrays):
            return "the states and leaves of one recorded step\(withCallerArrays ? " and the run's own arrays" : "") "
                + "alone need that much"
        case .stepAndSnapshots(let stepsPerBlock, let workingSetBytes, let snapshots, let snapshotBytes):
            let recorded = stepsPerBlock == 1 ? "step" : "block of \(stepsPerBlock) steps"
            let kept = snapshots == 1 ? "a snapshot of" : "\(snapshots) snapshots of"
            return "one recorded \(recorded) needs \(MemoryBudget.format(workingSetBytes)) and \(kept) "
                + MemoryBudget.format(snapshotBytes)
        case .pagedStep(let residentBytes, let snapshotBytes):
            return "even with its tape spilled to disk and its adjoints paged, one step needs "
                + "\(MemoryBudget.format(residentBytes)) for its states and its inputs' adjoints, plus "
                + "chunk buffers and two snapshots of \(MemoryBudget.format(snapshotBytes))"
        case .spilledStoreAll(let adjointBytes):
            return "a spilled store-all tape still keeps the adjoints of every statement in memory "
                + "(\(MemoryBudget.format(adjointBytes)))"
        case .withJacobianRows(let base, let rows, let adjointBytes):
            return "\(base), and the Jacobian's \(rows) row(s) carry \(MemoryBudget.format(adjointBytes)) of adjoints"
        }
    }
}
