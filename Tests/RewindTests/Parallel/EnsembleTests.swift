import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Ensembles: independent runs differentiated concurrently")
struct EnsembleTests {
    @Test func membersFollowTheDocumentedRule() {
        let members = EnsembleMember.scalingFirstParameter(initialState: [1, 2], parameters: [10, 5], count: 3)
        let expected: [[Double]] = [[10, 5], [10 * 1.01, 5], [10 * (1 + 0.01 * 2), 5]]
        #expect(members.map(\.parameters) == expected)
        #expect(members.allSatisfy { $0.initialState == [1, 2] })
    }

    @Test(arguments: [CheckpointStrategy.storeAll, .revolve(snapshots: 4)])
    func everyThreadCountGivesEachMembersLoneGradient(strategy: CheckpointStrategy) throws {
        let problem = TestDiffusion(n: 16)
        let members = EnsembleMember.scalingFirstParameter(
            initialState: problem.initialState(), parameters: [0.9], count: 5)
        let options = TimeSteppingOptions(strategy: strategy, memoryBudget: .mebibytes(64))
        let lone = try members.map {
            try TimeStepping.gradient(
                of: problem, initialState: $0.initialState, parameters: $0.parameters, steps: 50, options: options)
        }
        for threads in parallelThreadCounts {
            let results = try TimeStepping.gradients(
                of: problem, members: members, steps: 50, options: options, threads: threads)
            #expect(results.count == members.count)
            for (result, reference) in zip(results, lone) {
                #expect(result.objective.bitPattern == reference.objective.bitPattern)
                #expect(bitwiseEqual(result.initialStateGradient, reference.initialStateGradient))
                #expect(bitwiseEqual(result.parameterGradient, reference.parameterGradient))
            }
        }
    }

    @Test func lorenzMembersRecordOnTheirOwnThreads() throws {
        let members = EnsembleMember.scalingFirstParameter(
            initialState: [1, 1, 1], parameters: [10, 10, 8.0 / 3.0], count: 8)
        let serial = try TimeStepping.gradients(of: TestLorenz(), members: members, steps: 400, threads: 1)
        let parallel = try TimeStepping.gradients(of: TestLorenz(), members: members, steps: 400, threads: 2)
        #expect(zip(serial, parallel).allSatisfy { bitwiseEqual($0.parameterGradient, $1.parameterGradient) })
        // Different members really differ.
        #expect(serial[0].parameterGradient != serial[7].parameterGradient)
    }

    @Test func errorsAreReportedInMemberOrder() {
        var members = EnsembleMember.scalingFirstParameter(initialState: [1, 1, 1], parameters: [10, 10, 3], count: 4)
        members[2].initialState = [1, .nan, 1]
        members[3].parameters = [1]
        #expect(throws: TimeSteppingError.nonFinite(what: "the initial state", index: 1, value: .nan).description) {
            do {
                _ = try TimeStepping.gradients(of: TestLorenz(), members: members, steps: 10, threads: 2)
            } catch let error as TimeSteppingError {
                throw error.description
            }
        }
        #expect(throws: ParallelError.emptyEnsemble) {
            try TimeStepping.gradients(of: TestLorenz(), members: [], steps: 10)
        }
    }
}

extension String: @retroactive Error {}
