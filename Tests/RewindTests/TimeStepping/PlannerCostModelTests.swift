import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// The planner's choices from a sample, without running anything: the cost model itself.
@Suite("Planner cost model")
struct PlannerCostModelTests {
    /// A step of 1000 values whose recording is dear (1 ms primal, 2 ms taped, 50 kB of tape).
    func sample(spillSecondsPerByte: Double) -> RunSample {
        var sample = RunSample(
            primalSecondsPerStep: 1e-3, tapedSecondsPerStep: 2e-3, stepTapeReservedBytes: 100_000,
            stepTapeOnlyBytes: 80_000, stepTapeUsedBytes: 50_000, identifiersPerStep: 1000)
        sample.spillWriteSecondsPerByte = spillSecondsPerByte / 2
        sample.spillReadSecondsPerByte = spillSecondsPerByte / 2
        return sample
    }

    func plan(spillSecondsPerByte: Double, diskAllowed: Bool = true) throws -> RunPlan {
        try RunPlanner.plan(
            strategy: .auto, budget: .mebibytes(16), steps: 1000, stateCount: 1000,
            sample: sample(spillSecondsPerByte: spillSecondsPerByte), diskAllowed: diskAllowed)
    }

    @Test func autoWritesTheTapeToDiskWhenThatIsFasterThanRecomputing() throws {
        // 50 MB of tape at 1 ns a byte: 0.05 s of I/O, hidden behind 2 s of taping; revolve
        // would add 999 advances (1 s).
        let cheapIO = try plan(spillSecondsPerByte: 1e-9)
        #expect(cheapIO.strategy == .spill)
        #expect(cheapIO.stepWorkingSetBytes <= 16 << 20)
        // At 100 ns a byte the I/O (5 s) costs more than recomputing.
        let dearIO = try plan(spillSecondsPerByte: 1e-7)
        guard case .revolve = dearIO.strategy else {
            Issue.record("expected revolve, got \(dearIO.strategy)")
            return
        }
        #expect(dearIO.predictedSeconds < 5)
    }

    @Test func withoutADiskNothingSpills() throws {
        let plan = try plan(spillSecondsPerByte: 1e-9, diskAllowed: false)
        guard case .revolve = plan.strategy else {
            Issue.record("expected revolve, got \(plan.strategy)")
            return
        }
    }

    /// A large state (its executor loop is not timed separately): advances cost a primal step,
    /// never nothing — a zero here once made the planner keep one snapshot and recompute
    /// everything.
    @Test func advancesOfALargeStateCostAPrimalStep() {
        struct Wide: TimeSteppingProblem {
            var stateCount: Int { 40_000 }
            var parameterCount: Int { 1 }
            func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
                for i in s.indices { next[i] = s[i] * p[0] }
            }
            func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S { s[0] }
        }
        let sample = RunSample.measure(
            Wide(), initialState: [Double](repeating: 1, count: 40_000), parameters: [0.5], steps: 100, tape: Tape(),
            adjoints: AdjointVector(), blockBudget: 64 << 20)
        #expect(sample.primalSecondsPerStep > 0)
        // The planner's figure for an advance is the primal's own timing (its median round),
        // not the executor's loop, which is not timed for large states: never zero.
        #expect(sample.advanceSecondsPerStep > 0)
        #expect(sample.advanceSecondsPerStep < 1)
    }

    /// The fresh-page probe at sizes down to one group of pages (a 1 MiB budget times
    /// 128 KiB): a figure the planner can divide by, never 0 or NaN from too few groups.
    @Test(arguments: [1, 4096 * 4, 128 << 10, ProcessMemory.freshPageProbeBytes, 1 << 20])
    func theFreshPageProbeGivesACostAtEverySize(bytes: Int) {
        let seconds = ProcessMemory.secondsPerFreshPage(timing: bytes)
        #expect(seconds > 0 && seconds.isFinite)
        // A fault costs about 2 µs on this project's machines; 10 ms a page would take a
        // descheduling of 40 ms inside the one group of the smallest probe, or a broken clock.
        #expect(seconds < 1e-2)
    }

    @Test func snapshotsStopWhereTheirFreshPagesCostMoreThanTheAdvancesTheySave() throws {
        var dearPages = sample(spillSecondsPerByte: 0)
        dearPages.secondsPerFreshPage = 1e-3   // 8 ms a snapshot of two pages, against 1 ms an advance
        let plan = try RunPlanner.plan(
            strategy: .auto, budget: .mebibytes(16), steps: 1000, stateCount: 1000, sample: dearPages)
        #expect(plan.snapshots < plan.snapshotsThatFit ?? 0)
        let cheap = try RunPlanner.plan(
            strategy: .auto, budget: .mebibytes(16), steps: 1000, stateCount: 1000,
            sample: sample(spillSecondsPerByte: 0))
        #expect(cheap.snapshots == cheap.snapshotsThatFit)
    }

    /// Writes hide behind the recording and reads behind the sweep, never behind each other: a
    /// spilled run whose reads take longer than its sweep pays recording plus reads.
    @Test func aSpilledRunPaysEachPhaseItsLongerPart() throws {
        var slowReads = sample(spillSecondsPerByte: 0)
        slowReads.recordingShareOfTaped = 0.5
        slowReads.spillWriteSecondsPerByte = 1e-9     // 0.05 s of writes behind 1 s of recording
        slowReads.spillReadSecondsPerByte = 4e-8      // 2 s of reads behind 1 s of sweeping
        let plan = try RunPlanner.plan(
            strategy: .spill, budget: .mebibytes(16), steps: 1000, stateCount: 1000, sample: slowReads)
        #expect(abs(plan.predictedSeconds - 3) < 0.01)
    }
}
