import RewindCore
import CRewindSupport
#if canImport(Glibc)
import Glibc
#endif

/// Resident memory of this process as the kernel reports it (`/proc/self/status`).
///
/// Peak memory in Rewind's reports is always this measured figure, never an estimate.
public enum ProcessMemory {
    /// Peak resident set size (`VmHWM`) in bytes, or 0 where the kernel does not say.
    public static var peakResidentBytes: Int { field("VmHWM:") }
    /// Current resident set size (`VmRSS`) in bytes.
    public static var residentBytes: Int { field("VmRSS:") }
    /// Physical memory of the machine in bytes.
    public static var physicalBytes: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Seconds a fresh page costs a run: handed out by the kernel on first touch, written
    /// whole, and given back when the run frees it, timed on `bytes` of newly mapped memory.
    /// Memory a run touches for the first time costs this much per page on top of the work:
    /// on this project's machines 2–3 µs a page, so a store-all tape of 300 MiB pays about
    /// 0.2 s before it records anything (`tools/fresh-page-cost`).
    ///
    /// Why the whole page and the unmapping: a tape writes every byte of its pages and a run
    /// returns them at its end. Touching one byte a page and leaving the unmapping untimed
    /// measured about half of what a 1.9 GiB store-all run paid per page (`perf`: 60 % of that
    /// run in `clear_page_erms` and page-table work), so the planner took store-all for twice
    /// as fast as it was (docs/PERFORMANCE.md, "Predictions, fresh pages and `auto`").
    public static func secondsPerFreshPage(timing bytes: Int = freshPageProbeBytes) -> Double {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pagesPerGroup = 4
        let group = pagesPerGroup * page
        let length = max(group, bytes / group * group)
        guard let memory = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            memory != MAP_FAILED
        else { return 0 }
        var groupSeconds: [Double] = []
        for start in stride(from: 0, to: length, by: group) {
            let started = monotonicSeconds()
            memset(memory + start, 1, group)
            groupSeconds.append(monotonicSeconds() - started)
        }
        let unmapStarted = monotonicSeconds()
        munmap(memory, length)
        let unmapSecondsPerPage = (monotonicSeconds() - unmapStarted) / Double(length / page)
        // The mean of the middle four fifths: robust to a descheduling, yet it keeps the
        // occasional slow fault (zeroing, reclaim) that a run of many pages pays too.
        let sorted = groupSeconds.sorted()
        let middle = sorted[(sorted.count / 10)..<(sorted.count - sorted.count / 10)]
        return middle.reduce(0, +) / Double(middle.count) / Double(pagesPerGroup) + unmapSecondsPerPage
    }

    /// The memory `secondsPerFreshPage` times by default, in groups of four pages.
    ///
    /// Why 256 KiB: every `rewind` process that plans pays the probe (issue 15: the whole
    /// process within 1.5× of the run). In fresh processes on this project's machine, 1 MiB in
    /// groups of 16 pages took 0.59 ms and gave 2.07 µs a page (median of 15, range 1.96–3.72);
    /// 256 KiB in groups of 4 took 0.14 ms and gave 2.00 µs (1.92–2.16): the same figure, with
    /// sixteen groups for the trimmed mean instead of sixteen large ones
    /// (`PROBE=1 tools/fresh-page-cost` compares the two).
    ///
    /// ```swift
    /// let seconds = ProcessMemory.secondsPerFreshPage(timing: ProcessMemory.freshPageProbeBytes)
    /// ```
    public static let freshPageProbeBytes = 256 << 10

    /// Makes the allocator give every block over 128 KiB its own mapping, returned to the
    /// system when freed. Call it once at the start of a process whose resident memory must
    /// follow the memory budget (the `rewind` CLI does).
    ///
    /// Why: glibc raises its mmap threshold each time a large block is freed (up to 32 MiB),
    /// so later buffers come from the heap and stay resident after they are freed; a spilling
    /// heat2d run ended 9 MiB over its budget that way, and within it with this call.
    ///
    /// ```swift
    /// ProcessMemory.keepLargeBlocksMapped()
    /// ```
    @discardableResult
    public static func keepLargeBlocksMapped() -> Bool {
        rewind_fix_mmap_threshold(128 << 10) != 0
    }

    /// The page size of the machine in bytes.
    public static var pageBytes: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// Resets the peak so that the next reading covers only what follows (Linux ≥ 4.0:
    /// writing 5 to `/proc/self/clear_refs`); returns whether the kernel accepted it.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
        defer { fclose(file) }
        return fputs("5", file) >= 0
    }

    private static func field(_ name: String) -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix(name) else { continue }
            let digits = text.dropFirst(name.count).filter(\.isNumber)
            return (Int(String(digits)) ?? 0) * 1024
        }
        return 0
    }
}

/// Monotonic seconds, for phase timings.
@usableFromInline
package func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
