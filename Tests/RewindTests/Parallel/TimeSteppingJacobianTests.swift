import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

private let lorenzParameters = [10.0, 10.0, 8.0 / 3.0]
private let lorenzStart = [1.0, 1.0, 1.0]

private let strategies: [CheckpointStrategy] = [.storeAll, .revolve(snapshots: 3), .online(snapshots: 4), .auto]

@Suite("Time-stepping Jacobians: every step taped once, swept for every row")
struct TimeSteppingJacobianTests {
    @Test(arguments: [1, 2, 10, 300])
    func lorenzIsBitwiseTheSameForEveryStrategyThreadCountAndMode(steps: Int) throws {
        let reference = try TimeStepping.jacobian(
            of: TestLorenz(), initialState: lorenzStart, parameters: lorenzParameters, steps: steps,
            options: TimeSteppingOptions(strategy: .storeAll), parallel: ParallelOptions(threads: 1, sweepMode: .scalar))
        #expect(reference.jacobian.count == 3 && reference.jacobian.allSatisfy { $0.count == 6 })
        #expect(bitwiseEqual(
            reference.finalState,
            TestLorenz().primal(initialState: lorenzStart, parameters: lorenzParameters, steps: steps).finalState))
        for strategy in strategies {
            for threads in parallelThreadCounts {
                for mode in SweepMode.allCases {
                    let result = try TimeStepping.jacobian(
                        of: TestLorenz(), initialState: lorenzStart, parameters: lorenzParameters, steps: steps,
                        options: TimeSteppingOptions(strategy: strategy),
                        parallel: ParallelOptions(threads: threads, sweepMode: mode))
                    #expect(bitwiseEqual(result.jacobian, reference.jacobian), "\(strategy), \(threads) threads, \(mode)")
                    #expect(bitwiseEqual(result.finalState, reference.finalState))
                    #expect(result.report.tapedSteps == steps)
                }
            }
        }
    }

    @Test func eachRowIsBitwiseTheSerialGradientOfThatComponent() throws {
        let problem = TestDiffusion(n: 12)
        let result = try TimeStepping.jacobian(
            of: problem, initialState: problem.initialState(), parameters: [0.9], steps: 40,
            parallel: ParallelOptions(threads: 2))
        #expect(result.sweepMode == .scalar)  // stencils are external statements
        for row in 0..<problem.n {
            let gradient = try TimeStepping.gradient(
                of: ComponentObjective(base: problem, component: row), initialState: problem.initialState(),
                parameters: [0.9], steps: 40, options: TimeSteppingOptions(strategy: .storeAll))
            #expect(bitwiseEqual(result.jacobian[row], gradient.initialStateGradient + gradient.parameterGradient))
        }
    }

    @Test func stencilJacobianIsTheSameForEveryStrategyAndThreadCount() throws {
        let problem = TestDiffusion(n: 40)
        let rows = [0, 7, 39, 7]
        let reference = try TimeStepping.jacobian(
            of: problem, initialState: problem.initialState(), parameters: [0.9], steps: 30, rows: rows,
            options: TimeSteppingOptions(strategy: .storeAll))
        for strategy in strategies {
            for threads in parallelThreadCounts {
                let result = try TimeStepping.jacobian(
                    of: problem, initialState: problem.initialState(), parameters: [0.9], steps: 30, rows: rows,
                    options: TimeSteppingOptions(strategy: strategy), parallel: ParallelOptions(threads: threads, sweepMode: .simd8))
                #expect(bitwiseEqual(result.jacobian, reference.jacobian), "\(strategy), \(threads) threads")
            }
        }
    }

    /// Column c of the Jacobian is the tangent of the final state when input c is seeded.
    @Test(arguments: [CheckpointStrategy.storeAll, .revolve(snapshots: 5)])
    func columnsAgreeWithTheTangentMode(strategy: CheckpointStrategy) throws {
        let steps = 200
        let result = try TimeStepping.jacobian(
            of: TestLorenz(), initialState: lorenzStart, parameters: lorenzParameters, steps: steps,
            options: TimeSteppingOptions(strategy: strategy), parallel: ParallelOptions(threads: 2))
        let inputs = lorenzStart + lorenzParameters
        for column in 0..<6 {
            let seeded = inputs.indices.map { Dual<Double>(inputs[$0], tangent: $0 == column ? 1 : 0) }
            let run = TestLorenz().run(
                initialState: Array(seeded[0..<3]), parameters: Array(seeded[3...]), steps: steps)
            for row in 0..<3 {
                let tangent = run.finalState[row].tangent
                let adjoint = result.jacobian[row][column]
                #expect(abs(tangent - adjoint) <= 1e-11 * max(1, abs(tangent)), "row \(row), column \(column)")
            }
        }
    }

    @Test func badRowsAreRefused() {
        #expect(throws: ParallelError.rowOutOfRange(row: 3, stateCount: 3)) {
            try TimeStepping.jacobian(
                of: TestLorenz(), initialState: lorenzStart, parameters: lorenzParameters, steps: 5, rows: [0, 3])
        }
        #expect(throws: ParallelError.noRows) {
            try TimeStepping.jacobian(
                of: TestLorenz(), initialState: lorenzStart, parameters: lorenzParameters, steps: 5, rows: [])
        }
    }
}
