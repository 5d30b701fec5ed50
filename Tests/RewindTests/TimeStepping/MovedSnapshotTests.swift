import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindSchedules
@testable import RewindTimeStepping

/// A state long enough that snapshots move between the executor and the pool instead of
/// being copied (`SnapshotPool.movingStateCount`): each value pulled by its neighbour, with a
/// running cost. `s[0]` falls by `p[2]` a step and `s[1]` takes the square root of
/// `s[0] − p[2]`, so `p[2]` sends a NaN into the state at a chosen step.
fileprivate struct LargeChain: TimeSteppingProblem {
    var n = SnapshotPool.movingStateCount + 3
    var stateCount: Int { n }
    var parameterCount: Int { 3 }
    var hasRunningCost: Bool { true }
    func initialState() -> [Double] { (0..<n).map { 0.5 + 0.25 * Double.sin(0.37 * Double($0)) } }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        next[0] = s[0] - p[2]
        next[1] = S.sqrt(s[0] - p[2]) + 0.1 * s[1]
        for i in 2..<n { next[i] = p[0] * s[i] + p[1] * S.sin(s[(i + 1) % n]) }
    }
    func runningCost<S: SimulationScalar>(_ s: [S], parameters: [S]) -> S { s[1] * s[1] + s[n - 1] }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        0.01 * runningCostSum + s[2] * s[3] + s[n - 1]
    }
}

/// Snapshots of large states are moved, not copied (`SnapshotPool.movesBuffers`,
/// `CheckpointExecutor.currentSlot`): every strategy that stores and restores them gives the
/// store-all gradient bit for bit, and the paths that read the state where it lives (advance,
/// reverse, check mode, disk, online, Jacobians) read the right one.
@Suite("Snapshots of large states moved, not copied")
struct MovedSnapshotTests {
    fileprivate let problem = LargeChain()
    let p = [0.9, 0.05, 1e-4]

    func expectSameBits(_ result: GradientResult, as reference: GradientResult) {
        // Compared as one verdict each: a failure printing two arrays of 2051 values says less.
        #expect(result.objective.bitPattern == reference.objective.bitPattern)
        let sameState = result.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern)
        #expect(sameState, "the initial-state gradient differs from store-all's")
        #expect(result.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
    }

    func storeAll(steps: Int) throws -> GradientResult {
        try TimeStepping.gradient(
            of: problem, initialState: problem.initialState(), parameters: p, steps: steps,
            options: TimeSteppingOptions(strategy: .storeAll))
    }

    @Test func theStateIsLongEnoughToMove() {
        #expect(SnapshotPool(stateCount: problem.stateCount, slots: 2).movesBuffers)
        #expect(!SnapshotPool(stateCount: 3, slots: 2).movesBuffers)
    }

    @Test(arguments: [(1, 1), (2, 1), (3, 1), (5, 1), (2, 3)])
    func revolveGivesTheStoreAllGradient(snapshotsAndBlock: (Int, Int)) throws {
        let steps = 23
        var options = TimeSteppingOptions(strategy: .revolve(snapshots: snapshotsAndBlock.0))
        options.stepsPerBlock = snapshotsAndBlock.1
        let revolve = try TimeStepping.gradient(
            of: problem, initialState: problem.initialState(), parameters: p, steps: steps, options: options)
        expectSameBits(revolve, as: try storeAll(steps: steps))
        #expect(revolve.report.forwardSteps > steps - 1, "the run replayed steps from its snapshots")
    }

    @Test func onlineGivesTheStoreAllGradient() throws {
        let online = try TimeStepping.gradient(
            of: problem, initialState: problem.initialState(), parameters: p, until: { _, step in step == 19 },
            maximumSteps: 100, options: TimeSteppingOptions(strategy: .online(snapshots: 2)))
        expectSameBits(online, as: try storeAll(steps: 19))
    }

    @Test func twoLevelGivesTheStoreAllGradientAndLeavesNothingOnDisk() throws {
        let parent = FileManager.default.temporaryDirectory
            .appendingPathComponent("rewind-moved-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let twoLevel = try TimeStepping.gradient(
            of: problem, initialState: problem.initialState(), parameters: p, steps: 17,
            options: TimeSteppingOptions(
                strategy: .twoLevel(memorySnapshots: 2, diskSnapshots: 2), spillDirectory: parent))
        expectSameBits(twoLevel, as: try storeAll(steps: 17))
        #expect(twoLevel.report.snapshotsOnDisk >= 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    @Test func aJacobianRowIsTheSameUnderRevolve() throws {
        let rows = [1, 7, problem.n - 1]
        let reference = try TimeStepping.jacobian(
            of: problem, initialState: problem.initialState(), parameters: p, steps: 11, rows: rows,
            options: TimeSteppingOptions(strategy: .storeAll))
        let revolve = try TimeStepping.jacobian(
            of: problem, initialState: problem.initialState(), parameters: p, steps: 11, rows: rows,
            options: TimeSteppingOptions(strategy: .revolve(snapshots: 2)))
        let sameRows = revolve.jacobian.map { $0.map(\.bitPattern) } == reference.jacobian.map { $0.map(\.bitPattern) }
        let sameFinalState = revolve.finalState.map(\.bitPattern) == reference.finalState.map(\.bitPattern)
        #expect(sameRows, "the Jacobian rows differ from store-all's")
        #expect(sameFinalState, "the final state differs from store-all's")
    }

    /// The NaN enters at the first advance after the initial state was stored, the step that
    /// reads its state from the slot: check mode must re-record that step from the stored
    /// state, not from the executor's stale buffer.
    @Test(arguments: [0, 4])
    func checkModeNamesTheStepWhereANaNEnters(step: Int) {
        // s[0] starts at 0.5 and falls by `fall` a step; step k takes the square root of
        // 0.5 − (k + 1)·fall, negative first at k = `step`.
        let fall = step == 0 ? 0.6 : 0.11
        var options = TimeSteppingOptions(strategy: .revolve(snapshots: 2))
        options.checksFinite = true
        let error = #expect(throws: TimeSteppingError.self) {
            _ = try TimeStepping.gradient(
                of: problem, initialState: problem.initialState(), parameters: [0.9, 0.05, fall], steps: 9,
                options: options)
        }
        guard case .nonFiniteInRun(let found, let report)? = error else {
            Issue.record("expected nonFiniteInRun, got \(String(describing: error))")
            return
        }
        #expect(found == step)
        #expect(report.contains("sqrt"), "\(report)")
    }

    @Test func aStoreMovesTheStateAndGivesBackABufferOfItsLength() {
        let pool = SnapshotPool(stateCount: SnapshotPool.movingStateCount, slots: 1)
        let values = (0..<pool.stateCount).map(Double.init)
        var state = values
        pool.store(moving: &state, slot: 0, step: 3)
        #expect(pool.buffer(ofSlot: 0) == values)
        #expect(state.count == pool.stateCount)
        // A second store into a slot past the capacity grows the pool; the first slot keeps its state.
        var other = values.map { -$0 }
        pool.store(moving: &other, slot: 2, step: 5)
        #expect(pool.buffer(ofSlot: 0) == values && pool.buffer(ofSlot: 2) == values.map { -$0 })
        #expect(pool.liveCount == 2 && pool.peakLiveCount == 2)
        // Taking a slot's state back frees it and leaves the slot a buffer to reuse.
        var taken = state
        pool.take(slot: 0, into: &taken)
        #expect(taken == values)
        #expect(pool.liveCount == 1 && pool.buffer(ofSlot: 0).count == pool.stateCount)
    }
}
