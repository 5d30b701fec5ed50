import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Two-level checkpointing: snapshots on disk")
struct TwoLevelTests {
    let problem = DampedRotation()
    let x0 = [1.0, 0.5]
    let p = [0.01, 0.05]

    func spillParent() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-two-level-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test(arguments: [(1, 1), (2, 3), (1, 6), (4, 2)])
    func gradientIsBitwiseTheSameAndNothingIsLeftBehind(slots: (Int, Int)) throws {
        let parent = try spillParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let steps = 57
        let reference = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: steps, options: TimeSteppingOptions(strategy: .storeAll))
        let twoLevel = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: steps,
            options: TimeSteppingOptions(
                strategy: .twoLevel(memorySnapshots: slots.0, diskSnapshots: slots.1), spillDirectory: parent))
        #expect(twoLevel.objective.bitPattern == reference.objective.bitPattern)
        #expect(twoLevel.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern))
        #expect(twoLevel.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
        #expect(twoLevel.report.strategy == .twoLevel)
        #expect(twoLevel.report.snapshotsOnDisk >= 1 && twoLevel.report.snapshotsOnDisk <= slots.1)
        #expect(twoLevel.report.spilledBytes > 0 && twoLevel.report.compressedBytes > 0)
        #expect(twoLevel.report.forwardSteps == RevolveSchedule.minimumAdvances(steps: steps, snapshots: slots.0 + slots.1))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty, "the spill directory is left empty")
    }

    @Test func autoSpillsSnapshotsWhenMemoryHoldsTooFewAndADirectoryIsGiven() throws {
        let parent = try spillParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let steps = 3000
        // Find the minimum budget, then give a little more: a handful of snapshots in memory.
        var minimum = 0
        do {
            _ = try TimeStepping.gradient(
                of: problem, initialState: x0, parameters: p, steps: steps,
                options: TimeSteppingOptions(memoryBudget: MemoryBudget(bytes: 1)))
        } catch let TimeSteppingError.budgetTooSmall(_, needed, _) {
            minimum = needed
        }
        let budget = MemoryBudget(bytes: minimum + 2 * (8 * 2 + 32))
        let withDisk = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: steps,
            options: TimeSteppingOptions(memoryBudget: budget, spillDirectory: parent))
        let memoryOnly = try TimeStepping.gradient(
            of: problem, initialState: x0, parameters: p, steps: steps, options: TimeSteppingOptions(memoryBudget: budget))
        #expect(withDisk.report.strategy == .twoLevel)
        #expect(memoryOnly.report.strategy == .revolve)
        #expect(withDisk.report.forwardSteps < memoryOnly.report.forwardSteps)
        #expect(withDisk.parameterGradient == memoryOnly.parameterGradient)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    @Test func aMissingSpillDirectoryIsAnErrorNamingIt() {
        #expect(throws: SpillError.self) {
            _ = try TimeStepping.gradient(
                of: problem, initialState: x0, parameters: p, steps: 20,
                options: TimeSteppingOptions(
                    strategy: .twoLevel(memorySnapshots: 1, diskSnapshots: 2), spillDirectory: "/nonexistent/rewind"))
        }
    }
}
