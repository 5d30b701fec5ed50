// Two-level (memory + disk) offline checkpointing: H-Revolve.
//
// Algorithm: J. Herrmann and G. Pallez, "H-Revolve: A Framework for Adjoint Computation on
// Synchronous Hierarchical Platforms", ACM Transactions on Mathematical Software 46(2), 2020.
// Its dynamic programme, for two levels, written in this package's step convention
// (`steps` = H-Revolve's l + 1; see reference/README.md):
//
// Cost model: cost = uf*(advances + steps) + ub*steps + wd*diskWrites + rd*diskReads.
// Memory writes and reads are free; the stored x_0 counts as a write on its level.
// Only D = uf*advances + wd*W + rd*R depends on the schedule.
//
// * Memory level: a frame of l steps whose start is in memory, with all cm memory slots, is
//   reversed by revolve: Mem(l) = uf * t(l, cm) (t from RevolveSchedule; 0 for l = 1; impossible
//   for l >= 2 without a memory slot).
// * Disk level: P(l, d) is a frame of l steps whose start x_s is on disk and is the current state,
//   with d more free disk slots and the whole memory free:
//     P(1, d) = 0
//     P(l, d) = min( Mem(l)                                   -- copy x_s to memory, revolve there
//                  , min_{1<=j<l} uf*j + R(l-j, d) + rd + P(j, d) )
//     R(1, d) = 0,  R(m, d) = min( Mem(m), wd + P(m, d-1) if d >= 1 )
//   i.e. advance j steps, put x_{s+j} in memory (and finish that part in memory) or on disk
//   (and recurse), read x_s back from disk, continue with the first j steps.
// * Top: D = min( Mem(steps), wd + P(steps, cd-1) if cd >= 1 ): x_0 lives in memory or on disk.
//
// Once a frame works in memory it never uses the disk again, and disk checkpoints are taken
// outermost: this is H-Revolve's hierarchical structure, which Herrmann & Pallez prove optimal.
// The DP reproduces the checkpoint_schedules.HRevolve costs of reference/multistage_optimal.csv
// exactly.
//
// Complexity: O(steps^2 * cd) time and O(steps * cd) memory for the tables; actions are
// generated eagerly (the array holds the whole schedule). Intended for steps up to a few
// thousand.

/// The weights of the two-level cost model.
///
/// `cost = uf*(advances + steps) + ub*steps + wd*diskWrites + rd*diskReads`; memory transfers
/// are free (the H-Revolve model).
public struct TwoLevelCosts: Hashable, Sendable {
    /// Cost of one evaluation of the step function (advance or taped).
    public var uf: Double
    /// Cost of one adjoint step.
    public var ub: Double
    /// Cost of writing one state to disk.
    public var wd: Double
    /// Cost of reading one state from disk.
    public var rd: Double

    /// Weights in any common unit, usually one step's time.
    ///
    /// - Parameters:
    ///   - uf: Cost of one evaluation of the step function.
    ///   - ub: Cost of one adjoint step.
    ///   - wd: Cost of writing one state to disk.
    ///   - rd: Cost of reading one state from disk.
    public init(uf: Double = 1, ub: Double = 1, wd: Double, rd: Double) {
        precondition(uf >= 0 && ub >= 0 && wd >= 0 && rd >= 0, "costs must not be negative")
        self.uf = uf
        self.ub = ub
        self.wd = wd
        self.rd = rd
    }
}

