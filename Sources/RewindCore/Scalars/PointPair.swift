import RealModule

/// Two grid points differentiated side by side: the `Dual`s of columns `c` and `c + 1` of a
/// stencil, with each tangent lane's two numbers next to each other, so that every operation
/// of the kernel is one packed instruction for both points.
///
/// Why: a kernel on `Dual<SIMD4<Double>>` works on one point's value with scalar
/// instructions and broadcasts it into each product rule. Here the value is a `SIMD2` (one
/// register for the two points) and a tangent lane pair is another, so a product rule is two
/// packed multiplies and an add with no broadcast (Burgers' sweep: `docs/PERFORMANCE.md`).
/// Each lane of each point goes through exactly the operations `Dual` applies, in the same
/// order, so the partials are bitwise those of two `Dual` evaluations.
///
/// Where the two points could part ways, the pair cannot follow: a branch on `primal`, a
/// comparison, `reciprocal` or a custom rule (computed from one point's primal). Each of those
/// marks the evaluation (`_PointPairDivergence`) whatever the values, so one evaluation of a
/// kernel tells whether its control flow depends on values at all (every such decision starts at
/// one of them); the sweep evaluates such a kernel one point at a time. Elementary functions and
/// the stable primitives run per point through `Dual`'s own rules, and need no decision here.
@frozen @usableFromInline
package struct _PointPair<Lanes: _PairLanes> {
    @usableFromInline package typealias Single = Dual<Lanes.Single>
    /// The two points' values.
    @usableFromInline package var value: SIMD2<Double>
    /// Lane by lane, each lane's two points together.
    @usableFromInline package var tangent: Lanes

    @inlinable @inline(__always)
    package init(_ value: SIMD2<Double>, tangent: Lanes) {
        self.value = value
        self.tangent = tangent
    }

    @inlinable @inline(__always)
    package init(_ first: Single, _ second: Single) {
        self.init(SIMD2(first.value, second.value), tangent: Lanes(first.tangent, second.tangent))
    }

    /// Point `p` (0 or 1) as a `Dual`.
    @inlinable @inline(__always)
    package func point(_ p: Int) -> Single { Dual(value[p], tangent: tangent.point(p)) }

    @inlinable @inline(__always)
    static func _each(_ x: Self, _ f: (Single) -> Single) -> Self { Self(f(x.point(0)), f(x.point(1))) }

    @inlinable @inline(__always)
    static func _each(_ x: Self, _ y: Self, _ f: (Single, Single) -> Single) -> Self {
        Self(f(x.point(0), y.point(0)), f(x.point(1), y.point(1)))
    }

    @inlinable @inline(__always)
    static func _each(_ xs: [Self], _ f: ([Single]) -> Single) -> Self {
        Self(f(xs.map { $0.point(0) }), f(xs.map { $0.point(1) }))
    }

    /// Point 0's answer to a decision, marking the evaluation: a decision on values is one the
    /// two points may take apart, even where these two agree.
    @inlinable @inline(__always)
    static func _deciding<T>(_ first: T) -> T {
        _PointPairDivergence.mark()
        return first
    }
}

/// Whether a pair evaluation on this thread met a decision on values (which its two points may
/// take apart); the sweep clears it before evaluating and evaluates point by point when it is set.
@usableFromInline
package enum _PointPairDivergence {
    @usableFromInline
    static func mark() { _ThreadScratch.markPairDiverged() }
    /// Whether a pair diverged since the last call; clears the mark.
    @usableFromInline
    static func take() -> Bool { _ThreadScratch.takePairDiverged() }
}

