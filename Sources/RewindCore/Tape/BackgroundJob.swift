#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Work run on a thread of its own while the caller goes on, and waited for with `wait()`.
///
/// For memory a run will need soon: faulting fresh pages in (2–3 µs each, `ProcessMemory`) on
/// a second core while the first records. A plain thread, not a dispatch queue, because the
/// work is one long job that must not wait behind others. Without a thread (a resource limit)
/// the work runs in `init`, as it would have without this.
///
/// ```swift
/// let job = _BackgroundJob { adjoints.prepare(identifierCount: expected) }
/// record()
/// job.wait()
/// ```
@usableFromInline
package final class _BackgroundJob {
    private let work: () -> Void
    private var thread: pthread_t?

    @usableFromInline
    package init(_ work: @escaping () -> Void) {
        self.work = work
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            let job = Unmanaged<_BackgroundJob>.fromOpaque(context!).takeRetainedValue()
            job.work()
            return nil
        }, context)
        if started == 0 {
            self.thread = thread
        } else {
            Unmanaged<_BackgroundJob>.fromOpaque(context).release()
            work()
        }
    }

    /// Returns when the work is done; its writes are then visible to the caller.
    @usableFromInline
    package func wait() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    deinit { wait() }
}