/// The cost-optimal offline schedule for snapshots in memory and on disk (H-Revolve).
///
/// Slot numbers are per level: memory slot 0 and disk slot 0 are different slots. At most
/// `memorySlots` memory slots and `diskSlots` disk slots are live at once. The schedule may use
/// fewer slots and recompute more when disk traffic is expensive.
///
/// ```swift
/// let schedule = TwoLevelSchedule(steps: 10, memorySlots: 1, diskSlots: 2,
///                                 costs: TwoLevelCosts(wd: 10, rd: 10))
/// schedule.predictedCost       // 65: no disk at all, 45 advances
/// for action in schedule { driver.perform(action) }
/// ```
public struct TwoLevelSchedule: Sequence, Sendable {
    /// Time steps to reverse.
    public let steps: Int
    /// Memory slots available (the schedule may use fewer).
    public let memorySlots: Int
    /// Disk slots available (the schedule may use fewer).
    public let diskSlots: Int
    /// The cost model the schedule is optimal for.
    public let costs: TwoLevelCosts

    /// The optimal cost, `uf*(advances + steps) + ub*steps + wd*diskWrites + rd*diskReads`.
    public let predictedCost: Double
    /// Advances of the optimal schedule (not counting the `steps` taped evaluations).
    public let predictedAdvances: Int
    /// Disk writes of the optimal schedule, the stored x_0 included when it is on disk.
    public let predictedDiskWrites: Int
    /// Disk reads (restores from disk) of the optimal schedule.
    public let predictedDiskReads: Int

    // Decision tables, indexed [d][l] flattened as d * (steps + 1) + l.
    @usableFromInline package let _split: [Int32]          // 0: switch to memory; j >= 1: split
    @usableFromInline package let _rightOnDisk: [Bool]     // for the split: right part on disk?
    @usableFromInline package let _x0OnDisk: Bool

    /// Solves the dynamic programme; O(steps^2 * diskSlots) time.
    ///
    /// Needs `steps >= 1` and, when `steps >= 2`, at least one slot.
    public init(steps: Int, memorySlots: Int, diskSlots: Int, costs: TwoLevelCosts) {
        precondition(steps >= 1, "at least one step")
        precondition(memorySlots >= 0 && diskSlots >= 0)
        precondition(steps == 1 || memorySlots + diskSlots >= 1, "two-level checkpointing needs a slot")
        self.steps = steps
        self.memorySlots = memorySlots
        self.diskSlots = diskSlots
        self.costs = costs

        let width = steps + 1
        let uf = costs.uf, wd = costs.wd, rd = costs.rd
        // Memory-level cost and advances per length.
        var memCost = [Double](repeating: .infinity, count: width)
        var memAdv = [Int](repeating: 0, count: width)
        for l in 1...steps {
            if l == 1 {
                memCost[l] = 0
            } else if memorySlots >= 1 {
                memAdv[l] = RevolveSchedule.minimumAdvances(steps: l, snapshots: memorySlots)
                memCost[l] = uf * Double(memAdv[l])
            }
        }
        let levels = Swift.max(diskSlots, 0)
        var cost = [Double](repeating: .infinity, count: levels * width)
        var adv = [Int](repeating: 0, count: levels * width)
        var writes = [Int](repeating: 0, count: levels * width)
        var reads = [Int](repeating: 0, count: levels * width)
        var split = [Int32](repeating: 0, count: levels * width)
        var rightOnDisk = [Bool](repeating: false, count: levels * width)

        for d in 0..<levels {
            let row = d * width
            cost[row + 1] = 0
            guard steps >= 2 else { continue }
            for l in 2...steps {
                var best = memCost[l]
                var bestJ = 0
                var bestDisk = false
                for j in 1..<l {
                    let right = l - j
                    var rightCost = 0.0
                    var disk = false
                    if right >= 2 {
                        rightCost = memCost[right]
                        if d >= 1 {
                            let viaDisk = wd + cost[row - width + right]
                            if viaDisk < rightCost { rightCost = viaDisk; disk = true }
                        }
                    }
                    let value = uf * Double(j) + rightCost + rd + cost[row + j]
                    if value < best {
                        best = value
                        bestJ = j
                        bestDisk = disk
                    }
                }
                cost[row + l] = best
                split[row + l] = Int32(bestJ)
                rightOnDisk[row + l] = bestDisk
                if bestJ == 0 {
                    adv[row + l] = memAdv[l]
                } else {
                    let right = l - bestJ
                    var a = bestJ + adv[row + bestJ]
                    var w = writes[row + bestJ]
                    var r = 1 + reads[row + bestJ]
                    if right >= 2 {
                        if bestDisk {
                            a += adv[row - width + right]
                            w += 1 + writes[row - width + right]
                            r += reads[row - width + right]
                        } else {
                            a += memAdv[right]
                        }
                    }
                    adv[row + l] = a
                    writes[row + l] = w
                    reads[row + l] = r
                }
            }
        }

        var d0 = memCost[steps]
        var onDisk = false
        if diskSlots >= 1 {
            let viaDisk = wd + cost[(diskSlots - 1) * width + steps]
            if viaDisk < d0 { d0 = viaDisk; onDisk = true }
        }
        precondition(d0.isFinite, "no schedule exists")
        if steps == 1 { onDisk = false }
        _x0OnDisk = onDisk
        _split = split
        _rightOnDisk = rightOnDisk
        if onDisk {
            let index = (diskSlots - 1) * width + steps
            predictedAdvances = adv[index]
            predictedDiskWrites = 1 + writes[index]
            predictedDiskReads = reads[index]
        } else {
            predictedAdvances = steps == 1 ? 0 : memAdv[steps]
            predictedDiskWrites = 0
            predictedDiskReads = 0
        }
        predictedCost = d0 + (costs.uf + costs.ub) * Double(steps)
    }

