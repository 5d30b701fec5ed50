import Foundation

/// Seconds of CPU time this process has used: the benchmark cases' clock where other builds
/// share the machine (wall time then measures the neighbours too).
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Seconds of CPU time the calling thread has used: a call's own work, without the process's
/// other threads (a store-all run faults its memory in on another one).
func threadCPUNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
