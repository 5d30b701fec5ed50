import RewindCore
import RewindTimeStepping
import RealModule

/// A battery of independent checks of a gradient: finite differences (partials and a random
/// direction), the Taylor remainder test, and the dot-product test against the tangent mode.
///
/// ```swift
/// let f: ([Double]) -> Double = { x in Double.exp(x[0]) * Double.sin(x[1]) }
/// let x = [0.3, 1.2]
/// let (_, g) = valueWithGradient(at: x) { v in Tracked.exp(v[0]) * Tracked.sin(v[1]) }
/// let report = DerivativeCheck().run(of: f, at: x, gradient: g)
/// report.passed          // true
/// report.failures        // what failed, one sentence each
/// report.finiteDifferences.entries[0].summary   // "x[0]: agrees to 12.9 digits, 12.0 expected"
/// ```
///
/// Each check sees something the others miss:
///
/// - **Finite differences** compare with an independent estimate, judged against that
///   estimate's own error model (`FiniteDifferenceEstimate.estimatedError`, truncation by
///   Richardson plus measured rounding): an entry fails when AD and FD differ by more than
///   `finiteDifferenceSafetyFactor` times the estimated error. So the check is as sharp as the
///   estimate is accurate — a rule off by 1e-10 fails where FD resolves 12 digits — and no
///   sharper, so a noisy primal (a long or ill-conditioned run) does not fail a correct
///   gradient. The report says how many digits agree and how many were expected.
/// - **The Taylor test** sees an error in the directional derivative against a large gradient
///   (rate 1 instead of 2), and flags rates whose distance from 2 grows as ε shrinks
///   (`TaylorTestResult.deviationGrowth`).
/// - **The dot-product test** compares reverse and tangent mode to rounding. It cannot see a
///   wrong custom rule, which both modes share: `run(rule:at:)` and
///   `run(customAdjoint:primal:at:)` check those against finite differences of the primal.
public struct DerivativeCheck: Sendable {
    /// What each check must achieve to pass.
    public struct Thresholds: Sendable, Equatable, Codable {
        /// How many times its estimated error a finite difference may be off. The estimate is
        /// built from maxima (the larger of two Richardson differences, the largest observed
        /// noise), so the true error usually sits below it. Measured for correct gradients:
        /// |AD − FD| / estimate at most 1.3 over 8 rules × 40 random points × orders 4, 6, 8,
        /// and 3.4 for `(1 − cos x)/x²` written naively at x = 1e-3, where AD's own rounding
        /// (which the estimate does not model) shows. 10 keeps a margin over both; a rule off by
        /// 1e-10 still fails wherever FD resolves 12 digits.
        public var finiteDifferenceSafetyFactor: Double
        /// The smallest Taylor convergence rate with the gradient term: a gross bound (a wrong
        /// gradient's rate tends to 1); finer errors show as a deviation from 2 that grows.
        public var taylorMinimumRate: Double
        /// The largest relative gap between the dot product's two sides.
        public var dotProductRelativeError: Double

        /// 10, 1.9 and 1e-10: see each property; tangent and reverse sums differ only in the
        /// order of roundings.
        public init(
            finiteDifferenceSafetyFactor: Double = 10, taylorMinimumRate: Double = 1.9,
            dotProductRelativeError: Double = 1e-10
        ) {
            self.finiteDifferenceSafetyFactor = finiteDifferenceSafetyFactor
            self.taylorMinimumRate = taylorMinimumRate
            self.dotProductRelativeError = dotProductRelativeError
        }
    }

    /// What each check must achieve to pass.
    public var thresholds: Thresholds
    /// The finite-difference formula (the classic 5-point, 4th-order one by default; order 8
    /// resolves two to three more digits of a smooth function, see `run(rule:at:)`).
    public var stencil: FiniteDifferenceStencil
    /// The seed of the random direction and of the dot-product test's vectors.
    public var seed: UInt64

