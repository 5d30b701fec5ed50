import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindTimeStepping

/// Counts the calls of a step: state the step changes as it runs, outside its state.
private final class CallCounter: @unchecked Sendable {
    var calls = 0
}

/// A damped pair pushed by a force that depends on how often the step was called: every
/// replay from a snapshot sees other counts than the run's first pass did.
private struct CountedForcing: TimeSteppingProblem {
    let counter = CallCounter()
    var stateCount: Int { 2 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        counter.calls += 1
        let force = 1e-3 * Double(counter.calls % 3)
        next[0] = p[0] * s[0] + force
        next[1] = s[0] - 0.5 * s[1]
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s[0] * s[0] + s[1]
    }
}

/// The check that a replayed block ends where the run was before (`CheckpointExecutor.checkReplay`),
/// and its fingerprint (`StateFingerprint`).
@Suite("Replays that differ from the run")
struct ReplayCheckTests {
    let x0 = [1.0, 0.5]
    let p = [0.9]

    func expectReplayDiffers(_ body: () throws -> Void) {
        let error = #expect(throws: TimeSteppingError.self) { try body() }
        guard case .replayDiffers(let first, let end)? = error else {
            Issue.record("expected replayDiffers, got \(String(describing: error))")
            return
        }
        #expect(first < end)
    }

    @Test(arguments: [1, 4])
    func revolveStopsAStepThatCountsItsCalls(stepsPerBlock: Int) {
        var options = TimeSteppingOptions(strategy: .revolve(snapshots: 3))
        options.stepsPerBlock = stepsPerBlock
        expectReplayDiffers {
            _ = try TimeStepping.gradient(
                of: CountedForcing(), initialState: x0, parameters: p, steps: 60, options: options)
        }
    }

    @Test func onlineStopsAStepThatCountsItsCalls() {
        expectReplayDiffers {
            _ = try TimeStepping.gradient(
                of: CountedForcing(), initialState: x0, parameters: p, until: { _, step in step == 60 },
                maximumSteps: 100, options: TimeSteppingOptions(strategy: .online(snapshots: 3)))
        }
    }

    @Test func aJacobianStopsAStepThatCountsItsCalls() {
        expectReplayDiffers {
            _ = try TimeStepping.jacobian(
                of: CountedForcing(), initialState: x0, parameters: p, steps: 60,
                options: TimeSteppingOptions(strategy: .revolve(snapshots: 3)))
        }
    }

