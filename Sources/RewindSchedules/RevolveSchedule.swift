// Binomial checkpointing: revolve.
//
// Algorithm: A. Griewank and A. Walther, "Algorithm 799: revolve: an implementation of
// checkpointing for the reverse or adjoint mode of computational differentiation",
// ACM Transactions on Mathematical Software 26(1), 19-45, 2000.
//
// Guarantees, for `steps = l` known in advance and `snapshots = c` slots (the slot holding x_0
// counts as one of them):
// * the schedule performs exactly t(l, c) = r*l - beta(c+1, r-1) advances, where
//   beta(c, r) = (c+r)! / (c! r!) and r, the repetition number, is the smallest integer with
//   beta(c, r) >= l. This is the minimum over all schedules with at most c slots;
// * no step is advanced more than r times;
// * at most c slots are live at any time, and each step is taped exactly once, in the order
//   l-1, l-2, ..., 0. The first sweep tapes step l-1 directly (revolve's "firsturn").
//
// The split rule is revolve's (the `bino1`...`bino5` rule of revolve.cpp), which attains
// t(l, c) for every (l, c); the tests check the count against the closed form and against the
// exact dynamic programme t(l,c) = min_j [j + t(l-j, c-1) + t(j, c)].

/// The optimal offline checkpointing schedule for a run whose length is known in advance.
///
/// The sequence is generated lazily from a stack of at most `snapshots` frames, so a schedule
/// for 10^7 steps needs O(snapshots) memory, whatever the number of actions. Slot `k` is always
/// the `k`-th live snapshot (slots are used like a stack), and slot 0 holds `x_0`.
///
/// ```swift
/// let schedule = RevolveSchedule(steps: 1000, snapshots: 10)
/// let advances = schedule.reduce(0) { $0 + $1.advanceCount }      // 3636
/// RevolveSchedule.minimumAdvances(steps: 1000, snapshots: 10)     // 3636, without iterating
/// ```
public struct RevolveSchedule: Sequence, Sendable {
    /// Number of time steps to reverse.
    public let steps: Int
    /// Number of snapshot slots, including the one holding `x_0`.
    public let snapshots: Int

    /// Creates the schedule. Both numbers must be at least 1.
    public init(steps: Int, snapshots: Int) {
        precondition(steps >= 1, "revolve needs at least one step")
        precondition(snapshots >= 1, "revolve needs a snapshot")
        self.steps = steps
        self.snapshots = snapshots
    }

    /// Advances the schedule will perform, t(steps, snapshots), in closed form.
    public var advances: Int { Self.minimumAdvances(steps: steps, snapshots: snapshots) }

    /// The most times any one step is advanced.
    public var repetitions: Int { Self.repetitionNumber(steps: steps, snapshots: snapshots) }

    /// The actions, generated lazily: iterating twice gives the same schedule.
    public func makeIterator() -> Iterator {
        Iterator(start: 0, end: steps, snapshots: Swift.min(snapshots, steps), storeStart: true)
    }

    /// Produces the actions one at a time; O(snapshots) state.
    public struct Iterator: IteratorProtocol, Sendable {
        @usableFromInline
        package struct _Frame: Sendable {
            var start: Int
            var end: Int
            var slot: Int
            var snapshots: Int
        }

        @usableFromInline package var _frames: [_Frame]
        // The current state's step, or nil after a reverse (the state then must be restored).
        @usableFromInline package var _current: Int?
        // At most two actions follow from one decision; a pair of optionals avoids an array queue.
        @usableFromInline package var _queued0: CheckpointAction?
        @usableFromInline package var _queued1: CheckpointAction?

        /// Reverses steps `start..<end` with `snapshots` slots (slot 0 for `x_start`).
        ///
        /// With `storeStart` the first action stores `x_start` (current state `x_start`);
        /// without it `x_start` is taken to be in slot 0 already and the current state unknown,
        /// so the first action restores it. The online schedule uses the second form.
        init(start: Int, end: Int, snapshots: Int, storeStart: Bool) {
            precondition(end > start && snapshots >= 1)
            _frames = [_Frame(start: start, end: end, slot: 0, snapshots: snapshots)]
            _frames.reserveCapacity(Swift.min(snapshots, end - start))
            if storeStart {
                _current = start
                _queued0 = .store(slot: 0, step: start, level: .memory)
            } else {
                _current = nil
            }
        }

