// Online checkpointing: the number of steps is not known while the forward run goes on.
//
// Algorithm: the adaptive replacement rule of A-revolve (M. Hinze and J. Sternberg,
// "A-Revolve: an adaptive memory-reduced procedure for calculating adjoints; with an application
// to computing adjoints of the instationary Navier-Stokes system", Optimization Methods and
// Software 20(6), 645-663, 2005), restricted by the binomial "fixed" checkpoints that
// P. Stumm and A. Walther use in their online_r3 scheme ("New algorithms for optimal online
// checkpointing", SIAM J. Sci. Comput. 32(2), 836-854, 2010), applied at every repetition level.
//
// * While a slot is free, every state is stored (x_0, x_1, ..., x_{c-1}).
// * Level targets. With c slots, the offline optimum for steps = beta(c, lam+1) keeps its
//   checkpoints at P_i = sum_{j<i} beta(c-j, lam) (gaps beta(c, lam), beta(c-1, lam), ...,
//   beta(1, lam)). While the run is below that length, the states x_{P_i} are *fixed*: they are
//   always stored and never overwritten until the run passes beta(c, lam+1) and the next level's
//   targets take over. So the online schedule is exactly offline-optimal at every
//   steps = beta(c, lam+1), and its first gap never falls behind the binomial growth.
// * Otherwise, at each state x_n, A-revolve's rule: among "keep the checkpoints" and "replace the
//   non-fixed checkpoint q by x_n", choose the set that minimises the offline reversal cost if
//   the run ended at x_{n+1} (steps = n+2); ties are broken by the summed cost over the horizons
//   up to the next fixed target.
// * Exception, one movable slot: when every checkpoint but the last is x_0 or a fixed target and
//   the last lies after all of them (at `base + d`), the tail after `base` is a 2-slot online
//   problem and the slot follows Stumm & Walther's online_r2 pattern for 2 slots: it moves to x_n
//   exactly when n - base is a triangular number beta(2, k). (Against revolve.cpp's online mode
//   this turns (50, 3) from 183 into 180 and (257, 3) from 1896 into 1881; no other reference
//   row changes.)
// * At the end, the reversal runs offline revolve between consecutive checkpoints: the segment
//   after the i-th checkpoint (in step order) gets the c - i slots not held by earlier ones.
//
// Convention (as in reference/README.md): the driver learns that the run has ended when it is at
// x_{steps-1} and knows that step steps-1 is the last; it tapes that step at once, and no
// checkpoint is placed at x_{steps-1}. Advances are then
// (steps - 1) + sum_i t(gap_i, c - i), the forward sweep plus the offline reversal.
//
// Cost of a decision: O(c^2 * r) for c slots and repetition number r (each candidate set is
// costed in O(c * r)); memory O(c).

/// An online checkpointing schedule: checkpoints are placed during a forward run of unknown
/// length, and the reversal is planned when the run ends.
///
/// The driver calls ``forwardActions(atStep:)`` at every state `x_n` that is *not* the last
/// (n = 0, 1, ..., steps-2) and performs the returned actions, which end with the advance to
/// `x_{n+1}`. At `x_{steps-1}` it calls ``reversal(steps:)`` and performs those actions; the
/// first one tapes step `steps-1` from the current state.
///
/// ```swift
/// var online = OnlineSchedule(snapshots: 4)
/// var n = 0
/// while !simulationIsFinished(at: n) {            // the driver decides when to stop
///     for action in online.forwardActions(atStep: n) { driver.perform(action) }
///     n += 1
/// }
/// for action in online.reversal(steps: n + 1) { driver.perform(action) }
/// ```
public struct OnlineSchedule: Sendable {
    /// Number of snapshot slots, including the one holding `x_0`.
    public let snapshots: Int

    /// The stored states, in step order, with their slots.
    public private(set) var checkpoints: [(step: Int, slot: Int)] = []
    @usableFromInline var _freeSlots: [Int]
    @usableFromInline var _nextStep = 0
    // Binomial level targets for the current level (sorted; see the file comment).
    @usableFromInline var _level = 0
    @usableFromInline var _targets: [Int] = []
    @usableFromInline var _levelEnd = 0

    /// Creates an online schedule with `snapshots >= 1` slots.
    public init(snapshots: Int) {
        precondition(snapshots >= 1, "online checkpointing needs a snapshot")
        self.snapshots = snapshots
        _freeSlots = Array((0..<snapshots).reversed())
        _setLevel(0)
    }

