import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Show revolve's binomial checkpointing schedule: advances, optimum, repetitions, a picture.")

    @Option(parsing: .unconditional, help: "Time steps to reverse.")
    var steps: Int

    @Option(parsing: .unconditional, help: "Snapshot slots (the one holding the initial state included).")
    var snapshots: Int

    @Option(parsing: .unconditional, help: "Write the schedule as an SVG picture to this file.")
    var svg: String?

    @OptionGroup var output: OutputOptions

    mutating func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        guard snapshots >= 1 else { throw ValidationError("--snapshots must be at least 1 (got \(snapshots))") }
    }

    /// Schedules up to this many step evaluations are walked to count their advances.
    static let countedEvaluations = 50_000_000

    func run() throws {
        let schedule = RevolveSchedule(steps: steps, snapshots: snapshots)
        // The closed form in checked arithmetic: 10^18 steps with 3 snapshots need ~1.8·10^24
        // advances, which no Int holds; say what these snapshots can do instead.
        guard let optimum = RevolveSchedule.checkedMinimumAdvances(steps: steps, snapshots: snapshots),
            case (let evaluations, false) = optimum.addingReportingOverflow(steps)
        else {
            let largest = RevolveSchedule.largestSteps(snapshots: snapshots, evaluations: .max)
            throw CommandFailure(
                "reversing \(steps) steps with \(snapshots) snapshot(s) takes more than \(Int.max) step evaluations, "
                    + "more than can be counted; \(snapshots) snapshot(s) reverse at most \(largest) steps within that")
        }
        // Count the schedule's own advances when that is affordable, so the figure is
        // measured rather than restated from the formula.
        var advances = optimum
        var counted = false
        if evaluations <= Self.countedEvaluations {
            advances = schedule.reduce(0) { $0 + $1.advanceCount }
            counted = true
        }
        if let svg {
            do {
                try OutputFile.write(ScheduleDiagram.svg(for: schedule), to: svg)
            } catch let error as OutputFile.Failure {
                throw CommandFailure("the SVG picture: \(error.description)")
            }
        }
        let summary = Output(
            steps: steps, snapshots: snapshots, advances: advances, optimalAdvances: optimum,
            repetitions: schedule.repetitions, counted: counted)
        if output.json {
            print(try JSONOutput.encode(summary))
        } else {
            print("revolve: \(steps) steps, \(snapshots) snapshots")
            print("advances: \(advances)\(counted ? "" : " (from the closed form)") — optimum \(optimum)")
            print("repetition number: \(schedule.repetitions) (no step is advanced more often)")
            print("total step evaluations: \(evaluations) (\(steps) taped)")
            if let svg { print("picture: \(svg)") }
        }
    }

    struct Output: Encodable {
        var steps: Int
        var snapshots: Int
        var advances: Int
        var optimalAdvances: Int
        var repetitions: Int
        var counted: Bool
    }
}