        /// The next action, or `nil` once step 0 has been reversed.
        public mutating func next() -> CheckpointAction? {
            if let action = _queued0 {
                _queued0 = _queued1
                _queued1 = nil
                return action
            }
            guard let frame = _frames.last else { return nil }
            if _current != frame.start {
                _current = frame.start
                return .restore(slot: frame.slot, step: frame.start, level: .memory)
            }
            let length = frame.end - frame.start
            if length == 1 {
                _frames.removeLast()
                _current = nil
                _queued0 = .free(slot: frame.slot, level: .memory)
                return .reverse(step: frame.start)
            }
            let split = frame.start + RevolveSchedule._split(steps: length, snapshots: frame.snapshots)
            _frames[_frames.count - 1].end = split
            if frame.end - split == 1 {
                // The right part is one step: tape it at once, no snapshot needed.
                _current = nil
                _queued0 = .reverse(step: split)
            } else {
                let slot = _frames.count
                precondition(frame.snapshots >= 2, "revolve split needs a free slot")
                _frames.append(_Frame(start: split, end: frame.end, slot: slot, snapshots: frame.snapshots - 1))
                _current = split
                _queued0 = .store(slot: slot, step: split, level: .memory)
            }
            return .advance(from: frame.start, to: split)
        }
    }
}

// MARK: - Closed forms
//
// Every count here is exact and never traps, whatever `Int` the caller passes: binomials are
// built in `Int128` with overflow checks and stop as soon as they pass the number they are
// compared with, the repetition number is found by a search whose cost does not grow with
// the step count (O(log l) binomials of O(100) factors each), and a count that does not fit
// in `Int` comes back as nil from the `checked…` forms. Slot counts above the step count are
// the step count: slots beyond one a step are never used.

extension RevolveSchedule {
    /// beta(c, r) = C(c+r, c), or nil once it exceeds `limit` (so callers never overflow).
    ///
    /// O(min(c, r, ~100)): the partial products C(n, i) at least double while i < 2·min/3, so
    /// they pass any 64-bit limit within about a hundred factors.
    @usableFromInline
    package static func _beta(_ c: Int, _ r: Int, limit: Int = Int.max) -> Int? {
        guard let value = _beta128(c, r, limit: Int128(limit)) else { return nil }
        return Int(value)
    }

    /// beta(c, r) in `Int128`, or nil once it exceeds `limit` or a partial product would
    /// overflow `Int128` (then it exceeds every 64-bit count by far).
    @usableFromInline
    package static func _beta128(_ c: Int, _ r: Int, limit: Int128) -> Int128? {
        if c < 0 || r < 0 { return 0 }
        let k = Swift.min(c, r)
        let n = Int128(c) + Int128(r)
        var value: Int128 = 1
        var i = 0
        while i < k {
            // value · (n − i) / (i + 1) stays an integer: value is C(n, i).
            let (product, overflow) = value.multipliedReportingOverflow(by: n - Int128(i))
            if overflow { return nil }
            value = product / Int128(i + 1)
            if value > limit { return nil }
            i += 1
        }
        return value
    }

    /// Whether beta(c, r) >= l.
    @usableFromInline
    package static func _betaReaches(_ c: Int, _ r: Int, _ l: Int) -> Bool {
        _beta128(c, r, limit: Int128(l) - 1) == nil
    }

    /// The repetition number r: the smallest integer with beta(snapshots, r) >= steps.
    ///
    /// No step is advanced more than r times by an optimal schedule. O(log steps), for any
    /// `Int` inputs.
    public static func repetitionNumber(steps: Int, snapshots: Int) -> Int {
        precondition(steps >= 1 && snapshots >= 1)
        return _repetition(steps: steps, snapshots: snapshots).r
    }

