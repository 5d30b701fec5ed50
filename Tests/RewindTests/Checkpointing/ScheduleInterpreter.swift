import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// A tiny driver that executes a schedule on step *indices* and checks every rule of
/// `CheckpointAction`: advances start at the current state, restores read what was stored,
/// reverses come at the current state in the order steps-1...0, each once, and slot limits hold.
struct ScheduleInterpreter {
    struct Violation: Error, CustomStringConvertible {
        let description: String
    }

    struct Counts: Equatable {
        var advances = 0
        var reverses = 0
        var maxLiveMemory = 0
        var maxLiveDisk = 0
        var memoryWrites = 0
        var memoryReads = 0
        var diskWrites = 0
        var diskReads = 0
        var actions = 0

        func cost(steps: Int, _ c: TwoLevelCosts) -> Double {
            c.uf * Double(advances + steps) + c.ub * Double(steps) + c.wd * Double(diskWrites) + c.rd * Double(diskReads)
        }
    }

    let steps: Int
    let memorySlots: Int
    let diskSlots: Int
    var current: Int? = 0
    var nextToReverse: Int
    var memory: [Int: Int] = [:]
    var disk: [Int: Int] = [:]
    var counts = Counts()

    init(steps: Int, memorySlots: Int, diskSlots: Int = 0) {
        self.steps = steps
        self.memorySlots = memorySlots
        self.diskSlots = diskSlots
        nextToReverse = steps - 1
    }

    mutating func perform(_ action: CheckpointAction) throws {
        counts.actions += 1
        func fail(_ message: String) -> Violation {
            Violation(description: "action #\(counts.actions) \(action): \(message)")
        }
        switch action {
        case let .advance(from, to):
            guard current == from else { throw fail("current state is \(String(describing: current))") }
            guard to > from else { throw fail("advance must move forward") }
            guard to <= nextToReverse else { throw fail("advances past the next step to reverse (\(nextToReverse))") }
            counts.advances += to - from
            current = to
        case let .store(slot, step, level):
            guard current == step else { throw fail("current state is \(String(describing: current))") }
            let limit = level == .memory ? memorySlots : diskSlots
            guard slot >= 0 && slot < limit else { throw fail("slot outside 0..<\(limit)") }
            if level == .memory {
                guard memory[slot] == nil else { throw fail("slot is occupied") }
                memory[slot] = step
                counts.memoryWrites += 1
                counts.maxLiveMemory = Swift.max(counts.maxLiveMemory, memory.count)
            } else {
                guard disk[slot] == nil else { throw fail("slot is occupied") }
                disk[slot] = step
                counts.diskWrites += 1
                counts.maxLiveDisk = Swift.max(counts.maxLiveDisk, disk.count)
            }
        case let .restore(slot, step, level):
            let held = level == .memory ? memory[slot] : disk[slot]
            guard held == step else { throw fail("slot holds \(String(describing: held))") }
            if level == .memory { counts.memoryReads += 1 } else { counts.diskReads += 1 }
            current = step
        case let .free(slot, level):
            if level == .memory {
                guard memory.removeValue(forKey: slot) != nil else { throw fail("slot is empty") }
            } else {
                guard disk.removeValue(forKey: slot) != nil else { throw fail("slot is empty") }
            }
        case let .reverse(step):
            guard step == nextToReverse else { throw fail("expected reverse(\(nextToReverse))") }
            guard current == step else { throw fail("current state is \(String(describing: current))") }
            counts.reverses += 1
            nextToReverse -= 1
            current = nil
        }
    }

    /// Checks the end state: every step reversed, every slot freed.
    func finish() throws -> Counts {
        guard nextToReverse == -1, counts.reverses == steps else {
            throw Violation(description: "reversed \(counts.reverses) of \(steps) steps")
        }
        guard memory.isEmpty, disk.isEmpty else {
            throw Violation(description: "slots left occupied: memory \(memory), disk \(disk)")
        }
        return counts
    }

    static func run<S: Sequence>(_ actions: S, steps: Int, memorySlots: Int, diskSlots: Int = 0) throws -> Counts
    where S.Element == CheckpointAction {
        var interpreter = ScheduleInterpreter(steps: steps, memorySlots: memorySlots, diskSlots: diskSlots)
        for action in actions { try interpreter.perform(action) }
        return try interpreter.finish()
    }

    /// Runs an online schedule: forward calls for 0..<steps-1, then the reversal.
    static func runOnline(snapshots: Int, steps: Int) throws -> (Counts, OnlineSchedule) {
        var online = OnlineSchedule(snapshots: snapshots)
        var interpreter = ScheduleInterpreter(steps: steps, memorySlots: snapshots)
        for n in 0..<(steps - 1) {
            for action in online.forwardActions(atStep: n) { try interpreter.perform(action) }
        }
        for action in online.reversal(steps: steps) { try interpreter.perform(action) }
        return (try interpreter.finish(), online)
    }
}


/// The exact dynamic programme t(l,c) = min_j [j + t(l-j, c-1) + t(j, c)], t(1,c) = 0,
/// t(l,1) = l(l-1)/2: an independent check of the closed form and of revolve's split rule.
func exactRevolveTable(maxSteps: Int, maxSnapshots: Int) -> [[Int]] {
    var t = [[Int]](repeating: [Int](repeating: 0, count: maxSteps + 1), count: maxSnapshots + 1)
    for l in 1...maxSteps { t[1][l] = l * (l - 1) / 2 }
    if maxSnapshots >= 2 {
        for c in 2...maxSnapshots {
            if maxSteps >= 2 {
                for l in 2...maxSteps {
                    var best = Int.max
                    for j in 1..<l {
                        let v = j + t[c - 1][l - j] + t[c][j]
                        if v < best { best = v }
                    }
                    t[c][l] = best
                }
            }
        }
    }
    return t
}
