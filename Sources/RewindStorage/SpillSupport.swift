#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// A mutual-exclusion lock over `pthread_mutex_t`, usable on every platform Rewind builds on.
///
/// The mutex lives in its own allocation because a `pthread_mutex_t` must not move.
@usableFromInline
package final class _SpillLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A growable raw byte buffer whose contents need not survive growth: scratch space.
///
/// Invariant: `capacity` only grows, by at least half each time, so a sequence of requests
/// allocates O(log(largest request)) times. Cost of `reserve`: O(1) unless it grows.
@usableFromInline
package final class _SpillByteBuffer: @unchecked Sendable {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    /// 64-byte alignment keeps every column start on a cache line, and loads of any scalar aligned.
    static let alignment = 64

    init(capacity: Int = 0) {
        self.capacity = capacity
        pointer = .allocate(byteCount: max(capacity, 1), alignment: Self.alignment)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `byteCount` bytes; the previous contents are discarded when it grows.
    func reserve(_ byteCount: Int) {
        guard byteCount > capacity else { return }
        let newCapacity = max(byteCount, capacity + capacity / 2)
        pointer.deallocate()
        pointer = .allocate(byteCount: newCapacity, alignment: Self.alignment)
        capacity = newCapacity
    }

    func bytes(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= capacity, "range outside the buffer")
        return UnsafeMutableRawBufferPointer(start: pointer + range.lowerBound, count: range.count)
    }
}

/// Rounds `n` up to the next multiple of 64 so that each column in a staging buffer starts aligned.
@inline(__always)
func _spillAlignUp(_ n: Int) -> Int { (n + 63) & ~63 }

/// Monotonic seconds since an arbitrary origin, for timing phases.
@inline(__always)
func _spillNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
