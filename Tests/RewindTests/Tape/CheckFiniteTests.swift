import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// Grows by a factor of 1e60 a step: the state overflows to infinity at step 4 (from 1e10).
private struct Overflowing: TimeSteppingProblem {
    var stateCount: Int { 1 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ s: [S], parameters p: [S], into next: inout [S]) { next[0] = s[0] * p[0] }
    func objective<S: SimulationScalar>(finalState s: [S], runningCostSum: S, parameters: [S]) -> S { s[0] }
}

@Suite("Check mode: where NaN and infinity enter")
struct CheckFiniteTests {
    @Test func theFirstNonFiniteStatementIsNamedWithItsOperands() {
        let tape = Tape()
        tape.checksFinite = true
        tape.record {
            let x = tape.registerInput(0)
            let a = x * 2.0
            let b = Tracked.sqrt(a)  // partial +∞
            _ = b + x
        }
        let report = try? #require(tape.firstNonFinite)
        #expect(report?.operation == "sqrt")
        #expect(report?.identifier == 3)
        #expect(report?.arguments.first?.identifier == 2)
        #expect(report?.arguments.first?.value == 0)
        #expect(report?.arguments.first?.partial == .infinity)
        #expect(report?.description.contains("sqrt") == true)
    }

    @Test func aNonFiniteInputIsReportedAsAnInput() {
        let tape = Tape()
        tape.checksFinite = true
        tape.record {
            let x = tape.registerInput(1)
            let y = tape.registerInput(.nan)
            _ = x * y
        }
        #expect(tape.firstNonFinite?.operation == "input")
        #expect(tape.firstNonFinite?.identifier == 2)
    }

