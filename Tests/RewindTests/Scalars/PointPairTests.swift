import Testing

@testable import RewindCore

/// `_PointPair` must give, lane by lane, the bits two `Dual` evaluations give: the stencil sweep
/// evaluates two grid points with it and the gradient must not change.
@Suite("Two points per register (_PointPair)")
struct PointPairTests {
    typealias Single = Dual<SIMD4<Double>>
    typealias Pair = _PointPair<SIMD4<Double>._Pair>

    /// Values that exercise rounding, signed zeros, infinities and NaN.
    static let values: [Double] = [0.7, -1.3, 0, -0.0, 3e300, -Double.leastNormalMagnitude / 3, .infinity, -.infinity, .nan, 1e-8]

    static func single(_ k: Int, lane: Int) -> Single {
        Dual(values[k % values.count], tangent: SIMD4(0.5, -1.25, Double(k), 3.0) * Double(lane + 1))
    }

    static func bits(_ x: Single) -> [UInt64] {
        [x.value.bitPattern] + (0..<4).map { x.tangent[$0].bitPattern }
    }

    static func expectSame(_ pair: Pair, _ first: Single, _ second: Single, _ what: String) {
        #expect(bits(pair.point(0)) == bits(first), "\(what), point 0")
        #expect(bits(pair.point(1)) == bits(second), "\(what), point 1")
    }

    @Test func arithmeticIsThatOfTwoDuals() {
        let n = Self.values.count
        for i in 0..<n {
            for j in 0..<n {
                let (a0, a1) = (Self.single(i, lane: 0), Self.single(j, lane: 1))
                let (b0, b1) = (Self.single(j &+ 3, lane: 2), Self.single(i &+ 5, lane: 3))
                let a = Pair(a0, a1)
                let b = Pair(b0, b1)
                Self.expectSame(a + b, a0 + b0, a1 + b1, "+")
                Self.expectSame(a - b, a0 - b0, a1 - b1, "-")
                Self.expectSame(a * b, a0 * b0, a1 * b1, "*")
                Self.expectSame(a / b, a0 / b0, a1 / b1, "/")
                Self.expectSame(-a, -a0, -a1, "negation")
                Self.expectSame(0.3 * a, 0.3 * a0, 0.3 * a1, "Double *")
                Self.expectSame(a / 7.0, a0 / 7.0, a1 / 7.0, "/ Double")
                Self.expectSame(2.0 / a, 2.0 / a0, 2.0 / a1, "Double /")
                Self.expectSame(a + 1.5, a0 + 1.5, a1 + 1.5, "+ Double")
                Self.expectSame(1.5 - a, 1.5 - a0, 1.5 - a1, "Double -")
                Self.expectSame(Pair.fma(a, b, a), Single.fma(a0, b0, a0), Single.fma(a1, b1, a1), "fma")
            }
        }
    }

    @Test func functionsArePerPointDuals() {
        for k in 0..<Self.values.count {
            let (x0, x1) = (Self.single(k, lane: 0), Self.single(k &+ 1, lane: 2))
            let x = Pair(x0, x1)
            Self.expectSame(Pair.exp(x), Single.exp(x0), Single.exp(x1), "exp")
            Self.expectSame(Pair.sqrt(x), Single.sqrt(x0), Single.sqrt(x1), "sqrt")
            Self.expectSame(Pair.log(x), Single.log(x0), Single.log(x1), "log")
            Self.expectSame(Pair.pow(x, 3), Single.pow(x0, 3), Single.pow(x1, 3), "pow")
            Self.expectSame(Pair.xlogx(x), Single.xlogx(x0), Single.xlogx(x1), "xlogx")
            Self.expectSame(x.magnitude, x0.magnitude, x1.magnitude, "magnitude")
            Self.expectSame(Pair.norm(x, x), Single.norm(x0, x0), Single.norm(x1, x1), "norm")
        }
    }

    @Test func aSeededPairReadsTwoAdjacentValues() {
        let values = [4.0, 5.0, 6.0]
        values.withUnsafeBufferPointer { values in
            let pair = Pair._stencilLane(values.baseAddress! + 1, lane: 2)
            Self.expectSame(pair, Single._stencilLane(values.baseAddress! + 1, lane: 2),
                Single._stencilLane(values.baseAddress! + 2, lane: 2), "seeded")
            #expect(pair.tangent.lanePair(2) == SIMD2(1, 1))
            #expect(pair.tangent.lanePair(0) == SIMD2(0, 0))
        }
    }

    /// Every decision on values marks the evaluation, even where the two points agree: one
    /// trial then finds any kernel whose control flow depends on values.
    @Test func decisionsOnValuesMarkTheEvaluation() {
        let x = Pair(Self.single(0, lane: 0), Self.single(1, lane: 1))
        let y = Pair(Self.single(4, lane: 0), Self.single(4, lane: 1))
        _ = _PointPairDivergence.take()
        _ = x + y * y
        _ = Pair.sin(x)
        #expect(!_PointPairDivergence.take(), "arithmetic and functions decide nothing")
        _ = x < y
        #expect(_PointPairDivergence.take())
        _ = x == x
        #expect(_PointPairDivergence.take())
        _ = x.primal
        #expect(_PointPairDivergence.take())
        _ = x.reciprocal
        #expect(_PointPairDivergence.take())
        _ = Pair.applying(LocalDerivative(1, 2), to: x)
        #expect(_PointPairDivergence.take())
        #expect(!_PointPairDivergence.take(), "taking the mark clears it")
    }

    /// The six-lane layout of heat2d (`_LanePair` of `SIMD4` and `SIMD2`) pairs by halves.
    @Test func sixLanesPairByHalves() {
        typealias Six = _LanePair<SIMD4<Double>, SIMD2<Double>>
        let a0 = Dual<Six>(1.5, tangent: Six(SIMD4(1, 2, 3, 4), SIMD2(5, 6)))
        let a1 = Dual<Six>(-0.5, tangent: Six(SIMD4(7, 8, 9, 10), SIMD2(11, 12)))
        let pair = _PointPair<Six._Pair>(a0, a1)
        let product = pair * pair
        let (p0, p1) = (a0 * a0, a1 * a1)
        for p in 0..<2 {
            let expected = p == 0 ? p0 : p1
            #expect(product.point(p).value == expected.value)
            #expect((0..<6).map { product.point(p).tangent[lane: $0] } == (0..<6).map { expected.tangent[lane: $0] })
        }
        #expect(product.tangent.lanePair(5) == SIMD2(p0.tangent[lane: 5], p1.tangent[lane: 5]))
    }
}
