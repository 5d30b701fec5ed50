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
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
