// The schedules' invariants, checked after a schedule is built (revolve, two-level, an online
// reversal), after each online forward step (O(1)), and on each action revolve's iterator
// produces (O(1)).
//
// Compiled in only under `REWIND_CHECK_INVARIANTS`, which Package.swift defines for debug
// builds (docs/design-decisions.md): release builds carry none of this code. Each check comes
// in two parts so that it can be tested: `_invariantViolations()` lists what is broken, and
// `_checkInvariants()` traps on a non-empty list.

#if REWIND_CHECK_INVARIANTS
/// Schedules up to this many steps are replayed whole when they are built. Longer ones are
/// left to the iterator's per-action check: replaying 10^7 steps in every debug run would
/// cost more than the runs themselves.
let _auditedStepLimit = 4096

/// Replays a schedule's actions against the contract of ``CheckpointAction`` — the state an
/// action needs is the current one or a slot's, slots stay within their limits, and steps
/// `steps-1` down to `0` are each reversed exactly once, in that order — and lists every
/// action that breaks it.
package struct _ScheduleAudit {
    package let steps: Int
    private let slotLimits: [StorageLevel: Int]
    /// The current state's step; nil after a reverse (it must be restored before use).
    private var current: Int?
    /// Per level, slot -> the step of the state it holds.
    private var held: [StorageLevel: [Int: Int]] = [.memory: [:], .disk: [:]]
    /// The step the next reverse must tape; -1 once all are reversed.
    private var nextReverse: Int
    private var index = 0
    package private(set) var violations: [String] = []

    /// An audit of a schedule that starts at `x_current` (nil: unknown) with `held` states
    /// already stored.
    package init(
        steps: Int, memorySlots: Int, diskSlots: Int = 0, current: Int? = 0,
        held: [(slot: Int, step: Int, level: StorageLevel)] = []
    ) {
        self.steps = steps
        slotLimits = [.memory: memorySlots, .disk: diskSlots]
        self.current = current
        nextReverse = steps - 1
        for state in held { self.held[state.level, default: [:]][state.slot] = state.step }
    }

    package mutating func consume(_ action: CheckpointAction) {
        defer { index += 1 }
        switch action {
        case let .advance(from, to):
            if current != from { note(action, "the current state is \(describe(current)), not x_\(from)") }
            if !(from < to && to <= nextReverse) {
                note(action, "advances must go forward, at most to the next step to reverse (\(nextReverse))")
            }
            current = to
        case let .store(slot, step, level):
            if current != step { note(action, "the current state is \(describe(current)), not x_\(step)") }
            let limit = slotLimits[level] ?? 0
            if !(0..<limit).contains(slot) { note(action, "slot outside the \(limit) \(level) slots") }
            if let occupant = held[level]?[slot] { note(action, "the slot still holds x_\(occupant)") }
            held[level, default: [:]][slot] = step
            if let count = held[level]?.count, count > limit {
                note(action, "\(count) \(level) snapshots held, the limit is \(limit)")
            }
        case let .restore(slot, step, level):
            let stored = held[level]?[slot]
            if stored != step { note(action, "the slot holds \(describe(stored)), not x_\(step)") }
            current = step
        case let .free(slot, level):
            if held[level]?.removeValue(forKey: slot) == nil { note(action, "the slot holds nothing") }
        case let .reverse(step):
            if step != nextReverse { note(action, "step \(nextReverse) is the next to reverse") }
            if current != step { note(action, "the current state is \(describe(current)), not x_\(step)") }
            nextReverse = step - 1
            current = nil
        }
    }

    /// The violations, with any step left unreversed.
    package mutating func finish() -> [String] {
        if nextReverse >= 0 { violations.append("steps 0...\(nextReverse) were never reversed") }
        return violations
    }

    private mutating func note(_ action: CheckpointAction, _ problem: String) {
        // A broken schedule usually breaks every action after the first; a few say enough.
        guard violations.count < 20 else { return }
        violations.append("action \(index) \(action): \(problem)")
    }

    private func describe(_ step: Int?) -> String { step.map { "x_\($0)" } ?? "unknown" }
}