    /// The actions, generated from the solved tables when iteration starts.
    public func makeIterator() -> IndexingIterator<[CheckpointAction]> {
        actions().makeIterator()
    }

    /// The whole schedule as an array.
    public func actions() -> [CheckpointAction] {
        var out: [CheckpointAction] = []
        if steps == 1 {
            out.append(.reverse(step: 0))
        } else if _x0OnDisk {
            out.append(.store(slot: 0, step: 0, level: .disk))
            _diskFrame(start: 0, length: steps, freeDisk: diskSlots - 1, slot: 0, into: &out)
            out.append(.free(slot: 0, level: .disk))
        } else {
            _memoryFrame(start: 0, length: steps, into: &out)
        }
        return out
    }

    // Revolve in memory over start..<start+length; stores x_start itself (a free memory write).
    func _memoryFrame(start: Int, length: Int, into out: inout [CheckpointAction]) {
        if length == 1 {
            out.append(.reverse(step: start))
            return
        }
        var it = RevolveSchedule.Iterator(
            start: start, end: start + length, snapshots: memorySlots, storeStart: true)
        while let action = it.next() { out.append(action) }
    }

    // x_start is on disk in `slot` and is the current state; `freeDisk` disk slots are free
    // (they are the slots slot+1, slot+2, ..., used as a stack).
    func _diskFrame(start: Int, length: Int, freeDisk: Int, slot: Int, into out: inout [CheckpointAction]) {
        let width = steps + 1
        var l = length
        while true {
            if l == 1 {
                out.append(.reverse(step: start))
                return
            }
            let index = freeDisk * width + l
            let j = Int(_split[index])
            if j == 0 {
                _memoryFrame(start: start, length: l, into: &out)
                return
            }
            out.append(.advance(from: start, to: start + j))
            let right = l - j
            if right == 1 {
                out.append(.reverse(step: start + j))
            } else if _rightOnDisk[index] {
                out.append(.store(slot: slot + 1, step: start + j, level: .disk))
                _diskFrame(start: start + j, length: right, freeDisk: freeDisk - 1, slot: slot + 1, into: &out)
                out.append(.free(slot: slot + 1, level: .disk))
            } else {
                _memoryFrame(start: start + j, length: right, into: &out)
            }
            out.append(.restore(slot: slot, step: start, level: .disk))
            l = j
        }
    }
}
