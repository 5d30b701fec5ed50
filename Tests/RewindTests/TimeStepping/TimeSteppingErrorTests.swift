import Testing

@testable import RewindTimeStepping

/// The engine's errors speak the library's language (options and strategies, never the CLI's
/// flags) and state figures that differ as differing.
@Suite("Time-stepping errors: library words, exact figures")
struct TimeSteppingErrorTests {
    static let errors: [TimeSteppingError] = [
        .invalidSnapshots(0), .invalidStepsPerBlock(0), .blocksNeedRevolve(strategy: "two-level"),
        .budgetTooSmall(
            budget: 1000, minimum: 52532,
            shortfall: .stepAndSnapshots(stepsPerBlock: 1, workingSetBytes: 50000, snapshots: 1, snapshotBytes: 2532)),
        .budgetTooSmall(budget: 1 << 30, minimum: 5 << 40, shortfall: .statesAlone(withCallerArrays: true)),
        .budgetTooSmall(budget: 1000, minimum: 1 << 21, shortfall: .spilledStoreAll(adjointBytes: 1 << 20)),
        .storeAllDoesNotFit(budget: 1 << 20, needed: 11 << 20),
        .tooManyEvaluations(steps: .max, snapshots: 2, largestSteps: 4_574_152_700_388),
        .predictedTooLong(seconds: 1e9, limit: 604_800, evaluations: 10, plan: "revolve"),
    ]

    @Test func descriptionsNameOptionsNotFlags() {
        for error in Self.errors {
            #expect(!error.description.contains("--"), "\(error)")
            #expect(error.remedy != nil, "\(error)")
            #expect(error.description == "\(error.summary); \(error.remedy!)")
        }
        #expect(Self.errors[3].description.contains("`TimeSteppingOptions.memoryBudget` to at least 51.4 KiB"))
        #expect(Self.errors[5].description.contains("`CheckpointStrategy.revolve` or `.twoLevel`"))
    }

    @Test func aBudgetThatRoundsLikeItsMinimumIsGivenInBytes() {
        let error = TimeSteppingError.budgetTooSmall(
            budget: 4_194_000, minimum: 4_194_304,
            shortfall: .stepAndSnapshots(stepsPerBlock: 1, workingSetBytes: 4_000_000, snapshots: 1, snapshotBytes: 194_304))
        #expect(error.summary.hasPrefix(
            "a memory budget of 4.0 MiB (4194000 bytes) is below the minimum of 4.0 MiB (4194304 bytes) for this run"))
        #expect(MemoryBudget.format(1000, distinctFrom: 1001) == "1000 B")
        #expect(MemoryBudget.format(3 << 20, distinctFrom: 5 << 20) == "3.0 MiB")
    }

    @Test func aFloorSaysTheMinimumIsAboveIt() {
        let error = TimeSteppingError.budgetTooSmall(
            budget: 1 << 30, minimum: 80 << 30, shortfall: .statesAlone(withCallerArrays: false))
        #expect(error.summary.contains("below the minimum for this run, which is more than 80.0 GiB (85899345920 bytes)"))
        #expect(error.remedy == .raiseBudget(bytes: 80 << 30, isLowerBound: true, orCheckpointing: false))
        #expect(error.description.hasSuffix("raise `TimeSteppingOptions.memoryBudget` above 80.0 GiB"))
    }

    @Test func theAdvisedBudgetCoversTheMinimum() throws {
        // 52532 bytes is 51.30 KiB: rounded to the nearest, "51.3 KiB" (52531 bytes) is one short.
        #expect(MemoryBudget.format(52532) == "51.3 KiB")
        #expect(MemoryBudget.format(52532, rounding: .up) == "51.4 KiB")
        #expect(try MemoryBudget(parsing: "51.4KiB").bytes >= 52532)
    }

    @Test func aPredictionThatRoundsLikeItsLimitIsGivenInSeconds() {
        let error = TimeSteppingError.predictedTooLong(seconds: 604_801, limit: 604_800, evaluations: 1, plan: "p")
        #expect(error.summary.contains("take 7.0 days (604801.0 s)"), "\(error.summary)")
        #expect(error.summary.hasSuffix("the limit of 7.0 days (604800.0 s)"), "\(error.summary)")
    }
}
