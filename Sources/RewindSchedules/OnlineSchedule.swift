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
//   up to the next fixed target. When x_n is itself a fixed target it must be stored, and the
//   remaining ties go to the latest checkpoint.
// * Exception, one movable slot: when every checkpoint but the last is x_0 or a fixed target and
//   the last lies after all of them (at `base + d`), the tail after `base` is a 2-slot online
//   problem and the slot follows Stumm & Walther's online_r2 pattern for 2 slots: it moves to x_n
//   exactly when n - base is a triangular number beta(2, k). (Against revolve.cpp's online mode
//   this turns (50, 3) from 183 into 180 and (257, 3) from 1896 into 1881.)
// * Exception, the last left-over slot: when exactly one checkpoint is left over from an earlier
//   level (non-fixed, before the last stored fixed target) and at most one other slot is
//   movable, that slot is the last one that can still join the tail, and the same online_r2
//   grid is applied to the newest segment: counting from the newest checkpoint `last`, the
//   left-over slot may move only at n = last + beta(2, k). At such a grid point every option is
//   judged by its worst excess over the offline optimum t(h, c) over all end times h up to the
//   next grid point (a small lookahead to the next decision, with the run allowed to end at any
//   of them); between grid points the other movable slot follows A-revolve's rule.
// * At the end, the reversal runs offline revolve between consecutive checkpoints: the segment
//   after the i-th checkpoint (in step order) gets the c - i slots not held by earlier ones.
//
// Against revolve.cpp's online mode (reference/online_checkpointing.csv) the schedule never does
// more advances, and does fewer on 13 of the 56 rows. The left-over rule turns (100, 3) from 510
// into 507 and (100, 4) from 380 into 379, the tie rule for fixed targets (257, 10) from 695
// into 693; they move a few other lengths both ways by a few advances, since any rule trades
// one end time against another (e.g. (100, 5) 318 -> 319, (257, 4) 1358 -> 1360,
// (10000, 4) 158132 -> 158108).
//
// Convention (as in reference/README.md): the driver learns that the run has ended when it is at
// x_{steps-1} and knows that step steps-1 is the last; it tapes that step at once, and no
// checkpoint is placed at x_{steps-1}. Advances are then
// (steps - 1) + sum_i t(gap_i, c - i), the forward sweep plus the offline reversal.
//
// Cost of a decision: O(c^2 * r) for c slots and repetition number r (each candidate set is
// costed in O(c * r)). A grid decision of the left-over rule costs O((c + w) * r) more for its
// three candidate sets over the w ~ sqrt(2 (n - last)) end times to the next grid point; grid
// points are w steps apart, so that is O(r) per step on average. Memory O(c).

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
    @usableFromInline package var _freeSlots: [Int]
    @usableFromInline package var _nextStep = 0
    // Binomial level targets for the current level (sorted; see the file comment).
    @usableFromInline package var _level = 0
    @usableFromInline package var _targets: [Int] = []
    @usableFromInline package var _levelEnd = 0

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
        _checkForwardStep(at: n)
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
        _checkInvariants()
        let reversal = Reversal(steps: steps, snapshots: snapshots, checkpoints: checkpoints)
        reversal._checkInvariants()
        return reversal
    }

    /// The reversal actions: tape the last step, then offline revolve between checkpoints.
    public struct Reversal: Sequence, Sendable {
        let steps: Int
        let snapshots: Int
        let checkpoints: [(step: Int, slot: Int)]

        /// The reversal's actions, generated lazily.
        public func makeIterator() -> Iterator {
            Iterator(steps: steps, snapshots: snapshots, checkpoints: checkpoints)
        }

        /// Produces the reversal one action at a time; O(snapshots) state.
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

            /// The next action, or `nil` once step 0 has been reversed.
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
    package mutating func _setLevel(_ level: Int) {
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
    package func _isTarget(_ step: Int) -> Bool {
        var lo = 0, hi = _targets.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if _targets[mid] < step { lo = mid + 1 } else { hi = mid }
        }
        return lo < _targets.count && _targets[lo] == step
    }

    /// What each stored checkpoint is for the current level (see the file comment).
    @usableFromInline
    package struct _Roles {
        /// The last stored fixed target, or 0 (x_0) if none is stored yet.
        var base = 0
        /// Indices of the checkpoints that are not fixed (never index 0, which holds x_0).
        var movable: [Int] = []
        /// The movable ones before `base`: left over from an earlier level.
        var stale: [Int] = []
    }

    @usableFromInline
    package func _roles(of steps: [Int]) -> _Roles {
        var roles = _Roles()
        for q in 1..<steps.count {
            if _isTarget(steps[q]) { roles.base = Swift.max(roles.base, steps[q]) } else { roles.movable.append(q) }
        }
        roles.stale = roles.movable.filter { steps[$0] < roles.base }
        return roles
    }

    // Index of the checkpoint x_n replaces, or nil to keep the set.
    @usableFromInline
    package mutating func _chooseReplacement(at n: Int) -> Int? {
        // The level whose end (steps = beta(c, level+1)) is the first not yet passed.
        while _levelEnd < n + 2 { _setLevel(_level + 1) }
        let steps = checkpoints.map(\.step)

        // A fixed target is always stored. Tied evictions cost the same for every end time up to
        // the next target, so they only differ in what later moves can do; evicting the latest
        // keeps the older, wider-spread checkpoints. (On its own this turns (257, 10) from 695
        // into revolve.cpp's 693 and changes no other reference row.)
        if _isTarget(n) {
            return _greedyChoice(steps, at: n, allowKeep: false, frozen: nil, preferLatest: true)
        }

        let roles = _roles(of: steps)

        // One movable slot, already past the last stored fixed checkpoint `base` (the others are
        // x_0 and fixed targets): the tail after `base` is a 2-slot online problem, and the slot
        // follows the online_r2 pattern for 2 slots: it moves to x_n exactly when n - base is a
        // triangular number beta(2, k) = 1, 3, 6, 10, ... So for every run length the tail's
        // inner checkpoint sits at base + beta(2, k-1) when the tail is just over beta(2, k) steps.
        if roles.movable.count == 1 && roles.stale.isEmpty {
            return Self._isTriangular(n - roles.base) ? roles.movable[0] : nil
        }

        // One checkpoint left over from an earlier level, and at most one other movable slot.
        if roles.stale.count == 1 && roles.movable.count <= 2 {
            return _lastStaleChoice(steps, at: n, stale: roles.stale[0], movable: roles.movable)
        }

        return _greedyChoice(steps, at: n, allowKeep: true, frozen: nil, preferLatest: false)
    }

    /// The decision while one slot still holds a checkpoint from an earlier level (`stale`, before
    /// the last fixed checkpoint) and at most one other slot is movable.
    ///
    /// The left-over slot is the last one that can still join the tail, and where it joins sets
    /// the tail's last segment, which has one slot and costs quadratically. The greedy rule moves
    /// it the first step a move pays off for the very next end time, which is often one step
    /// early or a few steps late for the end times after that. So the last segment gets the
    /// online_r2 grid: the left-over slot may move only at n = last + beta(2, k), counted from the
    /// newest checkpoint `last`, and at those grid points every option (keep, move the tail's
    /// checkpoint, move the left-over one) is judged by its worst excess over the offline optimum
    /// over all end times until the next grid point's decision takes effect, the run being
    /// allowed to end at any of them (then by the summed excess; then keep, then the earlier
    /// checkpoint). Between grid points the other movable slot still follows the greedy rule.
    /// (This turns (100, 3) from 510 into revolve.cpp's 507 and (100, 4) from 380 into 379.)
    @usableFromInline
    package func _lastStaleChoice(_ steps: [Int], at n: Int, stale: Int, movable: [Int]) -> Int? {
        let last = steps[steps.count - 1]
        guard Self._isTriangular(n - last) else {
            return _greedyChoice(steps, at: n, allowKeep: true, frozen: stale, preferLatest: false)
        }
        let nextGrid = last + Self._nextTriangular(above: n - last)
        let ends = (n + 2)...(nextGrid + 1)
        var best = _excessOver(ends, set: steps)
        var choice: Int? = nil
        for q in movable {
            let score = _excessOver(ends, set: Self._replacing(q, in: steps, with: n))
            if score < best {
                best = score
                choice = q
            }
        }
        return choice
    }

    /// A-revolve's rule: among "keep the checkpoints" (if `allowKeep`) and "replace the non-fixed
    /// checkpoint q by x_n" (q != `frozen`), the set with the least offline reversal cost if the
    /// run ended at x_{n+1} (steps = n+2); ties are broken by the summed cost over the horizons up
    /// to the next fixed target, then by the first candidate (keep first, then the earliest q), or
    /// the latest q if `preferLatest`.
    @usableFromInline
    package func _greedyChoice(_ steps: [Int], at n: Int, allowKeep: Bool, frozen: Int?, preferLatest: Bool) -> Int? {
        let c = snapshots
        let nextTarget = _targets.first(where: { $0 > n }) ?? _levelEnd
        let horizons = Swift.max(1, nextTarget - n)

        // Costs without the common (h - 1) forward term, as (ending at n+2, summed to the target).
        // `inner` is the set's `_innerAdvances`, `last` its newest checkpoint.
        func key(inner: Int, last: Int) -> (Int128, Int128) {
            let inner = Int128(inner)
            // Last gap has one slot: t(d, 1) = C(d, 2); summed over d = a..b it is C(b+1,3) - C(a,3).
            let a = Int128(n + 1 - last)
            let b = a + Int128(horizons) - 1
            func c3(_ x: Int128) -> Int128 { x * (x - 1) * (x - 2) / 6 }
            let first = inner + a * (a - 1) / 2
            let summed = Int128(horizons) * inner + c3(b + 1) - c3(a)
            return (first, summed)
        }

        // Every candidate's inner cost from prefix and suffix sums, O(1) each, instead of
        // re-summing the whole set per candidate (O(c) each, O(c²) a step: with hundreds of
        // snapshots that was seconds per thousand steps). The sums are exact integers, so the
        // choice is the same as summing each candidate set.
        let costs = _ReplacementCosts(steps, appending: n, snapshots: c)
        var best: (Int128, Int128)? = allowKeep ? key(inner: costs.inner, last: steps[steps.count - 1]) : nil
        var choice: Int? = nil
        for q in 1..<steps.count where q != frozen && !_isTarget(steps[q]) {
            let k = key(inner: costs.innerReplacing(q), last: n)
            if best == nil || k < best! || (preferLatest && k == best!) {
                best = k
                choice = q
            }
        }
        return choice
    }

    /// (worst, summed) excess of `set` over the offline optimum t(h, c) for every end `h` in
    /// `ends` (the run ending at x_{h-1}), the set staying as it is. `set` holds all c slots, so
    /// its last gap has one slot.
    @usableFromInline
    package func _excessOver(_ ends: ClosedRange<Int>, set: [Int]) -> (Int128, Int128) {
        let c = snapshots
        let inner = Int128(Self._innerAdvances(set, snapshots: c))
        let last = set[set.count - 1]
        var worst = Int128.min, summed: Int128 = 0
        for h in ends {
            let d = Int128(h - 1 - last)
            let advances = Int128(h - 1) + inner + d * (d - 1) / 2
            let excess = advances - Int128(RevolveSchedule.minimumAdvances(steps: h, snapshots: c))
            worst = Swift.max(worst, excess)
            summed += excess
        }
        return (worst, summed)
    }

    /// Offline reversal advances of the gaps between the checkpoints of `set` (not the last gap).
    @usableFromInline
    package static func _innerAdvances(_ set: [Int], snapshots c: Int) -> Int {
        var inner = 0
        for i in 0..<(set.count - 1) {
            inner += RevolveSchedule.minimumAdvances(steps: set[i + 1] - set[i], snapshots: c - i)
        }
        return inner
    }

    /// The inner advances (`_innerAdvances`) of `steps` and of every set that drops one
    /// checkpoint q ≥ 1 and appends x_n, each in O(1) after O(c) set-up.
    ///
    /// Dropping q merges the gaps on either side of it and moves every later gap one position
    /// down, so it gets one more slot (the gap at position i has c − i): the later gaps are summed
    /// once more with their slot counts shifted (`shiftedSuffix`).
    @usableFromInline
    package struct _ReplacementCosts {
        let steps: [Int]
        let appended: Int
        let snapshots: Int
        /// prefix[i]: the first i gaps at their own positions.
        let prefix: [Int]
        /// shiftedSuffix[j]: gaps j, j+1, ... each one position earlier (one more slot).
        let shiftedSuffix: [Int]

        @usableFromInline
        package init(_ steps: [Int], appending n: Int, snapshots c: Int) {
            self.steps = steps
            appended = n
            snapshots = c
            let gaps = steps.count - 1
            var prefix = [Int](repeating: 0, count: gaps + 1)
            for i in 0..<gaps {
                prefix[i + 1] = prefix[i] + RevolveSchedule.minimumAdvances(steps: steps[i + 1] - steps[i], snapshots: c - i)
            }
            var shifted = [Int](repeating: 0, count: gaps + 2)
            if gaps >= 1 {
                for j in stride(from: gaps - 1, through: 1, by: -1) {
                    shifted[j] = shifted[j + 1]
                        + RevolveSchedule.minimumAdvances(steps: steps[j + 1] - steps[j], snapshots: c - j + 1)
                }
            }
            self.prefix = prefix
            shiftedSuffix = shifted
        }

        /// `_innerAdvances(steps)`.
        @usableFromInline
        package var inner: Int { prefix[steps.count - 1] }

        /// `_innerAdvances(_replacing(q, in: steps, with: appended))`, 1 ≤ q < steps.count.
        @usableFromInline
        package func innerReplacing(_ q: Int) -> Int {
            let m = steps.count
            let c = snapshots
            // Gaps before q - 1 keep their positions.
            var total = prefix[q - 1]
            if q + 1 < m {
                // steps[q-1] … steps[q+1] at position q - 1, the later gaps shifted down, and
                // the newest checkpoint … x_n last, at position m - 2.
                total += RevolveSchedule.minimumAdvances(steps: steps[q + 1] - steps[q - 1], snapshots: c - (q - 1))
                total += shiftedSuffix[q + 1]
                total += RevolveSchedule.minimumAdvances(steps: appended - steps[m - 1], snapshots: c - (m - 2))
            } else {
                // The newest checkpoint itself dropped: steps[q-1] … x_n at position q - 1.
                total += RevolveSchedule.minimumAdvances(steps: appended - steps[q - 1], snapshots: c - (q - 1))
            }
            return total
        }
    }

    /// `steps` with the checkpoint at index q dropped and x_n appended.
    @usableFromInline
    package static func _replacing(_ q: Int, in steps: [Int], with n: Int) -> [Int] {
        var set = steps
        set.remove(at: q)
        set.append(n)
        return set
    }

    /// Whether x = k(k+1)/2 for some k >= 1.
    @usableFromInline
    package static func _isTriangular(_ x: Int) -> Bool {
        guard x >= 1 else { return false }
        let k = _triangularRoot(x)
        return k * (k + 1) / 2 == x
    }

    /// The smallest triangular number k(k+1)/2 greater than x >= 0.
    @usableFromInline
    package static func _nextTriangular(above x: Int) -> Int {
        var k = _triangularRoot(x)
        while k * (k + 1) / 2 <= x { k += 1 }
        return k * (k + 1) / 2
    }

    /// The largest k with k(k+1)/2 <= x, for x >= 0.
    @usableFromInline
    package static func _triangularRoot(_ x: Int) -> Int {
        let d = 8 * Int128(x) + 1
        var s = Int128(Double(d).squareRoot())
        while s * s > d { s -= 1 }
        while (s + 1) * (s + 1) <= d { s += 1 }
        return Int((s - 1) / 2)
    }

    @usableFromInline
    package static func _reversalAdvances(_ steps: [Int], steps total: Int, snapshots c: Int) -> Int {
        var sum = 0
        for i in 0..<steps.count {
            let end = i + 1 < steps.count ? steps[i + 1] : total - 1
            sum += RevolveSchedule.minimumAdvances(steps: end - steps[i], snapshots: c - i)
        }
        return sum
    }
}
