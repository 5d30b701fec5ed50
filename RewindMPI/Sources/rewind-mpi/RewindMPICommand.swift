// rewind-mpi: the distributed gradient of a bundled model, one rank per MPI process.
//
//   mpirun -np 4 rewind-mpi gradient heat2d --size 2048 --steps 100 --memory-budget 64MiB --json
//
// Every rank runs its part; rank 0 prints one report, with every rank's timings and peak
// memory in it (docs/mpi.md).
import ArgumentParser
import Foundation
import Rewind
import RewindModels
import RewindCommandLine
import RewindMPI
import RewindMPIModels

@main
struct RewindMPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewind-mpi",
        abstract: "Rewind over MPI: gradients of the bundled grid models split across the ranks of an MPI job.",
        subcommands: [DistributedGradientCommand.self])
}

/// The strategies of `rewind gradient --strategy`, spelled the same.
enum StrategyName: String, ExpressibleByArgument, CaseIterable {
    case auto
    case storeAll = "store-all"
    case revolve
    case online
    case twoLevel = "two-level"
    case spill

    func checkpointStrategy(snapshots: Int?) -> CheckpointStrategy {
        switch self {
        case .auto: return snapshots.map { .revolve(snapshots: $0) } ?? .auto
        case .storeAll: return .storeAll
        case .revolve: return .revolve(snapshots: snapshots)
        case .online: return .online(snapshots: snapshots)
        case .twoLevel: return .twoLevel(memorySnapshots: snapshots, diskSnapshots: nil)
        case .spill: return .spill
        }
    }
}