extension _PointPair {
    @inlinable @inline(__always)
    package static func + (a: Self, b: Self) -> Self { Self(a.value + b.value, tangent: a.tangent + b.tangent) }
    @inlinable @inline(__always)
    package static func - (a: Self, b: Self) -> Self { Self(a.value - b.value, tangent: a.tangent - b.tangent) }
    @inlinable @inline(__always)
    package static func * (a: Self, b: Self) -> Self {
        Self(a.value * b.value, tangent: Lanes.scaled(a.value, b.tangent) + Lanes.scaled(b.value, a.tangent))
    }
    @inlinable @inline(__always)
    package static func / (a: Self, b: Self) -> Self {
        let q = a.value / b.value
        return Self(q, tangent: Lanes.scaled(1 / b.value, a.tangent - Lanes.scaled(q, b.tangent)))
    }
    @inlinable @inline(__always)
    package static prefix func - (a: Self) -> Self { Self(_negated(a.value), tangent: -a.tangent) }

    /// Each value with its sign flipped, as `Double`'s negation does (`SIMD`'s is `0 − v`, which
    /// gives +0 for +0 and keeps a NaN's sign); the tangents are `SIMD`s in `Dual` too, whose
    /// negation this one matches.
    @inlinable @inline(__always)
    static func _negated(_ v: SIMD2<Double>) -> SIMD2<Double> { SIMD2(-v[0], -v[1]) }
    @inlinable package static func += (a: inout Self, b: Self) { a = a + b }
    @inlinable package static func -= (a: inout Self, b: Self) { a = a - b }
    @inlinable package static func *= (a: inout Self, b: Self) { a = a * b }
    @inlinable package static func /= (a: inout Self, b: Self) { a = a / b }
}

extension _PointPair: Comparable {
    /// Point 0's answer; marks the evaluation (a decision on values).
    @inlinable package static func == (a: Self, b: Self) -> Bool { _deciding(a.value[0] == b.value[0]) }
    /// Point 0's answer; marks the evaluation (a decision on values).
    @inlinable package static func < (a: Self, b: Self) -> Bool { _deciding(a.value[0] < b.value[0]) }
}

extension _PointPair: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    @inlinable package init(floatLiteral value: Double) { self.init(value) }
    @inlinable package init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension _PointPair: CustomStringConvertible {
    @usableFromInline package var description: String { "(\(point(0)), \(point(1)))" }
}

extension _PointPair: AlgebraicField {
    @usableFromInline package typealias Magnitude = Self
    @inlinable package static var zero: Self { Self(0) }
    @inlinable package init?<T: BinaryInteger>(exactly source: T) {
        guard let value = Double(exactly: source) else { return nil }
        self.init(value)
    }
    @inlinable package var magnitude: Self { Self._each(self) { $0.magnitude } }
    /// 1/x, or `nil` where point 0's value is 0; marks the evaluation (a decision on values).
    @inlinable package var reciprocal: Self? { Self._deciding(value[0] == 0) ? nil : 1.0 / self }
}