    /// Steps of the stored states, in order.
    public var checkpointSteps: [Int] { checkpoints.map(\.step) }

    /// The actions at state `x_n`, which is not the last state: possibly a `free` and a `store`,
    /// then `advance(from: n, to: n+1)`. Calls must come for n = 0, 1, 2, ... in order.
    public mutating func forwardActions(atStep n: Int) -> [CheckpointAction] {
        precondition(n == _nextStep, "forwardActions(atStep:) must be called for steps 0, 1, 2, ... in order")
        _nextStep = n + 1
        var actions: [CheckpointAction] = []
        if checkpoints.count < snapshots {
            let slot = _freeSlots.removeLast()
            checkpoints.append((n, slot))
            actions.append(.store(slot: slot, step: n, level: .memory))
        } else if let q = _chooseReplacement(at: n) {
            let slot = checkpoints[q].slot
            checkpoints.remove(at: q)
            checkpoints.append((n, slot))
            actions.append(.free(slot: slot, level: .memory))
            actions.append(.store(slot: slot, step: n, level: .memory))
        }
        actions.append(.advance(from: n, to: n + 1))
        return actions
    }

    /// Advances of the whole run if it ends with `steps` steps now: the forward sweep to
    /// `x_{steps-1}` plus the offline reversal between the checkpoints.
    public func totalAdvances(steps: Int) -> Int {
        precondition(steps == _nextStep + 1, "the run must be at x_{steps-1}")
        if steps == 1 { return 0 }
        return (steps - 1) + Self._reversalAdvances(checkpoints.map(\.step), steps: steps, snapshots: snapshots)
    }

    /// The reversal, once the driver is at `x_{steps-1}` and knows step `steps-1` is the last.
    ///
    /// `forwardActions(atStep:)` must have been called for exactly `0..<steps-1`.
    public func reversal(steps: Int) -> Reversal {
        precondition(steps >= 1)
        precondition(steps == _nextStep + 1, "reversal(steps:) expects the run to be at x_{steps-1}")
        return Reversal(steps: steps, snapshots: snapshots, checkpoints: checkpoints)
    }

    /// The reversal actions: tape the last step, then offline revolve between checkpoints.
    public struct Reversal: Sequence, Sendable {
        let steps: Int
        let snapshots: Int
        let checkpoints: [(step: Int, slot: Int)]

        public func makeIterator() -> Iterator {
            Iterator(steps: steps, snapshots: snapshots, checkpoints: checkpoints)
        }

        public struct Iterator: IteratorProtocol, Sendable {
            let snapshots: Int
            let checkpoints: [(step: Int, slot: Int)]
            var segment: Int            // index of the checkpoint whose segment runs now
            var inner: RevolveSchedule.Iterator?
            var slotMap: [Int] = []     // revolve's stack slot -> our slot
            var lastTaped = false
            let steps: Int

            init(steps: Int, snapshots: Int, checkpoints: [(step: Int, slot: Int)]) {
                self.steps = steps
                self.snapshots = snapshots
                self.checkpoints = checkpoints
                self.segment = checkpoints.count
            }

            public mutating func next() -> CheckpointAction? {
                if !lastTaped {
                    lastTaped = true
                    return .reverse(step: steps - 1)
                }
                while true {
                    if var it = inner {
                        if let action = it.next() {
                            inner = it
                            return map(action)
                        }
                        inner = nil
                    }
                    guard segment > 0 else { return nil }
                    segment -= 1
                    let start = checkpoints[segment].step
                    let end = segment + 1 < checkpoints.count ? checkpoints[segment + 1].step : steps - 1
                    let held = Set(checkpoints[..<segment].map(\.slot))
                    let own = checkpoints[segment].slot
                    slotMap = [own] + (0..<snapshots).filter { !held.contains($0) && $0 != own }
                    inner = RevolveSchedule.Iterator(
                        start: start, end: end, snapshots: snapshots - segment, storeStart: false)
                }
            }

            func map(_ action: CheckpointAction) -> CheckpointAction {
                switch action {
                case let .store(slot, step, level): return .store(slot: slotMap[slot], step: step, level: level)
                case let .restore(slot, step, level): return .restore(slot: slotMap[slot], step: step, level: level)
                case let .free(slot, level): return .free(slot: slotMap[slot], level: level)
                case .advance, .reverse: return action
                }
            }
        }
    }
}

