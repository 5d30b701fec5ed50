import Foundation
import Rewind
import RewindModels
import Testing

@Suite("Model gradients against finite differences, the tangent mode and each other")
struct ModelGradientTests {
    func gradient<M: Model>(
        _ model: M, _ parameters: [Double], _ steps: Int, _ strategy: CheckpointStrategy = .storeAll,
        stepsPerBlock: Int? = nil
    ) throws -> GradientResult {
        var options = TimeSteppingOptions(strategy: strategy)
        options.stepsPerBlock = stepsPerBlock
        return try TimeStepping.gradient(
            of: model, initialState: model.initialState(), parameters: parameters, steps: steps, options: options)
    }

    func checkAgainstFiniteDifferences<M: Model>(_ model: M, _ parameters: [Double], _ steps: Int, tolerance: Double) throws {
        let result = try gradient(model, parameters, steps)
        let full = result.initialStateGradient + result.parameterGradient
        let n = model.stateCount
        let inputs = Array(Set([0, 1, n / 2, n - 1] + (n..<full.count)))
        for k in inputs {
            let fd = centralDifference(model, parameters: parameters, steps: steps, input: k)
            let scale = full.map(abs).max()!
            #expect(abs(full[k] - fd) <= tolerance * scale, "\(M.name) input \(k): AD \(full[k]) FD \(fd)")
        }
    }

    @Test func lorenzStableMatchesFiniteDifferences() throws {
        let (m, p, n) = SmallModels.lorenzStable
        try checkAgainstFiniteDifferences(m, p, n, tolerance: 1e-7)
    }

    @Test func lorenzChaoticAtAThousandStepsMatchesFiniteDifferences() throws {
        let (m, p, n) = SmallModels.lorenzChaotic
        try checkAgainstFiniteDifferences(m, p, n, tolerance: 1e-5)
    }

    @Test func burgersMatchesFiniteDifferences() throws {
        let (m, p, n) = SmallModels.burgers
        try checkAgainstFiniteDifferences(m, p, n, tolerance: 1e-7)
    }

    @Test func heatMatchesFiniteDifferences() throws {
        let (m, p, n) = SmallModels.heat
        try checkAgainstFiniteDifferences(m, p, n, tolerance: 1e-7)
    }

    /// ⟨∇J, v⟩ from one reverse sweep equals dJ·v from the tangent mode, for random v.
    func checkDotProduct<M: Model>(_ model: M, _ parameters: [Double], _ steps: Int) throws {
        let result = try gradient(model, parameters, steps)
        let full = result.initialStateGradient + result.parameterGradient
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<3 {
            let v = full.indices.map { _ in Double.random(in: -1...1, using: &generator) }
            let reverse = zip(full, v).reduce(0) { $0 + $1.0 * $1.1 }
            let tangent = tangentDerivative(model, parameters: parameters, steps: steps, direction: v)
            #expect(relativeError(reverse, tangent) < 1e-12, "\(M.name): reverse \(reverse) tangent \(tangent)")
        }
    }

    @Test func dotProductTestLorenz() throws { let (m, p, n) = SmallModels.lorenzStable; try checkDotProduct(m, p, n) }
    @Test func dotProductTestBurgers() throws { let (m, p, n) = SmallModels.burgers; try checkDotProduct(m, p, n) }
    @Test func dotProductTestHeat() throws { let (m, p, n) = SmallModels.heat; try checkDotProduct(m, p, n) }

    /// Preaccumulated and elementary recordings differ only by rounding.
    func checkElementaryAgrees<M: Model>(_ model: M, _ parameters: [Double], _ steps: Int) throws {
        var elementary = model
        elementary.elementary = true
        let fast = try gradient(model, parameters, steps)
        let slow = try gradient(elementary, parameters, steps)
        let a = fast.initialStateGradient + fast.parameterGradient
        let b = slow.initialStateGradient + slow.parameterGradient
        let scale = a.map(abs).max()!
        for k in a.indices {
            #expect(abs(a[k] - b[k]) <= 1e-13 * scale, "\(M.name) input \(k): \(a[k]) vs \(b[k])")
        }
        #expect(fast.objective == slow.objective)
    }

