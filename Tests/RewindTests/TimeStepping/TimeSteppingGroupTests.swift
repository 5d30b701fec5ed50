import Testing

import Rewind

/// The planner's side of a distributed run (`TimeSteppingGroup`), with a fake group standing
/// for the other ranks: RewindMPI's tests run the real one under mpirun (tools/test-mpi).
@Suite("Time-stepping groups")
struct TimeSteppingGroupTests {
    /// A group whose other ranks answer through closures; it logs what the planner asked.
    final class FakeGroup: TimeSteppingGroup {
        var peerMaximum: ([Double]) -> [Double] = { $0 }
        var peerFailure: Error?
        var samplingCalls = 0
        var isSampling = false
        var agreedFailures: [String] = []

        func sampling<Result>(_ body: () throws -> Result) rethrows -> Result {
            samplingCalls += 1
            isSampling = true
            defer { isSampling = false }
            return try body()
        }
        func maximum(_ values: [Double]) -> [Double] { zip(values, peerMaximum(values)).map { max($0, $1) } }
        func broadcast(_ values: [Double]) -> [Double] { values }
        func agree(failure: Error?) throws {
            agreedFailures.append(failure.map { "\($0)" } ?? "none")
            if let failure { throw failure }
            if let peerFailure { throw peerFailure }
        }
    }

    struct PeerFailed: Error {}

    /// Diffusion on a ring of 16 values; counts the steps taken while the group samples.
    final class Diffusion: TimeSteppingProblem {
        let stateCount = 16
        let parameterCount = 1
        weak var group: FakeGroup?
        var stepsWhileSampling = 0
        var stepsOtherwise = 0
        func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
            if group?.isSampling == true { stepsWhileSampling += 1 } else { stepsOtherwise += 1 }
            let n = x.count
            for i in 0..<n { next[i] = x[i] + p[0] * (x[(i + n - 1) % n] - 2.0 * x[i] + x[(i + 1) % n]) }
        }
        func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
            x.reduce(0) { $0 + $1 * $1 }
        }
    }

    let initialState = (0..<16).map { Double.sin(Double($0)) }

    @Test(arguments: [CheckpointStrategy.storeAll, .revolve(snapshots: 3), .online(snapshots: 3), .auto])
    func aGroupOfOneRunsTheSameGradientAndSamplesInsideSampling(strategy: CheckpointStrategy) throws {
        let alone = try TimeStepping.gradient(
            of: Diffusion(), initialState: initialState, parameters: [0.1], steps: 30,
            options: TimeSteppingOptions(strategy: strategy))
        let group = FakeGroup()
        let problem = Diffusion()
        problem.group = group
        var options = TimeSteppingOptions(strategy: strategy)
        options.group = group
        let together = try TimeStepping.gradient(
            of: problem, initialState: initialState, parameters: [0.1], steps: 30, options: options)
        #expect(together.objective == alone.objective)
        #expect(together.initialStateGradient == alone.initialStateGradient)
        #expect(together.parameterGradient == alone.parameterGradient)
        #expect(group.agreedFailures == ["none", "none"])
        #expect(group.samplingCalls >= 1)
        #expect(problem.stepsWhileSampling > 0)
        // Outside the sample, the run takes exactly its plan's steps: the same count on every rank.
        #expect(problem.stepsOtherwise == 30 + together.report.forwardSteps)
    }

    @Test func thePlanIsMadeForTheSmallestBudget() throws {
        let group = FakeGroup()
        // Another rank has 1 KiB: the budget is the smallest, so every rank refuses.
        group.peerMaximum = { values in values.count == 1 && values[0] < 0 ? [-1024] : values }
        var options = TimeSteppingOptions(memoryBudget: .mebibytes(64))
        options.group = group
        #expect {
            try TimeStepping.gradient(of: Diffusion(), initialState: initialState, parameters: [0.1], steps: 30, options: options)
        } throws: { error in
            guard case .budgetTooSmall(let budget, _, _)? = error as? TimeSteppingError else { return false }
            return budget == 1024
        }
    }

    @Test func aBadInputIsAgreedOnBeforeTheSample() throws {
        let group = FakeGroup()
        var options = TimeSteppingOptions()
        options.group = group
        #expect(throws: TimeSteppingError.self) {
            try TimeStepping.gradient(of: Diffusion(), initialState: [1, 2], parameters: [0.1], steps: 30, options: options)
        }
        #expect(group.agreedFailures.count == 1 && group.agreedFailures[0] != "none")
        #expect(group.samplingCalls == 0)
    }

    @Test func aPeersFailureStopsThisRankBeforeTheSample() throws {
        let group = FakeGroup()
        group.peerFailure = PeerFailed()
        var options = TimeSteppingOptions()
        options.group = group
        #expect(throws: PeerFailed.self) {
            try TimeStepping.gradient(of: Diffusion(), initialState: initialState, parameters: [0.1], steps: 30, options: options)
        }
        #expect(group.agreedFailures == ["none"])
        #expect(group.samplingCalls == 0)
    }
}
