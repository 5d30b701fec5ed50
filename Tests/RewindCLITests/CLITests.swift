import Foundation
import Testing

@Suite("The rewind command line, end to end")
struct CLITests {
    @Test func gradientJSONHasTheContractsFields() throws {
        let result = try rewind("gradient", "burgers", "--size", "32", "--steps", "50", "--strategy", "store-all", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(result.json, "stdout must be one JSON object: \(result.stdout)")
        #expect(json["model"] as? String == "burgers")
        #expect(json["steps"] as? Int == 50)
        #expect(json["size"] as? Int == 32)
        #expect(json["objective"] is Double)
        let gradient = try #require(json["gradient"] as? [String: Any])
        #expect((gradient["initialState"] as? [Double])?.count == 32)
        #expect((gradient["parameters"] as? [String: Double])?["nu"] != nil)
        let run = try #require(json["run"] as? [String: Any])
        for field in [
            "strategy", "snapshotsInMemory", "snapshotsOnDisk", "forwardSteps", "optimalForwardSteps", "tapedSteps",
            "peakTapeBytes", "spilledBytes", "compressedBytes", "peakResidentBytes", "seconds",
        ] {
            #expect(run[field] != nil, "run.\(field) is missing")
        }
        #expect(run["strategy"] as? String == "store-all")
        #expect((run["peakResidentBytes"] as? Int ?? 0) > 1_000_000)
    }

    /// The report says whether a model's stencils took the affine path: heat2d's did (under
    /// store-all and revolve), Burgers' did not, Lorenz has none.
    @Test func theReportSaysWhetherTheStencilsWereAffine() throws {
        for strategy in ["store-all", "revolve"] {
            let heat = try rewind("gradient", "heat2d", "--size", "16", "--steps", "12", "--strategy", strategy)
            #expect(heat.status == 0, "\(heat.stderr)")
            #expect(heat.stdout.contains("stencils: affine in their neighbours"), "\(heat.stdout)")
            let json = try #require(try rewind("gradient", "heat2d", "--size", "16", "--steps", "12", "--strategy", strategy, "--json").json)
            let run = try #require(json["run"] as? [String: Any])
            let stencils = try #require(run["tapeStencilStatements"] as? Int)
            #expect(stencils > 0 && run["tapeAffineStencilStatements"] as? Int == stencils)
        }
        let burgers = try rewind("gradient", "burgers", "--size", "32", "--steps", "12")
        #expect(burgers.stdout.contains("stencils: not affine in their neighbours"), "\(burgers.stdout)")
        let lorenz = try rewind("gradient", "lorenz", "--steps", "12")
        #expect(!lorenz.stdout.contains("stencils:"), "\(lorenz.stdout)")
    }

    @Test func checkpointedGradientEqualsStoreAllExactly() throws {
        let storeAll = try rewind("gradient", "lorenz", "--steps", "200", "--parameter", "rho=10", "--strategy", "store-all", "--json")
        let revolve = try rewind(
            "gradient", "lorenz", "--steps", "200", "--parameter", "rho=10", "--strategy", "revolve", "--snapshots", "7", "--json")
        let tiny = try rewind("gradient", "lorenz", "--steps", "200", "--parameter", "rho=10", "--memory-budget", "64KiB", "--json")
        let reference = try #require(storeAll.json?["gradient"] as? [String: Any])
        let referenceState = try #require(reference["initialState"] as? [Double])
        let referenceParameters = try #require(reference["parameters"] as? [String: Double])
        for other in [revolve, tiny] {
            #expect(other.status == 0, "\(other.stderr)")
            let json = try #require(other.json)
            let gradient = try #require(json["gradient"] as? [String: Any])
            #expect(gradient["initialState"] as? [Double] == referenceState)
            #expect(gradient["parameters"] as? [String: Double] == referenceParameters)
            let run = try #require(json["run"] as? [String: Any])
            #expect(run["forwardSteps"] as? Int == run["optimalForwardSteps"] as? Int)
        }
    }

    @Test(arguments: [
        ["gradient", "navier-stokes"],
        ["gradient", "lorenz", "--steps", "0"],
        ["gradient", "lorenz", "--steps-per-block", "0"],
        ["gradient", "lorenz", "--strategy", "two-level", "--steps-per-block", "4"],
        ["gradient", "burgers", "--size", "-4"],
        ["gradient", "lorenz", "--size", "8"],
        ["gradient", "lorenz", "--parameter", "rho"],
        ["gradient", "lorenz", "--parameter", "gamma=2"],
        ["gradient", "lorenz", "--memory-budget", "lots"],
        ["gradient", "lorenz", "--strategy", "magic"],
        ["gradient", "lorenz", "--snapshots", "0"],
        ["schedule", "--steps", "10", "--snapshots", "0"],
        ["frobnicate"],
    ])
    func badInputExitsWithUsageStatusAndOneMessage(arguments: [String]) throws {
        let result = try rewind(arguments)
        #expect(result.status == 64, "\(arguments): status \(result.status)")
        #expect(result.stderr.hasPrefix("Error:"), "\(arguments): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// `--size` is checked against the named model's `sizeRange` (3 to 32768 for the grids).
    @Test(arguments: [
        (["gradient", "burgers", "--size", "2"], "Error: --size must be at least 3 (got 2)\n"),
        (["gradient", "heat2d", "--size", "40000"], "Error: --size 40000 is larger than heat2d allows (at most 32768)\n"),
        (["gradient", "navier-stokes"], "Error: unknown model 'navier-stokes'; the models are lorenz, burgers, heat2d\n"),
    ])
    func sizesAndNamesAreCheckedAgainstTheModels(arguments: [String], message: String) throws {
        let result = try rewind(arguments)
        #expect(result.status == 64)
        #expect(result.stderr == message)
    }

    @Test func aBudgetBelowTheMinimumIsRefusedWithTheMinimum() throws {
        let result = try rewind("gradient", "burgers", "--memory-budget", "1kB")
        #expect(result.status == 1)
        #expect(result.stderr.contains("minimum"), "\(result.stderr)")
    }

    @Test func scheduleReportsRevolvesOptimum() throws {
        let result = try rewind("schedule", "--steps", "1000", "--snapshots", "10", "--json")
        let json = try #require(result.json)
        #expect(json["advances"] as? Int == 3636)
        #expect(json["optimalAdvances"] as? Int == 3636)
        #expect(json["steps"] as? Int == 1000 && json["snapshots"] as? Int == 10)
    }

    @Test func scheduleWritesAnSVGPicture() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-schedule-\(getpid()).svg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try rewind("schedule", "--steps", "20", "--snapshots", "3", "--svg", path)
        #expect(result.status == 0)
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"))
        #expect(svg.contains("</svg>"))
    }

    @Test func modelsListsEveryModel() throws {
        let result = try rewind("models")
        for name in ["lorenz", "burgers", "heat2d"] { #expect(result.stdout.contains(name)) }
    }
}


@Suite("Spilling from the command line")
struct CLISpillTests {
    @Test(arguments: ["/etc/passwd", "/nonexistent/rewind-spill"])
    func anUnusableSpillDirectoryIsRefusedBeforeTheRunNamingIt(path: String) throws {
        let result = try rewind("gradient", "lorenz", "--steps", "10", "--spill-dir", path)
        #expect(result.status == 1)
        #expect(result.stderr.contains(path), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func twoLevelRunLeavesTheSpillDirectoryEmptyAndMatchesStoreAll() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-cli-spill-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let twoLevel = try rewind(
            "gradient", "burgers", "--size", "32", "--steps", "300", "--strategy", "two-level", "--snapshots", "3",
            "--spill-dir", directory, "--json")
        let storeAll = try rewind("gradient", "burgers", "--size", "32", "--steps", "300", "--strategy", "store-all", "--json")
        #expect(twoLevel.status == 0, "\(twoLevel.stderr)")
        let run = try #require(twoLevel.json?["run"] as? [String: Any])
        #expect((run["snapshotsOnDisk"] as? Int ?? 0) > 0)
        #expect((run["spilledBytes"] as? Int ?? 0) > 0)
        let a = try #require(twoLevel.json?["gradient"] as? [String: Any])
        let b = try #require(storeAll.json?["gradient"] as? [String: Any])
        #expect(a["initialState"] as? [Double] == b["initialState"] as? [Double])
        #expect(a["parameters"] as? [String: Double] == b["parameters"] as? [String: Double])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    /// Without `--check-finite` a non-finite parameter is refused by the flag that set it, in
    /// every command; only `gradient` offers `--check-finite` as the way to let it in.
    @Test func aNonFiniteParameterIsRefusedByItsFlag() throws {
        let gradient = try rewind("gradient", "burgers", "--parameter", "nu=nan", "--json")
        #expect(gradient.status == 1)
        let message = try #require((gradient.json?["error"] as? [String: Any])?["message"] as? String)
        #expect(message.hasPrefix("--parameter nu=nan: every parameter must be a finite number"), "\(message)")
        #expect(message.contains("--check-finite"))
        for command in ["check", "jacobian"] {
            let result = try rewind(command, "lorenz", "--steps", "5", "--parameter", "rho=-inf")
            #expect(result.status == 1)
            #expect(result.stderr.contains("--parameter rho=-inf: every parameter must be a finite number"), "\(result.stderr)")
            #expect(!result.stderr.contains("--check-finite"), "\(command) has no --check-finite")
        }
    }

    @Test func checkFiniteNamesTheStatementAndTheStep() throws {
        let result = try rewind("gradient", "lorenz", "--steps", "100", "--parameter", "rho=nan", "--check-finite")
        #expect(result.status == 1)
        #expect(result.stderr.contains("time step 0"), "\(result.stderr)")
        #expect(result.stderr.contains("statement"), "\(result.stderr)")
    }
}

@Suite("Budgets beyond the machine")
struct CLIBudgetWarningTests {
    @Test func aBudgetAboveTheMachinesMemoryWarnsOnStderrAndStillRuns() throws {
        let result = try rewind("gradient", "lorenz", "--steps", "10", "--memory-budget", "1PiB", "--json")
        #expect(result.status == 0)
        #expect(result.stderr.contains("exceeds this machine's memory"), "\(result.stderr)")
        #expect(result.json != nil, "stdout stays one JSON object")
    }
}