    /// Two-level checkpointing restores from disk too; the run stops the same way and its
    /// spill directory is left empty.
    @Test func twoLevelStopsAndLeavesNothingOnDisk() throws {
        let parent = FileManager.default.temporaryDirectory
            .appendingPathComponent("rewind-replay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        expectReplayDiffers {
            _ = try TimeStepping.gradient(
                of: CountedForcing(), initialState: x0, parameters: p, steps: 60,
                options: TimeSteppingOptions(
                    strategy: .twoLevel(memorySnapshots: 1, diskSnapshots: 2), spillDirectory: parent))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    /// Store-all records every step once and replays none: its gradient is the one of the
    /// trajectory it recorded, which the remedy offers.
    @Test func storeAllDifferentiatesTheStepItRecorded() throws {
        let result = try TimeStepping.gradient(
            of: CountedForcing(), initialState: x0, parameters: p, steps: 60,
            options: TimeSteppingOptions(strategy: .storeAll))
        let finite = result.initialStateGradient.allSatisfy { $0.isFinite }
        #expect(finite)
    }

    /// The message names the steps and what to change, in the library's words (the CLI's
    /// are checked in `ErrorMessageTests`).
    @Test func theErrorSaysWhatToChange() {
        let error = TimeSteppingError.replayDiffers(firstStep: 8, endStep: 12)
        #expect(error.description.contains("steps 8..<12"))
        #expect(error.description.contains("CheckpointStrategy.storeAll"))
        #expect(error.remedy == .pureStep)
    }

    @Test func theFingerprintTellsOneLastBitApart() {
        let state = [0.1, 0.2, 0.3]
        var changed = state
        changed[1] = changed[1].nextUp
        #expect(!StateFingerprint(state).differs(from: StateFingerprint(state)))
        #expect(StateFingerprint(state).differs(from: StateFingerprint(changed)))
        // The odd one out, summed on its own.
        changed = state
        changed[2] = changed[2].nextDown
        #expect(StateFingerprint(state).differs(from: StateFingerprint(changed)))
    }

    /// Values swapped between positions keep the plain sums and change the running sums.
    /// Random values: any swap of two distinct values, in either lane.
    @Test func theFingerprintTellsSwappedValuesApart() {
        #expect(StateFingerprint([2.0, 4.0, 1.0]).differs(from: StateFingerprint([4.0, 2.0, 1.0])))
        #expect(StateFingerprint([2.0, 4.0, 1.0, 8.0]).differs(from: StateFingerprint([1.0, 4.0, 2.0, 8.0])))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let state = (0..<9).map { _ in Double.random(in: -1...1, using: &generator) }
            let i = Int.random(in: 0..<9, using: &generator)
            let j = Int.random(in: 0..<9, using: &generator)
            guard state[i] != state[j] else { continue }
            var swapped = state
            swapped.swapAt(i, j)
            #expect(StateFingerprint(state).differs(from: StateFingerprint(swapped)))
        }
    }

    /// A state with a NaN or an infinity gives no verdict (scalar and SIMD code may give a
    /// diverging run different NaNs); zeros of both signs are different states.
    @Test func aNonFiniteStateGivesNoVerdict() {
        let payload = Double(nan: 7, signaling: false)
        #expect(!StateFingerprint([1, .nan]).differs(from: StateFingerprint([1, -.nan])))
        #expect(!StateFingerprint([1, .nan]).differs(from: StateFingerprint([2, payload])))
        #expect(!StateFingerprint([1, 2, .infinity]).differs(from: StateFingerprint([1, 3, 4])))
        #expect(StateFingerprint([0.0]).differs(from: StateFingerprint([-0.0])))
        #expect(StateFingerprint([1, .greatestFiniteMagnitude, .greatestFiniteMagnitude]).isFinite)
    }

    @Test func aTrackedStateHasItsValuesFingerprint() {
        // Fewer than eight values (the tail alone), exactly eight, and eight-value groups with a tail.
        for count in [0, 1, 2, 5, 8, 19] {
            let values = (0..<count).map { 0.25 * Double($0) - 3.5 }
            let fingerprint = StateFingerprint(valuesOf: values.map { Tracked($0) })
            #expect(!fingerprint.differs(from: StateFingerprint(values)))
        }
    }

    /// Read together with the identifiers (`ofValues`, which the executor uses), a state has
    /// its values' fingerprint, and its identifiers count as one run exactly when they are: a
    /// constant or two leaves swapped anywhere, in the groups of eight or in the tail, is seen.
    @Test func aTrackedStateIsFingerprintedAndItsIdentifiersCheckedInOnePass() {
        let tape = Tape()
        func same(_ a: StateFingerprint, _ b: StateFingerprint) -> Bool {
            a.sums == b.sums && a.runningSums == b.runningSums && a.isFinite == b.isFinite
        }
        for count in [0, 1, 5, 8, 19, 64] {
            let values = (0..<count).map { 0.25 * Double($0) - 3.5 }
            tape.reset()
            let leaves = tape.record { tape.registerInputs(values) }
            let (fingerprint, consecutive) = StateFingerprint.ofValues(leaves)
            #expect(same(fingerprint, StateFingerprint(values)))
            #expect(same(fingerprint, StateFingerprint(valuesOf: leaves)))
            #expect(consecutive == (count > 0))
            for k in 0..<count {
                var state = leaves
                state[k] = Tracked(values[k])
                let broken = StateFingerprint.ofValues(state)
                #expect(!broken.consecutive)
                #expect(same(broken.fingerprint, fingerprint))
                if k > 0 {
                    state = leaves
                    state.swapAt(0, k)
                    #expect(!StateFingerprint.ofValues(state).consecutive)
                }
            }
        }
    }
}