// MARK: - Decision rule

extension OnlineSchedule {
    @usableFromInline
    mutating func _setLevel(_ level: Int) {
        _level = level
        let c = snapshots
        _levelEnd = RevolveSchedule._beta(c, level + 1)!
        var targets: [Int] = []
        var p = 0
        for j in 0..<(c - 1) {
            p += RevolveSchedule._beta(c - j, level)!
            targets.append(p)
        }
        _targets = targets
    }

    @usableFromInline
    func _isTarget(_ step: Int) -> Bool {
        var lo = 0, hi = _targets.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if _targets[mid] < step { lo = mid + 1 } else { hi = mid }
        }
        return lo < _targets.count && _targets[lo] == step
    }

    // Index of the checkpoint x_n replaces, or nil to keep the set.
    @usableFromInline
    mutating func _chooseReplacement(at n: Int) -> Int? {
        // The level whose end (steps = beta(c, level+1)) is the first not yet passed.
        while _levelEnd < n + 2 { _setLevel(_level + 1) }
        let c = snapshots
        let steps = checkpoints.map(\.step)

        // One movable slot, already past the last stored fixed checkpoint `base` (the others are
        // x_0 and fixed targets): the tail after `base` is a 2-slot online problem, and the slot
        // follows the online_r2 pattern for 2 slots: it moves to x_n exactly when n - base is a
        // triangular number beta(2, k) = 1, 3, 6, 10, ... So for every run length the tail's
        // inner checkpoint sits at base + beta(2, k-1) when the tail is just over beta(2, k) steps.
        if !_isTarget(n) {
            var free = 0, freeIndex = 0, base = 0
            for q in 1..<steps.count {
                if _isTarget(steps[q]) { base = Swift.max(base, steps[q]) } else { free += 1; freeIndex = q }
            }
            if free == 1 && freeIndex == steps.count - 1 && steps[freeIndex] > base {
                return Self._isTriangular(n - base) ? freeIndex : nil
            }
        }

        let nextTarget = _targets.first(where: { $0 > n }) ?? _levelEnd
        let horizons = Swift.max(1, nextTarget - n)

        // Costs without the common (h - 1) forward term, as (ending at n+2, summed to the target).
        func key(_ set: [Int]) -> (Int128, Int128) {
            var inner: Int128 = 0
            for i in 0..<(set.count - 1) {
                inner += Int128(RevolveSchedule.minimumAdvances(steps: set[i + 1] - set[i], snapshots: c - i))
            }
            // Last gap has one slot: t(d, 1) = C(d, 2); summed over d = a..b it is C(b+1,3) - C(a,3).
            let a = Int128(n + 1 - set[set.count - 1])
            let b = a + Int128(horizons) - 1
            func c3(_ x: Int128) -> Int128 { x * (x - 1) * (x - 2) / 6 }
            let first = inner + a * (a - 1) / 2
            let summed = Int128(horizons) * inner + c3(b + 1) - c3(a)
            return (first, summed)
        }

        var best: (Int128, Int128)? = nil
        var choice: Int? = nil
        if !_isTarget(n) {
            best = key(steps)
        }
        for q in 1..<steps.count where !_isTarget(steps[q]) {
            var candidate = steps
            candidate.remove(at: q)
            candidate.append(n)
            let k = key(candidate)
            if best == nil || k < best! {
                best = k
                choice = q
            }
        }
        return choice
    }

    /// Whether x = k(k+1)/2 for some k >= 1.
    @usableFromInline
    static func _isTriangular(_ x: Int) -> Bool {
        guard x >= 1 else { return false }
        let d = 8 * Int128(x) + 1
        var k = Int128(Double(d).squareRoot())
        while k * k > d { k -= 1 }
        while (k + 1) * (k + 1) <= d { k += 1 }
        return k * k == d
    }

    @usableFromInline
    static func _reversalAdvances(_ steps: [Int], steps total: Int, snapshots c: Int) -> Int {
        var sum = 0
        for i in 0..<steps.count {
            let end = i + 1 < steps.count ? steps[i + 1] : total - 1
            sum += RevolveSchedule.minimumAdvances(steps: end - steps[i], snapshots: c - i)
        }
        return sum
    }
}
