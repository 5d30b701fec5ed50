import RewindCore
/// The processes of one distributed run — the ranks of an MPI job, each owning a part of the
/// state — which must all run the same plan.
///
/// Rewind has no communication of its own: `RewindMPI` (a separate package) implements this
/// protocol over MPI, and a run joins a group through `TimeSteppingOptions.group`. The planner
/// then makes every rank choose the same plan (`TimeStepping.gradient`):
///
/// 1. the memory budget is the smallest of the ranks' budgets;
/// 2. the inputs are checked on every rank, and a failure on any rank stops all of them
///    (`agree(failure:)`) before the first collective step;
/// 3. the timed sample runs inside `sampling(_:)` — the step then keeps its communication
///    local, because the sample repeats the step as often as its clock decides, a different
///    number of times on each rank;
/// 4. the sample's timings and sizes become the largest over the ranks (`maximum(_:)`), and its
///    block timings rank 0's (`broadcast(_:)`), so that every rank plans from the same sample
///    with the same budget and state size, and the planner — a pure function of those — returns
///    the same plan everywhere. A measured block's memory is agreed the same way.
///
/// Every operation is collective: each rank calls it, in the same order.
public protocol TimeSteppingGroup: AnyObject {
    /// Runs `body` with the problem's communication kept on this rank (a halo exchange then
    /// wraps around the rank's own part): the planner's timed sample runs in it.
    func sampling<Result>(_ body: () throws -> Result) rethrows -> Result
    /// The elementwise maximum of `values` over the ranks (every rank passes as many values).
    func maximum(_ values: [Double]) -> [Double]
    /// Rank 0's `values` on every rank (the count may differ between ranks).
    func broadcast(_ values: [Double]) -> [Double]
    /// Returns when no rank failed; otherwise throws on every rank — its own `failure` where it
    /// has one, an error naming the failed rank and its message elsewhere.
    func agree(failure: Error?) throws
}

extension RunSample {
    /// The sample every rank of `group` plans from: the largest timings and sizes over the
    /// ranks, and rank 0's block timings (the block lengths follow from the sizes, so they
    /// may differ between ranks before this agreement).
    @usableFromInline
    package func agreed(in group: TimeSteppingGroup) -> RunSample {
        var sample = self
        let scalars = group.maximum([
            primalSecondsPerStep, advanceSecondsPerStep, tapedSecondsPerStep, Double(stepTapeReservedBytes),
            Double(stepTapeUsedBytes), Double(stepTapeOnlyBytes), Double(identifiersPerStep),
            Double(statementsPerStep), Double(partialsPerStep), secondsPerFreshPage, spillWriteSecondsPerByte,
            spillReadSecondsPerByte, recordingShareOfTaped, Double(reservedBeforeRunBytes),
            Double(measuredBlock?.reservedBytes ?? 0),
        ])
        sample.primalSecondsPerStep = scalars[0]
        sample.advanceSecondsPerStep = scalars[1]
        sample.tapedSecondsPerStep = scalars[2]
        sample.stepTapeReservedBytes = Int(scalars[3])
        sample.stepTapeUsedBytes = Int(scalars[4])
        sample.stepTapeOnlyBytes = Int(scalars[5])
        sample.identifiersPerStep = Int(scalars[6])
        sample.statementsPerStep = Int(scalars[7])
        sample.partialsPerStep = Int(scalars[8])
        sample.secondsPerFreshPage = scalars[9]
        sample.spillWriteSecondsPerByte = scalars[10]
        sample.spillReadSecondsPerByte = scalars[11]
        sample.recordingShareOfTaped = scalars[12]
        sample.reservedBeforeRunBytes = Int(scalars[13])
        if let block = measuredBlock { sample.measuredBlock = (block.steps, Int(scalars[14])) }
        let timings = group.broadcast(blockTimings.flatMap { [Double($0.steps), $0.secondsPerStep] })
        sample.blockTimings = stride(from: 0, to: timings.count - 1, by: 2).map { (Int(timings[$0]), timings[$0 + 1]) }
        return sample
    }
}

extension TimeSteppingOptions {
    /// These options with the smallest memory budget of the group's ranks.
    @usableFromInline
    package func agreedBudget() -> TimeSteppingOptions {
        guard let group else { return self }
        var options = self
        // Through `Double`, exactly for every budget below 2⁵³ bytes; clamped below `Int.max`.
        let smallest = -group.maximum([-Double(memoryBudget.bytes)])[0]
        options.memoryBudget = MemoryBudget(bytes: Int(min(smallest, 9.0e18)))
        return options
    }
}