/// The violations of `actions` replayed by `audit`.
func _auditViolations(_ actions: some Sequence<CheckpointAction>, _ audit: _ScheduleAudit) -> [String] {
    var audit = audit
    for action in actions { audit.consume(action) }
    return audit.finish()
}
#endif

/// Traps with `violations()` joined, if there are any, in builds that check invariants.
@inline(__always)
func _checkScheduleInvariants(_ schedule: @autoclosure () -> String, _ violations: () -> [String]) {
    #if REWIND_CHECK_INVARIANTS
    let found = violations()
    precondition(found.isEmpty, "\(schedule()) invariants broken: " + found.joined(separator: "; "))
    #endif
}

// MARK: - Revolve

extension RevolveSchedule {
    #if REWIND_CHECK_INVARIANTS
    /// Every way the schedule's actions break the driver's contract; empty when sound.
    /// O(actions).
    package func _invariantViolations() -> [String] {
        _auditViolations(self, _ScheduleAudit(steps: steps, memorySlots: snapshots))
    }
    #endif

    /// Replays a freshly built schedule of at most `_auditedStepLimit` steps.
    @inline(__always)
    func _checkInvariants() {
        #if REWIND_CHECK_INVARIANTS
        guard steps <= _auditedStepLimit else { return }
        _checkScheduleInvariants("RevolveSchedule(steps: \(steps), snapshots: \(snapshots))") { _invariantViolations() }
        #endif
    }
}

extension RevolveSchedule.Iterator {
    #if REWIND_CHECK_INVARIANTS
    /// What is wrong with the top frame of the stack, or with its link to the frame below.
    /// Frames only change at the top, so checking it at every step keeps the whole stack sound
    /// in O(1): frames are non-empty, frame k keeps its start in slot k, a frame's range
    /// starts where the one below it now ends, and it has one snapshot fewer.
    package func _topFrameViolations() -> [String] {
        guard let top = _frames.last else { return [] }
        let k = _frames.count - 1
        var violations: [String] = []
        if top.start >= top.end { violations.append("frame \(k) has the empty range \(top.start)..<\(top.end)") }
        if top.slot != k { violations.append("frame \(k) keeps its start in slot \(top.slot), not \(k)") }
        if top.snapshots < 1 { violations.append("frame \(k) has \(top.snapshots) snapshots") }
        if k > 0 {
            let below = _frames[k - 1]
            if below.end != top.start {
                violations.append("frame \(k) starts at \(top.start), frame \(k - 1) ends at \(below.end)")
            }
            if below.snapshots != top.snapshots + 1 {
                violations.append("frame \(k) has \(top.snapshots) snapshots, frame \(k - 1) \(below.snapshots)")
            }
        }
        return violations
    }
    #endif

    @inline(__always)
    func _checkInvariants() {
        _checkScheduleInvariants("revolve iterator") {
            #if REWIND_CHECK_INVARIANTS
            _topFrameViolations()
            #else
            []
            #endif
        }
    }
}

// MARK: - Online

extension OnlineSchedule {
    #if REWIND_CHECK_INVARIANTS
    /// What is wrong with the stored checkpoints: at most `snapshots` of them, in increasing
    /// step order, all before the current step, and the slots they hold plus the free slots
    /// being exactly `0..<snapshots`, each once. O(snapshots).
    package func _invariantViolations() -> [String] {
        var violations: [String] = []
        if checkpoints.count > snapshots {
            violations.append("\(checkpoints.count) checkpoints held, the limit is \(snapshots)")
        }
        for (a, b) in zip(checkpoints, checkpoints.dropFirst()) where a.step >= b.step {
            violations.append("checkpoints out of order: x_\(a.step) before x_\(b.step)")
        }
        if let last = checkpoints.last, last.step >= _nextStep {
            violations.append("checkpoint x_\(last.step) is not before the current step \(_nextStep)")
        }
        var uses = [Int](repeating: 0, count: snapshots)
        for slot in checkpoints.map(\.slot) + _freeSlots {
            if uses.indices.contains(slot) { uses[slot] += 1 } else { violations.append("slot \(slot) does not exist") }
        }
        for (slot, count) in uses.enumerated() where count != 1 {
            violations.append("slot \(slot) is held or free \(count) times, not once")
        }
        return violations
    }