    @Test func elementaryAgreesLorenz() throws { let (m, p, n) = SmallModels.lorenzStable; try checkElementaryAgrees(m, p, n) }
    @Test func elementaryAgreesBurgers() throws { let (m, p, n) = SmallModels.burgers; try checkElementaryAgrees(m, p, n) }
    @Test func elementaryAgreesHeat() throws { let (m, p, n) = SmallModels.heat; try checkElementaryAgrees(m, p, n) }

    /// Every strategy and snapshot count gives the same gradient, bit for bit.
    func checkStrategiesAgree<M: Model>(_ model: M, _ parameters: [Double], _ steps: Int) throws {
        let reference = try gradient(model, parameters, steps, .storeAll)
        // Strategies with the block length revolve tapes together (nil: single steps, or the
        // planner's choice for revolve without a snapshot count); blocks that divide the
        // steps and blocks that leave a short last one.
        let strategies: [(CheckpointStrategy, Int?)] = [
            (.revolve(snapshots: 1), nil), (.revolve(snapshots: 2), nil), (.revolve(snapshots: 7), nil),
            (.revolve(snapshots: steps), nil), (.online(snapshots: 2), nil), (.online(snapshots: 5), nil),
            (.revolve(snapshots: 2), 3), (.revolve(snapshots: 3), 4), (.revolve(snapshots: 1), steps - 1),
            (.revolve(snapshots: nil), 5), (.revolve(snapshots: nil), steps), (.revolve(snapshots: nil), nil),
        ]
        for (strategy, stepsPerBlock) in strategies {
            let other = try gradient(model, parameters, steps, strategy, stepsPerBlock: stepsPerBlock)
            if let stepsPerBlock { #expect(other.report.stepsPerBlock == stepsPerBlock) }
            #expect(other.objective.bitPattern == reference.objective.bitPattern, "\(M.name) \(strategy)")
            #expect(
                other.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern),
                "\(M.name) \(strategy), blocks of \(stepsPerBlock ?? 0): initial-state gradient differs")
            #expect(
                other.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern),
                "\(M.name) \(strategy): \(other.parameterGradient) vs \(reference.parameterGradient)")
            #expect(other.report.tapedSteps == steps)
        }
    }

    /// Elementary heat2d on 256² points: one step's dense adjoint vector (about 4 MB) does not
    /// fit a 9 MiB budget beside the states, so the step tapes spill and their adjoints are
    /// paged; the gradient is still store-all's, bit for bit, and the directory is left empty.
    @Test func pagedAdjointsGiveTheStoreAllGradient() throws {
        var model = Heat2D(m: 256)
        model.elementary = true
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-paged-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let reference = try gradient(model, [1.0], 3)
        let paged = try TimeStepping.gradient(
            of: model, initialState: model.initialState(), parameters: [1.0], steps: 3,
            options: TimeSteppingOptions(memoryBudget: .mebibytes(9), spillDirectory: parent))
        #expect(paged.report.plan.contains("adjoints paged"), "\(paged.report.plan)")
        #expect(paged.objective.bitPattern == reference.objective.bitPattern)
        #expect(paged.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
        #expect(paged.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    /// heat2d on 384² points under 20 MiB with a spill directory: its states are large beside
    /// the budget, so the planner's sample step spills (stencil statements: dense adjoints),
    /// and so do the step tapes; the gradient is store-all's, bit for bit.
    @Test func aSpilledSampleOfAStencilModelGivesTheStoreAllGradient() throws {
        let model = Heat2D(m: 384)
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("rewind-sample-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let reference = try gradient(model, [1.0], 2)
        let spilled = try TimeStepping.gradient(
            of: model, initialState: model.initialState(), parameters: [1.0], steps: 2,
            options: TimeSteppingOptions(memoryBudget: .mebibytes(20), spillDirectory: parent))
        #expect(spilled.report.spilledBytes > 0, "\(spilled.report.plan)")
        #expect(spilled.parameterGradient.map(\.bitPattern) == reference.parameterGradient.map(\.bitPattern))
        #expect(spilled.initialStateGradient.map(\.bitPattern) == reference.initialStateGradient.map(\.bitPattern))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    @Test func strategiesAgreeLorenz() throws { try checkStrategiesAgree(Lorenz(), [10, 10, 8.0 / 3.0], 40) }
    @Test func strategiesAgreeBurgers() throws { try checkStrategiesAgree(Burgers(n: 16), [0.01], 23) }
    @Test func strategiesAgreeHeat() throws { try checkStrategiesAgree(Heat2D(m: 6), [1.0], 17) }
}