    /// - Parameters:
    ///   - thresholds: What each check must achieve to pass.
    ///   - stencil: The finite-difference formula.
    ///   - seed: The seed of the random direction and vectors; a failure reproduces from it.
    public init(thresholds: Thresholds = Thresholds(), stencil: FiniteDifferenceStencil = .centered(order: 4), seed: UInt64 = 1) {
        self.thresholds = thresholds
        self.stencil = stencil
        self.seed = seed
    }

    /// Checks `gradient`, the gradient of `f` at `x`.
    ///
    /// - Parameters:
    ///   - f: The function in plain `Double`: the checks need only its values, so they share
    ///     no code with the derivative under test.
    ///   - x: The point.
    ///   - gradient: The gradient under test, one entry per input.
    ///   - tangent: `u ↦ ⟨∇f(x), u⟩` by the tangent mode, for the dot-product test (skipped
    ///     when nil).
    ///   - components: which partials to difference; nil means all of them up to 16 inputs,
    ///     else the 4 largest (by `|∂f/∂xᵢ|·sᵢ`) and 4 evenly spaced.
    ///   - scales: `sᵢ`, the typical size of each input: perturbations and steps are relative
    ///     to it. Default `max(|xᵢ|, mean |x|)`, or 1 where that is 0.
    ///   - names: how to call input i in the report (default `x[i]`).
    /// - Returns: What each check found; `passed` is the verdict, `failures` the reasons.
    /// - Throws: Whatever `f` or `tangent` throws.
    public func run(
        of f: ([Double]) throws -> Double, at x: [Double], gradient: [Double],
        tangent: (([Double]) throws -> Double)? = nil, components: [Int]? = nil, scales: [Double]? = nil,
        names: ((Int) -> String)? = nil
    ) rethrows -> DerivativeCheckReport {
        let n = x.count
        precondition(gradient.count == n, "the gradient needs one entry per input")
        let name = names ?? { "x[\($0)]" }
        let s = scales ?? DerivativeCheck.defaultScales(x)
        var generator = SeededGenerator(seed: seed)
        let direction = (0..<n).map { Double.random(in: -1...1, using: &generator) * s[$0] }
        let value = try f(x)
        let safety = thresholds.finiteDifferenceSafetyFactor

        // Finite differences: partials, then the random direction.
        let weighted = (0..<n).map { (gradient[$0] * s[$0]).magnitude }
        let largest = weighted.filter(\.isFinite).max() ?? 0
        var entries: [DerivativeCheckReport.Entry] = []
        for i in components ?? DerivativeCheck.defaultComponents(weighted) {
            let estimate = try FiniteDifference.partialDerivative(of: f, at: x, index: i, stencil: stencil, scale: s[i])
            entries.append(.init(
                name: name(i), automatic: gradient[i], estimate: estimate, floor: 1e-6 * largest / s[i], safetyFactor: safety))
        }
        var slope = 0.0
        var slopeMagnitude = 0.0
        for i in 0..<n {
            slope += gradient[i] * direction[i]
            slopeMagnitude += (gradient[i] * direction[i]).magnitude
        }
        let along = try FiniteDifference.directionalDerivative(of: f, at: x, along: direction, stencil: stencil)
        entries.append(.init(
            name: "random direction", automatic: slope, estimate: along, floor: 1e-6 * slopeMagnitude, safetyFactor: safety))
        let maxError = entries.map(\.relativeError).max() ?? 0

        let taylor = try TaylorTest.run(of: f, at: x, gradient: gradient, direction: direction)

        var dotProduct: DotProductTestResult? = nil
        if let tangent {
            dotProduct = try DotProductTest.run(
                inputCount: n, outputCount: 1, seed: seed &+ 1,
                tangent: { u in [try tangent(u)] }, adjoint: { w in gradient.map { w[0] * $0 } })
        }

        var failures: [String] = []
        let failing = entries.filter { !$0.passed }
        if let worst = failing.max(by: { $0.excess < $1.excess }) {
            let count = failing.count == 1 ? "" : " (and \(failing.count - 1) more of \(entries.count))"
            let detail = !worst.tolerance.isFinite ? "" : ", beyond \(threeDigits(safety))× the estimate's error "
                + "(AD \(worst.automatic), FD \(worst.finiteDifference) ± \(threeDigits(worst.estimatedError)))"
            failures.append("finite differences: \(worst.summary)\(detail)\(count)")
        }
        if !(taylor.minRate >= thresholds.taylorMinimumRate) {
            failures.append(
                "taylor: the smallest convergence rate is \(threeDigits(taylor.minRate)), below \(thresholds.taylorMinimumRate) "
                    + "(rates \(taylor.rates.map { threeDigits($0) }.joined(separator: ", ")))")
        } else if taylor.deviationGrowth > 0 {
            failures.append(
                "taylor: the rates move away from 2 as ε shrinks (\(taylor.rates.map { threeDigits($0) }.joined(separator: ", "))), "
                    + "by \(threeDigits(taylor.deviationGrowth)) more than rounding can explain: the directional derivative is off")
        }
        if let dotProduct, !(dotProduct.relativeError <= thresholds.dotProductRelativeError) {
            failures.append(
                "dot product: tangent \(dotProduct.tangentSide) and reverse \(dotProduct.reverseSide) differ by "
                    + "\(threeDigits(dotProduct.relativeError)) relative, above \(threeDigits(thresholds.dotProductRelativeError))")
        }
        return DerivativeCheckReport(
            value: value, thresholds: thresholds,
            finiteDifferences: .init(order: stencil.order, maxRelativeError: maxError, entries: entries),
            taylor: taylor, dotProduct: dotProduct, failures: failures)
    }

