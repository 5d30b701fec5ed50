import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// f(x) = exp(x0)·sin(x1) + x0·x2², with its exact gradient.
private let f: ([Double]) -> Double = { x in Double.exp(x[0]) * Double.sin(x[1]) + x[0] * x[2] * x[2] }
private func gradientOfF(_ x: [Double]) -> [Double] {
    [Double.exp(x[0]) * Double.sin(x[1]) + x[2] * x[2], Double.exp(x[0]) * Double.cos(x[1]), 2 * x[0] * x[2]]
}
private let point = [0.3, 1.2, -0.7]

/// A time-stepping problem whose step can be made subtly wrong in reverse mode only: the
/// `Tracked` step uses a perturbed coefficient, the `Double` and `Dual` ones the true one.
private struct Decay: TimeSteppingProblem {
    var reverseError = 0.0
    var stateCount: Int { 2 }
    var parameterCount: Int { 1 }
    func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
        let c = S.self == Tracked.self ? 0.1 * (1 + reverseError) : 0.1
        next[0] = x[0] - c * p[0] * x[0] * x[1]
        next[1] = x[1] + 0.05 * S.sin(x[0])
    }
    func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
        x[0] * x[0] + x[1]
    }
}

@Suite("Taylor test, dot-product test and the combined derivative check")
struct DerivativeCheckTests {
    @Test func taylorRatesAreTwoForTheRightGradientAndOneForAWrongOne() {
        let v = [0.4, -0.9, 0.25]
        let right = TaylorTest.run(of: f, at: point, gradient: gradientOfF(point), direction: v)
        #expect(right.rates.count == 5)
        #expect(right.rates.allSatisfy { ($0 - 2).magnitude < 0.02 }, "\(right.rates)")
        #expect(right.ratesWithoutGradient.allSatisfy { ($0 - 1).magnitude < 0.02 }, "\(right.ratesWithoutGradient)")
        // An error δ shows once ε|δ| beats ½ε²⟨v, Hv⟩ well above rounding, i.e. for δ ≫
        // √(rounding · curvature) ≈ 1e-7 here; 1e-5 relative is plainly visible.
        var wrong = gradientOfF(point)
        wrong[1] *= 1 + 1e-5
        let bad = TaylorTest.run(of: f, at: point, gradient: wrong, direction: v)
        #expect(bad.minRate < 1.2, "a gradient wrong by 1e-5 must show rate 1: \(bad.rates)")
    }

    /// `f(x) = x²` at 1 along `v = 1` with the derivative off by δ: the remainder is
    /// `|ε² − δε|`. For δ > 0 the two terms are about to cancel at ε = δ, so the rates rise
    /// above 2 and keep rising as ε shrinks (2.0x → 2.2); for δ < 0 they fall towards 1. Both
    /// stay above the old pass line of 1.9 in the window; the deviation's growth gives them away.
    @Test(arguments: [1e-7, -1e-7, 3e-8])
    func ratesThatMoveAwayFromTwoAreFlaggedAlthoughAllAreAbove1_9(delta: Double) {
        let f: ([Double]) -> Double = { x in x[0] * x[0] }
        let wrong = TaylorTest.run(of: f, at: [1], gradient: [2 + delta], direction: [1])
        #expect(wrong.minRate >= 1.9, "the gross bound alone would pass it: \(wrong.rates)")
        #expect(wrong.deviationGrowth > 0, "rates \(wrong.rates), noise \(wrong.rateNoise)")
        let right = TaylorTest.run(of: f, at: [1], gradient: [2], direction: [1])
        #expect(right.deviationGrowth == 0, "rates \(right.rates), noise \(right.rateNoise)")
    }

