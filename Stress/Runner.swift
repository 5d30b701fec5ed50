import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One finished run of the `rewind` binary.
struct RunResult {
    /// The exit status, or the signal number when `signaled`.
    var status: Int32
    /// Whether the process ended by a signal (then the shell reports 128 + `status`).
    var signaled: Bool
    var stdout: String
    var stderr: String
    /// The largest resident set seen: VmRSS and VmHWM sampled from /proc/<pid>/status every ~20 ms,
    /// and the `run.peakResidentBytes` the run reports itself (VmHWM at its end) when there is one.
    var peakResidentBytes: Int
    /// The largest anonymous resident set (RssAnon: heap, stacks, mappings; no file pages) sampled.
    var peakAnonBytes: Int
    var samples: Int
    var seconds: Double
    var timedOut: Bool

    /// The exit status a shell would report.
    var shellStatus: Int32 { signaled ? 128 + status : status }

    /// The stderr lines, without empty ones.
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }

    var json: [String: Any]? {
        guard let data = stdout.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object
    }

    var run: [String: Any]? { json?["run"] as? [String: Any] }
    var strategy: String? { run?["strategy"] as? String }

    /// The objective and gradient exactly as printed: `{"gradient":…,"model":…,"objective":…`.
    /// The encoder prints each double in its shortest round-tripping form, so equal text means
    /// equal bits.
    var gradientText: String? {
        guard let start = stdout.range(of: "{\"gradient\":"),
              let end = stdout.range(of: ",\"parameterValues\"") else { return nil }
        return String(stdout[start.lowerBound..<end.lowerBound])
    }

    /// A short description for failure messages.
    var summary: String {
        let how = signaled ? "signal \(status)" : "status \(status)"
        let err = stderrLines.first.map { " stderr: \($0.prefix(240))" } ?? ""
        return how + (timedOut ? " (timed out)" : "") + err
    }
}

/// Reads VmRSS, VmHWM and RssAnon (bytes) from /proc/<pid>/status; nil once the process is gone.
func residentBytes(pid: Int32) -> (rss: Int, hwm: Int, anon: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    var rss = 0, hwm = 0, anon = 0
    for line in text.split(separator: "\n") {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
        switch fields[0] {
        case "VmRSS:": rss = kib * 1024
        case "VmHWM:": hwm = kib * 1024
        case "RssAnon:": anon = kib * 1024
        default: break
        }
    }
    return (rss, hwm, anon)
}

final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func with<R>(_ body: (inout T) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body(&value)
    }
}

/// Runs the `rewind` binary and samples its memory.
struct RewindRunner {
    let executable: String
    /// The working directory of the runs; nil keeps the suite's.
    var workingDirectory: String? = nil

    /// Locates the binary: `$REWIND`, else `rewind` next to this executable.
    static func locate() -> RewindRunner? {
        if let path = ProcessInfo.processInfo.environment["REWIND"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? RewindRunner(executable: path) : nil
        }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidate = me.deletingLastPathComponent().appendingPathComponent("rewind").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? RewindRunner(executable: candidate) : nil
    }

    /// Runs `rewind arguments…`, sampling /proc/<pid>/status every ~20 ms.
    ///
    /// `signal`: once `when()` returns true (polled every 10 ms while the process runs), send
    /// `number` to the process. `timeout`: SIGKILL after this many seconds.
    func run(_ arguments: [String], timeout: Double = 900,
             signal: (number: Int32, when: () -> Bool)? = nil) -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice

        let started = Date()
        do { try process.run() } catch {
            return RunResult(status: -1, signaled: false, stdout: "", stderr: "cannot start \(executable): \(error)",
                             peakResidentBytes: 0, peakAnonBytes: 0, samples: 0, seconds: 0, timedOut: false)
        }
        let pid = process.processIdentifier

        let group = DispatchGroup()
        let outData = Locked(Data()), errData = Locked(Data())
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                sink.with { $0 = data }
                group.leave()
            }
        }

        // The sampler: its own thread, so that a busy dispatch pool cannot delay it.
        let peak = Locked((bytes: 0, anon: 0, samples: 0))
        let samplerDone = DispatchSemaphore(value: 0)
        let sampler = Thread {
            while process.isRunning {
                if let (rss, hwm, anon) = residentBytes(pid: pid) {
                    peak.with { $0.bytes = max($0.bytes, rss, hwm); $0.anon = max($0.anon, anon); $0.samples += 1 }
                }
                usleep(20_000)
            }
            samplerDone.signal()
        }
        sampler.start()

        var timedOut = false
        var signalled = signal == nil
        while process.isRunning {
            if !signalled, let signal, signal.when() {
                kill(pid, signal.number)
                signalled = true
            }
            if Date().timeIntervalSince(started) > timeout {
                timedOut = true
                kill(pid, SIGKILL)
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        samplerDone.wait()
        group.wait()

        var result = RunResult(
            status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: outData.with { $0 }, as: UTF8.self),
            stderr: String(decoding: errData.with { $0 }, as: UTF8.self),
            peakResidentBytes: peak.with { $0.bytes }, peakAnonBytes: peak.with { $0.anon }, samples: peak.with { $0.samples },
            seconds: Date().timeIntervalSince(started), timedOut: timedOut)
        if let reported = (result.run?["peakResidentBytes"] as? NSNumber)?.intValue {
            result.peakResidentBytes = max(result.peakResidentBytes, reported)
        }
        return result
    }
}

// MARK: - Small helpers

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

/// The entries of a directory (names), or nil when it cannot be listed.
func entries(_ path: String) -> [String]? { try? FileManager.default.contentsOfDirectory(atPath: path) }

/// Every file below `path`, recursively (relative paths).
func filesBelow(_ path: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
    var all: [String] = []
    while let next = e.nextObject() as? String { all.append(next) }
    return all.sorted()
}

/// Runs a system command quietly; returns its exit status and combined output.
@discardableResult
func system(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Creates a fresh directory.
func makeDirectory(_ path: String) {
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}
