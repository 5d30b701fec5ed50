import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - The fault matrix on real files
//
// The unit tests inject every fault through the `SpillIO` seam (SpillFaultMatrixTests); these
// scenarios do it the way a user's machine would: another process changing, replaying or
// planting files in the private directory while the release binary runs, a full tmpfs, a
// removed directory, fatal signals, and a SIGKILL whose leftovers the next run must clear.
// The invariant of each: the gradient bitwise equal to the reference, or status 1 with one line
// naming the file — never a signal, never a wrong gradient, nothing left behind.

/// heat2d 512² × `steps` at 32 MiB: revolve with the step tapes spilled (the plan of issue #11's
/// wrong gradient), each step's segments written and read back within ~50 ms.
func spilledStepTapes(steps: Int, spill: String) -> [String] {
    gradient("heat2d", steps: steps, size: 512, budget: "32MiB", ["--spill-dir", spill])
}

/// Runs `arguments` while `tamper(privateDirectory)` is called every poll (~10 ms) once a spill
/// file exists, and checks the invariant against `reference`. `what` names the damage.
func tampered(_ s: Suite, _ arguments: [String], spill: String, reference: RunResult, what: String,
              tamper: @escaping (String) -> Int) -> Outcome {
    var damaged = 0
    let r = s.run(arguments, timeout: 300, signal: (0, {
        // Signal 0 only probes; the work is the side effect.
        for directory in (entries(spill) ?? []) where directory.hasPrefix("rewind-tape") {
            damaged += tamper(spill + "/" + directory)
        }
        return false
    }))
    let left = filesBelow(spill)
    guard left.isEmpty else { return .fail("left behind: \(left.prefix(5)) (\(r.summary))") }
    if r.status == 0 && !r.signaled {
        guard r.gradientText == reference.gradientText else {
            return .fail("WRONG GRADIENT, exit 0, after \(damaged) \(what)")
        }
        return .pass("\(damaged) \(what), none read back; gradient bitwise right")
    }
    if let p = s.cleanRefusal(r, status: 1, mentions: ["spill"]) { return .fail("after \(damaged) \(what): \(p)") }
    guard damaged > 0 else { return .fail("failed with no damage done: \(r.stderrLines.first ?? "")") }
    return .pass("\(damaged) \(what) → " + String(r.stderrLines[0].prefix(110)) + "…; dir empty")
}

/// The spill segment files (not the owner file) in `directory`, with their inode and size.
func segments(in directory: String) -> [(name: String, identity: String)] {
    (entries(directory) ?? []).filter { $0.hasSuffix(".rwspill") }.sorted().compactMap { name in
        var info = stat()
        guard lstat(directory + "/" + name, &info) == 0 else { return nil }
        return (name, "\(info.st_ino)-\(info.st_size)-\(info.st_mtim.tv_nsec)")
    }
}

