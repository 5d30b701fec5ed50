import RealModule

/// The elementary functions on tracked values: each records one statement whose partial comes
/// from `ElementaryRules`.
extension Tracked: RealFunctions {
    /// eˣ; records the partial eˣ.
    @inlinable public static func exp(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.exp(x.value), "exp") }
    /// eˣ − 1, accurate where x is near 0 (where `exp(x) - 1` cancels); records the partial eˣ.
    @inlinable public static func expMinusOne(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.expMinusOne(x.value), "expMinusOne") }
    /// 2ˣ; records the partial 2ˣ·ln 2.
    @inlinable public static func exp2(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.exp2(x.value), "exp2") }
    /// 10ˣ; records the partial 10ˣ·ln 10.
    @inlinable public static func exp10(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.exp10(x.value), "exp10") }
    /// The hyperbolic cosine; records the partial sinh x.
    @inlinable public static func cosh(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.cosh(x.value), "cosh") }
    /// The hyperbolic sine; records the partial cosh x.
    @inlinable public static func sinh(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.sinh(x.value), "sinh") }
    /// The hyperbolic tangent; records the partial sech² x = 1/cosh² x (accurate where 1 − tanh² x
    /// cancels).
    @inlinable public static func tanh(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.tanh(x.value), "tanh") }
    /// The cosine; records the partial −sin x.
    @inlinable public static func cos(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.cos(x.value), "cos") }
    /// The sine; records the partial cos x.
    @inlinable public static func sin(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.sin(x.value), "sin") }
    /// The tangent; records the partial 1 + tan² x.
    @inlinable public static func tan(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.tan(x.value), "tan") }
    /// The natural logarithm; records the partial 1/x (+∞ at ±0, the limit from inside the domain).
    @inlinable public static func log(_ x: Tracked) -> Tracked {
        if _slowPath(x.value <= 0 && !x.isConstant), let r = _Recorder.active, r.pointee.checking {
            r.pointee.tape.takeUnretainedValue()._warn(
                "log at \(x.value) (statement \(x.identifier)), on or outside the edge of its domain; for x·log x "
                    + "use the stable xlogx, for log(1 + x) use log(onePlus:)")
        }
        return _unary(x, ElementaryRules.log(x.value), "log")
    }
    /// ln(1 + x), accurate where x is near 0; records the partial 1/(1 + x).
    @inlinable public static func log(onePlus x: Tracked) -> Tracked { _unary(x, ElementaryRules.log(onePlus: x.value), "log") }
    /// The base-2 logarithm; records the partial 1/(x·ln 2).
    @inlinable public static func log2(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.log2(x.value), "log2") }
    /// The base-10 logarithm; records the partial 1/(x·ln 10).
    @inlinable public static func log10(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.log10(x.value), "log10") }
    /// The inverse hyperbolic cosine; records the partial 1/(√(x − 1)·√(x + 1)).
    @inlinable public static func acosh(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.acosh(x.value), "acosh") }
    /// The inverse hyperbolic sine; records the partial 1/√(x² + 1), as 1/hypot(x, 1) so that it
    /// cannot overflow.
    @inlinable public static func asinh(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.asinh(x.value), "asinh") }
    /// The inverse hyperbolic tangent; records the partial 1/((1 − x)(1 + x)).
    @inlinable public static func atanh(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.atanh(x.value), "atanh") }
    /// The arc cosine; records the partial −1/√((1 − x)(1 + x)).
    @inlinable public static func acos(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.acos(x.value), "acos") }
    /// The arc sine; records the partial 1/√((1 − x)(1 + x)).
    @inlinable public static func asin(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.asin(x.value), "asin") }
    /// The arc tangent; records the partial 1/(1 + x²).
    @inlinable public static func atan(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.atan(x.value), "atan") }
    /// `√x`, derivative `1/(2√x)`, `+∞` at 0 (the true one-sided limit). Check mode does not
    /// warn about the `+∞` itself (it is right for `√x`); the sweep warns where it meets a zero
    /// adjoint (`0·∞`), and recording warns where the argument is a square that underflowed.
    @inlinable public static func sqrt(_ x: Tracked) -> Tracked {
        if _slowPath(x.value == 0 && !x.isConstant), let r = _Recorder.active, r.pointee.checking {
            r.pointee.tape.takeUnretainedValue()._warnIfUnderflowedSquare(x, in: "sqrt")
        }
        return _unary(x, ElementaryRules.sqrt(x.value), "sqrt")
    }
    /// The cube root; records the partial 1/(3∛x²).
    @inlinable public static func cbrt(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.cbrt(x.value), "cbrt") }
    /// The real n-th root x^(1/n); records the partial r^(1−n)/n with r the root, exact at 0.
    @inlinable public static func root(_ x: Tracked, _ n: Int) -> Tracked { _unary(x, ElementaryRules.root(x.value, n), "root") }
    /// xⁿ for an integer exponent; records the partial n·xⁿ⁻¹.
    @inlinable public static func pow(_ x: Tracked, _ n: Int) -> Tracked { _unary(x, ElementaryRules.pow(x.value, n), "pow") }
    /// The real power `x^y` of swift-numerics (`ElementaryRules.realPow`): NaN for a negative
    /// base and for `0⁰`, as `Double.pow` is in generic code. For C's semantics use
    /// `power(_:_:)`, `pow(x, n)` or `pow(x, Double)`.
    @inlinable public static func pow(_ x: Tracked, _ y: Tracked) -> Tracked {
        if _slowPath(x.value <= 0 && !(x.isConstant && y.isConstant)), let r = _Recorder.active, r.pointee.checking {
            r.pointee.tape.takeUnretainedValue()._warnAboutRealPower(x, y)
        }
        return _binary(x, y, ElementaryRules.realPow(x.value, y.value), "pow")
    }
    /// `x^y` with C's `pow` semantics (`ElementaryRules.pow`): `power(-2, 2) = 4`, `0⁰ = 1`.
    @inlinable public static func power(_ x: Tracked, _ y: Tracked) -> Tracked {
        _binary(x, y, ElementaryRules.pow(x.value, y.value), "pow")
    }
    /// `x^y` for a constant exponent, with C's `pow` semantics: `pow(x, 2.0)` at `x = -2` is 4
    /// with derivative −4; `pow(x, 0.0)` is 1 with derivative 0 everywhere, 0 included.
    @inlinable public static func pow(_ x: Tracked, _ y: Double) -> Tracked {
        _unary(x, ElementaryRules.pow(x.value, y).derivativeInFirst, "pow")
    }
    /// `x^y` for a constant base, with C's `pow` semantics. The derivative `x^y·log x` is NaN
    /// for a negative base (`x^y` is then defined only at integer `y`).
    @inlinable public static func pow(_ x: Double, _ y: Tracked) -> Tracked {
        _unary(y, ElementaryRules.pow(x, y.value).derivativeInSecond, "pow")
    }
    /// The angle of the point (x, y); records the partials x/(x² + y²) in y and −y/(x² + y²) in x,
    /// scaled by the hypotenuse first so that neither overflows.
    @inlinable public static func atan2(y: Tracked, x: Tracked) -> Tracked {
        _binary(y, x, ElementaryRules.atan2(y: y.value, x: x.value), "atan2")
    }
    /// √(x² + y²) without intermediate overflow; records the partials x/h and y/h, h the
    /// hypotenuse.
    @inlinable public static func hypot(_ x: Tracked, _ y: Tracked) -> Tracked {
        _binary(x, y, ElementaryRules.hypot(x.value, y.value), "hypot")
    }
    /// The error function; records the partial (2/√π)·e^(−x²).
    @inlinable public static func erf(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.erf(x.value), "erf") }
    /// The complementary error function 1 − erf x, accurate where erf x is near 1; records the
    /// partial −(2/√π)·e^(−x²).
    @inlinable public static func erfc(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.erfc(x.value), "erfc") }
    /// The gamma function Γ(x); records the partial Γ(x)·ψ(x), ψ the digamma function.
    @inlinable public static func gamma(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.gamma(x.value), "gamma") }
    /// log |Γ(x)|; records the partial ψ(x), the digamma function.
    @inlinable public static func logGamma(_ x: Tracked) -> Tracked { _unary(x, ElementaryRules.logGamma(x.value), "logGamma") }
    /// The sign of Γ(x): piecewise constant, so nothing is recorded.
    @inlinable public static func signGamma(_ x: Tracked) -> FloatingPointSign { Double.signGamma(x.value) }
    /// |x|, with the subgradient 0 at 0 (`magnitude`).
    @inlinable public static func abs(_ x: Tracked) -> Tracked { x.magnitude }
    /// a·b + c with two roundings (swift-numerics' requirement).
    @inlinable public static func _mulAdd(_ a: Tracked, _ b: Tracked, _ c: Tracked) -> Tracked { a * b + c }
}
