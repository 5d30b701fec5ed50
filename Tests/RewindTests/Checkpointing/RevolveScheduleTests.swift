import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

struct RevolveRow: CustomTestStringConvertible, Sendable {
    let steps: Int
    let snapshots: Int
    let minForwardSteps: Int
    var testDescription: String { "(\(steps), \(snapshots)) -> \(minForwardSteps)" }

    static let all: [RevolveRow] = ReferenceData.load("revolve_optimal").map {
        RevolveRow(steps: Int($0["steps"]!)!, snapshots: Int($0["snapshots"]!)!,
                   minForwardSteps: Int($0["min_forward_steps"]!)!)
    }
}

@Suite("Revolve (offline binomial checkpointing)") struct RevolveScheduleTests {
    @Test func referenceTableIsLoaded() {
        #expect(RevolveRow.all.count == 108)
    }

    @Test("closed form equals min_forward_steps", arguments: RevolveRow.all)
    func closedFormMatchesReference(row: RevolveRow) {
        #expect(RevolveSchedule.minimumAdvances(steps: row.steps, snapshots: row.snapshots) == row.minForwardSteps)
    }



    @Test("schedule executed action by action", arguments: RevolveRow.all)
    func scheduleMatchesReference(row: RevolveRow) throws {
        let schedule = RevolveSchedule(steps: row.steps, snapshots: row.snapshots)
        let counts = try ScheduleInterpreter.run(schedule, steps: row.steps, memorySlots: row.snapshots)
        #expect(counts.advances == row.minForwardSteps)
        #expect(counts.reverses == row.steps)
        #expect(counts.maxLiveMemory <= row.snapshots)
    }

    @Test func cliExampleGives3636Advances() throws {
        // `rewind schedule --steps 1000 --snapshots 10` must report 3636 advances.
        let schedule = RevolveSchedule(steps: 1000, snapshots: 10)
        let advances = schedule.reduce(0) { $0 + $1.advanceCount }
        #expect(advances == 3636)
        #expect(schedule.advances == 3636)
        #expect(schedule.repetitions == 4)
    }

    @Test func checkpointingJlExample() {
        #expect(RevolveSchedule.minimumAdvances(steps: 50, snapshots: 7) == 105)
    }

    @Test func largeCountsUseSixtyFourBits() {
        #expect(RevolveSchedule.minimumAdvances(steps: 100_000, snapshots: 1) == 4_999_950_000)
        #expect(RevolveSchedule.minimumAdvances(steps: 3_000_000_000, snapshots: 1) == 4_499_999_998_500_000_000)
        #expect(RevolveSchedule.repetitionNumber(steps: 1, snapshots: 5) == 0)
        #expect(RevolveSchedule.repetitionNumber(steps: 10, snapshots: 1) == 9)
    }

    @Test("edge cases", arguments: [(1, 1), (1, 4), (2, 1), (2, 2), (3, 1), (3, 2), (5, 5), (5, 8), (17, 32), (10, 9)])
    func edgeCases(steps: Int, snapshots: Int) throws {
        let schedule = RevolveSchedule(steps: steps, snapshots: snapshots)
        let counts = try ScheduleInterpreter.run(schedule, steps: steps, memorySlots: snapshots)
        let expected = steps == 1 ? 0 : (snapshots == 1 ? steps * (steps - 1) / 2 : nil)
        if let expected { #expect(counts.advances == expected) }
        if snapshots >= steps - 1 { #expect(counts.advances == steps - 1) }
        #expect(counts.advances == RevolveSchedule.minimumAdvances(steps: steps, snapshots: snapshots))
    }

    @Test func firstSweepTapesTheLastStepDirectly() {
        let actions = Array(RevolveSchedule(steps: 10, snapshots: 3))
        let firstReverse = actions.firstIndex { if case .reverse = $0 { return true } else { return false } }!
        #expect(actions[firstReverse] == .reverse(step: 9))
        let before = actions[..<firstReverse].reduce(0) { $0 + $1.advanceCount }
        #expect(before == 9)
        #expect(!actions[..<firstReverse].contains { if case .restore = $0 { return true } else { return false } })
    }

    @Test func exhaustiveSmallSchedulesAgainstExactDP() throws {
        let maxSteps = 120, maxSnapshots = 8
        let dp = exactRevolveTable(maxSteps: maxSteps, maxSnapshots: maxSnapshots)
        for c in 1...maxSnapshots {
            for l in 1...maxSteps {
                let counts = try ScheduleInterpreter.run(RevolveSchedule(steps: l, snapshots: c), steps: l, memorySlots: c)
                #expect(counts.advances == dp[c][l], "l=\(l) c=\(c)")
                #expect(counts.maxLiveMemory <= c)
                // No step is advanced more than r times follows from the count; check the formula too.
                #expect(RevolveSchedule.minimumAdvances(steps: l, snapshots: c) == dp[c][l], "l=\(l) c=\(c)")
            }
        }
    }

    @Test func closedFormAgainstExactDPUpTo2000() {
        let dp = exactRevolveTable(maxSteps: 2000, maxSnapshots: 6)
        var mismatches = 0
        for c in 1...6 {
            for l in 1...2000 where RevolveSchedule.minimumAdvances(steps: l, snapshots: c) != dp[c][l] {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test func randomClosedFormPropertiesUpToAMillion() {
        var rng = SeededGenerator(seed: 0x5EED_2000)
        for _ in 0..<2_000 {
            let l = Int.random(in: 2...1_000_000, using: &rng)
            let c = Int.random(in: 2...40, using: &rng)
            let t = RevolveSchedule.minimumAdvances(steps: l, snapshots: c)
            let r = RevolveSchedule.repetitionNumber(steps: l, snapshots: c)
            // Revolve's split attains the recurrence with the closed form on both sides.
            let j = RevolveSchedule._split(steps: l, snapshots: c)
            #expect(1 <= j && j < l)
            #expect(t == j + RevolveSchedule.minimumAdvances(steps: l - j, snapshots: c - 1)
                + RevolveSchedule.minimumAdvances(steps: j, snapshots: c), "l=\(l) c=\(c)")
            // Bounds: at least the forward sweep, at most r advances per step.
            #expect(t >= l - 1 && t <= r * l)
            // One more slot never hurts; one more step costs at most r+1 more.
            #expect(RevolveSchedule.minimumAdvances(steps: l, snapshots: c + 1) <= t)
            #expect(RevolveSchedule.minimumAdvances(steps: l + 1, snapshots: c) - t <= r + 1)
        }
    }

    @Test func randomSchedulesCountedByIteration() throws {
        var rng = SeededGenerator(seed: 0xC0FF_EE01)
        for _ in 0..<12 {
            let l = Int.random(in: 1_000...100_000, using: &rng)
            let c = Int.random(in: 3...20, using: &rng)
            var advances = 0, reverses = 0
            var live = 0, maxLive = 0
            for action in RevolveSchedule(steps: l, snapshots: c) {
                switch action {
                case let .advance(from, to): advances += to - from
                case .reverse: reverses += 1
                case .store: live += 1; maxLive = Swift.max(maxLive, live)
                case .free: live -= 1
                case .restore: break
                }
            }
            #expect(advances == RevolveSchedule.minimumAdvances(steps: l, snapshots: c), "l=\(l) c=\(c)")
            #expect(reverses == l)
            #expect(maxLive <= c && live == 0)
        }
        // A random sample executed with every check of the interpreter.
        for _ in 0..<20 {
            let l = Int.random(in: 1...3_000, using: &rng)
            let c = Int.random(in: 1...12, using: &rng)
            let counts = try ScheduleInterpreter.run(RevolveSchedule(steps: l, snapshots: c), steps: l, memorySlots: c)
            #expect(counts.advances == RevolveSchedule.minimumAdvances(steps: l, snapshots: c))
        }
    }

    @Test func hugeScheduleIsLazy() {
        // 10^7 steps with 4 slots: the iterator holds at most 4 frames; read a prefix only.
        var iterator = RevolveSchedule(steps: 10_000_000, snapshots: 4).makeIterator()
        var live = 0, maxLive = 0, reverses = 0
        for _ in 0..<100_000 {
            guard let action = iterator.next() else { break }
            switch action {
            case .store: live += 1; maxLive = Swift.max(maxLive, live)
            case .free: live -= 1
            case .reverse: reverses += 1
            default: break
            }
            #expect(iterator._frames.count <= 4)
        }
        #expect(maxLive == 4)
        #expect(reverses > 0)
    }

    // MARK: - Numbers from a command line (issue #11): exact, never a trap

    /// beta(c, r) exactly, in Int128, for the checks below (small arguments only).
    private func beta(_ c: Int, _ r: Int) -> Int128 {
        var value: Int128 = 1
        for i in 0..<Swift.min(c, r) { value = value * Int128(c + r - i) / Int128(i + 1) }
        return value
    }

    @Test("repetition number is the smallest r with beta(c, r) >= l, also past the stepping range",
          arguments: [(2, 1_000_000), (2, 123_456_789), (3, 10_000_000_000), (5, 999_999_937), (40, 1_000_000)])
    func repetitionNumberIsMinimal(snapshots c: Int, steps l: Int) {
        let r = RevolveSchedule.repetitionNumber(steps: l, snapshots: c)
        #expect(beta(c, r) >= Int128(l))
        #expect(beta(c, r - 1) < Int128(l))
    }

    @Test func theLargestNumbersAnswerAtOnceWithoutTrapping() {
        let started = ContinuousClock.now
        // c = 2: r is about 4.3e9; stepping r up one by one took more than 20 s.
        let r = RevolveSchedule.repetitionNumber(steps: .max, snapshots: 2)
        #expect(beta(2, r) >= Int128(Int.max) && beta(2, r - 1) < Int128(Int.max))
        #expect(RevolveSchedule.checkedMinimumAdvances(steps: .max, snapshots: 2) == nil)
        #expect(RevolveSchedule.checkedMinimumAdvances(steps: 1_000_000_000_000_000_000, snapshots: 3) == nil)
        #expect(RevolveSchedule.checkedMinimumAdvances(steps: .max, snapshots: .max) == Int.max - 1)
        #expect(RevolveSchedule.checkedMinimumAdvances(steps: .max, snapshots: 1) == nil)
        #expect(RevolveSchedule.repetitionNumber(steps: .max, snapshots: .max) == 1)
        #expect(RevolveSchedule.repetitionNumber(steps: .max, snapshots: 1) == Int.max - 1)
        // A schedule with more slots than steps is the schedule with one slot a step.
        #expect(Array(RevolveSchedule(steps: 10, snapshots: .max)) == Array(RevolveSchedule(steps: 10, snapshots: 10)))
        var iterator = RevolveSchedule(steps: .max, snapshots: 3).makeIterator()
        for _ in 0..<100 { _ = iterator.next() }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test("checked advances agree with the exact ones wherever they fit",
          arguments: [1, 2, 3, 7, 40])
    func checkedAdvancesAgree(snapshots c: Int) {
        var rng = SeededGenerator(seed: 0x11_2026 &+ UInt64(c))
        for _ in 0..<200 {
            let l = Int.random(in: 1...3_000_000_000, using: &rng)
            let checked = RevolveSchedule.checkedMinimumAdvances(steps: l, snapshots: c)
            // Recompute t = r·l − beta(c+1, r−1) in Int128 from the definition.
            if l == 1 { #expect(checked == 0); continue }
            if c >= l - 1 { #expect(checked == l - 1); continue }
            let r = RevolveSchedule.repetitionNumber(steps: l, snapshots: c)
            let t = c == 1 ? Int128(l) * Int128(l - 1) / 2 : Int128(r) * Int128(l) - beta(c + 1, r - 1)
            #expect(checked.map { Int128($0) } == (t <= Int128(Int.max) ? t : nil), "l=\(l) c=\(c)")
        }
    }

    @Test("largestSteps is the boundary of what fits", arguments: [1, 2, 3, 10, 1_000_000, Int.max])
    func largestStepsIsTheBoundary(snapshots c: Int) {
        for limit in [1, 2, 10, 1000, 1_000_000_007, Int.max] {
            let l = RevolveSchedule.largestSteps(snapshots: c, evaluations: limit)
            #expect(l >= 1)
            let t = RevolveSchedule.checkedMinimumAdvances(steps: l, snapshots: c)!
            #expect(Int128(t) + Int128(l) <= Int128(limit), "c=\(c) limit=\(limit)")
            if l < Int.max {
                let next = RevolveSchedule.checkedMinimumAdvances(steps: l + 1, snapshots: c)
                #expect(next.map { Int128($0) + Int128(l + 1) > Int128(limit) } ?? true, "c=\(c) limit=\(limit)")
            }
        }
        #expect(RevolveSchedule.largestSteps(snapshots: c, evaluations: 0) == 0)
    }
}