extension _PointPair: RealFunctions {
    @inlinable package static func exp(_ x: Self) -> Self { _each(x, Single.exp) }
    @inlinable package static func expMinusOne(_ x: Self) -> Self { _each(x, Single.expMinusOne) }
    @inlinable package static func exp2(_ x: Self) -> Self { _each(x, Single.exp2) }
    @inlinable package static func exp10(_ x: Self) -> Self { _each(x, Single.exp10) }
    @inlinable package static func cosh(_ x: Self) -> Self { _each(x, Single.cosh) }
    @inlinable package static func sinh(_ x: Self) -> Self { _each(x, Single.sinh) }
    @inlinable package static func tanh(_ x: Self) -> Self { _each(x, Single.tanh) }
    @inlinable package static func cos(_ x: Self) -> Self { _each(x, Single.cos) }
    @inlinable package static func sin(_ x: Self) -> Self { _each(x, Single.sin) }
    @inlinable package static func tan(_ x: Self) -> Self { _each(x, Single.tan) }
    @inlinable package static func log(_ x: Self) -> Self { _each(x) { Single.log($0) } }
    @inlinable package static func log(onePlus x: Self) -> Self { _each(x) { Single.log(onePlus: $0) } }
    @inlinable package static func log2(_ x: Self) -> Self { _each(x, Single.log2) }
    @inlinable package static func log10(_ x: Self) -> Self { _each(x, Single.log10) }
    @inlinable package static func acosh(_ x: Self) -> Self { _each(x, Single.acosh) }
    @inlinable package static func asinh(_ x: Self) -> Self { _each(x, Single.asinh) }
    @inlinable package static func atanh(_ x: Self) -> Self { _each(x, Single.atanh) }
    @inlinable package static func acos(_ x: Self) -> Self { _each(x, Single.acos) }
    @inlinable package static func asin(_ x: Self) -> Self { _each(x, Single.asin) }
    @inlinable package static func atan(_ x: Self) -> Self { _each(x, Single.atan) }
    @inlinable @inline(__always) package static func sqrt(_ x: Self) -> Self { _each(x) { Single.sqrt($0) } }
    @inlinable package static func cbrt(_ x: Self) -> Self { _each(x, Single.cbrt) }
    @inlinable package static func root(_ x: Self, _ n: Int) -> Self { _each(x) { Single.root($0, n) } }
    @inlinable package static func pow(_ x: Self, _ n: Int) -> Self { _each(x) { Single.pow($0, n) } }
    @inlinable package static func pow(_ x: Self, _ y: Self) -> Self { _each(x, y) { Single.pow($0, $1) } }
    @inlinable package static func power(_ x: Self, _ y: Self) -> Self { _each(x, y, Single.power) }
    @inlinable package static func atan2(y: Self, x: Self) -> Self { _each(y, x) { Single.atan2(y: $0, x: $1) } }
    @inlinable package static func hypot(_ x: Self, _ y: Self) -> Self { _each(x, y, Single.hypot) }
    @inlinable package static func erf(_ x: Self) -> Self { _each(x, Single.erf) }
    @inlinable package static func erfc(_ x: Self) -> Self { _each(x, Single.erfc) }
    @inlinable package static func gamma(_ x: Self) -> Self { _each(x, Single.gamma) }
    @inlinable package static func logGamma(_ x: Self) -> Self { _each(x, Single.logGamma) }
    @inlinable package static func signGamma(_ x: Self) -> FloatingPointSign {
        _deciding(Single.signGamma(x.point(0)))
    }
    @inlinable package static func abs(_ x: Self) -> Self { x.magnitude }
    @inlinable package static func _mulAdd(_ a: Self, _ b: Self, _ c: Self) -> Self { a * b + c }
    @inlinable package static func fma(_ a: Self, _ b: Self, _ c: Self) -> Self {
        Self(Single.fma(a.point(0), b.point(0), c.point(0)), Single.fma(a.point(1), b.point(1), c.point(1)))
    }
}

extension _PointPair: SimulationScalar {
    /// Both points at `value`, a constant.
    @inlinable @inline(__always)
    package init(_ value: Double) { self.init(SIMD2(repeating: value), tangent: .zero) }
    /// Point 0's value: one number cannot stand for two points, so reading it marks the
    /// evaluation, and the kernel is evaluated point by point.
    @inlinable package var primal: Double {
        _PointPairDivergence.mark()
        return value[0]
    }
    @inlinable @inline(__always)
    package static func _add(_ a: Self, _ b: Double) -> Self { Self(a.value + b, tangent: a.tangent) }
    @inlinable @inline(__always)
    package static func _subtract(_ a: Self, _ b: Double) -> Self { Self(a.value - b, tangent: a.tangent) }
    @inlinable @inline(__always)
    package static func _subtract(_ a: Double, _ b: Self) -> Self { Self(a - b.value, tangent: -b.tangent) }
    @inlinable @inline(__always)
    package static func _multiply(_ a: Double, _ b: Self) -> Self {
        Self(a * b.value, tangent: Lanes.scaled(SIMD2(repeating: a), b.tangent))
    }
    @inlinable @inline(__always)
    package static func _divide(_ a: Self, _ b: Double) -> Self {
        Self(a.value / b, tangent: Lanes.scaled(SIMD2(repeating: 1 / b), a.tangent))
    }
    @inlinable @inline(__always)
    package static func _divide(_ a: Double, _ b: Self) -> Self {
        let q = a / b.value
        return Self(q, tangent: Lanes.scaled(_negated(q) / b.value, b.tangent))
    }

