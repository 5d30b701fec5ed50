import Foundation
import Testing

@Suite("rewind check, end to end")
struct CheckCommandTests {
    @Test(arguments: [
        ["lorenz", "--steps", "200"],
        ["burgers", "--size", "16", "--steps", "40"],
        ["heat2d", "--size", "8", "--steps", "10"],
    ])
    func everyModelPassesAndTheJSONHasTheContractsFields(arguments: [String]) throws {
        let result = try rewind(["check"] + arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        let json = try #require(result.json, "stdout must be one JSON object: \(result.stdout)")
        #expect(json["model"] as? String == arguments[0])
        let fd = try #require(json["finiteDifferences"] as? [String: Any])
        let maxError = try #require(fd["maxRelativeError"] as? Double)
        #expect(maxError <= 1e-6)
        let taylor = try #require(json["taylor"] as? [String: Any])
        let rates = try #require(taylor["rates"] as? [Double])
        let minRate = try #require(taylor["minRate"] as? Double)
        #expect(rates.count == 5 && minRate == rates.min())
        #expect(minRate >= 1.9, "\(rates)")
        let dot = try #require(json["dotProduct"] as? [String: Any])
        #expect((dot["relativeError"] as? Double ?? 1) <= 1e-10)
        #expect(json["passed"] as? Bool == true)
    }

    @Test func theTextReportShowsEachCheckAndItsVerdict() throws {
        let result = try rewind("check", "lorenz", "--steps", "100", "--parameter", "rho=10")
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["finite differences", "random direction", "taylor remainder test", "min rate", "dot product", "all checks passed"] {
            #expect(result.stdout.contains(line), "missing '\(line)' in\n\(result.stdout)")
        }
        #expect(!result.stdout.contains("FAIL"))
    }

    @Test func aCheckThatMissesItsThresholdExitsWithStatus1AndSaysWhich() throws {
        // No gradient converges at rate 2.5: the Taylor check must fail, the others pass.
        let result = try rewind("check", "lorenz", "--steps", "100", "--min-taylor-rate", "2.5", "--json")
        #expect(result.status == 1)
        #expect(result.stderr.contains("check failed: taylor"), "\(result.stderr)")
        #expect(!result.stderr.contains("finite differences") && !result.stderr.contains("dot product"), "\(result.stderr)")
        let json = try #require(result.json)
        #expect(json["passed"] as? Bool == false)
    }

    @Test(arguments: [
        ["check", "navier-stokes"],
        ["check", "lorenz", "--steps", "0"],
        ["check", "lorenz", "--order", "3"],
        ["check", "lorenz", "--size", "8"],
        ["check", "burgers", "--parameter", "mu=1"],
        ["check", "lorenz", "--min-taylor-rate", "-1"],
    ])
    func badInputExitsWithUsageStatus(arguments: [String]) throws {
        let result = try rewind(arguments)
        #expect(result.status == 64, "\(arguments): status \(result.status)")
        #expect(result.stderr.contains("Error:"), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