let spillFaultRuns: [Scenario] = [
    Scenario(name: "spilled step tapes: a byte flipped in every segment as it appears → exit 1 naming the file (issue #11: was exit 0, wrong gradient)", mode: .both) { s in
        let reference = s.run(gradient("heat2d", steps: 30, size: 512, ["--strategy", "store-all"]))
        if let p = s.problem(with: reference, label: "reference") { return .fail(p) }
        let spill = s.freshDirectory("flip")
        var seen = Set<String>()
        return tampered(s, spilledStepTapes(steps: 30, spill: spill), spill: spill, reference: reference,
                        what: "segments with a flipped byte") { directory in
            var count = 0
            for (name, identity) in segments(in: directory) where seen.insert(identity).inserted {
                guard let handle = FileHandle(forUpdatingAtPath: directory + "/" + name) else { continue }
                let size = handle.seekToEndOfFile()
                guard size > 64 else { continue }
                handle.seek(toFileOffset: size / 2)
                let byte = handle.readData(ofLength: 1)
                handle.seek(toFileOffset: size / 2)
                handle.write(Data([(byte.first ?? 0) ^ 0x10]))
                handle.closeFile()
                count += 1
            }
            return count
        }
    },
    Scenario(name: "spilled step tapes: segments cut to half as they appear → exit 1 naming the file", mode: .both) { s in
        let reference = s.run(gradient("heat2d", steps: 30, size: 512, ["--strategy", "store-all"]))
        if let p = s.problem(with: reference, label: "reference") { return .fail(p) }
        let spill = s.freshDirectory("truncate")
        var seen = Set<String>()
        return tampered(s, spilledStepTapes(steps: 30, spill: spill), spill: spill, reference: reference,
                        what: "segments truncated") { directory in
            var count = 0
            for (name, identity) in segments(in: directory) where seen.insert(identity).inserted {
                var info = stat()
                guard lstat(directory + "/" + name, &info) == 0, info.st_size > 64 else { continue }
                if truncate(directory + "/" + name, info.st_size / 2) == 0 { count += 1 }
            }
            return count
        }
    },
    Scenario(name: "spilled step tapes: an older intact copy put back over a newer segment → exit 1 (stale copy), never a wrong gradient", mode: .both) { s in
        let reference = s.run(gradient("heat2d", steps: 30, size: 512, ["--strategy", "store-all"]))
        if let p = s.problem(with: reference, label: "reference") { return .fail(p) }
        let spill = s.freshDirectory("replay")
        var first: [String: (identity: String, bytes: Data)] = [:]
        var seenOnce: [String: String] = [:]
        var replayed = Set<String>()
        return tampered(s, spilledStepTapes(steps: 30, spill: spill), spill: spill, reference: reference,
                        what: "older copies put back") { directory in
            var count = 0
            for (name, identity) in segments(in: directory) {
                let path = directory + "/" + name
                guard let kept = first[name] else {
                    // Copy a file only once it has stood unchanged for a poll: not while it is written.
                    if seenOnce[name] == identity, let bytes = FileManager.default.contents(atPath: path) {
                        first[name] = (identity, bytes)
                    }
                    seenOnce[name] = identity
                    continue
                }
                // A newer write of the same name: put the first copy back (a new file, renamed over it).
                guard kept.identity != identity, !replayed.contains(identity) else { continue }
                let temporary = directory + "/.replay-" + name
                guard FileManager.default.createFile(atPath: temporary, contents: kept.bytes),
                      rename(temporary, path) == 0 else { continue }
                if let (_, now) = segments(in: directory).first(where: { $0.name == name }) { replayed.insert(now) }
                count += 1
            }
            return count
        }
    },
    Scenario(name: "spilled step tapes: a symlink planted at every next segment name → exit 1 naming the file, dir removed with the planted links", mode: .both) { s in
        let reference = s.run(gradient("heat2d", steps: 10, size: 512, ["--strategy", "store-all"]))
        if let p = s.problem(with: reference, label: "reference") { return .fail(p) }
        let spill = s.freshDirectory("plant")
        let target = s.freshDirectory("plant-target") + "/victim"
        var planted = false
        let outcome = tampered(s, spilledStepTapes(steps: 10, spill: spill), spill: spill, reference: reference,
                               what: "symlinks planted") { directory in
            guard !planted else { return 0 }
            planted = true
            for k in 0..<400 { symlink(target, directory + "/segment-\(k).rwspill") }
            return 400
        }
        guard !FileManager.default.fileExists(atPath: target) else { return .fail("a write followed a planted symlink") }
        return outcome
    },
    Scenario(name: "spilled step tapes: the private directory removed mid-run → exit 1 naming it, nothing left", mode: .both) { s in
        let reference = s.run(gradient("heat2d", steps: 30, size: 512, ["--strategy", "store-all"]))
        if let p = s.problem(with: reference, label: "reference") { return .fail(p) }
        let spill = s.freshDirectory("removed")
        var removed = false
        return tampered(s, spilledStepTapes(steps: 30, spill: spill), spill: spill, reference: reference,
                        what: "private directory removed") { directory in
            guard !removed, !segments(in: directory).isEmpty else { return 0 }
            removed = true
            try? FileManager.default.removeItem(atPath: directory)
            return 1
        }
    },
    Scenario(name: "spilled step tapes, spilled store-all tape, planner's sample on a full tmpfs (2 MiB, 64 KiB) → exit 1 'no space left', nothing left", mode: .both) { s in
        var notes: [String] = []
        for (label, size, arguments) in [
            ("step tapes", "2m", spilledStepTapes(steps: 10, spill: "")),
            ("store-all tape", "2m", gradient("heat2d", steps: 20, size: 256, budget: "64MiB", ["--strategy", "spill", "--spill-dir", ""])),
            ("sample", "64k", gradient("burgers", steps: 20000, size: 1024, budget: "16MiB", ["--spill-dir", ""])),
        ] {
            let mountPoint = s.freshDirectory("full-\(size)")
            if let why = mountTmpfs(mountPoint, options: "size=\(size)") { return .skip(why) }
            defer { unmount(mountPoint) }
            let r = s.run(arguments.map { $0.isEmpty ? mountPoint : $0 }, timeout: 300)
            let left = filesBelow(mountPoint)
            guard left.isEmpty else { return .fail("\(label) on \(size): left \(left.prefix(5)) (\(r.summary))") }
            if r.status == 0 && !r.signaled {
                notes.append("\(label) \(size): fits (\(r.strategy ?? "?"))")
                continue
            }
            if let p = s.cleanRefusal(r, status: 1, mentions: ["no space left", mountPoint]) { return .fail("\(label) on \(size): \(p)") }
            notes.append("\(label) \(size): no space left")
        }
        guard notes.filter({ $0.hasSuffix("no space left") }).count >= 2 else { return .fail("too few runs filled their tmpfs: \(notes)") }
        return .pass(notes.joined(separator: "; "))
    },
    Scenario(name: "SIGHUP, SIGUSR1, SIGQUIT mid two-level run → exit by the signal, spill dir empty (issue #11: files were left; QUIT ran on to exit 0)", mode: .both) { s in
        var notes: [String] = []
        for (number, name) in [(SIGHUP, "SIGHUP"), (SIGUSR1, "SIGUSR1"), (SIGQUIT, "SIGQUIT")] {
            switch interrupt(s, signal: number, name: name, attempts: 2) {
            case .pass(let detail): notes.append(detail)
            case let other: return other
            }
        }
        return .pass(notes.joined(separator: "; "))
    },
    Scenario(name: "SIGKILL mid two-level run leaves its directory; the next run under the same spill dir removes it and says so", mode: .both) { s in
        let spill = s.freshDirectory("sigkill")
        let launched = Date()
        let killed = s.run(twoLevel(steps: 20_000, size: 4096, spill: spill), timeout: 300, signal: (SIGKILL, {
            Date().timeIntervalSince(launched) > 0.3 && filesBelow(spill).contains { $0.hasSuffix(".rwspill") }
        }))
        guard killed.signaled, killed.status == SIGKILL else { return .fail("expected death by SIGKILL, got \(killed.summary)") }
        let stale = entries(spill) ?? []
        guard !stale.isEmpty else { return .fail("SIGKILL left nothing to clear (the scenario tests nothing)") }
        let next = s.run(twoLevel(steps: 200, size: 256, spill: spill))
        guard next.status == 0, !next.signaled else { return .fail("the next run failed: \(next.summary)") }
        let left = filesBelow(spill)
        guard left.isEmpty else { return .fail("the stale directory \(stale) is still there: \(left.prefix(5))") }
        guard next.stderr.contains(stale[0]) else {
            return .fail("the next run removed \(stale[0]) without saying so: stderr \(next.stderr.prefix(200))")
        }
        return .pass("removed \(stale[0]), reported on stderr")
    },
]
