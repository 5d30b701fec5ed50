import ArgumentParser
import Foundation
import Rewind

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Show revolve's binomial checkpointing schedule: advances, optimum, repetitions, a picture.")

    @Option(help: "Time steps to reverse.")
    var steps: Int

    @Option(help: "Snapshot slots (the one holding the initial state included).")
    var snapshots: Int

    @Option(help: "Write the schedule as an SVG picture to this file.")
    var svg: String?

    @Flag(help: "Print one JSON object on stdout and nothing else.")
    var json = false

    mutating func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        guard snapshots >= 1 else { throw ValidationError("--snapshots must be at least 1 (got \(snapshots))") }
    }

    func run() throws {
        let schedule = RevolveSchedule(steps: steps, snapshots: snapshots)
        let optimum = schedule.advances
        // Count the schedule's own advances when that is affordable, so the figure is
        // measured rather than restated from the formula.
        var advances = optimum
        var counted = false
        if optimum + steps <= 50_000_000 {
            advances = schedule.reduce(0) { $0 + $1.advanceCount }
            counted = true
        }
        if let svg {
            let picture = ScheduleDiagram.svg(for: schedule)
            do {
                try picture.write(toFile: svg, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure("cannot write the SVG to '\(svg)': \(error.localizedDescription)")
            }
        }
        let output = Output(
            steps: steps, snapshots: snapshots, advances: advances, optimalAdvances: optimum,
            repetitions: schedule.repetitions, counted: counted)
        if json {
            print(try JSONOutput.encode(output))
        } else {
            print("revolve: \(steps) steps, \(snapshots) snapshots")
            print("advances: \(advances)\(counted ? "" : " (from the closed form)") — optimum \(optimum)")
            print("repetition number: \(schedule.repetitions) (no step is advanced more often)")
            print("total step evaluations: \(advances + steps) (\(steps) taped)")
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