    @Test func theSweepReportsTheFirstNonFiniteContributionAndGoesOn() {
        let tape = Tape()
        tape.checksFinite = true
        let (x, z, y) = tape.record { () -> (Tracked, Tracked, Tracked) in
            let z = tape.registerInput(2)
            let x = tape.registerInput(0)
            let s = Tracked.sqrt(x)  // value 0, partial ∞
            return (x, z, s * 3.0 + z * z)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        let report = tape.firstNonFiniteAdjoint
        #expect(report?.identifier == 3, "the sqrt statement spreads ∞ to its argument")
        #expect(report?.operation == "sqrt")
        #expect(report?.arguments.first?.identifier == x.identifier)
        #expect(report?.adjoint == 3)
        // Check mode reports only: the sweep went on, and gave the plain sweep's numbers.
        #expect(adjoints[x] == .infinity)
        #expect(adjoints[z] == 4)
        #expect(tape.warnings.isEmpty, "an infinite derivative of √x at 0 is right: \(tape.warnings)")
    }

    /// Check mode across chunk boundaries (chunks of 2 and 3 statements) and switched on in
    /// the middle of a recording: the same statements, values and gradients as with it off,
    /// and reports that name operations and operand values recorded chunks earlier.
    @Test(arguments: [2, 3, 1024])
    func checkModeAcrossChunksAndSwitchedOnMidway(capacity: Int) {
        func run(checking: Bool, midway: Bool) -> (Tape, [Double], Double) {
            let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity))
            tape.checksFinite = checking && !midway
            let (x, y) = tape.record { () -> ([Tracked], Tracked) in
                let x = tape.registerInputs([0.5, 2, 0])
                var a = x[0] * x[1] + 1.0
                if midway { tape.checksFinite = checking }
                for _ in 0..<10 { a = Tracked.sin(a) * x[1] - a / 3.0 }
                let s = Tracked.sqrt(x[2])  // ∞ partial at 0: reported, then 0·∞ in the sweep
                return (x, a + 0.0 * s)
            }
            let adjoints = AdjointVector()
            tape.reverse(adjoints, seeding: [(y, 1)])
            return (tape, x.map { adjoints[$0] }, y.value)
        }
        let plain = run(checking: false, midway: false)
        for midway in [false, true] {
            let (tape, gradient, value) = run(checking: true, midway: midway)
            #expect(value.bitPattern == plain.2.bitPattern)
            #expect(zip(gradient, plain.1).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
            #expect(gradient[2].isNaN && gradient[0].isFinite && gradient[1].isFinite)
            let recording = try? #require(tape.firstNonFinite)
            #expect(recording?.operation == "sqrt")
            #expect(recording?.arguments.first?.identifier == 3)
            // Inputs recorded before check mode was switched on were not kept: NaN.
            let operand = recording?.arguments.first?.value
            #expect(midway ? operand?.isNaN == true : operand == 0)
            let sweep = try? #require(tape.firstNonFiniteAdjoint)
            #expect(sweep?.operation == "sqrt")
            #expect(sweep?.adjoint == 0)
            #expect(tape.warnings.contains { $0.hasPrefix("sqrt") })
        }
    }

    @Test func checkModeOffFindsNothingAndCostsNoExtraStatements() {
        let tape = Tape()
        tape.record {
            let x = tape.registerInput(0)
            _ = Tracked.sqrt(x)
        }
        #expect(tape.firstNonFinite == nil)
        #expect(tape.statistics.statementCount == 2)
    }

    @Test func riskyPatternsAreFlaggedWithTheStableAlternative() {
        let tape = Tape()
        tape.checksFinite = true
        let y = tape.record { () -> Tracked in
            let x = tape.registerInput(0)
            _ = x / x
            _ = Tracked.log(x)
            // √x at 0 has the derivative +∞, which is right; only the sweep's 0·∞ is flagged.
            let s = Tracked.sqrt(x)
            return 0.0 * s + x
        }
        #expect(tape.warnings.count == 2, "\(tape.warnings)")
        #expect(tape.warnings.first?.contains("divided by itself") == true)
        #expect(tape.warnings.last?.contains("xlogx") == true)
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        // The sweep forms 0·∞ at the unused log and square root, and 0·NaN at the unused x/x.
        #expect(tape.warnings.count == 5, "\(tape.warnings)")
        #expect(tape.warnings.contains { $0.hasPrefix("sqrt") && $0.contains("0·∞") && $0.contains("abs(x)") })
        #expect(tape.warnings.contains { $0.hasPrefix("log") && $0.contains("0·∞") })
    }

    @Test(arguments: [CheckpointStrategy.storeAll, .revolve(snapshots: 2), .online(snapshots: 2)])
    func theDriverNamesTheTimeStepWhereTheStateOverflows(strategy: CheckpointStrategy) {
        var options = TimeSteppingOptions(strategy: strategy)
        options.checksFinite = true
        do {
            _ = try TimeStepping.gradient(of: Overflowing(), initialState: [1e10], parameters: [1e60], steps: 8, options: options)
            Issue.record("the overflow was not reported")
        } catch let TimeSteppingError.nonFiniteInRun(step, report) {
            #expect(step == 4, "\(report)")
            #expect(report.contains("*"), "\(report)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aNaNParameterIsAcceptedInCheckModeAndNamed() {
        var options = TimeSteppingOptions(strategy: .revolve(snapshots: 3))
        options.checksFinite = true
        do {
            _ = try TimeStepping.gradient(of: Overflowing(), initialState: [1], parameters: [.nan], steps: 5, options: options)
            Issue.record("the NaN parameter was not reported")
        } catch let TimeSteppingError.nonFiniteInRun(step, report) {
            #expect(step == 0)
            #expect(report.contains("parameter 0"), "\(report)")
        } catch {
            Issue.record("unexpected \(error)")
        }
        // Without check mode the same input is refused up front.
        #expect(throws: TimeSteppingError.self) {
            _ = try TimeStepping.gradient(of: Overflowing(), initialState: [1], parameters: [.nan], steps: 5)
        }
    }
}
