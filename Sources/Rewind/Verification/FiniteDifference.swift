import RealModule

/// A finite-difference derivative with the step it used and an estimate of its error.
public struct FiniteDifferenceEstimate: Sendable, Equatable, Codable {
    /// The estimate of the derivative.
    public var derivative: Double
    /// The step the estimate was taken with.
    public var step: Double
    /// Estimated truncation plus rounding error of `derivative`.
    public var estimatedError: Double
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
/// 100-fold (rounding then only grows), else after 48 halvings: 12–50 stencil evaluations.
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
        var best = FiniteDifferenceEstimate(derivative: .nan, step: nominal, estimatedError: .infinity)
        var bestIndex = 0
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
            let error = truncation + estimates[k].rounding
            if error.isFinite && d[k].isFinite && error < best.estimatedError {
                best = FiniteDifferenceEstimate(derivative: d[k], step: steps[k], estimatedError: error)
                bestIndex = k
            }
            // Past the best step rounding only grows (×2 per halving); stop once the error has
            // grown 100-fold over 8 halvings. An accidental best at a large step is followed by
            // errors of its own size, not 100 times more, so then the scan goes on.
            if k - bestIndex >= 8 && error >= 100 * best.estimatedError { break }
            steps.append(exactStep(steps[k + 2] / 2))
            estimates.append(try estimate(steps[k + 3]))
        }
        return best
    }
}
