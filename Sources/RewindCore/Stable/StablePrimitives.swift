/// Numerically stable primitives with correct derivatives where composing elementary
/// operations fails: norms at 0, `x·log x` at 0, `sin(x)/x` at 0, log-sum-exp and softplus
/// at large arguments, and `√x` at 0 with a chosen policy.
///
/// Automatic differentiation applies the chain rule to an expression as written. Where an
/// expression cancels analytically (`√(x·x)`, `sin(x)/x`), the intermediate partials are
/// infinite or `0/0` and the product is NaN although the true derivative is finite. These
/// primitives compute value and partials together (`StableRules`) and attach them in one
/// step, so nothing singular is ever multiplied. See docs/pitfalls.md for worked examples.
///
/// ```swift
/// func distance<S: SimulationScalar>(_ a: [S], _ b: [S]) -> S {
///     S.norm(zip(a, b).map { $0 - $1 })        // gradient 0, not NaN, when a == b
/// }
/// distance([1.0, 2.0], [1.0, 2.0])             // 0
/// ```
///
/// They are requirements of `SimulationScalar`, so a generic time step calls them on `Double`,
/// `Dual` and `Tracked` alike. The requirements have these default implementations, so that a
/// scalar type may replace one (with an exact rule, say) and generic code still dispatches to
/// it; the defaults go through `applying`, which each type implements once.
extension SimulationScalar {
    /// The default: `StableRules.norm` through `applying`.
    @inlinable public static func norm(_ components: [Self]) -> Self {
        let rule = StableRules.norm(components.map(\.primal))
        return applying(value: rule.value, partials: rule.partials, to: components)
    }
    /// The default: `StableRules.norm(_:_:)` through `applying`.
    @inlinable public static func norm(_ x: Self, _ y: Self) -> Self {
        applying(StableRules.norm(x.primal, y.primal), to: x, y)
    }
    /// The default: `StableRules.sqrt(_:atZero:)` through `applying`.
    @inlinable public static func sqrt(_ x: Self, derivativeAtZero policy: SquareRootDerivativeAtZero) -> Self {
        applying(StableRules.sqrt(x.primal, atZero: policy), to: x)
    }
    /// The default: `StableRules.xlogx` through `applying`.
    @inlinable public static func xlogx(_ x: Self) -> Self { applying(StableRules.xlogx(x.primal), to: x) }
    /// The default: `StableRules.xlogy` through `applying`.
    @inlinable public static func xlogy(_ x: Self, _ y: Self) -> Self {
        applying(StableRules.xlogy(x.primal, y.primal), to: x, y)
    }
    /// The default: `StableRules.sinc` through `applying`.
    @inlinable public static func sinc(_ x: Self) -> Self { applying(StableRules.sinc(x.primal), to: x) }
    /// The default: `StableRules.logSumExp` through `applying`.
    @inlinable public static func logSumExp(_ x: [Self]) -> Self {
        let rule = StableRules.logSumExp(x.map(\.primal))
        return applying(value: rule.value, partials: rule.partials, to: x)
    }
    /// The default: `StableRules.softplus` through `applying`.
    @inlinable public static func softplus(_ x: Self) -> Self { applying(StableRules.softplus(x.primal), to: x) }
}


// Tracked records each primitive under its own name, so that check mode's reports say
// `xlogx` rather than `custom rule`, and checks the one silent failure left to
// `sqrt(_:derivativeAtZero:)`: an argument that is a square underflowed to 0.
extension Tracked {
    /// The Euclidean norm, recorded as one statement named `norm` (split into groups beyond 253
    /// components), with subgradient 0 at 0.
    @inlinable public static func norm(_ components: [Tracked]) -> Tracked {
        let rule = StableRules.norm(components.map(\.primal))
        // Wider than one statement: split into groups (`applying`).
        if components.count > Int(_StatementCode.maximumArguments) {
            return applying(value: rule.value, partials: rule.partials, to: components)
        }
        return _nary(rule.value, count: components.count, operation: "norm") { (components[$0], rule.partials[$0]) }
    }
    /// `√(x² + y²)`, recorded as one statement, with subgradient `(0, 0)` at the origin.
    @inlinable public static func norm(_ x: Tracked, _ y: Tracked) -> Tracked {
        _binary(x, y, StableRules.norm(x.value, y.value), "norm")
    }
    /// `√x` whose derivative at exactly 0 follows `policy`. The policy cannot help where the
    /// argument is a square that underflowed (`x·x` at `x = 1e-200` is 0: the value 0 and the
    /// gradient 0 are both wrong); check mode warns there. Write `abs(x)` for `√(x²)` and
    /// `norm` for a sum of squares.
    @inlinable public static func sqrt(_ x: Tracked, derivativeAtZero policy: SquareRootDerivativeAtZero) -> Tracked {
        if _slowPath(x.value == 0 && !x.isConstant), let r = _Recorder.active, r.pointee.checking {
            r.pointee.tape.takeUnretainedValue()._warnIfUnderflowedSquare(x, in: "sqrt(_:derivativeAtZero:)")
        }
        return _unary(x, StableRules.sqrt(x.value, atZero: policy), "sqrt")
    }
    /// `x·log x` with `0·log 0 = 0`, recorded as one statement named `xlogx`.
    @inlinable public static func xlogx(_ x: Tracked) -> Tracked { _unary(x, StableRules.xlogx(x.value), "xlogx") }
    /// `x·log y`, 0 whenever `x = 0`, recorded as one statement named `xlogy`.
    @inlinable public static func xlogy(_ x: Tracked, _ y: Tracked) -> Tracked {
        _binary(x, y, StableRules.xlogy(x.value, y.value), "xlogy")
    }
    /// `sin(x)/x` with `sinc 0 = 1`, recorded as one statement named `sinc`.
    @inlinable public static func sinc(_ x: Tracked) -> Tracked { _unary(x, StableRules.sinc(x.value), "sinc") }
    /// `log Σ exp(xᵢ)` without overflow, recorded as one statement whose partials are the softmax.
    @inlinable public static func logSumExp(_ x: [Tracked]) -> Tracked {
        let rule = StableRules.logSumExp(x.map(\.primal))
        if x.count > Int(_StatementCode.maximumArguments) {
            return applying(value: rule.value, partials: rule.partials, to: x)
        }
        return _nary(rule.value, count: x.count, operation: "logSumExp") { (x[$0], rule.partials[$0]) }
    }
    /// `log(1 + eˣ)` without overflow, recorded as one statement named `softplus`.
    @inlinable public static func softplus(_ x: Tracked) -> Tracked { _unary(x, StableRules.softplus(x.value), "softplus") }
}
