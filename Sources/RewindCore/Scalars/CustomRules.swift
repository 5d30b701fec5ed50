// Custom rules: how each scalar type attaches a rule computed in `Double` (the requirements
// `SimulationScalar.applying`). `Double` keeps the value, `Dual` moves its tangent through the
// partials, `Tracked` records one statement with them.
extension Double {
    /// The rule's value: a `Double` carries no derivative.
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalDerivative, to x: Double) -> Double { rule.value }
    /// The rule's value: a `Double` carries no derivative.
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalPartials, to x: Double, _ y: Double) -> Double { rule.value }
    /// The value: a `Double` carries no derivative.
    @inlinable
    public static func applying(value: Double, partials: [Double], to inputs: [Double]) -> Double { value }
}

// A custom rule may have an infinite partial (`x·log x` at 0: −∞). A direction that does not
// move that input must not see it, but IEEE says ∞·0 = NaN; so an infinite partial times a
// zero tangent is a "strong zero" (0·anything = 0), the convention of ChainRules.jl and JAX.
// `TangentDirections` cannot set single lanes, so a SIMD tangent that is zero in some lanes
// and not in others still gets IEEE's NaN in its zero lanes; `Dual<Double>` is always right.
// Finite partials, the common case, take the plain product.
extension Dual {
    @inlinable @inline(__always)
    static func _strongProduct(_ p: Double, _ t: Directions) -> Directions {
        if _fastPath(p.isFinite) { return p * t }
        for lane in 0..<Directions.laneCount where t[lane: lane] != 0 { return p * t }
        return .zero
    }

    /// The rule's value with the tangent times its derivative (an infinite derivative of an input
    /// that does not move gives 0; see the comment above).
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalDerivative, to x: Dual) -> Dual {
        Dual(rule.value, tangent: _strongProduct(rule.derivative, x.tangent))
    }
    /// The rule's value with the tangents combined through its two partials.
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalPartials, to x: Dual, _ y: Dual) -> Dual {
        Dual(rule.value, tangent: _strongProduct(rule.first, x.tangent) + _strongProduct(rule.second, y.tangent))
    }
    /// The value with the tangents combined through one partial per input.
    @inlinable
    public static func applying(value: Double, partials: [Double], to inputs: [Dual]) -> Dual {
        precondition(partials.count == inputs.count, "one partial per input")
        var tangent = Directions.zero
        for (p, x) in zip(partials, inputs) { tangent = tangent + _strongProduct(p, x.tangent) }
        return Dual(value, tangent: tangent)
    }
}

extension Tracked {
    /// Records one statement whose partial is the rule's derivative.
    @inlinable @inline(__always)
    public static func applying(_ rule: LocalDerivative, to x: Tracked) -> Tracked { _unary(x, rule, "custom rule") }
    /// Records one statement whose partials are the rule's.
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