    /// `max(|xᵢ|, mean |x|)`, or 1 where that is 0.
    public static func defaultScales(_ x: [Double]) -> [Double] {
        let mean = x.isEmpty ? 0 : x.reduce(0) { $0 + $1.magnitude } / Double(x.count)
        return x.map { v in
            let s = Swift.max(v.magnitude, mean)
            return s > 0 && s.isFinite ? s : 1
        }
    }

    /// All indices up to 16 inputs, else the 4 largest weights and 4 evenly spaced indices.
    static func defaultComponents(_ weighted: [Double]) -> [Int] {
        let n = weighted.count
        if n <= 16 { return Array(0..<n) }
        let largest = weighted.indices.sorted { weighted[$0] > weighted[$1] }.prefix(4)
        let spaced = (0..<4).map { $0 * n / 4 }
        return Array(Set(largest).union(spaced)).sorted()
    }
}

/// What `DerivativeCheck` found.
public struct DerivativeCheckReport: Sendable, Equatable, Codable {
    /// One finite-difference comparison, judged against the estimate's own error model.
    public struct Entry: Sendable, Equatable, Codable {
        /// The input (`x[3]`, `rho`) or `random direction`.
        public var name: String
        /// The derivative from the gradient.
        public var automatic: Double
        /// The finite-difference estimate.
        public var finiteDifference: Double
        /// The step it was taken with.
        public var step: Double
        /// The estimate's error model, `truncationError + roundingError`
        /// (`FiniteDifferenceEstimate`).
        public var estimatedError: Double
        /// The truncation part of `estimatedError`, by Richardson extrapolation.
        public var truncationError: Double
        /// The rounding part of `estimatedError`.
        public var roundingError: Double
        /// The largest `|automatic − finiteDifference|` that passes:
        /// `safetyFactor · estimatedError + 64 ε max(|automatic|, |finiteDifference|)` (the
        /// second term lets AD's own rounding through where FD happens to be exact).
        public var tolerance: Double
        /// `−log₁₀(|automatic − finiteDifference| / max(|automatic|, |finiteDifference|))`,
        /// in [0, 16]: how many significant digits AD and FD share (16 when equal).
        public var agreementDigits: Double
        /// `−log₁₀(estimatedError / max(|automatic|, |finiteDifference|))`, in [0, 16]: how
        /// many digits the estimate can resolve, so how many a right derivative must share.
        public var expectedDigits: Double
        /// `|automatic − finiteDifference| ≤ tolerance`, with a finite tolerance.
        public var passed: Bool
        /// `|automatic − finiteDifference| / max(|automatic|, |finiteDifference|, floor)`, the
        /// floor being 1e-6 of the largest scaled partial, so a partial that is 0 up to
        /// rounding is judged against the gradient's size. Informative: `passed` decides.
        public var relativeError: Double