    /// Two adjacent values, `values[0]` and `values[1]`, with tangent lane `lane` set.
    @inlinable @inline(__always)
    package static func _stencilLane(_ values: UnsafePointer<Double>, lane: Int) -> Self {
        Self(UnsafeRawPointer(values).loadUnaligned(as: SIMD2<Double>.self), tangent: .unit(lane))
    }

    // A custom rule is computed from one point's primal (which marks the pair already); it
    // marks the pair itself too, for a rule computed from anything else.
    @inlinable package static func applying(_ rule: LocalDerivative, to x: Self) -> Self {
        _PointPairDivergence.mark()
        return _each(x) { Single.applying(rule, to: $0) }
    }
    @inlinable package static func applying(_ rule: LocalPartials, to x: Self, _ y: Self) -> Self {
        _PointPairDivergence.mark()
        return _each(x, y) { Single.applying(rule, to: $0, $1) }
    }
    @inlinable package static func applying(value: Double, partials: [Double], to inputs: [Self]) -> Self {
        _PointPairDivergence.mark()
        return _each(inputs) { Single.applying(value: value, partials: partials, to: $0) }
    }

    // The stable primitives per point, through `Dual`'s rules (their defaults read `primal`).
    @inlinable package static func norm(_ components: [Self]) -> Self { _each(components) { Single.norm($0) } }
    @inlinable package static func norm(_ x: Self, _ y: Self) -> Self { _each(x, y) { Single.norm($0, $1) } }
    @inlinable package static func sqrt(_ x: Self, derivativeAtZero policy: SquareRootDerivativeAtZero) -> Self {
        _each(x) { Single.sqrt($0, derivativeAtZero: policy) }
    }
    @inlinable package static func xlogx(_ x: Self) -> Self { _each(x) { Single.xlogx($0) } }
    @inlinable package static func xlogy(_ x: Self, _ y: Self) -> Self { _each(x, y) { Single.xlogy($0, $1) } }
    @inlinable package static func sinc(_ x: Self) -> Self { _each(x) { Single.sinc($0) } }
    @inlinable package static func logSumExp(_ x: [Self]) -> Self { _each(x) { Single.logSumExp($0) } }
    @inlinable package static func softplus(_ x: Self) -> Self { _each(x) { Single.softplus($0) } }
}

// MARK: Lanes of two points

/// A tangent of two points, lane by lane: lane `j` of point `p` (0 or 1).
@usableFromInline
package protocol _PairLanes {
    /// One point's tangent.
    associatedtype Single: TangentDirections
    static var zero: Self { get }
    /// Lane `lane` 1 for both points, the others 0.
    static func unit(_ lane: Int) -> Self
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    /// Every lane of point `p` times `factors[p]`.
    static func scaled(_ factors: SIMD2<Double>, _ lanes: Self) -> Self
    init(_ first: Single, _ second: Single)
    /// Point `p`'s tangent.
    func point(_ p: Int) -> Single
    /// Lane `j` of both points.
    func lanePair(_ j: Int) -> SIMD2<Double>
}

/// Tangent directions whose two points' lanes have a `_PairLanes` type: those a stencil carries.
@usableFromInline
package protocol _PairableDirections: TangentDirections {
    associatedtype _Pair: _PairLanes where _Pair.Single == Self
    /// The lane of a stencil kernel's first parameter: after its neighbours' lanes, or apart
    /// from them (`_ParameterLanes`).
    static func _firstParameterLane(neighbourCount: Int) -> Int
    /// The lanes a stencil keeps as partials: the neighbours' and the parameters', or the
    /// parameters' only (`_ParameterLanes`).
    static func _keptLanes(neighbourCount: Int, parameterCount: Int) -> Int
}

extension _PairableDirections {
    @inlinable package static func _firstParameterLane(neighbourCount: Int) -> Int { neighbourCount }
    @inlinable package static func _keptLanes(neighbourCount: Int, parameterCount: Int) -> Int {
        neighbourCount + parameterCount
    }
}

