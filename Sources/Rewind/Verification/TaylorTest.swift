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
/// it — close enough to 0 that higher-order terms are small, far enough above rounding that
/// it moves a rate by less than 0.003. This is what makes chaotic runs (Lorenz at ρ = 28)
/// testable: their remainder is quadratic only below ε ≈ 10⁻⁵.
public enum TaylorTest {
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
        // The last window (smallest perturbations) whose remainders all stand above rounding.
        var end: Int? = nil
        for k in stride(from: first.count - 1, through: windowSize, by: -1) {
            let window = first[(k - windowSize)...k]
            if window.allSatisfy({ $0.isFinite && $0 >= threshold }) {
                end = k
                break
            }
        }
        func rates(_ r: ArraySlice<Double>) -> [Double] {
            zip(r.dropLast(), r.dropFirst()).map { Double.log2($0 / $1) }
        }
        guard let end else {
            // No remainder above rounding anywhere in the finite range: either f is linear
            // along v and the gradient is exact, or every evaluation overflowed.
            let linear = first.allSatisfy { $0.isFinite && $0 < threshold } && zeroth.contains { $0 > threshold }
            return TaylorTestResult(
                perturbations: [], remaindersWithoutGradient: [], remainders: [], ratesWithoutGradient: [],
                rates: [], minRate: linear ? .infinity : .nan, noiseFloor: noise)
        }
        let window = (end - windowSize)...end
        let r = rates(first[window])
        return TaylorTestResult(
            perturbations: Array(epsilons[window]), remaindersWithoutGradient: Array(zeroth[window]),
            remainders: Array(first[window]), ratesWithoutGradient: rates(zeroth[window]), rates: r,
            minRate: r.min() ?? .nan, noiseFloor: noise)
    }
}
