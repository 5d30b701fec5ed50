import RewindCore

/// A fingerprint of a state's values, to tell whether a replayed block ends in the state the
/// run reached there before (`CheckpointExecutor.checkReplay`).
///
/// Why: a checkpointed run computes every step at least twice, once on its way forward and
/// again from a snapshot to record it. A step that is not a function of its state and
/// parameters alone (a call counter, a random generator, a cache it fills) gives a different
/// trajectory on the replay, and the sweep would return the gradient of a run nobody made,
/// with exit 0. Comparing the state a recorded block ends in with the start of the block
/// reversed before it catches that for any step function, at two reads of the state a block.
///
/// The fingerprint is Fletcher's pair of sums over the values' bit patterns, in eight lanes
/// (positions modulo 8): the plain sum changes with any one value, and the sum of the running
/// sums weighs each value by its position, so that values swapped between positions change it
/// too. Four SSE2 additions or subtractions per two values: heat2d's 65,536 values a step are
/// read twice, and a first version that hashed each value on its own made that run a fifth
/// slower (docs/PERFORMANCE.md, "Replays checked against the run (issue 15, session 9)").
///
/// A state holding a NaN or an infinity gives no verdict (`differs(from:)` is false): the
/// primal's scalar code and a recording's SIMD lanes may give a diverging run NaNs of other
/// signs and payloads (x86 sets the sign of an invalid operation's NaN and passes an operand's
/// NaN through). Such a run is left to the checks for non-finite values (check mode, and the
/// CLI's warning for a gradient that is not finite).
///
/// ```swift
/// StateFingerprint([1, 2]).differs(from: StateFingerprint([1, 2]))   // false
/// StateFingerprint([1, 2]).differs(from: StateFingerprint([2, 1]))   // true
/// ```
@usableFromInline
package struct StateFingerprint {
    /// Eight lanes' plain sums (positions modulo 8) and their sums of running sums.
    @usableFromInline var sums: SIMD8<UInt64>
    @usableFromInline var runningSums: SIMD8<UInt64>
    /// Whether every value was finite.
    @usableFromInline var isFinite: Bool

    @inlinable
    package init(_ values: [Double]) {
        self = values.withUnsafeBufferPointer { Self.summing($0.baseAddress, count: $0.count) }
    }

    /// The fingerprint of the values of `state`, as of an array of their `Double`s.
    @inlinable
    package init(valuesOf state: [Tracked]) {
        self = Self.ofValues(state).fingerprint
    }

    /// The fingerprint of the values of `state`, and whether its identifiers are one run of
    /// consecutive ones starting above 0 (a stencil's outputs), found on the same pass.
    ///
    /// Why together: a checkpointed block's recorded final state is read for its fingerprint
    /// and again, by the sweep's seeding, to see whether its adjoints can be added as one
    /// vector; each read of heat2d's 65,536 `Tracked` values is a megabyte a step.
    @inlinable
    package static func ofValues(_ state: [Tracked]) -> (fingerprint: StateFingerprint, consecutive: Bool) {
        state.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, let first = buffer.first?.identifier else {
                return (_FingerprintSums().fingerprint, false)
            }
            var sums = _FingerprintSums()
            var mismatch: UInt32 = 0
            var expected = first
            var index = 0
            // Measured against this loop and slower: the identifiers gathered into a
            // `SIMD8<UInt32>`, and eight `Tracked`s loaded as a `SIMD16<UInt64>` split into
            // its even and odd halves (heat2d: 5.2 % of the run here, 6.4 % and 8.3 % those).
            while index + 8 <= buffer.count {
                let p = base + index
                sums.add(SIMD8(
                    p[0].value, p[1].value, p[2].value, p[3].value, p[4].value, p[5].value, p[6].value, p[7].value))
                for j in 0..<8 { mismatch |= p[j].identifier ^ (expected &+ UInt32(truncatingIfNeeded: j)) }
                expected &+= 8
                index += 8
            }
            var lane = 0
            while index < buffer.count {
                sums.add(base[index].value, lane: lane)
                mismatch |= base[index].identifier ^ expected
                expected &+= 1
                index += 1
                lane += 1
            }
            return (sums.fingerprint, mismatch == 0 && first != 0)
        }
    }

    @inlinable
    init(sums: SIMD8<UInt64>, runningSums: SIMD8<UInt64>, isFinite: Bool) {
        self.sums = sums
        self.runningSums = runningSums
        self.isFinite = isFinite
    }

    /// Whether the two states differ for certain: both finite, and their sums differ.
    @inlinable
    package func differs(from other: StateFingerprint) -> Bool {
        isFinite && other.isFinite && (sums != other.sums || runningSums != other.runningSums)
    }

    /// Sums the `count` values at `values`, eight at a time.
    ///
    /// Eight lanes, because each lane's two sums are a chain of dependent additions: with two
    /// lanes the loop waited on them (one cycle a value, 20 µs for heat2d's 65,536), with
    /// eight (four SSE2 registers a sum) four chains run side by side.
    @inlinable
    static func summing(_ values: UnsafePointer<Double>?, count: Int) -> StateFingerprint {
        var sums = _FingerprintSums()
        guard let values else { return sums.fingerprint }
        var index = 0
        while index + 8 <= count {
            sums.add(UnsafeRawPointer(values + index).loadUnaligned(as: SIMD8<Double>.self))
            index += 8
        }
        var lane = 0
        while index < count {
            sums.add(values[index], lane: lane)
            index += 1
            lane += 1
        }
        return sums.fingerprint
    }
}

/// The sums of a fingerprint as a state is read eight values at a time, then the rest one by
/// one: one type for both readers (`summing` of `Double`s, `ofValues` of `Tracked`s), so that
/// the same values give the same fingerprint whichever way they were read.
@usableFromInline
struct _FingerprintSums {
    @usableFromInline var sum = SIMD8<UInt64>()
    @usableFromInline var runningSums = SIMD8<UInt64>()
    /// `v − v` is 0 for a finite value and NaN otherwise; a sum of zeros never overflows.
    @usableFromInline var nonFinite = SIMD8<Double>()

    @inlinable init() {}

    /// Eight consecutive values, value k in lane k.
    @inlinable @inline(__always)
    mutating func add(_ eight: SIMD8<Double>) {
        sum &+= unsafeBitCast(eight, to: SIMD8<UInt64>.self)
        runningSums &+= sum
        nonFinite += eight - eight
    }

    /// One of the last fewer than eight values, in lane `lane` (its position modulo 8).
    @inlinable @inline(__always)
    mutating func add(_ value: Double, lane: Int) {
        sum[lane] &+= value.bitPattern
        runningSums[lane] &+= sum[lane]
        nonFinite[lane] += value - value
    }

    @inlinable
    var fingerprint: StateFingerprint {
        StateFingerprint(sums: sum, runningSums: runningSums, isFinite: nonFinite.sum() == 0)
    }
}
