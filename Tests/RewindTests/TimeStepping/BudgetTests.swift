import Testing

@testable import Rewind

private struct Ramp: TimeSteppingProblem {
    var stateCount: Int { 64 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) {
        for i in s.indices { next[i] = s[i] + p[0] * S.sin(s[(i + 1) % s.count]) }
    }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S {
        s.reduce(0) { $0 + $1 * $1 }
    }
}

/// A step function that changes the state's length: a programming error caught with a message.
private struct Shrinking: TimeSteppingProblem {
    var stateCount: Int { 2 }
    var parameterCount: Int { 0 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) { next = [s[0]] }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S { s[0] }
}

@Suite("Memory budget, plans and bad input")
struct BudgetTests {
    let x0 = (0..<64).map { Double($0) / 64 }

    func run(_ strategy: CheckpointStrategy, budget: Int, steps: Int = 50) throws -> GradientResult {
        try TimeStepping.gradient(
            of: Ramp(), initialState: x0, parameters: [0.01], steps: steps,
            options: TimeSteppingOptions(strategy: strategy, memoryBudget: MemoryBudget(bytes: budget)))
    }

    @Test func aBudgetBelowTheMinimumIsRefusedBeforeRunningWithTheMinimumInTheMessage() throws {
        do {
            _ = try run(.auto, budget: 1000)
            Issue.record("a 1000-byte budget was accepted")
        } catch let error as TimeSteppingError {
            guard case .budgetTooSmall(_, let minimum, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(error.description.contains("\(minimum) bytes"))
            // One byte below the minimum is refused, the minimum itself is accepted.
            #expect(throws: TimeSteppingError.self) { try self.run(.auto, budget: minimum - 1) }
            let result = try run(.auto, budget: minimum)
            #expect(result.report.strategy == "revolve")
            #expect(result.report.snapshotsInMemory == 1)
        }
    }

    @Test func autoPicksStoreAllWhenItFitsAndRevolveWhenNot() throws {
        #expect(try run(.auto, budget: 1 << 30).report.strategy == "store-all")
        let tight = try run(.auto, budget: 200_000)
        #expect(tight.report.strategy == "revolve")
        #expect(tight.report.peakTapeBytes < 200_000)
        #expect(tight.report.forwardSteps == tight.report.optimalForwardSteps)
    }

    @Test func storeAllThatDoesNotFitIsRefused() {
        #expect(throws: TimeSteppingError.self) { try self.run(.storeAll, budget: 100_000, steps: 2000) }
    }

    @Test func badInputIsRefusedWithAMessageNamingIt() {
        #expect(throws: TimeSteppingError.invalidSteps(0)) { try self.run(.auto, budget: 1 << 30, steps: 0) }
        #expect(throws: TimeSteppingError.invalidSnapshots(0)) { try self.run(.revolve(snapshots: 0), budget: 1 << 30) }
        var bad = x0
        bad[5] = .nan
        do {
            _ = try TimeStepping.gradient(of: Ramp(), initialState: bad, parameters: [0.01], steps: 3)
            Issue.record("a NaN in the initial state was accepted")
        } catch let error as TimeSteppingError {
            if case .nonFinite(let what, let index, _) = error {
                #expect(what == "the initial state" && index == 5)
            } else {
                Issue.record("unexpected error \(error)")
            }
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: TimeSteppingError.self) {
            _ = try TimeStepping.gradient(of: Ramp(), initialState: x0, parameters: [.infinity], steps: 3)
        }
        #expect(throws: TimeSteppingError.wrongLength(what: "the initial state", expected: 64, actual: 3)) {
            _ = try TimeStepping.gradient(of: Ramp(), initialState: [1, 2, 3], parameters: [0.01], steps: 3)
        }
    }

    @Test func aStepThatChangesTheStateLengthTrapsWithAMessage() async {
        await #expect(processExitsWith: .failure) {
            _ = try? TimeStepping.gradient(of: Shrinking(), initialState: [1, 2], parameters: [], steps: 3)
        }
    }

    @Test func oneStepRunsAreFine() throws {
        let one = try run(.revolve(snapshots: 1), budget: 1 << 30, steps: 1)
        let reference = try run(.storeAll, budget: 1 << 30, steps: 1)
        #expect(one.parameterGradient == reference.parameterGradient)
        #expect(one.report.forwardSteps == 0)
    }
}
