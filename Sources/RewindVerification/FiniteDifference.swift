import RewindCore
import RewindTimeStepping
import RealModule

/// A finite-difference derivative with the step it used and an estimate of its error.
public struct FiniteDifferenceEstimate: Sendable, Equatable, Codable {
    /// The estimate of the derivative.
    public var derivative: Double
    /// The step the estimate was taken with.
    public var step: Double
    /// Estimated truncation plus rounding error of `derivative`: `truncationError + roundingError`.
    public var estimatedError: Double
    /// The truncation part, by Richardson: the disagreement of this step with the next two.
    public var truncationError: Double
    /// The rounding part: the larger of `ε Σ|wⱼ f(x + jh)| / h` (f correct to one ulp) and the
    /// noise of f observed at the steps below this one, scaled to this step.
    public var roundingError: Double

    /// An estimate with its error model; `estimatedError` is the sum of the two parts.
    public init(derivative: Double, step: Double, truncationError: Double, roundingError: Double) {
        self.derivative = derivative
        self.step = step
        self.truncationError = truncationError
        self.roundingError = roundingError
        estimatedError = truncationError + roundingError
    }
}

/// Derivatives of a function of several variables by finite differences, with the step chosen
/// from the truncation and rounding error model.
///
/// ```swift
/// let f: ([Double]) -> Double = { x in Double.exp(x[0]) * x[1] }
/// FiniteDifference.partialDerivative(of: f, at: [1, 2], index: 0).derivative   // 2e to ~1e-12
/// ```
///
/// Why a scan instead of the textbook step alone: `nominalStep` assumes f varies on the
/// length `scale`. A chaotic simulation varies on a length `e^{λT}` times shorter (Lorenz at
/// ρ = 28 over 1000 steps: about 10⁴), and the textbook step then lands far outside the
/// linear regime. So the estimate is computed for steps `hₖ = 2⁶ h₀ · 2⁻ᵏ` around the nominal
/// `h₀` and the step is chosen where the modelled error is least:
///
/// - truncation `≈ max(|D(hₖ) − D(hₖ/2)|, |D(hₖ/2) − D(hₖ/4)|) · 2ᵖ/(2ᵖ − 1)` (Richardson:
///   `D(h) − f' ≈ C hᵖ`; two pairs, so that an oscillating f cannot agree with itself by
///   accident at one large step),
/// - rounding `≈ ε Σ|wⱼ||f(x + jₖhₖv)| / hₖ`.
///
/// The scan stops 8 or more halvings after the best step once the modelled error has grown
/// 100-fold (rounding then only grows) by an amount rounding can explain, else after 48
/// halvings: 12–50 stencil evaluations.
///
/// The rounding model assumes f is correct to about one ulp. A long simulation, or a
/// function with cancellation inside, is noisier than that, and an error estimate that
/// ignores it would make a correct derivative look wrong. So the estimate's rounding part is
/// measured as well: at the steps 8 and more times smaller than the best one, truncation is
/// `8⁻ᵖ` of the best step's and what separates `D(hₖ)` from the best estimate is rounding;
/// times `hₖ` it is a sample of the noise `|Σ wⱼ nⱼ|` of the stencil's sum, and the largest
/// sample over those steps (at least 6 of them when the scan stopped on its own), divided by
/// the best step, stands for the rounding error there. `estimatedError` is then a bound in the sense a derivative check needs: over
/// many functions and points, the true error stayed below it (see `DerivativeCheck`).
public enum FiniteDifference {
    /// `d/dt f(x + t v)` at `t = 0`. `scale` is the length in `t` over which f changes
    /// appreciably, if known; `v` is usually scaled so that 1 is right.
    public static func directionalDerivative(
        of f: ([Double]) throws -> Double, at x: [Double], along v: [Double],
        stencil: FiniteDifferenceStencil = .centered(order: 4), scale: Double = 1
    ) rethrows -> FiniteDifferenceEstimate {
        precondition(x.count == v.count, "the direction needs one entry per input")
        return try scan(stencil: stencil, nominal: stencil.nominalStep(scale: scale)) { t in
            try f(zip(x, v).map { $0 + t * $1 })
        }
    }

    /// `∂f/∂xᵢ`. Each step is rounded so that `xᵢ ± jh` is exact (the difference of two
    /// representable numbers), which removes the input's rounding from the error.
    public static func partialDerivative(
        of f: ([Double]) throws -> Double, at x: [Double], index i: Int,
        stencil: FiniteDifferenceStencil = .centered(order: 4), scale: Double? = nil
    ) rethrows -> FiniteDifferenceEstimate {
        let length = scale ?? Swift.max(1, x[i].magnitude)
        var point = x
        return try scan(stencil: stencil, nominal: stencil.nominalStep(scale: length)) { t in
            point[i] = x[i] + t
            return try f(point)
        } exactStep: { h in (x[i] + h) - x[i] }
    }

