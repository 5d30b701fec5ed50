#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffer per thread that stencils reuse: a recording's copy of the grid's values, a sweep's
/// row of recomputed partials.
///
/// Both are big (a row of a 4096-point 1-D grid × 4 lanes is 128 KiB, a 256² grid's values
/// 512 KiB): allocated and freed at every step, they went to `mmap` and `munmap` each time, and
/// the page faults cost more than evaluating the kernel. One buffer per thread, grown when a use
/// needs more and kept until the thread ends, costs the faults once. A nested use on the same
/// thread (none today) gets a buffer of its own.
@usableFromInline
final class _ThreadScratch {
    var buffer: UnsafeMutablePointer<Double>?
    var capacity = 0
    var inUse = false
    /// Set by a `_PointPair` evaluation whose two points would part ways.
    var pairDiverged = false
    /// The neighbours an `_AffineProbe` evaluation found an operation not affine in.
    var notAffine: UInt64 = 0

    deinit { buffer?.deallocate() }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { scratch in
            guard let scratch else { return }
            Unmanaged<_ThreadScratch>.fromOpaque(scratch).release()
        }
        precondition(created == 0, "no thread-specific key for the sweep's scratch rows")
        return key
    }()

    /// This thread's scratch.
    private static var current: _ThreadScratch {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<_ThreadScratch>.fromOpaque(existing).takeUnretainedValue()
        }
        let scratch = _ThreadScratch()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    /// Marks this thread's pair evaluation as diverged (`_PointPairDivergence`).
    @usableFromInline
    static func markPairDiverged() { current.pairDiverged = true }

    /// Whether this thread's pair evaluations diverged since the last call; clears the mark.
    @usableFromInline
    static func takePairDiverged() -> Bool {
        let scratch = current
        defer { scratch.pairDiverged = false }
        return scratch.pairDiverged
    }

    /// Marks this thread's affine probe as not affine in `neighbours` (`_AffineProbeVerdict`).
    @usableFromInline
    static func markNotAffine(_ neighbours: UInt64) { current.notAffine |= neighbours }

    /// The neighbours this thread's affine probes were marked not affine in since the last
    /// call; clears the marks.
    @usableFromInline
    static func takeNotAffine() -> UInt64 {
        let scratch = current
        defer { scratch.notAffine = 0 }
        return scratch.notAffine
    }

    /// Calls `body` with room for `count` doubles, valid only during the call.
    @usableFromInline
    static func withDoubles(_ count: Int, _ body: (UnsafeMutablePointer<Double>) -> Void) {
        let scratch = current
        if scratch.inUse {
            let fresh = UnsafeMutablePointer<Double>.allocate(capacity: count)
            defer { fresh.deallocate() }
            body(fresh)
            return
        }
        if scratch.capacity < count {
            scratch.buffer?.deallocate()
            scratch.buffer = .allocate(capacity: count)
            scratch.capacity = count
        }
        scratch.inUse = true
        defer { scratch.inUse = false }
        body(scratch.buffer!)
    }
}
