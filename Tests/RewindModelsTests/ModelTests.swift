import Rewind
import RewindModels
import Testing

/// A model with only the requirements a fixed-size model must meet: every other one defaulted.
private struct Decay: Model {
    static let name = "decay"
    static let summary = "x' = -k·x, explicit Euler (dt = 0.1), J = x_N²"
    static let parameterNames = ["k"]
    static let defaultParameters = [1.0]
    static let defaultSteps = 10
    var stateCount: Int { 2 }
    var parameterCount: Int { 1 }
    func initialState() -> [Double] { [1.0, 2.0] }
    func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
        next[0] = x[0] - 0.1 * p[0] * x[0]
        next[1] = x[1] - 0.1 * p[0] * x[0] * x[1]
    }
    func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
        x[0] * x[0] + x[1]
    }
}

/// A model with a size that implements `init(size:)` and narrows `sizeRange`.
private struct Chain: Model {
    static let name = "chain"
    static let summary = "n decaying values"
    static let parameterNames = ["k"]
    static let defaultParameters = [0.5]
    static let defaultSteps = 5
    static let defaultSize: Int? = 4
    static let sizeRange = 2...8
    let n: Int
    init() { self.init(size: Chain.defaultSize!) }
    init(size: Int) { n = size }
    var size: Int? { n }
    var stateCount: Int { n }
    var parameterCount: Int { 1 }
    func initialState() -> [Double] { (0..<n).map { Double($0 + 1) } }
    func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
        for i in 0..<n { next[i] = x[i] - 0.1 * p[0] * x[(i + 1) % n] }
    }
    func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
        x.reduce(0) { $0 + $1 * $1 }
    }
}

@Suite("The Model protocol: defaults and specialised entry points")
struct ModelTests {
    @Test func aFixedSizeModelGetsItsDefaults() throws {
        var model = Decay()
        #expect(model.size == nil)
        #expect(Decay.defaultSize == nil)
        #expect(model.stateName(1) == "x[1]")
        model.elementary = true
        #expect(model.elementary == false, "no elementwise variant: setting it does nothing")
        #expect(throws: ModelError.fixedSize(model: "decay")) { try Decay.make(size: 3) }
        #expect(try Decay.make(size: nil).initialState() == [1.0, 2.0])
    }

    @Test func aSizedModelIsMadeInsideItsRange() throws {
        #expect(try Chain.make(size: nil).n == 4)
        #expect(try Chain.make(size: 8).n == 8)
        #expect(throws: ModelError.sizeOutOfRange(model: "chain", size: 9, range: 2...8)) { try Chain.make(size: 9) }
        #expect(throws: ModelError.sizeOutOfRange(model: "chain", size: 1, range: 2...8)) { try Chain.make(size: 1) }
        #expect(Burgers.sizeRange == 3...32768 && Heat2D.sizeRange == 3...32768)
    }

    /// The entry points the command line calls on `any Model` are the engine's calls on the
    /// concrete type, bit for bit.
    @Test func theEntryPointsThroughAnExistentialAreTheEnginesCalls() throws {
        let model: any Model = Decay()
        let options = TimeSteppingOptions(strategy: .storeAll)
        let direct = try TimeStepping.gradient(
            of: Decay(), initialState: [1.0, 2.0], parameters: [1.0], steps: 10, options: options)
        let viaModel = try model._gradient(initialState: [1.0, 2.0], parameters: [1.0], steps: 10, options: options)
        #expect(viaModel.objective == direct.objective)
        #expect(viaModel.initialStateGradient == direct.initialStateGradient)
        #expect(viaModel.parameterGradient == direct.parameterGradient)

        let members = EnsembleMember.scalingFirstParameter(initialState: [1.0, 2.0], parameters: [1.0], count: 2)
        let ensemble = try model._gradients(members: members, steps: 10, options: options, threads: 1)
        #expect(ensemble.first?.parameterGradient == direct.parameterGradient)

        let jacobian = try model._jacobian(
            initialState: [1.0, 2.0], parameters: [1.0], steps: 10, rows: nil, options: options,
            parallel: ParallelOptions())
        let expected = try TimeStepping.jacobian(of: Decay(), initialState: [1.0, 2.0], parameters: [1.0], steps: 10)
        #expect(jacobian.jacobian == expected.jacobian)

        let report = try model._check(
            DerivativeCheck(), initialState: [1.0, 2.0], parameters: [1.0], steps: 10, stateComponents: 2)
        #expect(report.passed, "\(report.failures)")
        #expect(report.finiteDifferences.entries.map(\.name).prefix(3) == ["x[0]", "x[1]", "k"])
    }

    @Test func theCatalogNamesTheKnownModelsWhenANameIsUnknown() {
        #expect(throws: ModelError.unknownModel("navier-stokes", known: ["lorenz", "burgers", "heat2d"])) {
            try ModelCatalog.make("navier-stokes")
        }
        #expect(throws: ModelError.fixedSize(model: "lorenz")) { try ModelCatalog.make("lorenz", size: 3) }
    }
}