    /// The scan of the type's discussion over `g(t)`, `g'(0)` wanted.
    static func scan(
        stencil: FiniteDifferenceStencil, nominal: Double, _ g: (Double) throws -> Double,
        exactStep: (Double) -> Double = { $0 }
    ) rethrows -> FiniteDifferenceEstimate {
        let eps = Double.ulpOfOne
        let p = Double(stencil.order)
        let richardson = Double.pow(2, p) / (Double.pow(2, p) - 1)
        func estimate(_ h: Double) throws -> (derivative: Double, rounding: Double) {
            var sum = 0.0
            var magnitude = 0.0
            for (j, w) in zip(stencil.offsets, stencil.weights) {
                let value = try g(j * h)
                sum += w * value
                magnitude += (w * value).magnitude
            }
            return (sum / h, eps * magnitude / h)
        }
        // The best estimate so far: the one with the most significant digits (least relative
        // error) among those that resolve their leading digit (error below |D|), else the
        // least absolute error (a derivative that is 0 resolves no digit). Least absolute
        // error alone prefers a meaningless estimate at a large step (a chaotic map: −469 ± 418
        // at h = 1e-3, by chance) to a good one of a large derivative (−6.6553e8 ± 7500 at
        // h = 2e-11); for a smooth f the two orders agree near the best step.
        var best = FiniteDifferenceEstimate(derivative: .nan, step: nominal, truncationError: .infinity, roundingError: 0)
        var bestIndex = 0
        func better(_ candidate: FiniteDifferenceEstimate) -> Bool {
            let resolves = candidate.estimatedError < candidate.derivative.magnitude
            let bestResolves = best.estimatedError < best.derivative.magnitude
            if resolves != bestResolves { return resolves }
            if resolves {
                return candidate.estimatedError / candidate.derivative.magnitude < best.estimatedError / best.derivative.magnitude
            }
            return candidate.estimatedError < best.estimatedError
        }
        // D(hₖ) for the first three steps; then one new estimate per halving.
        var steps = [exactStep(nominal * 64)]
        steps.append(exactStep(steps[0] / 2))
        steps.append(exactStep(steps[1] / 2))
        var estimates = try steps.map { try estimate($0) }
        for k in 0..<48 {
            // Truncation from two successive differences, not one: an oscillating f can make
            // one pair agree by accident at a step far too large.
            let d = estimates.map(\.derivative)
            let truncation = Swift.max((d[k] - d[k + 1]).magnitude, (d[k + 1] - d[k + 2]).magnitude) * richardson
            let candidate = FiniteDifferenceEstimate(
                derivative: d[k], step: steps[k], truncationError: truncation, roundingError: estimates[k].rounding)
            let error = candidate.estimatedError
            if error.isFinite && d[k].isFinite && better(candidate) {
                best = candidate
                bestIndex = k
            }
            // Past the best step rounding only grows (×2 per halving); stop once the error has
            // grown 100-fold over 8 halvings. An accidental best at a large step is followed by
            // errors of its own size, not 100 times more, so then the scan goes on. So it does
            // when the growth is too large to be rounding: a disagreement that, times the
            // step, exceeds 10¹⁰ ulps of f (2e-6 relative) is f varying on a shorter length
            // than the step — a chaotic map whose estimates only settle 30 halvings further down.
            let roundingCanExplain = truncation <= 1e10 * estimates[k].rounding
            if k - bestIndex >= 8 && error >= 100 * best.estimatedError && roundingCanExplain { break }
            steps.append(exactStep(steps[k + 2] / 2))
            estimates.append(try estimate(steps[k + 3]))
        }
        guard best.derivative.isFinite else { return best }
        let noise = observedNoise(of: estimates.map(\.derivative), steps: steps, after: bestIndex, best: best.derivative)
        best.roundingError = Swift.max(best.roundingError, noise / best.step)
        best.estimatedError = best.truncationError + best.roundingError
        return best
    }

    /// The noise of the stencil's sum measured at the steps at least 8 times smaller than the
    /// best one, `max |D(hₖ) − D(best)| · hₖ`, to be divided by the best step. (`D(hₖ)`'s
    /// noise is `Σ wⱼ nⱼ / hₖ` for the noise `nⱼ` of g, so `|D(hₖ) − D(best)| · hₖ` is a sample
    /// of `|Σ wⱼ nⱼ|`, whatever the step.)
    static func observedNoise(of d: [Double], steps: [Double], after bestIndex: Int, best: Double) -> Double {
        var noise = 0.0
        for k in (bestIndex + 3)..<Swift.max(bestIndex + 3, d.count) where d[k].isFinite {
            noise = Swift.max(noise, (d[k] - best).magnitude * steps[k])
        }
        return noise
    }
}