/// A SIMD vector that can hold `SIMD2` patterns repeated (lane pairs).
@usableFromInline
package protocol _PairVector: SIMD where Scalar == Double {
    /// `pair` repeated across the vector.
    static func repeating(pair: SIMD2<Double>) -> Self
}

extension SIMD4: _PairVector where Scalar == Double {
    @inlinable @inline(__always)
    package static func repeating(pair: SIMD2<Double>) -> Self { Self(lowHalf: pair, highHalf: pair) }
}

extension SIMD8: _PairVector where Scalar == Double {
    @inlinable @inline(__always)
    package static func repeating(pair: SIMD2<Double>) -> Self {
        let half = SIMD4.repeating(pair: pair)
        return Self(lowHalf: half, highHalf: half)
    }
}

extension SIMD16: _PairVector where Scalar == Double {
    @inlinable @inline(__always)
    package static func repeating(pair: SIMD2<Double>) -> Self {
        let half = SIMD8.repeating(pair: pair)
        return Self(lowHalf: half, highHalf: half)
    }
}

/// The lanes of two points of a SIMD tangent `S`, interleaved in a vector `V` twice as wide:
/// `[lane 0 of both, lane 1 of both, …]`.
@frozen @usableFromInline
package struct _InterleavedLanes<S: TangentDirections & SIMD, V: _PairVector>: _PairLanes where S.Scalar == Double {
    @usableFromInline package var lanes: V

    @inlinable @inline(__always)
    package init(lanes: V) { self.lanes = lanes }

    @inlinable package static var zero: Self { Self(lanes: .zero) }
    @inlinable @inline(__always)
    package static func unit(_ lane: Int) -> Self {
        var lanes = V.zero
        lanes[2 &* lane] = 1
        lanes[2 &* lane &+ 1] = 1
        return Self(lanes: lanes)
    }
    @inlinable @inline(__always)
    package static func + (a: Self, b: Self) -> Self { Self(lanes: a.lanes + b.lanes) }
    @inlinable @inline(__always)
    package static func - (a: Self, b: Self) -> Self { Self(lanes: a.lanes - b.lanes) }
    @inlinable @inline(__always)
    package static prefix func - (a: Self) -> Self { Self(lanes: -a.lanes) }
    @inlinable @inline(__always)
    package static func scaled(_ factors: SIMD2<Double>, _ b: Self) -> Self {
        Self(lanes: V.repeating(pair: factors) * b.lanes)
    }
    @inlinable @inline(__always)
    package init(_ first: S, _ second: S) {
        var lanes = V.zero
        for j in 0..<S.scalarCount {
            lanes[2 &* j] = first[j]
            lanes[2 &* j &+ 1] = second[j]
        }
        self.lanes = lanes
    }
    @inlinable @inline(__always)
    package func point(_ p: Int) -> S {
        var single = S.zero
        for j in 0..<S.scalarCount { single[j] = lanes[2 &* j &+ p] }
        return single
    }
    @inlinable @inline(__always)
    package func lanePair(_ j: Int) -> SIMD2<Double> { SIMD2(lanes[2 &* j], lanes[2 &* j &+ 1]) }
}

