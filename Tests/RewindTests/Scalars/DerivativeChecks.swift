import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// A scalar function of several variables, written once over `SimulationScalar` so that the
/// same code runs on `Double` (the primal), `Tracked` (reverse mode) and `Dual` (tangent mode).
///
/// Generic closures do not exist in Swift, so each function under test is a small type with a
/// generic `callAsFunction`. `tracked(_:)` is a seam for overloads that only `Tracked` has
/// (`Tracked.pow(_:_: Double)`, `Double / Tracked`): override it to call the overload, and
/// the checks compare it against the generic code on `Double` and `Dual`.
protocol ScalarTestFunction: Sendable {
    func callAsFunction<T: SimulationScalar>(_ x: [T]) -> T
    func tracked(_ x: [Tracked]) -> Tracked
}

extension ScalarTestFunction {
    func tracked(_ x: [Tracked]) -> Tracked { self(x) }
}

/// How the central-difference check runs at a point.
struct FiniteDifferences: Sendable {
    /// The typical magnitude of the inputs: the step is `cbrt(eps) · max(scale, |xᵢ|)`.
    var scale: Double
    /// Why the check is skipped (a domain edge, a kink, a branch cut), or nil to run it.
    var skipReason: String?

    /// Central differences with the step `cbrt(eps) · max(1, |xᵢ|)`.
    static let central = FiniteDifferences(scale: 1, skipReason: nil)

    /// Central differences for inputs whose typical magnitude is `scale` rather than 1.
    static func central(scale: Double) -> FiniteDifferences { FiniteDifferences(scale: scale, skipReason: nil) }

    /// No finite differences at this point; `reason` says why (it stays in the test's source).
    static func skipped(_ reason: String) -> FiniteDifferences { FiniteDifferences(scale: 1, skipReason: reason) }
}

/// Tolerances of the derivative checks.
struct DerivativeTolerance: Sendable {
    /// Relative tolerance of AD derivatives against the analytic one and of tangent mode against
    /// reverse mode: ~45 ulps, room for the few roundings in which the rule and the test's
    /// formula differ.
    var relative: Double = 1e-14
    /// Absolute tolerance for derivatives whose reference is (close to) zero; nil means
    /// `relative` times the largest finite magnitude of the reference gradient.
    var absolute: Double? = nil
    /// Relative tolerance of the (Richardson-extrapolated) central difference.
    var finiteDifference: Double = 1e-7

    static let `default` = DerivativeTolerance()
}

/// Whether `observed` matches `expected` within `relative · |expected|`, four ulps of
/// `expected`, or `absolute`, whichever is largest. NaN matches only NaN; an infinity matches
/// only the same infinity.
func isClose(_ observed: Double, _ expected: Double, relative: Double, absolute: Double = 0) -> Bool {
    if observed.isNaN || expected.isNaN { return observed.isNaN && expected.isNaN }
    if observed.isInfinite || expected.isInfinite { return observed == expected }
    let allowed = Swift.max(relative * expected.magnitude, 4 * expected.ulp, absolute)
    return (observed - expected).magnitude <= allowed
}

/// Whether two doubles have the same bits (so 0.0 differs from -0.0, and NaN matches NaN).
func isIdentical(_ a: Double, _ b: Double) -> Bool {
    a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
}

