import RewindCore
import RewindTimeStepping
import RealModule

/// The result of a Taylor remainder test: remainders at shrinking perturbations and the
/// convergence rates they show.
public struct TaylorTestResult: Sendable, Equatable, Codable {
    /// The perturbation sizes `εₖ` of the window the rates are measured on, halving.
    public var perturbations: [Double]
    /// `|f(x + εv) − f(x)|`: O(ε) for any f.
    public var remaindersWithoutGradient: [Double]
    /// `|f(x + εv) − f(x) − ε⟨∇f, v⟩|`: O(ε²) exactly when the gradient is right.
    public var remainders: [Double]
    /// `log₂` of successive ratios of `remaindersWithoutGradient`: about 1.
    public var ratesWithoutGradient: [Double]
    /// `log₂` of successive ratios of `remainders`: about 2 when the gradient is right, about
    /// 1 when it is wrong.
    public var rates: [Double]
    /// The smallest of `rates`; `+∞` when the remainder never rose above rounding (f is linear
    /// along v to working precision and the gradient reproduces it).
    public var minRate: Double
    /// The rounding level of the remainder, measured at the smallest perturbations.
    public var noiseFloor: Double
    /// How far rounding alone can move each rate: with every remainder off by up to twice
    /// `noiseFloor`, `log₂((rₖ + 2N)/(rₖ₊₁ − 2N)) − log₂(rₖ/rₖ₊₁)` and the same the other way.
    public var rateNoise: [Double]
    /// How much further from 2 a rate lies than an earlier (larger-ε) rate, beyond what
    /// rounding explains: `max over k of |ρₖ − 2| − minⱼ₍ⱼ₍ₖ₎(|ρⱼ − 2| + noiseⱼ) − noiseₖ`, or 0
    /// when no rate moves away. Positive means the directional derivative is wrong (see
    /// `TaylorTest`).
    public var deviationGrowth: Double
}