    @Test func deviationGrowthFollowsTheTheory() {
        let quiet = [Double](repeating: 0.001, count: 5)
        // The example of issue #12: 2.02 → 2.61 was not flagged.
        #expect(TaylorTest.deviationGrowth(rates: [2.02, 2.05, 2.12, 2.3, 2.61], noise: quiet) > 0.5)
        // A right gradient with a cubic term: the deviation halves as ε halves, either side of 2.
        #expect(TaylorTest.deviationGrowth(rates: [2.16, 2.08, 2.04, 2.02, 2.01], noise: quiet) == 0)
        #expect(TaylorTest.deviationGrowth(rates: [1.84, 1.92, 1.96, 1.98, 1.99], noise: quiet) == 0)
        // Cubic-dominated (⟨v, Hv⟩ ≈ 0): 3 settling towards 2.
        #expect(TaylorTest.deviationGrowth(rates: [2.99, 2.98, 2.9, 2.6, 2.3], noise: quiet) == 0)
        // Jitter within the noise bands is not growth; beyond them it is.
        #expect(TaylorTest.deviationGrowth(rates: [2.000, 2.002, 1.999, 2.003, 2.001], noise: [0.002, 0.002, 0.002, 0.002, 0.002]) == 0)
        #expect(TaylorTest.deviationGrowth(rates: [2.000, 2.002, 1.999, 2.003, 2.001], noise: [0.0005, 0.0005, 0.0005, 0.0005, 0.0005]) > 0)
        #expect(TaylorTest.deviationGrowth(rates: [2.0, .nan], noise: quiet) == .infinity)
    }

    @Test func taylorTestOfALinearFunctionReportsNoRemainder() {
        let linear: ([Double]) -> Double = { x in 3 * x[0] - 2 * x[1] }
        let r = TaylorTest.run(of: linear, at: [0.5, 0.25], gradient: [3, -2], direction: [1, 1])
        #expect(r.minRate == .infinity, "\(r)")
        let wrong = TaylorTest.run(of: linear, at: [0.5, 0.25], gradient: [3, -2.001], direction: [1, 1])
        #expect(wrong.minRate < 1.1, "\(wrong)")
    }

    @Test func dotProductTestSeesATransposeThatIsNotOne() {
        let a = [[1.0, 2, 0], [0.5, -1, 3]]
        let jv: ([Double]) -> [Double] = { u in a.map { row in zip(row, u).reduce(0) { $0 + $1.0 * $1.1 } } }
        let jtw: ([Double]) -> [Double] = { w in (0..<3).map { j in a[0][j] * w[0] + a[1][j] * w[1] } }
        let right = DotProductTest.run(inputCount: 3, outputCount: 2, seed: 3, tangent: jv, adjoint: jtw)
        #expect(right.relativeError < 1e-14)
        let wrongAdjoint: ([Double]) -> [Double] = { w in (0..<3).map { j in a[0][j] * w[1] + a[1][j] * w[0] } }
        let wrong = DotProductTest.run(inputCount: 3, outputCount: 2, seed: 3, tangent: jv, adjoint: wrongAdjoint)
        #expect(wrong.relativeError > 1e-3)
    }

    @Test func theCheckPassesACorrectGradientAndNamesWhatFailsInAWrongOne() {
        let tangent: ([Double]) -> Double = { u in
            let d = zip(point, u).map { Dual<Double>($0, tangent: $1) }
            return (Dual.exp(d[0]) * Dual.sin(d[1]) + d[0] * d[2] * d[2]).tangent
        }
        let report = DerivativeCheck().run(of: f, at: point, gradient: gradientOfF(point), tangent: tangent)
        #expect(report.passed, "\(report.failures)")
        #expect(report.finiteDifferences.entries.count == 4, "three partials and a random direction")
        #expect(report.finiteDifferences.maxRelativeError < 1e-8)
        #expect(report.taylor.minRate > 1.95)
        #expect(report.dotProduct!.relativeError < 1e-14)

        var wrong = gradientOfF(point)
        wrong[2] += 1e-3
        let failed = DerivativeCheck().run(of: f, at: point, gradient: wrong, tangent: tangent)
        #expect(!failed.passed)
        #expect(failed.failures.count == 3, "\(failed.failures)")
        #expect(failed.failures.contains { $0.hasPrefix("finite differences:") }, "\(failed.failures)")
        let entries = Dictionary(uniqueKeysWithValues: failed.finiteDifferences.entries.map { ($0.name, $0.relativeError) })
        #expect(entries["x[2]"]! > 1e-4 && entries["x[0]"]! < 1e-8 && entries["x[1]"]! < 1e-8, "\(entries)")
        #expect(failed.failures.contains { $0.hasPrefix("taylor:") })
        #expect(failed.failures.contains { $0.hasPrefix("dot product:") })
    }

