import RewindCore
import RewindTimeStepping
/// The two sides of a dot-product test and how far apart they are.
public struct DotProductTestResult: Sendable, Equatable, Codable {
    /// `⟨w, J u⟩`, from the tangent mode.
    public var tangentSide: Double
    /// `⟨Jᵀ w, u⟩`, from the reverse mode.
    public var reverseSide: Double
    /// `|tangentSide − reverseSide| / max(|tangentSide|, |reverseSide|)` (0 when both are 0).
    public var relativeError: Double
}

/// The dot-product (adjoint) test between tangent and reverse modes: for any u and w,
/// `⟨w, J u⟩ = ⟨Jᵀ w, u⟩`. The two sides come from independent code paths (a forward pass on
/// `Dual` and a reverse sweep of a tape), so agreement to rounding says the reverse mode is
/// the exact transpose of the tangent mode; it cannot say both are wrong the same way, which
/// is what finite differences and the Taylor test are for.
///
/// ```swift
/// // f(x) = (x0·x1, sin x0): J u and Jᵀ w by hand
/// let r = DotProductTest.run(inputCount: 2, outputCount: 2, seed: 7,
///     tangent: { u in [2 * u[0] + 1 * u[1], Double.cos(1) * u[0]] },
///     adjoint: { w in [2 * w[0] + Double.cos(1) * w[1], 1 * w[0]] })
/// r.relativeError   // ~1e-16
/// ```
public enum DotProductTest {
    /// Draws u and w with entries uniform in [−1, 1] from `seed`, then compares the two sides.
    public static func run(
        inputCount: Int, outputCount: Int, seed: UInt64,
        tangent: ([Double]) throws -> [Double], adjoint: ([Double]) throws -> [Double]
    ) rethrows -> DotProductTestResult {
        var generator = SeededGenerator(seed: seed)
        let u = (0..<inputCount).map { _ in Double.random(in: -1...1, using: &generator) }
        let w = (0..<outputCount).map { _ in Double.random(in: -1...1, using: &generator) }
        let ju = try tangent(u)
        let jtw = try adjoint(w)
        precondition(ju.count == outputCount && jtw.count == inputCount, "J u or Jᵀ w has the wrong length")
        return compare(tangentSide: dot(w, ju), reverseSide: dot(jtw, u))
    }

    /// Compares two computed sides.
    public static func compare(tangentSide a: Double, reverseSide b: Double) -> DotProductTestResult {
        let size = Swift.max(a.magnitude, b.magnitude)
        let error = a == b ? 0 : (a - b).magnitude / size
        return DotProductTestResult(tangentSide: a, reverseSide: b, relativeError: error.isNaN ? .infinity : error)
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for (x, y) in zip(a, b) { sum += x * y }
        return sum
    }
}
