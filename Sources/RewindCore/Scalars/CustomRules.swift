/// A scalar type that can apply a differentiation rule computed in `Double`: the value of a
/// function at a point and its partial derivatives there.
///
/// This is the extension point for functions whose derivative cannot be obtained by
/// differentiating their code operation by operation — `x·log x` at 0, `sin(x)/x` at 0, the
/// norm of a zero vector. Compute the value and the partials once, carefully, in `Double`;
/// each scalar type then attaches them its own way: `Double` keeps the value, `Dual` moves
/// its tangent through the partials, `Tracked` records one statement with them.
///
/// ```swift
/// // f(x) = x³ with its derivative given by hand, on any scalar type
/// func cube<S: CustomRuleScalar>(_ x: S) -> S {
///     let v = x.primal
///     return S.applying(LocalDerivative(v * v * v, 3 * v * v), to: x)
/// }
/// ```
///
/// Why a protocol with three requirements rather than one overload per primitive and type:
/// the rules (`StableRules`) are then written once, in `Double`, and every primitive in
/// `StablePrimitives` is a generic one-liner over this protocol, specialised per type like
/// the rest of the simulation code (no dynamic casts, no existentials on the hot path).
public protocol CustomRuleScalar: SimulationScalar {
    /// The result of a function of one variable, given its value and derivative at `x`.
    static func applying(_ rule: LocalDerivative, to x: Self) -> Self
    /// The result of a function of two variables, given its value and partials at `(x, y)`.
    static func applying(_ rule: LocalPartials, to x: Self, _ y: Self) -> Self
    /// The result of a function of `inputs.count` variables, given its value and one partial
    /// per input.
    static func applying(value: Double, partials: [Double], to inputs: [Self]) -> Self
}

extension Double: CustomRuleScalar {
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalDerivative, to x: Double) -> Double { rule.value }
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalPartials, to x: Double, _ y: Double) -> Double { rule.value }
    @inlinable
    public static func applying(value: Double, partials: [Double], to inputs: [Double]) -> Double { value }
}

// A custom rule may have an infinite partial (`x·log x` at 0: −∞). A direction that does not
// move that input must not see it, but IEEE says ∞·0 = NaN; so an infinite partial times a
// zero tangent is a "strong zero" (0·anything = 0), the convention of ChainRules.jl and JAX.
// `TangentDirections` cannot set single lanes, so a SIMD tangent that is zero in some lanes
// and not in others still gets IEEE's NaN in its zero lanes; `Dual<Double>` is always right.
// Finite partials, the common case, take the plain product.
extension Dual: CustomRuleScalar {
    @inlinable @inline(__always)
    static func _strongProduct(_ p: Double, _ t: Directions) -> Directions {
        if _fastPath(p.isFinite) { return p * t }
        for lane in 0..<Directions.laneCount where t[lane: lane] != 0 { return p * t }
        return .zero
    }

    @inlinable @inline(__always)
    public static func applying(_ rule: LocalDerivative, to x: Dual) -> Dual {
        Dual(rule.value, tangent: _strongProduct(rule.derivative, x.tangent))
    }
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalPartials, to x: Dual, _ y: Dual) -> Dual {
        Dual(rule.value, tangent: _strongProduct(rule.first, x.tangent) + _strongProduct(rule.second, y.tangent))
    }
    @inlinable
    public static func applying(value: Double, partials: [Double], to inputs: [Dual]) -> Dual {
        precondition(partials.count == inputs.count, "one partial per input")
        var tangent = Directions.zero
        for (p, x) in zip(partials, inputs) { tangent = tangent + _strongProduct(p, x.tangent) }
        return Dual(value, tangent: tangent)
    }
}

extension Tracked: CustomRuleScalar {
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalDerivative, to x: Tracked) -> Tracked { _unary(x, rule, "custom rule") }
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalPartials, to x: Tracked, _ y: Tracked) -> Tracked {
        _binary(x, y, rule, "custom rule")
    }

    /// Records one statement with a partial per input; constant inputs are left out.
    ///
    /// A statement holds at most 253 arguments. Longer input lists are split into groups, each
    /// recorded as an auxiliary statement whose partials are the group's, and the result is
    /// the sum of the groups with partial 1: the reverse sweep is linear, so the adjoints are
    /// exactly those of one long statement. The auxiliaries' values are never read (the sweep
    /// only uses partials), so they hold 0.
    public static func applying(value: Double, partials: [Double], to inputs: [Tracked]) -> Tracked {
        precondition(partials.count == inputs.count, "one partial per input")
        let limit = Int(_StatementCode.maximumArguments)
        if inputs.count <= limit {
            return _nary(value, count: inputs.count, operation: "custom rule") { (inputs[$0], partials[$0]) }
        }
        var groups: [Tracked] = []
        for start in stride(from: 0, to: inputs.count, by: limit) {
            let end = Swift.min(start + limit, inputs.count)
            groups.append(_nary(0, count: end - start, operation: "custom rule") { (inputs[start + $0], partials[start + $0]) })
        }
        return applying(value: value, partials: [Double](repeating: 1, count: groups.count), to: groups)
    }
}