/// The Taylor remainder test of a gradient (as in dolfin-adjoint's `taylor_test`; see
/// P. E. Farrell et al., SIAM J. Sci. Comput. 35(4), 2013, §5): for a direction v,
/// `f(x + εv) − f(x) = O(ε)` but `f(x + εv) − f(x) − ε⟨∇f, v⟩ = O(ε²)` if and only if the
/// directional derivative is right. Halving ε must divide the second remainder by 4 (rate 2);
/// any error δ in `⟨∇f, v⟩` leaves `ε|δ|`, rate 1.
///
/// ```swift
/// let f: ([Double]) -> Double = { x in x[0] * x[0] * x[1] }
/// let r = TaylorTest.run(of: f, at: [1, 2], gradient: [4, 1], direction: [0.3, -0.7])
/// r.minRate   // ≈ 2
/// ```
///
/// Which perturbations: `εₖ = 2⁻⁴ · 2⁻ᵏ` for k = 0…40 (v should carry the inputs' scale). Too
/// large and the cubic term spoils the rate; too small and rounding does. The rounding level
/// is measured as the largest remainder over the four smallest ε, and the rates are read on
/// the `windowSize + 1` smallest perturbations whose remainders all stand 1000 times above
/// it (fewer, down to 3, when no such window exists) — close enough to 0 that higher-order terms are small, far enough above rounding that
/// it moves a rate by less than 0.003. This is what makes chaotic runs (Lorenz at ρ = 28)
/// testable: their remainder is quadratic only below ε ≈ 10⁻⁵.
///
/// Which rates pass, from the theory. With a right gradient the remainder is
/// `r(ε) = |a ε² + b ε³ + O(ε⁴)|`, so a rate is `2 + log₂((1 + cε)/(1 + cε/2))` with `c = b/a`:
/// its distance from 2 shrinks with ε (about halving per halving, never growing while
/// `|cε| < 1`), whatever the sign of c, and is about 1 at most when the cubic term dominates.
/// With an error δ in `⟨∇f, v⟩` the remainder is `|δ ε + a ε² + …|`: as ε shrinks the δ term
/// takes over, so the rates move *away* from 2 — towards 1, or first above 2 (2.02, 2.1,
/// 2.6, …) when δ and a have opposite signs and the two terms are about to cancel. So a rate
/// passes when it is no further from 2 than some earlier rate was, give or take rounding
/// (`rateNoise`, from twice the measured noise floor: the floor is the largest of four samples
/// of the rounding, not a bound on it); `deviationGrowth` is by how much the worst one is
/// further. A right gradient can fail this only when `a ≈ 0` puts the point where the
/// quadratic and cubic terms cancel inside the window — then another direction (seed) decides.
public enum TaylorTest {
    /// Runs the test along `v`.
    ///
    /// - Parameters:
    ///   - f: The function, in plain `Double` (the test needs only values).
    ///   - x: The point.
    ///   - gradient: The gradient to test, `∇f(x)`.
    ///   - v: The direction; it should carry the inputs' scale.
    ///   - windowSize: Rates measured (fewer when rounding leaves no such window).
    /// - Returns: The remainders and rates; `minRate` near 2 and `deviationGrowth` at most 0 mean
    ///   the directional derivative `⟨∇f, v⟩` is right.
    /// - Throws: Whatever `f` throws.
    public static func run(
        of f: ([Double]) throws -> Double, at x: [Double], gradient: [Double], direction v: [Double],
        windowSize: Int = 5
    ) rethrows -> TaylorTestResult {
        precondition(x.count == gradient.count && x.count == v.count, "point, gradient and direction differ in length")
        precondition(windowSize >= 1, "the window needs at least one rate")
        let f0 = try f(x)
        var slope = 0.0
        for (g, d) in zip(gradient, v) { slope += g * d }
        var epsilons: [Double] = []
        var zeroth: [Double] = []
        var first: [Double] = []
        for k in 0...40 {
            let e = Double(sign: .plus, exponent: -4 - k, significand: 1)
            let fe = try f(zip(x, v).map { $0 + e * $1 })
            epsilons.append(e)
            zeroth.append((fe - f0).magnitude)
            first.append((fe - f0 - e * slope).magnitude)
        }
        let tail = first.suffix(4).filter(\.isFinite)
        let noise = Swift.max(tail.max() ?? .infinity, 4 * Double.ulpOfOne * f0.magnitude)
        let threshold = 1000 * noise
        // The last window (smallest perturbations) whose remainders all stand above rounding;
        // failing that, the longest shorter one (down to two rates): a nearly linear f (softplus
        // at 15) keeps its quadratic term above rounding over only a few halvings.
        var end: Int? = nil
        var size = windowSize
        search: while size >= 2 {
            for k in stride(from: first.count - 1, through: size, by: -1) {
                let window = first[(k - size)...k]
                if window.allSatisfy({ $0.isFinite && $0 >= threshold }) {
                    end = k
                    break search
                }
            }
            size -= 1
        }
        func rates(_ r: ArraySlice<Double>) -> [Double] {
            zip(r.dropLast(), r.dropFirst()).map { Double.log2($0 / $1) }
        }
        guard let end else {
            // No three successive remainders above rounding anywhere: either f is linear along
            // v to working precision and the gradient reproduces it (a wrong one would leave
            // ε|δ|, rate 1, standing out at the large ε), or the evaluations overflowed.
            let linear = first.allSatisfy(\.isFinite) && zeroth.contains { $0 > threshold }
            return TaylorTestResult(
                perturbations: [], remaindersWithoutGradient: [], remainders: [], ratesWithoutGradient: [],
                rates: [], minRate: linear ? .infinity : .nan, noiseFloor: noise, rateNoise: [], deviationGrowth: 0)
        }
        let window = (end - size)...end
        let r = rates(first[window])
        let remainders = Array(first[window])
        let rateNoise = (0..<r.count).map { k in
            rateNoiseBound(remainders[k], remainders[k + 1], noise: 2 * noise)
        }
        return TaylorTestResult(
            perturbations: Array(epsilons[window]), remaindersWithoutGradient: Array(zeroth[window]),
            remainders: remainders, ratesWithoutGradient: rates(zeroth[window]), rates: r,
            minRate: r.min() ?? .nan, noiseFloor: noise, rateNoise: rateNoise,
            deviationGrowth: deviationGrowth(rates: r, noise: rateNoise))
    }

    /// How far `log₂(r₀/r₁)` can move when each remainder is off by up to `noise`: the larger
    /// of the two one-sided shifts (∞ when a remainder is not clear of the noise).
    static func rateNoiseBound(_ r0: Double, _ r1: Double, noise: Double) -> Double {
        guard r0 > noise && r1 > noise else { return .infinity }
        let up = Double.log2((r0 + noise) / (r1 - noise)) - Double.log2(r0 / r1)
        let down = Double.log2(r0 / r1) - Double.log2((r0 - noise) / (r1 + noise))
        return Swift.max(up, down)
    }

    /// `max over k of |ρₖ − 2| − minⱼ₍ⱼ₍ₖ₎(|ρⱼ − 2| + noiseⱼ) − noiseₖ`, clamped at 0; rates in
    /// order of shrinking ε. NaN rates count as infinitely far.
    static func deviationGrowth(rates: [Double], noise: [Double]) -> Double {
        var growth = 0.0
        var closest = Double.infinity  // min over earlier rates of |ρ − 2| + noise
        for (rate, bound) in zip(rates, noise) {
            let deviation = rate.isNaN ? .infinity : (rate - 2).magnitude
            if closest.isFinite {
                let excess = deviation - closest - bound
                if excess.isNaN || excess > growth { growth = excess.isNaN ? .infinity : excess }
            }
            closest = Swift.min(closest, deviation + bound)
        }
        return growth
    }
}
