// `_invariantViolations()` exists only where `_checkInvariants()` is compiled in (debug builds;
// Package.swift defines REWIND_CHECK_INVARIANTS for them, and for this target).
#if REWIND_CHECK_INVARIANTS
import Testing

import Rewind
@testable import RewindSchedules

@Suite("Schedules: invariants (REWIND_CHECK_INVARIANTS)")
struct ScheduleInvariantTests {
    // MARK: Sound schedules pass

    @Test func revolveSchedulesHaveNoViolations() {
        for steps in 1...60 {
            for snapshots in 1...8 {
                let violations = RevolveSchedule(steps: steps, snapshots: snapshots)._invariantViolations()
                #expect(violations == [], "steps \(steps), snapshots \(snapshots)")
            }
        }
    }

    @Test func onlineSchedulesHaveNoViolations() {
        for snapshots in 1...5 {
            var online = OnlineSchedule(snapshots: snapshots)
            for steps in 1...80 {
                #expect(online.reversal(steps: steps)._invariantViolations() == [], "snapshots \(snapshots), steps \(steps)")
                _ = online.forwardActions(atStep: steps - 1)
                #expect(online._invariantViolations() == [])
                #expect(online._forwardStepViolations(at: steps - 1) == [])
            }
        }
    }

    @Test func twoLevelSchedulesHaveNoViolations() {
        for steps in [1, 2, 5, 17, 64] {
            for (memory, disk) in [(0, 1), (1, 0), (1, 2), (3, 2), (2, 5)] {
                let schedule = TwoLevelSchedule(
                    steps: steps, memorySlots: memory, diskSlots: disk, costs: TwoLevelCosts(wd: 3, rd: 2))
                #expect(schedule._invariantViolations() == [], "steps \(steps), memory \(memory), disk \(disk)")
            }
        }
    }

    // MARK: Broken schedules are reported

    private func violations(_ actions: [CheckpointAction], steps: Int, memorySlots: Int = 2) -> [String] {
        _auditViolations(actions, _ScheduleAudit(steps: steps, memorySlots: memorySlots))
    }

    @Test func aStepReversedTwiceIsReported() {
        let found = violations(
            [.store(slot: 0, step: 0, level: .memory), .advance(from: 0, to: 1), .reverse(step: 1),
             .restore(slot: 0, step: 0, level: .memory), .advance(from: 0, to: 1), .reverse(step: 1)],
            steps: 2)
        #expect(found.contains { $0.hasPrefix("action 5 reverse(1): step 0 is the next to reverse") })
        #expect(found.contains("steps 0...0 were never reversed"))
    }

    @Test func snapshotsBeyondTheLimitAreReported() {
        let found = violations(
            [.store(slot: 0, step: 0, level: .memory), .advance(from: 0, to: 1),
             .store(slot: 1, step: 1, level: .memory), .advance(from: 1, to: 2),
             .store(slot: 2, step: 2, level: .memory)],
            steps: 4)
        #expect(found.contains { $0.hasPrefix("action 4 store(slot: 2, step: 2, memory): slot outside the 2 memory slots") })
        #expect(found.contains { $0.contains("3 memory snapshots held, the limit is 2") })
    }

    @Test func aRestoreOfTheWrongStateIsReported() {
        let found = violations(
            [.store(slot: 0, step: 0, level: .memory), .advance(from: 0, to: 1), .reverse(step: 1),
             .restore(slot: 0, step: 1, level: .memory), .reverse(step: 0)],
            steps: 2)
        #expect(found == [
            "action 3 restore(slot: 0, step: 1, memory): the slot holds x_0, not x_1",
            "action 4 reverse(0): the current state is x_1, not x_0",
        ])
    }

    @Test func usingTheStateAfterAReverseIsReported() {
        let found = violations([.advance(from: 0, to: 1), .reverse(step: 1), .reverse(step: 0)], steps: 2)
        #expect(found == ["action 2 reverse(0): the current state is unknown, not x_0"])
    }

    @Test func aCorruptRevolveFrameIsReported() {
        var iterator = RevolveSchedule(steps: 20, snapshots: 3).makeIterator()
        for _ in 0..<3 { _ = iterator.next() }
        #expect(iterator._frames.count == 2)
        #expect(iterator._topFrameViolations() == [])
        iterator._frames[1].slot = 0
        iterator._frames[1].start += 1
        #expect(iterator._topFrameViolations() == [
            "frame 1 keeps its start in slot 0, not 1",
            "frame 1 starts at \(iterator._frames[1].start), frame 0 ends at \(iterator._frames[0].end)",
        ])
    }

    @Test func aSlotBothHeldAndFreeIsReported() {
        var online = OnlineSchedule(snapshots: 3)
        for n in 0..<2 { _ = online.forwardActions(atStep: n) }
        #expect(online._invariantViolations() == [])
        online._freeSlots.append(online.checkpoints[0].slot)
        #expect(online._invariantViolations() == ["slot \(online.checkpoints[0].slot) is held or free 2 times, not once"])
        #expect(online._forwardStepViolations(at: 1) == ["2 checkpoints and 2 free slots, not 3 slots"])
    }

    @Test func aCheckpointAfterTheCurrentStepIsReportedByTheStepCheck() {
        // `checkpoints` cannot be written from outside; a step count behind them breaks the same rule.
        var online = OnlineSchedule(snapshots: 3)
        for n in 0..<3 { _ = online.forwardActions(atStep: n) }
        #expect(online._forwardStepViolations(at: 2) == [])
        #expect(online._forwardStepViolations(at: 1) == ["checkpoint x_2 is after the current step 1"])
    }
}
#endif
