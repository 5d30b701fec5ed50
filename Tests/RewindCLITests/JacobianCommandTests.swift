import Foundation
import Testing

@Suite("rewind jacobian and rewind gradient --ensemble, end to end")
struct JacobianCommandTests {
    @Test func lorenzJacobianIsBitwiseTheSameOnOneAndTwoThreads() throws {
        let arguments = ["jacobian", "lorenz", "--steps", "1000", "--parameter", "rho=10", "--json"]
        let one = try rewind(arguments + ["--threads", "1"])
        let two = try rewind(arguments + ["--threads", "2"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(two.status == 0, "\(two.stderr)")
        let json = try #require(two.json, "stdout must be one JSON object: \(two.stdout)")
        #expect(json["model"] as? String == "lorenz")
        #expect(json["rowNames"] as? [String] == ["x", "y", "z"])
        #expect(json["columnNames"] as? [String] == ["x0", "y0", "z0", "sigma", "rho", "beta"])
        let run = try #require(json["run"] as? [String: Any])
        #expect(run["threads"] as? Int == 2)
        #expect(run["seconds"] is Double)
        let matrix = try #require(json["jacobian"] as? [[Double]])
        #expect(matrix.count == 3 && matrix.allSatisfy { $0.count == 6 })
        #expect(matrix.allSatisfy { $0.allSatisfy(\.isFinite) })
        // JSON prints doubles with round-trip precision, so equal text means equal bits.
        let reference = try #require(one.json?["jacobian"] as? [[Double]])
        #expect(matrix == reference)
        #expect(jacobianText(one.stdout) == jacobianText(two.stdout))
    }

    @Test func everyStrategyAndSweepModeGiveTheSameLorenzJacobian() throws {
        let base = ["jacobian", "lorenz", "--steps", "300", "--parameter", "rho=10", "--json"]
        let reference = try rewind(base + ["--strategy", "store-all"])
        for extra in [["--strategy", "revolve", "--threads", "2"], ["--memory-budget", "64KiB"], ["--sweep", "simd4", "--threads", "8"]] {
            let other = try rewind(base + extra)
            #expect(other.status == 0, "\(extra): \(other.stderr)")
            #expect(jacobianText(other.stdout) == jacobianText(reference.stdout), "\(extra)")
        }
    }

    @Test func gridModelsNameColumnsAfterTheirStateNames() throws {
        let result = try rewind("jacobian", "burgers", "--size", "8", "--steps", "20", "--rows", "0,u[5],2-3", "--threads", "2", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(result.json)
        #expect(json["rowNames"] as? [String] == ["u[0]", "u[5]", "u[2]", "u[3]"])
        let columns = try #require(json["columnNames"] as? [String])
        #expect(columns.count == 9 && columns.first == "u0[0]" && columns[7] == "u0[7]" && columns.last == "nu")
        let heat = try rewind("jacobian", "heat2d", "--size", "4", "--steps", "3", "--rows", "u[1,2]", "--json")
        #expect(heat.status == 0, "\(heat.stderr)")
        #expect(heat.json?["rowNames"] as? [String] == ["u[1,2]"])
        #expect((heat.json?["columnNames"] as? [String])?[6] == "u0[1,2]")
    }

    @Test(arguments: [
        ["jacobian", "lorenz", "--threads", "0"],
        ["jacobian", "lorenz", "--rows", "3"],
        ["jacobian", "lorenz", "--rows", "w"],
        ["jacobian", "lorenz", "--sweep", "simd16"],
        ["jacobian", "lorenz", "--strategy", "magic"],
        ["gradient", "lorenz", "--ensemble", "0"],
        ["gradient", "lorenz", "--threads", "0"],
    ])
    func badInputExitsWithUsageStatus(arguments: [String]) throws {
        let result = try rewind(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.isEmpty)
    }

    @Test func ensembleMembersAreIdenticalForOneAndTwoThreadsAndFollowTheRule() throws {
        let arguments = ["gradient", "lorenz", "--steps", "500", "--ensemble", "4", "--json"]
        let one = try rewind(arguments + ["--threads", "1"])
        let two = try rewind(arguments + ["--threads", "2"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(two.status == 0, "\(two.stderr)")
        let members = try #require(two.json?["members"] as? [[String: Any]])
        let reference = try #require(one.json?["members"] as? [[String: Any]])
        #expect(members.count == 4)
        for (m, (member, lone)) in zip(members, reference).enumerated() {
            #expect(member["model"] as? String == "lorenz")
            #expect(member["objective"] is Double)
            let parameters = try #require(member["parameterValues"] as? [String: Double])
            #expect(parameters["sigma"] == 10 * (1 + 0.01 * Double(m)))
            #expect(parameters["rho"] == 28)
            let gradient = try #require(member["gradient"] as? [String: Any])
            let referenceGradient = try #require(lone["gradient"] as? [String: Any])
            #expect(gradient["initialState"] as? [Double] == referenceGradient["initialState"] as? [Double])
            #expect(gradient["parameters"] as? [String: Double] == referenceGradient["parameters"] as? [String: Double])
        }
        // Member 0 is the plain gradient.
        let plain = try rewind("gradient", "lorenz", "--steps", "500", "--threads", "2", "--json")
        #expect(plain.status == 0, "\(plain.stderr)")
        let plainGradient = try #require(plain.json?["gradient"] as? [String: Any])
        let first = try #require(members[0]["gradient"] as? [String: Any])
        #expect(first["parameters"] as? [String: Double] == plainGradient["parameters"] as? [String: Double])
    }
}

/// The `"jacobian":[[...]]` part of the JSON text, compared as text so that every digit counts.
private func jacobianText(_ stdout: String) -> String {
    guard let start = stdout.range(of: "\"jacobian\":"), let end = stdout.range(of: "]]", range: start.upperBound..<stdout.endIndex)
    else { return "" }
    return String(stdout[start.lowerBound..<end.upperBound])
}