        init(name: String, automatic: Double, estimate: FiniteDifferenceEstimate, floor: Double, safetyFactor: Double) {
            self.name = name
            self.automatic = automatic
            finiteDifference = estimate.derivative
            step = estimate.step
            estimatedError = estimate.estimatedError
            truncationError = estimate.truncationError
            roundingError = estimate.roundingError
            let gap = automatic == estimate.derivative ? 0 : (automatic - estimate.derivative).magnitude
            let size = Swift.max(automatic.magnitude, estimate.derivative.magnitude)
            tolerance = safetyFactor * estimate.estimatedError + 64 * Double.ulpOfOne * size
            // An estimate that failed (f not finite near the point) checks nothing: not a pass.
            passed = gap <= tolerance && tolerance.isFinite
            func digits(_ relative: Double) -> Double {
                relative.isNaN ? 0 : Swift.min(16, Swift.max(0, -Double.log10(relative)))
            }
            agreementDigits = gap == 0 ? 16 : digits(gap / size)
            expectedDigits = size == 0 ? 16 : digits(estimate.estimatedError / size)
            let error = gap / Swift.max(size, floor)
            relativeError = error.isNaN ? .infinity : error
        }

        /// How far past its tolerance the gap is (≤ 1 when passed).
        var excess: Double {
            let ratio = (automatic - finiteDifference).magnitude / tolerance
            return ratio.isNaN || !tolerance.isFinite ? .infinity : ratio
        }

        /// One line: "x[2]: agrees to 7.9 digits, 12.4 expected".
        public var summary: String {
            func oneDecimal(_ x: Double) -> String { "\((x * 10).rounded() / 10)" }
            if !tolerance.isFinite { return "\(name): no finite-difference estimate (f is not finite near the point)" }
            return "\(name): agrees to \(oneDecimal(agreementDigits)) digits, \(oneDecimal(expectedDigits)) expected"
        }
    }

    /// The finite-difference comparisons.
    public struct FiniteDifferences: Sendable, Equatable, Codable {
        /// The stencil's order of accuracy.
        public var order: Int
        /// The largest `relativeError` of the entries (informative; `passed` decides).
        public var maxRelativeError: Double
        /// The partials differenced, then the random direction.
        public var entries: [Entry]
        /// Every entry within its tolerance.
        public var passed: Bool { entries.allSatisfy(\.passed) }
    }

    /// f at the point.
    public var value: Double
    /// The thresholds the checks were judged by.
    public var thresholds: DerivativeCheck.Thresholds
    /// The finite-difference comparisons.
    public var finiteDifferences: FiniteDifferences
    /// The Taylor remainder test along the random direction.
    public var taylor: TaylorTestResult
    /// nil when no tangent mode was given.
    public var dotProduct: DotProductTestResult?
    /// One sentence per failed check; empty when all passed.
    public var failures: [String]

    /// Whether every check passed.
    public var passed: Bool { failures.isEmpty }
}

/// `x` to three significant digits, for messages and tables: `0.0123`, `1.99`, `4.56e-12`, `1.23e3`.
func threeDigits(_ x: Double) -> String {
    guard x.isFinite, x != 0 else { return "\(x)" }
    let e = Int(Double.log10(x.magnitude).rounded(.down))
    if (-3...2).contains(e) {
        let p = Double.pow(10, Double(2 - e))
        return "\((x * p).rounded() / p)"
    }
    let m = (x / Double.pow(10, Double(e)) * 100).rounded() / 100
    return "\(m)e\(e)"
}
