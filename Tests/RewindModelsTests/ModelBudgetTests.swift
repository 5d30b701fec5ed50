import Rewind
import RewindModels
@testable import RewindTimeStepping
import Testing

/// A run's tape, adjoints, state arrays and snapshots stay inside the memory budget it was
/// planned for, at budgets from the minimum up (peak figures as the run reports them).
@Suite("Model runs inside their budgets")
struct ModelBudgetTests {
    /// Burgers 4096 from 1 MiB up (60 steps): one-step blocks at the smallest budgets, longer ones above.
    /// (At 1 MiB the run held 840 KiB of tape and adjoints where its plan charged 439 KiB: the
    /// one-step working set ignored the block of partials measured for it.)
    @Test(arguments: [1024, 1536, 2048, 8192])
    func burgersStaysInsideItsBudget(kibibytes: Int) throws {
        let model = Burgers(n: 4096)
        let budget = MemoryBudget(bytes: kibibytes << 10)
        let result: GradientResult
        do {
            result = try TimeStepping.gradient(
                of: model, initialState: model.initialState(), parameters: Burgers.defaultParameters, steps: 60,
                options: TimeSteppingOptions(memoryBudget: budget))
        } catch TimeSteppingError.budgetTooSmall {
            return
        }
        let report = result.report
        let snapshotBytes = 4096 * MemoryLayout<Double>.stride + 64
        let held = report.peakTapeBytes + RunPlanner.stateArrayBytes(stateCount: 4096)
            + report.snapshotsInMemory * snapshotBytes
        #expect(held <= budget.bytes, "\(report.plan)")
    }
}
