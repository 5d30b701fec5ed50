import Rewind
import RewindModels
import Testing

@Suite("Models follow PROBLEMS.md")
struct ModelDefinitionTests {
    @Test func burgersTimeStepsAreThoseOfTheDefinition() {
        #expect(Burgers(n: 256).dt == 0.0053013036425502025)
        #expect(Burgers(n: 4096).dt == 5.2757726074271389e-05)
    }

    @Test func burgersInitialConditionPeaksNearTheStatedMaximum() {
        let u0 = Burgers(n: 4096).initialState()
        let peak = u0.map(abs).max()!
        #expect(abs(peak - 1.2994) < 1e-3)
    }

    @Test func lorenzStableConvergesToItsFixedPoint() {
        let (model, p, _) = SmallModels.lorenzStable
        let final = model.primal(initialState: model.initialState(), parameters: p, steps: 20_000).finalState
        let r = (p[2] * (p[1] - 1)).squareRoot()
        #expect(abs(abs(final[0]) - r) < 1e-6 && abs(final[2] - (p[1] - 1)) < 1e-6)
    }

    @Test func heatDecaysAndConservesTheMean() {
        let model = Heat2D(m: 16)
        let u0 = model.initialState()
        let (j, final) = model.primal(initialState: u0, parameters: [1.0], steps: 50)
        let j0 = model.run(initialState: u0, parameters: [1.0], steps: 0).objective
        #expect(j < j0)
        let mean0 = u0.reduce(0, +) / Double(u0.count)
        let mean = final.reduce(0, +) / Double(final.count)
        #expect(abs(mean - mean0) < 1e-12)
    }

    @Test(arguments: ["lorenz", "burgers", "heat2d"])
    func trackedRunReproducesThePrimalBitForBit(name: String) throws {
        var model = try ModelCatalog.make(name, size: name == "lorenz" ? nil : 16)
        for elementary in [false, true] {
            model.elementary = elementary
            try checkBitwisePrimal(model)
        }
    }

    private func checkBitwisePrimal<M: Model>(_ model: M) throws {
        let parameters = M.defaultParameters
        let primal = model.primal(initialState: model.initialState(), parameters: parameters, steps: 20).objective
        let result = try TimeStepping.gradient(
            of: model, initialState: model.initialState(), parameters: parameters, steps: 20,
            options: TimeSteppingOptions(strategy: .storeAll))
        #expect(result.objective.bitPattern == primal.bitPattern, "\(M.name) elementary=\(model.elementary)")
    }

    @Test func parameterOverridesAreParsedAndChecked() throws {
        #expect(try Lorenz.parameters(overriding: ["rho=10"]) == [10.0, 10.0, 8.0 / 3.0])
        #expect(throws: ModelError.self) { try Lorenz.parameters(overriding: ["gamma=1"]) }
        #expect(throws: ModelError.self) { try Lorenz.parameters(overriding: ["rho"]) }
        #expect(throws: ModelError.self) { try Lorenz.parameters(overriding: ["rho=ten"]) }
        #expect(throws: ModelError.self) { try ModelCatalog.make("navier-stokes") }
    }
}
