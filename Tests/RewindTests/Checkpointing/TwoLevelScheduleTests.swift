import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

struct MultistageRow: CustomTestStringConvertible, Sendable {
    let steps: Int, ram: Int, disk: Int
    let costs: TwoLevelCosts
    let advances: Int, diskWrites: Int, diskReads: Int
    let cost: Double
    let schedule: String
    var testDescription: String {
        "\(steps) steps, \(ram)+\(disk) slots, wd=\(costs.wd) rd=\(costs.rd): cost \(cost) [\(schedule)]"
    }

    static let all: [MultistageRow] = ReferenceData.load("multistage_optimal").map {
        MultistageRow(
            steps: Int($0["steps"]!)!, ram: Int($0["snapshots_in_ram"]!)!, disk: Int($0["snapshots_on_disk"]!)!,
            costs: TwoLevelCosts(uf: Double($0["uf"]!)!, ub: Double($0["ub"]!)!,
                                 wd: Double($0["wd"]!)!, rd: Double($0["rd"]!)!),
            advances: Int($0["forward_advances"]!)!, diskWrites: Int($0["disk_writes"]!)!,
            diskReads: Int($0["disk_reads"]!)!, cost: Double($0["cost"]!)!, schedule: $0["schedule"]!)
    }
    static var hRevolve: [MultistageRow] { all.filter { $0.schedule.hasSuffix("HRevolve") } }
}

@Suite("Two-level storage (H-Revolve)") struct TwoLevelScheduleTests {
    @Test func referenceTableIsLoaded() {
        #expect(MultistageRow.all.count == 117)
        #expect(MultistageRow.hRevolve.count == 39)
    }

    @Test("reaches the H-Revolve cost exactly, recounted action by action", arguments: MultistageRow.hRevolve)
    func matchesHRevolve(row: MultistageRow) throws {
        let schedule = TwoLevelSchedule(steps: row.steps, memorySlots: row.ram, diskSlots: row.disk, costs: row.costs)
        #expect(schedule.predictedCost == row.cost)
        let counts = try ScheduleInterpreter.run(schedule, steps: row.steps, memorySlots: row.ram, diskSlots: row.disk)
        #expect(counts.cost(steps: row.steps, row.costs) == row.cost)
        #expect(counts.advances == schedule.predictedAdvances)
        #expect(counts.diskWrites == schedule.predictedDiskWrites)
        #expect(counts.diskReads == schedule.predictedDiskReads)
        #expect(counts.maxLiveMemory <= row.ram && counts.maxLiveDisk <= row.disk)
    }

    @Test("never worse than the Stumm-Walther style schedules", arguments: MultistageRow.all.filter { !$0.schedule.hasSuffix("HRevolve") })
    func atMostOtherSchedules(row: MultistageRow) {
        let schedule = TwoLevelSchedule(steps: row.steps, memorySlots: row.ram, diskSlots: row.disk, costs: row.costs)
        #expect(schedule.predictedCost <= row.cost)
        // Their advances are the binomial optimum with ram+disk slots: a lower bound for ours.
        #expect(schedule.predictedAdvances >= RevolveSchedule.minimumAdvances(steps: row.steps, snapshots: row.ram + row.disk))
    }

    @Test func readmeExampleUsesNoDisk() throws {
        let schedule = TwoLevelSchedule(steps: 10, memorySlots: 1, diskSlots: 2, costs: TwoLevelCosts(wd: 10, rd: 10))
        #expect(schedule.predictedCost == 65)
        #expect(schedule.predictedAdvances == 45)
        #expect(schedule.predictedDiskWrites == 0 && schedule.predictedDiskReads == 0)
    }

    @Test("one level only reduces to revolve", arguments: [1, 2, 3, 5, 10, 57, 200])
    func singleLevelIsRevolve(steps: Int) throws {
        for slots in 1...5 {
            let memoryOnly = TwoLevelSchedule(steps: steps, memorySlots: slots, diskSlots: 0, costs: TwoLevelCosts(wd: 3, rd: 3))
            #expect(memoryOnly.predictedAdvances == RevolveSchedule.minimumAdvances(steps: steps, snapshots: slots))
            let freeDisk = TwoLevelSchedule(steps: steps, memorySlots: 0, diskSlots: slots, costs: TwoLevelCosts(wd: 0, rd: 0))
            #expect(freeDisk.predictedAdvances == RevolveSchedule.minimumAdvances(steps: steps, snapshots: slots))
            let counts = try ScheduleInterpreter.run(freeDisk, steps: steps, memorySlots: 0, diskSlots: slots)
            #expect(counts.advances == freeDisk.predictedAdvances)
        }
    }

    @Test func randomConfigurationsRecountExactly() throws {
        var rng = SeededGenerator(seed: 0x2_1E7E1)
        for _ in 0..<40 {
            let steps = Int.random(in: 1...300, using: &rng)
            let ram = Int.random(in: 0...6, using: &rng)
            let disk = Int.random(in: (ram == 0 ? 1 : 0)...8, using: &rng)
            let costs = TwoLevelCosts(uf: Double(Int.random(in: 1...3, using: &rng)), ub: 1,
                                      wd: Double(Int.random(in: 0...20, using: &rng)) / 2,
                                      rd: Double(Int.random(in: 0...20, using: &rng)) / 2)
            let schedule = TwoLevelSchedule(steps: steps, memorySlots: ram, diskSlots: disk, costs: costs)
            let counts = try ScheduleInterpreter.run(schedule, steps: steps, memorySlots: ram, diskSlots: disk)
            #expect(counts.cost(steps: steps, costs) == schedule.predictedCost, "\(steps) \(ram)+\(disk) \(costs)")
            // More slots of either kind never cost more.
            let more = TwoLevelSchedule(steps: steps, memorySlots: ram + 1, diskSlots: disk, costs: costs)
            #expect(more.predictedCost <= schedule.predictedCost)
        }
    }
}
