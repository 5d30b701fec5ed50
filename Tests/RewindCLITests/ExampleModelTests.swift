import Foundation
import Testing

/// `rewind-examples` (examples/rewind-examples): a user's own executable that gets the command
/// line through `RewindCommand.main(models:)` for a model that is not bundled, Lotka–Volterra.
@Suite("A user's model on the command line (rewind-examples)")
struct ExampleModelTests {
    /// Lotka–Volterra as examples/rewind-examples/LotkaVolterra.swift defines it, written again
    /// here on `Double` so that the finite differences below check the command line against an
    /// implementation it does not share: RK4 (dt = 0.01), J = dt·Σ_{n=1..N} y_n.
    static func objective(_ inputs: [Double], steps: Int) -> Double {
        var (x, y) = (inputs[0], inputs[1])
        let (alpha, beta, delta, gamma) = (inputs[2], inputs[3], inputs[4], inputs[5])
        func f(_ x: Double, _ y: Double) -> (Double, Double) { (alpha * x - beta * x * y, delta * x * y - gamma * y) }
        let dt = 0.01
        var sum = 0.0
        for _ in 0..<steps {
            let k1 = f(x, y)
            let k2 = f(x + 0.5 * dt * k1.0, y + 0.5 * dt * k1.1)
            let k3 = f(x + 0.5 * dt * k2.0, y + 0.5 * dt * k2.1)
            let k4 = f(x + dt * k3.0, y + dt * k3.1)
            x += dt / 6 * (((k1.0 + 2 * k2.0) + 2 * k3.0) + k4.0)
            y += dt / 6 * (((k1.1 + 2 * k2.1) + 2 * k3.1) + k4.1)
            sum += y
        }
        return dt * sum
    }

    @Test(arguments: ["store-all", "revolve"])
    func gradientJSONAgreesWithFiniteDifferences(strategy: String) throws {
        let steps = 400
        let result = try rewindExamples(
            "gradient", "lotka-volterra", "--steps", "\(steps)", "--parameter", "beta=0.5", "--strategy", strategy, "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(result.json, "stdout must be one JSON object: \(result.stdout)")
        #expect(json["model"] as? String == "lotka-volterra")
        let gradient = try #require(json["gradient"] as? [String: Any])
        let state = try #require(gradient["initialState"] as? [Double])
        let parameters = try #require(gradient["parameters"] as? [String: Double])
        let names = ["alpha", "beta", "delta", "gamma"]
        let computed = state + names.map { parameters[$0] ?? .nan }
        let point = [10.0, 10.0, 1.1, 0.5, 0.1, 0.4]
        let objective = try #require(json["objective"] as? Double)
        #expect(abs(objective - Self.objective(point, steps: steps)) <= 1e-12 * abs(objective))
        for i in point.indices {
            // Central differences, step ~ cube root of the unit roundoff, relative to the input.
            let h = 1e-5 * max(1, abs(point[i]))
            var plus = point
            var minus = point
            plus[i] += h
            minus[i] -= h
            let difference = (Self.objective(plus, steps: steps) - Self.objective(minus, steps: steps)) / (2 * h)
            #expect(
                abs(computed[i] - difference) <= 1e-6 * max(1, abs(difference)),
                "input \(i): reverse mode \(computed[i]), finite difference \(difference)")
        }
    }

    @Test func unknownModelListsTheExecutablesOwnModels() throws {
        let result = try rewindExamples("gradient", "lorenz")
        #expect(result.status == 64)
        #expect(result.stderr == "Error: unknown model 'lorenz'; the models are lotka-volterra, wave2d, particles\n", "\(result.stderr)")
    }

    @Test func sizeIsRefusedForAFixedSizeModel() throws {
        let result = try rewindExamples("gradient", "lotka-volterra", "--size", "8")
        #expect(result.status == 64)
        #expect(result.stderr == "Error: model 'lotka-volterra' has a fixed size; leave out --size\n", "\(result.stderr)")
    }

    @Test func elementaryIsRefusedForAModelWithoutAnElementwiseVariant() throws {
        let result = try rewindExamples("gradient", "lotka-volterra", "--elementary")
        #expect(result.status == 64)
        #expect(result.stderr.contains("has no elementwise recording; leave out --elementary"), "\(result.stderr)")
    }

    @Test func modelsListsOnlyTheExecutablesModels() throws {
        let result = try rewindExamples("models", "--json")
        #expect(result.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(list.map { $0["name"] as? String } == ["lotka-volterra", "wave2d", "particles"])
        #expect(list.first?["defaultSize"] == nil)
        #expect(list.first?["parameterOrder"] as? [String] == ["alpha", "beta", "delta", "gamma"])
    }