/// Checks the value and the derivatives of `function` at `point` in every mode:
///
/// - (a) the value on `Tracked` (recorded, and on constants) and on `Dual` equals the value
///   on `Double` bit for bit, and operations on constants record nothing;
/// - (b) the reverse-mode gradient (record on a `Tape`, sweep once) matches `gradient`, the
///   analytic one, to `tolerance.relative`; `valueWithGradient(at:of:)` gives the same bits;
/// - (c) tangent mode gives the same derivatives: `Dual<Double>` with one unit direction per
///   input, and `Dual<SIMD4<Double>>` with several inputs' unit directions in its lanes at
///   once and a random direction in any spare lane (checked against ⟨∇f, v⟩);
/// - (d) central differences of the `Double` function, with the step from the truncation and
///   rounding error model `h ≈ cbrt(eps) · max(1, |xᵢ|)` and one Richardson extrapolation
///   (steps h and 2h), agree with the reverse gradient to `tolerance.finiteDifference`
///   relative, plus the rounding term `16 eps max|f| / h` of the model.
///
/// Every failure names the check, the point and the values.
func expectDerivatives<F: ScalarTestFunction>(
    of function: F,
    at point: [Double],
    gradient analytic: [Double]? = nil,
    finiteDifferences: FiniteDifferences = .central,
    tolerance: DerivativeTolerance = .default,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let n = point.count
    let name = String(describing: function)
    let at = "\(name) at \(point)"
    if let analytic {
        precondition(analytic.count == n, "the analytic gradient needs one entry per input")
    }

    // (a) Values.
    let primal: Double = function(point)

    let tape = Tape()
    let (inputs, output) = tape.record { () -> ([Tracked], Tracked) in
        let inputs = tape.registerInputs(point)
        return (inputs, function.tracked(inputs))
    }
    #expect(
        isIdentical(output.value, primal),
        "(a) \(at): Tracked value \(output.value) differs from the Double value \(primal)",
        sourceLocation: sourceLocation)

    let constantTape = Tape()
    let constantOutput = constantTape.record { function.tracked(point.map { Tracked($0) }) }
    #expect(
        isIdentical(constantOutput.value, primal),
        "(a) \(at): value \(constantOutput.value) on constant Tracked inputs differs from the Double value \(primal)",
        sourceLocation: sourceLocation)
    #expect(
        constantOutput.isConstant && constantTape.statistics.statementCount == 0,
        "(a) \(at): operations on constants recorded \(constantTape.statistics.statementCount) statements",
        sourceLocation: sourceLocation)

    // (b) Reverse mode.
    let adjoints = AdjointVector()
    tape.reverse(adjoints, seeding: [(output, 1)])
    let reverse = inputs.map { adjoints[$0] }

    let (helperValue, helperGradient) = valueWithGradient(at: point) { function.tracked($0) }
    #expect(
        isIdentical(helperValue, primal) && zip(helperGradient, reverse).allSatisfy { isIdentical($0, $1) },
        "(b) \(at): valueWithGradient gives \(helperValue), \(helperGradient); the tape sweep gives \(output.value), \(reverse)",
        sourceLocation: sourceLocation)

    let reference = analytic ?? reverse
    let scale = reference.lazy.filter(\.isFinite).map(\.magnitude).max() ?? 0
    let absolute = tolerance.absolute ?? tolerance.relative * scale
    if let analytic {
        for i in 0..<n where !isClose(reverse[i], analytic[i], relative: tolerance.relative, absolute: absolute) {
            let message =
                "(b) \(at): reverse-mode ∂f/∂x[\(i)] = \(reverse[i]), analytic \(analytic[i]) "
                + "(error \(reverse[i] - analytic[i]), tolerance \(tolerance.relative) relative, \(absolute) absolute)"
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }

    // (c) Tangent mode, one direction at a time.
    for j in 0..<n {
        let x = point.indices.map { i in Dual<Double>(point[i], tangent: i == j ? 1 : 0) }
        let y = function(x)
        #expect(
            isIdentical(y.value, primal),
            "(c) \(at): Dual<Double> value \(y.value) differs from the Double value \(primal)",
            sourceLocation: sourceLocation)
        #expect(
            isClose(y.tangent, reverse[j], relative: tolerance.relative, absolute: absolute),
            "(c) \(at): tangent mode ∂f/∂x[\(j)] = \(y.tangent), reverse mode \(reverse[j])",
            sourceLocation: sourceLocation)
    }

    // (c) Tangent mode, four lanes at once: unit directions, then random ones in spare lanes.
    var generator = SeededGenerator(seed: 0x5EED_0000 &+ UInt64(n))
    let lanes = SIMD4<Double>.laneCount
    for first in stride(from: 0, to: Swift.max(n, 1), by: lanes) {
        let units = Swift.min(lanes, n - first)
        var random = [[Double]](repeating: [], count: lanes)
        for lane in units..<lanes {
            random[lane] = (0..<n).map { _ in
                let v = Double.random(in: 0.5...2, using: &generator)
                return Bool.random(using: &generator) ? v : -v
            }
        }
        let x = point.indices.map { i -> Dual<SIMD4<Double>> in
            var tangent = SIMD4<Double>.zero
            for lane in 0..<lanes {
                tangent[lane] = lane < units ? (i == first + lane ? 1 : 0) : random[lane][i]
            }
            return Dual(point[i], tangent: tangent)
        }
        let y = function(x)
        #expect(
            isIdentical(y.value, primal),
            "(c) \(at): Dual<SIMD4<Double>> value \(y.value) differs from the Double value \(primal)",
            sourceLocation: sourceLocation)
        for lane in 0..<lanes {
            let expected: Double
            let laneAbsolute: Double
            let what: String
            if lane < units {
                expected = reverse[first + lane]
                laneAbsolute = absolute
                what = "∂f/∂x[\(first + lane)]"
            } else {
                let terms = zip(reverse, random[lane]).map { $0 * $1 }
                expected = terms.reduce(0) { $0 + $1 }
                laneAbsolute = Swift.max(absolute, tolerance.relative * terms.reduce(0) { $0 + $1.magnitude })
                what = "⟨∇f, v⟩ for v = \(random[lane])"
            }
            #expect(
                isClose(y.tangent[lane], expected, relative: tolerance.relative, absolute: laneAbsolute),
                "(c) \(at): Dual<SIMD4<Double>> lane \(lane) gives \(y.tangent[lane]) for \(what), reverse mode \(expected)",
                sourceLocation: sourceLocation)
        }
    }

    // (d) Central differences.
    guard finiteDifferences.skipReason == nil else { return }
    let eps = Double.ulpOfOne
    for i in 0..<n {
        let nominal = Double.cbrt(eps) * Swift.max(finiteDifferences.scale, point[i].magnitude)
        // Steps that are exact differences of representable numbers, so that x ± h is exact.
        func difference(_ step: Double) -> (value: Double, step: Double, largest: Double) {
            var plus = point
            var minus = point
            plus[i] = point[i] + step
            minus[i] = point[i] - step
            let width = plus[i] - minus[i]
            let fPlus: Double = function(plus)
            let fMinus: Double = function(minus)
            return ((fPlus - fMinus) / width, width / 2, Swift.max(fPlus.magnitude, fMinus.magnitude))
        }
        let coarse = difference(2 * nominal)
        let fine = difference(nominal)
        // fine = f' + c h² + O(h⁴), coarse = f' + 4 c h² + O(h⁴).
        let extrapolated = fine.value + (fine.value - coarse.value) / 3
        let rounding = 16 * eps * Swift.max(fine.largest, coarse.largest, primal.magnitude) / fine.step
        guard reverse[i].isFinite, rounding.isFinite, extrapolated.isFinite else {
            let message =
                "(d) \(at): central differences need finite values and derivatives; got ∂f/∂x[\(i)] = \(reverse[i]), "
                + "difference \(extrapolated), values up to \(Swift.max(fine.largest, coarse.largest)); "
                + "skip them with a reason at a domain edge"
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            continue
        }
        let allowed = tolerance.finiteDifference * reverse[i].magnitude + rounding
        let message =
            "(d) \(at): central difference ∂f/∂x[\(i)] ≈ \(extrapolated) (h = \(fine.step): \(fine.value), "
            + "2h: \(coarse.value)), reverse mode \(reverse[i]); allowed error \(allowed)"
        #expect(
            (extrapolated - reverse[i]).magnitude <= allowed, Comment(rawValue: message),
            sourceLocation: sourceLocation)
    }
}