    // Returns r and beta(c, r). Small r (the usual case, c of tens for l of millions) is found
    // by stepping beta(c, r) = beta(c, r-1)·(c+r)/r; past 64 steps (few slots for many
    // steps: c = 2 and l = 2^63 − 1 has r ≈ 4.3·10^9) by bisection, which costs O(log l).
    @usableFromInline
    package static func _repetition(steps l: Int, snapshots: Int) -> (r: Int, beta: Int128) {
        let c = Swift.min(snapshots, l)
        // One slot: beta(1, r) = r + 1, so r = l - 1 at once.
        if c == 1 { return (l - 1, Int128(l)) }
        var r = 0
        var beta: Int128 = 1
        while beta < Int128(l) && r < 64 {
            r += 1
            beta = beta * (Int128(c) + Int128(r)) / Int128(r)
        }
        if beta >= Int128(l) { return (r, beta) }
        // beta(c, l - 1) >= beta(1, l - 1) = l, so the answer lies in (r, l - 1].
        var low = r, high = l - 1
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if _betaReaches(c, middle, l) { high = middle } else { low = middle }
        }
        // beta(c, high - 1) < l fits in Int; one more factor (c + high) <= 2^64 fits in Int128.
        let previous = Int128(_beta(c, high - 1)!)
        return (high, previous * (Int128(c) + Int128(high)) / Int128(high))
    }

    /// t(steps, snapshots): the fewest advances with which any schedule reverses `steps` steps
    /// holding at most `snapshots` states (Griewank & Walther 2000).
    ///
    /// `t(l, c) = r*l - beta(c+1, r-1)` with `r = repetitionNumber(l, c)`; `t(1, c) = 0`,
    /// `t(l, 1) = l(l-1)/2` and `t(l, c) = l-1` for `c >= l-1`. Exact; traps if the answer does
    /// not fit in `Int` (it does for every `l <= 4*10^9` with `c = 1`). Use
    /// `checkedMinimumAdvances` for numbers that come from a user.
    ///
    /// ```swift
    /// RevolveSchedule.minimumAdvances(steps: 100_000, snapshots: 1)   // 4_999_950_000
    /// ```
    public static func minimumAdvances(steps l: Int, snapshots c: Int) -> Int {
        guard let t = checkedMinimumAdvances(steps: l, snapshots: c) else {
            preconditionFailure("t(\(l), \(c)) does not fit in Int")
        }
        return t
    }

    /// t(steps, snapshots) as `minimumAdvances` gives it, or nil when it does not fit in `Int`
    /// (`steps = 10^18` with 3 snapshots needs about 1.8·10^24 advances). Never traps for
    /// `steps >= 1`, `snapshots >= 1`.
    public static func checkedMinimumAdvances(steps l: Int, snapshots c: Int) -> Int? {
        precondition(l >= 1 && c >= 1)
        if l == 1 { return 0 }
        if c >= l - 1 { return l - 1 }
        let (r, _) = _repetition(steps: l, snapshots: c)
        // beta(c+1, r-1) = C(c+r, c+1) = beta(c, r-1)·(c+r)/(c+1): beta(c, r-1) < l by the
        // choice of r, so the product stays below 2^127.
        let previous = Int128(_beta(c, r - 1)!)
        let betaUp = previous * (Int128(c) + Int128(r)) / (Int128(c) + 1)
        let t = Int128(r) * Int128(l) - betaUp
        return t <= Int128(Int.max) ? Int(t) : nil
    }

    /// The most steps that `snapshots` slots reverse within `evaluations` step evaluations in
    /// all (the taped one per step plus t(steps, snapshots) advances); 0 when not even one.
    ///
    /// What a refusal can offer instead of a run too long to count: with 3 snapshots,
    /// `Int.max` evaluations reverse about 3.0·10^14 steps. O(log² evaluations).
    public static func largestSteps(snapshots c: Int, evaluations: Int) -> Int {
        precondition(c >= 1)
        func fits(_ l: Int) -> Bool {
            guard let t = checkedMinimumAdvances(steps: l, snapshots: c) else { return false }
            let (total, overflow) = t.addingReportingOverflow(l)
            return !overflow && total <= evaluations
        }
        guard evaluations >= 1 else { return 0 }
        var low = 1, high = evaluations
        if fits(high) { return high }
        // fits(low) holds (one step, one evaluation), fits(high) does not.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if fits(middle) { low = middle } else { high = middle }
        }
        return low
    }

    /// revolve's choice of the next snapshot, as an offset from the frame's start.
    ///
    /// For l steps and c slots (the frame's own included) with r = repetition number, this is
    /// revolve.cpp's rule: with b1 = beta(c, r-1), b2 = beta(c-1, r-1), b3 = beta(c-2, r-1),
    /// b4 = beta(c, r-2), b5 = beta(c-3, r): if l <= b1 + b3 take b4; else if
    /// l >= beta(c, r) - b5 take b1; else take l - b2 - b3. Every choice attains t(l, c).
    @usableFromInline
    package static func _split(steps l: Int, snapshots: Int) -> Int {
        let c = Swift.min(snapshots, l)
        if c == 1 { return l - 1 }
        let (r, range) = _repetition(steps: l, snapshots: c)
        // b1 … b4 are at most beta(c, r-1) < l, so they are exact. b5 <= beta(c, r) = range,
        // which is exact in Int128; a partial product that overflows Int128 cannot happen
        // below it, but if it did, "huge" still answers the comparison correctly.
        func b(_ cc: Int, _ rr: Int) -> Int128 {
            _beta128(cc, rr, limit: Int128.max) ?? Int128.max
        }
        let bino1 = b(c, r - 1)
        let bino2 = b(c - 1, r - 1)
        let bino3 = b(c - 2, r - 1)
        let bino4 = b(c, r - 2)
        let bino5 = b(c - 3, r)
        let length = Int128(l)
        var j: Int128
        if length <= bino1 + bino3 {
            j = bino4
        } else if bino5 >= range - length {
            j = bino1
        } else {
            j = length - bino2 - bino3
        }
        if j < 1 { j = 1 }
        if j > length - 1 { j = length - 1 }
        return Int(j)
    }
}