    /// The finite-difference check is as sharp as the estimate: here 11–13 digits, so a
    /// gradient off by 1e-6, 1e-8 or 1e-10 relative in one entry fails, and says so in digits.
    @Test(arguments: [1e-6, 1e-8, 1e-10], [0, 1, 2])
    func aGradientOffBy1e6To1e10RelativeFailsTheFiniteDifferences(relativeError: Double, index: Int) {
        var wrong = gradientOfF(point)
        wrong[index] *= 1 + relativeError
        let report = DerivativeCheck().run(of: f, at: point, gradient: wrong)
        let entry = report.finiteDifferences.entries[index]
        #expect(!entry.passed, "\(entry.summary)")
        #expect(entry.expectedDigits > 11, "\(entry.summary)")
        #expect((entry.agreementDigits - -Double.log10(relativeError)).magnitude < 0.5, "\(entry.summary)")
        let failure = report.failures.first { $0.hasPrefix("finite differences:") }
        #expect(failure?.contains("x[\(index)]: agrees to") == true && failure?.contains("expected") == true, "\(report.failures)")
        let right = DerivativeCheck().run(of: f, at: point, gradient: gradientOfF(point))
        #expect(right.passed, "\(right.failures)")
    }

    @Test func theReportSaysHowManyDigitsAgreeAndHowManyWereExpected() {
        let report = DerivativeCheck().run(of: f, at: point, gradient: gradientOfF(point))
        for entry in report.finiteDifferences.entries {
            #expect(entry.passed && entry.agreementDigits >= entry.expectedDigits - 1, "\(entry.summary)")
            #expect(entry.summary.hasPrefix("\(entry.name): agrees to "), "\(entry.summary)")
            #expect(entry.summary.hasSuffix(" expected"), "\(entry.summary)")
            #expect(entry.estimatedError == entry.truncationError + entry.roundingError)
            #expect(entry.tolerance >= 10 * entry.estimatedError)
        }
    }

    @Test func aFiniteDifferenceThatCannotBeTakenFailsInsteadOfPassing() {
        // f is NaN everywhere but at the point itself: no estimate, so no pass.
        let f: ([Double]) -> Double = { x in x[0] == 0.5 ? 1 : .nan }
        let report = DerivativeCheck().run(of: f, at: [0.5], gradient: [2])
        #expect(!report.finiteDifferences.passed)
        #expect(report.finiteDifferences.entries[0].summary == "x[0]: no finite-difference estimate (f is not finite near the point)")
        #expect(!report.passed && report.failures.contains { $0.hasPrefix("finite differences:") }, "\(report.failures)")
    }

    @Test func aModelCheckPassesTheTrueGradientAndFailsARecordingThatIsOffBy1e4() throws {
        let good = try DerivativeCheck().run(Decay(), initialState: [1.0, 0.5], parameters: [2.0], steps: 50)
        #expect(good.passed, "\(good.failures)")
        #expect(good.finiteDifferences.entries.map(\.name) == ["x[0]", "x[1]", "p[0]", "random direction"])
        #expect(good.dotProduct!.relativeError < 1e-13)

        let bad = try DerivativeCheck().run(
            Decay(reverseError: 1e-4), initialState: [1.0, 0.5], parameters: [2.0], steps: 50)
        #expect(!bad.passed)
        #expect(bad.taylor.minRate < 1.5, "\(bad.taylor.rates)")
        #expect(bad.dotProduct!.relativeError > 1e-9, "\(bad.dotProduct!)")
    }

    /// A reverse-mode error far below what the Taylor test sees (rate 2 to 4 digits) still
    /// fails the finite differences, whose estimates resolve 10–12 digits of this run.
    @Test(arguments: [1e-6, 1e-8])
    func aModelRecordingOffBy1e6Or1e8FailsTheFiniteDifferences(reverseError: Double) throws {
        let bad = try DerivativeCheck().run(
            Decay(reverseError: reverseError), initialState: [1.0, 0.5], parameters: [2.0], steps: 50)
        #expect(!bad.finiteDifferences.passed, "\(bad.finiteDifferences.entries.map(\.summary))")
        #expect(bad.failures.contains { $0.hasPrefix("finite differences:") }, "\(bad.failures)")
    }
}