    /// What the forward step at `n` may have broken, in O(1): the slot count, and the newest
    /// checkpoint (in range, after the one before it, not after `n`). The whole set is checked
    /// (`_invariantViolations()`) once, when the reversal is built: an O(snapshots) check per
    /// step made a debug run with thousands of snapshots several times slower.
    package func _forwardStepViolations(at n: Int) -> [String] {
        var violations: [String] = []
        if checkpoints.count + _freeSlots.count != snapshots {
            violations.append(
                "\(checkpoints.count) checkpoints and \(_freeSlots.count) free slots, not \(snapshots) slots")
        }
        if let last = checkpoints.last {
            if last.step > n { violations.append("checkpoint x_\(last.step) is after the current step \(n)") }
            if !(0..<snapshots).contains(last.slot) { violations.append("slot \(last.slot) does not exist") }
            if checkpoints.count >= 2, checkpoints[checkpoints.count - 2].step >= last.step {
                violations.append(
                    "checkpoints out of order: x_\(checkpoints[checkpoints.count - 2].step) before x_\(last.step)")
            }
        }
        return violations
    }
    #endif

    @inline(__always)
    func _checkInvariants() {
        _checkScheduleInvariants("OnlineSchedule(snapshots: \(snapshots))") {
            #if REWIND_CHECK_INVARIANTS
            _invariantViolations()
            #else
            []
            #endif
        }
    }

    @inline(__always)
    func _checkForwardStep(at n: Int) {
        _checkScheduleInvariants("OnlineSchedule(snapshots: \(snapshots)) at step \(n)") {
            #if REWIND_CHECK_INVARIANTS
            _forwardStepViolations(at: n)
            #else
            []
            #endif
        }
    }
}

extension OnlineSchedule.Reversal {
    #if REWIND_CHECK_INVARIANTS
    /// Every way the reversal breaks the driver's contract, starting at `x_{steps-1}` with the
    /// checkpoints stored. O(actions).
    package func _invariantViolations() -> [String] {
        _auditViolations(
            self,
            _ScheduleAudit(
                steps: steps, memorySlots: snapshots, current: steps - 1,
                held: checkpoints.map { (slot: $0.slot, step: $0.step, level: .memory) }))
    }
    #endif

    @inline(__always)
    func _checkInvariants() {
        #if REWIND_CHECK_INVARIANTS
        guard steps <= _auditedStepLimit else { return }
        _checkScheduleInvariants("online reversal of \(steps) steps") { _invariantViolations() }
        #endif
    }
}

// MARK: - Two-level

extension TwoLevelSchedule {
    #if REWIND_CHECK_INVARIANTS
    /// Every way the schedule's actions break the driver's contract, with memory and disk
    /// slots counted apart; empty when sound. O(actions).
    package func _invariantViolations() -> [String] {
        _auditViolations(actions(), _ScheduleAudit(steps: steps, memorySlots: memorySlots, diskSlots: diskSlots))
    }
    #endif

    @inline(__always)
    func _checkInvariants() {
        #if REWIND_CHECK_INVARIANTS
        guard steps <= _auditedStepLimit else { return }
        _checkScheduleInvariants("TwoLevelSchedule(steps: \(steps))") { _invariantViolations() }
        #endif
    }
}