struct DistributedGradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradient",
        abstract: "Differentiate a grid model's objective, its grid split across the ranks.")

    @Argument(help: "The model: burgers (split in 1-D) or heat2d (split in strips of rows).")
    var model: String

    @Option(help: "Grid points (burgers) or points per side (heat2d); the model's default when omitted.")
    var size: Int?

    @Option(help: "Time steps; the model's default when omitted.")
    var steps: Int?

    @Option(help: "Override a parameter, NAME=VALUE (repeatable).")
    var parameter: [String] = []

    @Option(help: "Memory for the run on each rank, e.g. 64MiB; the plan is made for the smallest rank's budget.")
    var memoryBudget: String = "1GiB"

    @Option(help: "auto, store-all, revolve, online, two-level or spill: the same on every rank.")
    var strategy: StrategyName = .auto

    @Option(help: "Snapshots per rank for revolve, online and two-level (in memory).")
    var snapshots: Int?

    // `--spill-dir`, as `rewind` spells it.
    @Option(
        name: .customLong("spill-dir"),
        help: "Where each rank may put its snapshots and spilled tapes (a private subdirectory per rank and run).")
    var spillDirectory: String?

    @Flag(help: "Also time a primal run of the same steps on Double (with its halo exchanges), for scaling studies.")
    var timePrimal = false

    @Flag(help: "Print one JSON object on stdout (rank 0) and nothing else.")
    var json = false

    mutating func validate() throws {
        guard ["burgers", "heat2d"].contains(model) else {
            throw ValidationError("rewind-mpi differentiates burgers or heat2d (got '\(model)')")
        }
        if let size, size < 3 { throw ValidationError("--size must be at least 3 (got \(size))") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        if let snapshots, snapshots < 1 { throw ValidationError("--snapshots must be at least 1 (got \(snapshots))") }
        do { _ = try MemoryBudget(parsing: memoryBudget) } catch { throw ValidationError("--memory-budget: \(error)") }
    }

    func run() throws {
        let world = MPICommunicator.world
        defer { MPICommunicator.finalize() }
        // Another rank's refusal reaches rank 0, which prints it, in the flags' words too.
        world.describesFailure = { ErrorMessages.message(for: $0) ?? "\($0)" }
        // After MPI's own initialisation (whose handlers are kept): a rank that mpirun ends with
        // SIGTERM, because another failed, removes its spill directories before it goes.
        SignalHandling.install()
        let outcome: Outcome
        do {
            outcome = try differentiate(on: world)
        } catch let error as MPIError {
            // Another rank failed before the first collective step; rank 0 prints its message.
            fail(error, world: world)
        } catch let error as TimeSteppingError {
            // Refused while planning: a budget or plan refusal is the same on every rank (the
            // plan is made from agreed figures), a bad input is its rank's (the others hold
            // `MPIError.rankFailed` with its message).
            fail(error, world: world)
        } catch let error as ModelError {
            fail(error, world: world)
        } catch let error as ValidationError {
            fail(error, world: world)
        } catch {
            // Anything else may have reached only this rank, in the middle of the run: the
            // others may wait for it in a halo exchange, so the job ends here.
            world.abort("\(error)")
        }
        try outcome.print(json: json, world: world)
    }

    /// Prints an error every rank has (rank 0 prints it, in the flags' words as `rewind` does)
    /// and exits with status 1.
    func fail(_ error: Error, world: MPICommunicator) -> Never {
        if world.rank == 0 {
            let message = ErrorMessages.message(for: error) ?? "\(error)"
            if json {
                let object = ["error": message]
                if let data = try? JSONEncoder().encode(object) { Swift.print(String(decoding: data, as: UTF8.self)) }
            }
            FileHandle.standardError.write("Error: \(message)\n".data(using: .utf8)!)
        }
        MPICommunicator.finalize()
        Foundation.exit(1)
    }

    struct Outcome {
        let model: String
        let size: Int
        let steps: Int
        let parameterNames: [String]
        let parameters: [Double]
        let result: GradientResult
        let initialStateGradient: [Double]
        let rankFigures: [[Double]]

        static let figureNames = [
            "cells", "peakResidentBytes", "peakTapeBytes", "seconds", "runSeconds", "recordSeconds", "reverseSeconds",
            "advanceSeconds", "forwardSteps", "snapshotsInMemory", "snapshotsOnDisk", "spilledBytes",
            "haloBytesForward", "haloBytesReverse", "haloExchangesForward", "haloExchangesReverse", "primalSeconds",
        ]

        func print(json: Bool, world: MPICommunicator) throws {
            guard world.rank == 0 else { return }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let report = try JSONSerialization.jsonObject(with: encoder.encode(result.report))
                let ranks = rankFigures.enumerated().map { rank, figures -> [String: Any] in
                    var entry: [String: Any] = ["rank": rank]
                    for (name, value) in zip(Self.figureNames, figures) {
                        if name == "primalSeconds" && value < 0 { continue }
                        entry[name] = name.hasSuffix("Seconds") || name == "seconds" ? value : Int(value)
                    }
                    return entry
                }
                let object: [String: Any] = [
                    "model": model, "size": size, "steps": steps, "ranks": ranks,
                    "objective": result.objective,
                    "gradient": [
                        "parameters": Dictionary(uniqueKeysWithValues: zip(parameterNames, result.parameterGradient)),
                        "initialState": initialStateGradient,
                    ],
                    "run": report,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                Swift.print(String(decoding: data, as: UTF8.self))
                return
            }
            Swift.print("\(model) (size \(size)) on \(rankFigures.count) ranks, \(steps) steps")
            Swift.print("objective J = \(result.objective)")
            for (name, value) in zip(parameterNames, result.parameterGradient) { Swift.print("dJ/d\(name) = \(value)") }
            let shown = initialStateGradient.prefix(6).map { "\($0)" }.joined(separator: ", ")
            Swift.print("dJ/du0 = [\(shown)\(initialStateGradient.count > 6 ? ", ..." : "")] (\(initialStateGradient.count) values)")
            Swift.print("plan: \(result.report.plan)")
            Swift.print("rank  cells  peak RSS  peak tape  seconds  advances  snapshots  halo sent forward / reverse")
            for (rank, f) in rankFigures.enumerated() {
                Swift.print(
                    "\(rank)  \(Int(f[0]))  \(MemoryBudget.format(Int(f[1])))  \(MemoryBudget.format(Int(f[2])))  "
                        + "\(String(format: "%.3f", f[3]))  \(Int(f[8]))  \(Int(f[9]))+\(Int(f[10]))  "
                        + "\(MemoryBudget.format(Int(f[12]))) / \(MemoryBudget.format(Int(f[13])))"
                        + (f[16] >= 0 ? "  primal \(String(format: "%.3f", f[16])) s" : ""))
            }
        }
    }

    func differentiate(on world: MPICommunicator) throws -> Outcome {
        let names = model == "burgers" ? Burgers.parameterNames : Heat2D.parameterNames
        let parameters = model == "burgers"
            ? try Burgers.parameters(overriding: parameter) : try Heat2D.parameters(overriding: parameter)
        let size = self.size ?? (model == "burgers" ? Burgers.defaultSize! : Heat2D.defaultSize!)
        let steps = self.steps ?? (model == "burgers" ? Burgers.defaultSteps : Heat2D.defaultSteps)
        var options = TimeSteppingOptions(
            strategy: strategy.checkpointStrategy(snapshots: snapshots), memoryBudget: try MemoryBudget(parsing: memoryBudget))
        options.spillDirectory = spillDirectory
        func run<P: TimeSteppingProblem>(_ problem: P, _ initialState: [Double]) throws -> GradientResult {
            try DistributedTimeStepping.gradient(
                of: problem, initialState: initialState, parameters: parameters, steps: steps, options: options,
                communicator: world)
        }
        /// Seconds of a primal run on `Double` between two barriers (−1 without `--time-primal`).
        func timedPrimal<P: TimeSteppingProblem>(_ problem: P, _ initialState: [Double]) -> Double {
            guard timePrimal else { return -1 }
            world.barrier()
            let clock = ContinuousClock()
            let start = clock.now
            let primal = problem.primal(initialState: initialState, parameters: parameters, steps: steps)
            withExtendedLifetime(primal) {}
            world.barrier()
            let elapsed = start.duration(to: clock.now).components
            return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        }
        let result: GradientResult
        var traffic = HaloTraffic()
        let primalSeconds: Double
        if model == "burgers" {
            guard size >= world.size else { throw ValidationError("burgers on \(world.size) ranks needs --size \(world.size) or more") }
            let problem = DistributedBurgers(n: size, communicator: world)
            result = try run(problem, problem.initialState())
            traffic = world.haloTraffic
            primalSeconds = timedPrimal(problem, problem.initialState())
        } else {
            guard size >= world.size else { throw ValidationError("heat2d on \(world.size) ranks needs --size \(world.size) or more") }
            let problem = DistributedHeat2D(m: size, communicator: world)
            result = try run(problem, problem.initialState())
            traffic = world.haloTraffic
            primalSeconds = timedPrimal(problem, problem.initialState())
        }
        let report = result.report
        let figures = world.gather([
            Double(result.initialStateGradient.count), Double(report.peakResidentBytes), Double(report.peakTapeBytes),
            report.seconds, report.runSeconds, report.recordSeconds, report.reverseSeconds, report.advanceSeconds,
            Double(report.forwardSteps), Double(report.snapshotsInMemory), Double(report.snapshotsOnDisk),
            Double(report.spilledBytes), Double(traffic.forwardBytes), Double(traffic.reverseBytes),
            Double(traffic.forwardExchanges), Double(traffic.reverseExchanges), primalSeconds,
        ])
        let count = Outcome.figureNames.count
        return Outcome(
            model: model, size: size, steps: steps, parameterNames: names, parameters: parameters, result: result,
            initialStateGradient: world.gather(result.initialStateGradient),
            rankFigures: stride(from: 0, to: figures.count, by: count).map { Array(figures[$0..<($0 + count)]) })
    }
}
