import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind
import RewindModels

/// The JSON object of `rewind check --json`. The contract fixes `model`,
/// `finiteDifferences.maxRelativeError`, `taylor.rates`, `taylor.minRate` and
/// `dotProduct.relativeError`; the rest is there to explain a failure.
struct CheckOutput: Encodable {
    struct FiniteDifferences: Encodable {
        var maxRelativeError: Double
        var safetyFactor: Double
        var passed: Bool
        var order: Int
        var entries: [DerivativeCheckReport.Entry]
    }
    struct Taylor: Encodable {
        var rates: [Double]
        var minRate: Double
        var threshold: Double
        var ratesWithoutGradient: [Double]
        var perturbations: [Double]
        var remainders: [Double]
        var remaindersWithoutGradient: [Double]
        var noiseFloor: Double
        var deviationGrowth: Double
    }
    struct DotProduct: Encodable {
        var relativeError: Double
        var threshold: Double
        var tangentSide: Double
        var reverseSide: Double
    }
    var model: String
    var steps: Int
    var size: Int
    var parameterValues: [String: Double]
    var seed: UInt64
    var objective: Double
    var finiteDifferences: FiniteDifferences
    var taylor: Taylor
    var dotProduct: DotProduct
    var passed: Bool
    var failures: [String]

    init(model: any Model, parameters: [Double], steps: Int, seed: UInt64, report: DerivativeCheckReport) {
        self.model = type(of: model).name
        self.steps = steps
        size = model.size ?? model.stateCount
        parameterValues = Dictionary(uniqueKeysWithValues: zip(type(of: model).parameterNames, parameters))
        self.seed = seed
        objective = report.value
        let t = report.thresholds
        finiteDifferences = FiniteDifferences(
            maxRelativeError: report.finiteDifferences.maxRelativeError, safetyFactor: t.finiteDifferenceSafetyFactor,
            passed: report.finiteDifferences.passed,
            order: report.finiteDifferences.order, entries: report.finiteDifferences.entries)
        let r = report.taylor
        taylor = Taylor(
            rates: r.rates, minRate: r.minRate, threshold: t.taylorMinimumRate, ratesWithoutGradient: r.ratesWithoutGradient,
            perturbations: r.perturbations, remainders: r.remainders, remaindersWithoutGradient: r.remaindersWithoutGradient,
            noiseFloor: r.noiseFloor, deviationGrowth: r.deviationGrowth)
        // The model check always runs the tangent mode, so the dot product is always there.
        let d = report.dotProduct!
        dotProduct = DotProduct(
            relativeError: d.relativeError, threshold: t.dotProductRelativeError, tangentSide: d.tangentSide,
            reverseSide: d.reverseSide)
        passed = report.passed
        self.failures = report.failures
    }

    /// The readable report printed without --json (the size only for a model that has one).
    func text(for model: any Model) -> String {
        var lines: [String] = []
        let sizeText = model.size == nil ? "" : ", size \(size)"
        lines.append("\(self.model): \(steps) steps\(sizeText), J = \(objective), seed \(seed)")
        lines.append("")
        lines.append("finite differences (centered, order \(finiteDifferences.order); step chosen per entry from the error model)")
        lines.append("  " + ["input".padding(18), "AD".padding(24), "FD".padding(24), "step".padding(10), "digits agreeing / expected"].joined())
        for e in finiteDifferences.entries {
            let digits = "\(short(e.agreementDigits)) / \(short(e.expectedDigits))" + (e.passed ? "" : "  FAIL")
            lines.append(
                "  " + [e.name.padding(18), "\(e.automatic)".padding(24), "\(e.finiteDifference)".padding(24),
                        short(e.step).padding(10), digits].joined())
        }
        lines.append(
            "  each within \(short(finiteDifferences.safetyFactor))× its estimated error; max relative error \(short(finiteDifferences.maxRelativeError))"
                + verdict(finiteDifferences.passed))
        lines.append("")
        lines.append("taylor remainder test (random direction v, halving ε)")
        lines.append("  " + ["ε".padding(12), "|f(x+εv)−f(x)|".padding(18), "rate".padding(8), "|f(x+εv)−f(x)−ε∇f·v|".padding(24), "rate"].joined())
        for k in taylor.perturbations.indices {
            let r0 = k == 0 ? "" : rate(taylor.ratesWithoutGradient[k - 1])
            let r1 = k == 0 ? "" : rate(taylor.rates[k - 1])
            lines.append(
                "  " + [short(taylor.perturbations[k]).padding(12), short(taylor.remaindersWithoutGradient[k]).padding(18),
                        r0.padding(8), short(taylor.remainders[k]).padding(24), r1].joined())
        }
        lines.append(
            "  min rate \(rate(taylor.minRate)) (at least \(taylor.threshold)), moving away from 2 by \(short(taylor.deviationGrowth)) "
                + "beyond rounding; rounding level \(short(taylor.noiseFloor))"
                + verdict(taylor.minRate >= taylor.threshold && taylor.deviationGrowth <= 0))
        lines.append("")
        lines.append("dot product (tangent mode vs reverse mode, random u and w)")
        lines.append("  ⟨w, J u⟩  = \(dotProduct.tangentSide)")
        lines.append("  ⟨Jᵀw, u⟩ = \(dotProduct.reverseSide)")
        lines.append(
            "  relative error \(short(dotProduct.relativeError)) (at most \(short(dotProduct.threshold)))"
                + verdict(dotProduct.relativeError <= dotProduct.threshold))
        lines.append("")
        lines.append(passed ? "all checks passed" : "FAILED: \(failures.count) check(s)")
        return lines.joined(separator: "\n")
    }

    /// A convergence rate to three decimals: 1.9998 and 2.0002 both mean 2, 1.5 does not.
    private func rate(_ r: Double) -> String { r.isFinite ? r.printf("%.3f") : "\(r)" }

    private func verdict(_ ok: Bool) -> String { ok ? "  pass" : "  FAIL" }

    /// Three significant digits.
    private func short(_ x: Double) -> String {
        guard x.isFinite, x != 0 else { return "\(x)" }
        let e = Int(Double.log10(x.magnitude).rounded(.down))
        if (-3...2).contains(e) {
            let p = Double.pow(10, Double(2 - e))
            return "\((x * p).rounded() / p)"
        }
        return "\((x / Double.pow(10, Double(e)) * 100).rounded() / 100)e\(e)"
    }
}