    @Test func jacobianNamesTheModelsStateAndParameters() throws {
        let result = try rewindExamples("jacobian", "lotka-volterra", "--steps", "50", "--threads", "2", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(result.json)
        #expect(json["rowNames"] as? [String] == ["prey", "predators"])
        #expect(
            json["columnNames"] as? [String] == ["prey0", "predators0", "alpha", "beta", "delta", "gamma"])
        #expect((json["jacobian"] as? [[Double]])?.map(\.count) == [6, 6])
    }

    @Test func checkPassesForTheModel() throws {
        let result = try rewindExamples("check", "lotka-volterra", "--steps", "200", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.json?["passed"] as? Bool == true)
    }

    @Test func ensembleAndCheckpointingRunTheSameGradient() throws {
        let single = try rewindExamples("gradient", "lotka-volterra", "--steps", "300", "--strategy", "store-all", "--json")
        let tiny = try rewindExamples("gradient", "lotka-volterra", "--steps", "300", "--memory-budget", "64KiB", "--json")
        let ensemble = try rewindExamples(
            "gradient", "lotka-volterra", "--steps", "300", "--ensemble", "2", "--threads", "2", "--json")
        for result in [single, tiny, ensemble] { #expect(result.status == 0, "\(result.stderr)") }
        let reference = try #require(single.json?["gradient"] as? [String: Any])
        let checkpointed = try #require(tiny.json?["gradient"] as? [String: Any])
        #expect(checkpointed["initialState"] as? [Double] == reference["initialState"] as? [Double])
        #expect(checkpointed["parameters"] as? [String: Double] == reference["parameters"] as? [String: Double])
        let members = try #require(ensemble.json?["members"] as? [[String: Any]])
        let first = try #require(members.first?["gradient"] as? [String: Any])
        #expect(first["initialState"] as? [Double] == reference["initialState"] as? [Double])
    }

    /// The wave equation's multi-field stencil against its elementwise recording (every
    /// operation a statement), and every strategy against store-all, bit for bit.
    @Test func waveEquationFastPathEqualsElementaryAndEveryStrategy() throws {
        func gradient(_ extra: String...) throws -> [Double] {
            let result = try runExecutable(
                "rewind-examples", ["gradient", "wave2d", "--size", "12", "--steps", "60", "--json"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            let gradient = try #require(result.json?["gradient"] as? [String: Any])
            let state = try #require(gradient["initialState"] as? [Double])
            let parameters = try #require(gradient["parameters"] as? [String: Double])
            return state + [parameters["c2"] ?? .nan]
        }
        let storeAll = try gradient("--strategy", "store-all")
        #expect(storeAll.count == 2 * 12 * 12 + 1)
        let elementary = try gradient("--strategy", "store-all", "--elementary")
        let scale = storeAll.map(\.magnitude).max() ?? 1
        for i in storeAll.indices {
            #expect(abs(storeAll[i] - elementary[i]) <= 1e-12 * scale, "component \(i): \(storeAll[i]) vs \(elementary[i])")
        }
        #expect(try gradient("--strategy", "revolve", "--snapshots", "3") == storeAll)
        #expect(try gradient("--strategy", "online", "--snapshots", "3") == storeAll)
        #expect(try gradient("--memory-budget", "256KiB") == storeAll)
    }

    @Test func waveEquationCheckPasses() throws {
        let result = try rewindExamples("check", "wave2d", "--size", "8", "--steps", "40", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.json?["passed"] as? Bool == true)
    }

    /// The particles' pair interaction against its elementwise recording (the self-derivatives
    /// are summed before the sweep multiplies them, so the last bits may differ), and every
    /// strategy against store-all, bit for bit.
    @Test func particlesFastPathEqualsElementaryAndEveryStrategy() throws {
        func gradient(_ extra: String...) throws -> [Double] {
            let result = try runExecutable(
                "rewind-examples", ["gradient", "particles", "--size", "6", "--steps", "80", "--json"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            let gradient = try #require(result.json?["gradient"] as? [String: Any])
            let state = try #require(gradient["initialState"] as? [Double])
            let parameters = try #require(gradient["parameters"] as? [String: Double])
            return state + [parameters["gm"] ?? .nan, parameters["eps2"] ?? .nan]
        }
        let storeAll = try gradient("--strategy", "store-all")
        #expect(storeAll.count == 4 * 6 + 2)
        let elementary = try gradient("--strategy", "store-all", "--elementary")
        let scale = storeAll.map(\.magnitude).max() ?? 1
        for i in storeAll.indices {
            #expect(abs(storeAll[i] - elementary[i]) <= 1e-12 * scale, "component \(i): \(storeAll[i]) vs \(elementary[i])")
        }
        #expect(try gradient("--strategy", "revolve", "--snapshots", "3") == storeAll)
        #expect(try gradient("--strategy", "online", "--snapshots", "3") == storeAll)
    }

    @Test func particlesCheckPasses() throws {
        let result = try rewindExamples("check", "particles", "--size", "5", "--steps", "50", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.json?["passed"] as? Bool == true)
    }
}
