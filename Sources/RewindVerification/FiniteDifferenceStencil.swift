import RewindCore
import RewindTimeStepping
import RealModule

/// A finite-difference formula for the first derivative: offsets `jₖ` and weights `wₖ` with
/// `f'(x) ≈ (1/h) Σ wₖ f(x + jₖ h)`, exact for polynomials up to degree `order`.
///
/// The weights come from Fornberg's recurrence (B. Fornberg, "Generation of finite difference
/// formulas on arbitrarily spaced grids", Math. Comp. 51(184):699–706, 1988), so any offsets
/// work; `centered(order:)` gives the classic symmetric ones:
///
/// | order | offsets | weights |
/// |---|---|---|
/// | 2 | −1, 1 | −1/2, 1/2 |
/// | 4 | −2 … 2 | 1/12, −2/3, 0, 2/3, −1/12 (the classic 5-point formula) |
/// | 6 | −3 … 3 | −1/60, 3/20, −3/4, 0, 3/4, −3/20, 1/60 |
///
/// ```swift
/// let five = FiniteDifferenceStencil.centered(order: 4)
/// five.derivative(step: 1e-3) { Double.sin(1 + $0) }   // cos(1) to about 1e-13
/// ```
///
/// The error of a centered formula of order p with step h is a truncation term
/// `C h^p f⁽ᵖ⁺¹⁾` plus a rounding term `ε Σ|wₖ||f| / h`; their sum is smallest near
/// `h ≈ ε^(1/(p+1))` times the length over which f changes (`nominalStep(scale:)`).
public struct FiniteDifferenceStencil: Sendable, Equatable, Codable {
    /// Where f is evaluated, in units of the step; offsets with weight 0 are dropped.
    public let offsets: [Double]
    /// The weight of each offset.
    public let weights: [Double]
    /// The order of accuracy: the truncation error is O(h^order).
    public let order: Int

    /// The weights of the first derivative at 0 over `offsets` (distinct), by Fornberg's
    /// algorithm. The order of accuracy is `offsets.count − 1`, one more for an even number of
    /// symmetric offsets (`±1` is exact for x² too, by symmetry). Cost O(n²).
    public init(offsets: [Double]) {
        precondition(offsets.count >= 2, "a first derivative needs at least two points")
        precondition(Set(offsets).count == offsets.count, "the offsets must be distinct")
        let weights = FiniteDifferenceStencil.fornbergWeights(derivative: 1, at: 0, offsets: offsets)[1]
        let symmetric = offsets.allSatisfy { offsets.contains(-$0) }
        let kept = offsets.indices.filter { weights[$0] != 0 }
        self.offsets = kept.map { offsets[$0] }
        self.weights = kept.map { weights[$0] }
        self.order = offsets.count - 1 + (symmetric && offsets.count % 2 == 0 ? 1 : 0)
    }

    /// The symmetric formula on the `order + 1` points `−order/2 … order/2`; `order` even.
    public static func centered(order: Int) -> FiniteDifferenceStencil {
        precondition(order >= 2 && order % 2 == 0, "a centered formula has an even order (got \(order))")
        // Without the centre: its weight is 0 in exact arithmetic but Fornberg's recurrence
        // leaves a rounding residue there, and the 2h symmetric points give the same formula.
        let half = order / 2
        return FiniteDifferenceStencil(offsets: (-half...half).filter { $0 != 0 }.map(Double.init))
    }

    /// The step that balances truncation against rounding when f and its derivatives are of
    /// the size of f over the length `scale`: `ε^(1/(order+1)) · scale`
    /// (`≈ 6e-6` for order 2, `7e-4` for 4, `6e-3` for 6, times `scale`).
    public func nominalStep(scale: Double) -> Double {
        Double.pow(Double.ulpOfOne, 1 / Double(order + 1)) * scale
    }

    /// The estimate `(1/h) Σ wₖ g(jₖ h)` of `g'(0)`.
    public func derivative(step h: Double, of g: (Double) throws -> Double) rethrows -> Double {
        var sum = 0.0
        for (j, w) in zip(offsets, weights) { sum += w * (try g(j * h)) }
        return sum / h
    }

    /// Fornberg's recurrence: `result[m][k]` is the weight of `f(offsets[k])` in the m-th
    /// derivative at `z`, for every `m ≤ derivative`. This is the algorithm as printed in
    /// Fornberg, SIAM Review 40(3):685–691, 1998, 0-based.
    public static func fornbergWeights(derivative order: Int, at z: Double, offsets x: [Double]) -> [[Double]] {
        let n = x.count
        var c = [[Double]](repeating: [Double](repeating: 0, count: n), count: order + 1)
        var c1 = 1.0
        var c4 = x[0] - z
        c[0][0] = 1
        for i in 1..<n {
            let mn = Swift.min(i, order)
            var c2 = 1.0
            let c5 = c4
            c4 = x[i] - z
            for j in 0..<i {
                let c3 = x[i] - x[j]
                c2 *= c3
                if j == i - 1 {
                    if mn >= 1 {
                        for k in stride(from: mn, through: 1, by: -1) {
                            c[k][i] = c1 * (Double(k) * c[k - 1][i - 1] - c5 * c[k][i - 1]) / c2
                        }
                    }
                    c[0][i] = -c1 * c5 * c[0][i - 1] / c2
                }
                if mn >= 1 {
                    for k in stride(from: mn, through: 1, by: -1) {
                        c[k][j] = (c4 * c[k][j] - Double(k) * c[k - 1][j]) / c3
                    }
                }
                c[0][j] = c4 * c[0][j] / c3
            }
            c1 = c2
        }
        return c
    }
}
