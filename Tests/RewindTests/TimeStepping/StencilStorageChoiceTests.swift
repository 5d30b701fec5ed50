import Testing

import Rewind
@testable import RewindCore
@testable import RewindTimeStepping

/// A 1-D viscous Burgers-like step on a stencil of three neighbours and one parameter, on a
/// grid large enough that a step's partials (256 KiB) take more tape than its inputs.
private struct Viscous: TimeSteppingProblem {
    struct Update: StencilKernel {
        var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }
        func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
            u[1] - 0.1 * (u[2] * u[2] - u[0] * u[0]) + p[0] * (u[2] - 2.0 * u[1] + u[0])
        }
    }
    var stateCount: Int { 8192 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        S.applyStencil(Update(), on: .periodic(8192), to: s, parameters: LocalValues([p[0]]), into: &next)
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s.reduce(S(0)) { $0 + $1 * $1 }
    }
}

/// Which stencil storage a gradient's blocks record (`PlannedRun.keepingStencilPartials`):
/// partials where a checkpointed block of them fits the budget beside the snapshots, inputs
/// otherwise, and the same gradient, bit for bit, either way.
@Suite struct StencilStorageChoiceTests {
    let initialState = (0..<8192).map { 0.5 + 0.25 * Double.sin(2 * Double.pi * Double($0) / 8192) }

    /// Revolve's blocks of 16 steps: 1 MiB of inputs, 4 MiB of partials, more than the arena's first chunk.
    func planned(_ strategy: CheckpointStrategy, budget: MemoryBudget = .mebibytes(64)) throws -> PlannedRun {
        var options = TimeSteppingOptions(strategy: strategy, memoryBudget: budget)
        if case .revolve = strategy { options.stepsPerBlock = 16 }
        return try PlannedRun.gradient(
            Viscous(), initialState: initialState, parameters: [0.05], steps: 40, options: options)
    }

    func gradient(_ strategy: CheckpointStrategy, budget: MemoryBudget = .mebibytes(64)) throws -> [UInt64] {
        let result = try TimeStepping.gradient(
            of: Viscous(), initialState: initialState, parameters: [0.05], steps: 40,
            options: TimeSteppingOptions(strategy: strategy, memoryBudget: budget))
        return (result.initialStateGradient + result.parameterGradient).map(\.bitPattern)
    }

    @Test func aCheckpointedPlanWithRoomKeepsPartialsAndChargesThem() throws {
        let run = try planned(.revolve(snapshots: 4))
        #expect(run.workspace.tape.stencilStorage == .partials)
        // The block's working set is the one measured with partials: more than with inputs.
        let withInputs = RunPlanner.blockWorkingSetBytes(
            steps: run.plan.stepsPerBlock, sample: run.sample, stateCount: 8192)
        #expect(run.plan.stepWorkingSetBytes > withInputs)
        #expect(run.plan.stepWorkingSetBytes + run.plan.snapshots * run.plan.snapshotBytes <= 64 << 20)
    }

    @Test func storeAllKeepsInputs() throws {
        #expect(try planned(.storeAll).workspace.tape.stencilStorage == .inputs)
    }

    /// A budget that holds the plan's block with inputs beside its snapshots, but not with
    /// partials: the run keeps inputs and the plan its working set.
    @Test func aBlockOfPartialsThatDoesNotFitKeepsInputs() throws {
        let roomy = try planned(.revolve(snapshots: 4))
        var plan = roomy.plan
        let withInputs = RunPlanner.blockWorkingSetBytes(
            steps: plan.stepsPerBlock, sample: roomy.sample, stateCount: 8192)
        plan.stepWorkingSetBytes = withInputs
        let workspace = TimeSteppingWorkspace()
        workspace.recordsForOneSweep()
        let tight = MemoryBudget(bytes: withInputs + plan.snapshots * plan.snapshotBytes)
        PlannedRun.keepingStencilPartials(
            &plan, sample: roomy.sample, problem: Viscous(), initialState: initialState, parameters: [0.05],
            stateCount: 8192, budget: tight, workspace: workspace, group: nil)
        #expect(workspace.tape.stencilStorage == .inputs)
        #expect(plan.stepWorkingSetBytes == withInputs)
    }

    @Test func theGradientIsTheSameBitsWhicheverStorageTheBlocksKeep() throws {
        let storeAll = try gradient(.storeAll)
        #expect(try gradient(.revolve(snapshots: 4)) == storeAll)
        #expect(try gradient(.online(snapshots: 3)) == storeAll)
        #expect(try gradient(.auto, budget: .mebibytes(8)) == storeAll)
    }
}