/// The lanes of two points of a `_LanePair` tangent: each half's pairs.
@frozen @usableFromInline
package struct _PairedHalves<Low: _PairLanes, High: _PairLanes>: _PairLanes
where Low.Single: SIMD, High.Single: SIMD, Low.Single.Scalar == Double, High.Single.Scalar == Double {
    @usableFromInline package typealias Single = _LanePair<Low.Single, High.Single>
    @usableFromInline package var low: Low
    @usableFromInline package var high: High

    @inlinable @inline(__always)
    package init(low: Low, high: High) {
        self.low = low
        self.high = high
    }

    @inlinable package static var zero: Self { Self(low: .zero, high: .zero) }
    @inlinable @inline(__always)
    package static func unit(_ lane: Int) -> Self {
        let split = Low.Single.laneCount
        return lane < split ? Self(low: .unit(lane), high: .zero) : Self(low: .zero, high: .unit(lane - split))
    }
    @inlinable @inline(__always)
    package static func + (a: Self, b: Self) -> Self { Self(low: a.low + b.low, high: a.high + b.high) }
    @inlinable @inline(__always)
    package static func - (a: Self, b: Self) -> Self { Self(low: a.low - b.low, high: a.high - b.high) }
    @inlinable @inline(__always)
    package static prefix func - (a: Self) -> Self { Self(low: -a.low, high: -a.high) }
    @inlinable @inline(__always)
    package static func scaled(_ factors: SIMD2<Double>, _ b: Self) -> Self {
        Self(low: Low.scaled(factors, b.low), high: High.scaled(factors, b.high))
    }
    @inlinable @inline(__always)
    package init(_ first: Single, _ second: Single) {
        self.init(low: Low(first.low, second.low), high: High(first.high, second.high))
    }
    @inlinable @inline(__always)
    package func point(_ p: Int) -> Single { _LanePair(low.point(p), high.point(p)) }
    @inlinable @inline(__always)
    package func lanePair(_ j: Int) -> SIMD2<Double> {
        let split = Low.Single.laneCount
        return j < split ? low.lanePair(j) : high.lanePair(j - split)
    }
}

extension SIMD2: _PairableDirections where Scalar == Double {
    @usableFromInline package typealias _Pair = _InterleavedLanes<SIMD2<Double>, SIMD4<Double>>
}

extension SIMD4: _PairableDirections where Scalar == Double {
    @usableFromInline package typealias _Pair = _InterleavedLanes<SIMD4<Double>, SIMD8<Double>>
}

extension SIMD8: _PairableDirections where Scalar == Double {
    @usableFromInline package typealias _Pair = _InterleavedLanes<SIMD8<Double>, SIMD16<Double>>
}

extension _LanePair: _PairableDirections where Low: _PairableDirections, High: _PairableDirections {
    @usableFromInline package typealias _Pair = _PairedHalves<Low._Pair, High._Pair>
}

/// No tangent at all: `_PointPair<_NoLanes>` is two points' values in one `SIMD2`, the primal
/// of a stencil two points at a time (`StencilGrid._evaluatePrimal`).
@frozen @usableFromInline
package struct _NoDirections: TangentDirections {
    @inlinable package init() {}
    @inlinable package static var laneCount: Int { 0 }
    @inlinable package static var zero: Self { Self() }
    @inlinable package static func unit(_ lane: Int) -> Self { Self() }
    @inlinable package subscript(lane lane: Int) -> Double { 0 }
    @inlinable @inline(__always) package static func + (a: Self, b: Self) -> Self { Self() }
    @inlinable @inline(__always) package static func - (a: Self, b: Self) -> Self { Self() }
    @inlinable @inline(__always) package static prefix func - (a: Self) -> Self { Self() }
    @inlinable @inline(__always) package static func * (a: Double, b: Self) -> Self { Self() }
    @inlinable package static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self { Self() }
}

/// The lanes of two points that carry no tangent.
@frozen @usableFromInline
package struct _NoLanes: _PairLanes {
    @usableFromInline package typealias Single = _NoDirections
    @inlinable package init() {}
    @inlinable package static var zero: Self { Self() }
    @inlinable package static func unit(_ lane: Int) -> Self { Self() }
    @inlinable @inline(__always) package static func + (a: Self, b: Self) -> Self { Self() }
    @inlinable @inline(__always) package static func - (a: Self, b: Self) -> Self { Self() }
    @inlinable @inline(__always) package static prefix func - (a: Self) -> Self { Self() }
    @inlinable @inline(__always) package static func scaled(_ factors: SIMD2<Double>, _ lanes: Self) -> Self { Self() }
    @inlinable @inline(__always) package init(_ first: _NoDirections, _ second: _NoDirections) {}
    @inlinable @inline(__always) package func point(_ p: Int) -> _NoDirections { _NoDirections() }
    @inlinable @inline(__always) package func lanePair(_ j: Int) -> SIMD2<Double> { .zero }
}
