import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

// Every elementary primitive of `Tracked` and `Dual`, checked at several points by
// `expectDerivatives` (DerivativeChecks.swift) against its analytic derivative, tangent mode
// and central differences. Points at a domain edge skip the central differences and say why.

// MARK: - Functions under test

/// The arithmetic operators; `x` is the first input, `y` the second, `c` a `Double` constant.
enum Arithmetic: ScalarTestFunction, CustomStringConvertible {
    case sum, difference, product, quotient  // x ∘ y
    case sumSelf, differenceSelf, productSelf, quotientSelf  // x ∘ x
    case negation  // -x
    case plusConstant(Double), constantPlus(Double)  // x + c, c + x
    case minusConstant(Double), constantMinus(Double)  // x - c, c - x
    case timesConstant(Double), constantTimes(Double)  // x * c, c * x
    case overConstant(Double), constantOver(Double)  // x / c, c / x

    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T {
        switch self {
        case .sum: return v[0] + v[1]
        case .difference: return v[0] - v[1]
        case .product: return v[0] * v[1]
        case .quotient: return v[0] / v[1]
        case .sumSelf: return v[0] + v[0]
        case .differenceSelf: return v[0] - v[0]
        case .productSelf: return v[0] * v[0]
        case .quotientSelf: return v[0] / v[0]
        case .negation: return -v[0]
        case .plusConstant(let c): return v[0] + c
        case .constantPlus(let c): return c + v[0]
        case .minusConstant(let c): return v[0] - c
        case .constantMinus(let c): return c - v[0]
        case .timesConstant(let c): return v[0] * c
        case .constantTimes(let c): return c * v[0]
        case .overConstant(let c): return v[0] / c
        // `SimulationScalar` has no `Double / Self`; the generic code divides a constant, and
        // `tracked(_:)` below calls `Tracked`'s own `Double / Tracked`.
        case .constantOver(let c): return T(c) / v[0]
        }
    }

    func tracked(_ v: [Tracked]) -> Tracked {
        if case .constantOver(let c) = self { return c / v[0] }
        return self(v)
    }

    var description: String {
        switch self {
        case .sum: "x + y"
        case .difference: "x - y"
        case .product: "x * y"
        case .quotient: "x / y"
        case .sumSelf: "x + x"
        case .differenceSelf: "x - x"
        case .productSelf: "x * x"
        case .quotientSelf: "x / x"
        case .negation: "-x"
        case .plusConstant(let c): "x + \(c)"
        case .constantPlus(let c): "\(c) + x"
        case .minusConstant(let c): "x - \(c)"
        case .constantMinus(let c): "\(c) - x"
        case .timesConstant(let c): "x * \(c)"
        case .constantTimes(let c): "\(c) * x"
        case .overConstant(let c): "x / \(c)"
        case .constantOver(let c): "\(c) / x"
        }
    }
}

/// `+=`, `-=`, `*=`, `/=` with tracked operands, then with constant ones:
/// `f(x, y) = ((((x + y)·x - y) / y + 0.5 - 0.25)·3) / 4`.
struct CompoundAssignment: ScalarTestFunction {
    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T {
        var r = v[0]
        r += v[1]
        r *= v[0]
        r -= v[1]
        r /= v[1]
        r += T(0.5)
        r -= T(0.25)
        r *= T(3)
        r /= T(4)
        return r
    }

    /// The same with `Tracked`'s compound assignments that take a `Double`.
    func tracked(_ v: [Tracked]) -> Tracked {
        var r = v[0]
        r += v[1]
        r *= v[0]
        r -= v[1]
        r /= v[1]
        r += 0.5 as Double
        r -= 0.25 as Double
        r *= 3 as Double
        r /= 4 as Double
        return r
    }
}

/// Functions of one variable.
enum Unary: ScalarTestFunction, CaseIterable {
    case magnitude, abs
    case sqrt, cbrt, exp, expMinusOne, log, logOnePlus, log2, log10, exp2, exp10
    case sin, cos, tan, asin, acos, atan
    case sinh, cosh, tanh, asinh, acosh, atanh
    case erf, erfc, gamma, logGamma

    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T {
        let x = v[0]
        switch self {
        case .magnitude: return x.magnitude
        case .abs: return Swift.abs(x)
        case .sqrt: return T.sqrt(x)
        case .cbrt: return T.cbrt(x)
        case .exp: return T.exp(x)
        case .expMinusOne: return T.expMinusOne(x)
        case .log: return T.log(x)
        case .logOnePlus: return T.log(onePlus: x)
        case .log2: return T.log2(x)
        case .log10: return T.log10(x)
        case .exp2: return T.exp2(x)
        case .exp10: return T.exp10(x)
        case .sin: return T.sin(x)
        case .cos: return T.cos(x)
        case .tan: return T.tan(x)
        case .asin: return T.asin(x)
        case .acos: return T.acos(x)
        case .atan: return T.atan(x)
        case .sinh: return T.sinh(x)
        case .cosh: return T.cosh(x)
        case .tanh: return T.tanh(x)
        case .asinh: return T.asinh(x)
        case .acosh: return T.acosh(x)
        case .atanh: return T.atanh(x)
        case .erf: return T.erf(x)
        case .erfc: return T.erfc(x)
        case .gamma: return T.gamma(x)
        case .logGamma: return T.logGamma(x)
        }
    }
}

/// Functions of two or three variables.
enum Binary: ScalarTestFunction, CaseIterable {
    case minimum, maximum  // Swift.min(x, y), Swift.max(x, y)
    case atan2  // atan2(y: v[0], x: v[1])
    case hypot, pow  // hypot(x, y), x^y
    case fma  // fma(a, b, c) = a·b + c rounded once
    case fmaSquare  // fma(x, x, y)

    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T {
        switch self {
        case .minimum: return Swift.min(v[0], v[1])
        case .maximum: return Swift.max(v[0], v[1])
        case .atan2: return T.atan2(y: v[0], x: v[1])
        case .hypot: return T.hypot(v[0], v[1])
        case .pow: return T.pow(v[0], v[1])
        case .fma: return T.fma(v[0], v[1], v[2])
        case .fmaSquare: return T.fma(v[0], v[0], v[1])
        }
    }
}

/// x^n for an integer n.
struct IntegerPower: ScalarTestFunction {
    var n: Int
    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T { T.pow(v[0], n) }
}

/// x^c for a constant exponent: `Tracked.pow(_: Tracked, _: Double)`.
struct ConstantExponentPower: ScalarTestFunction {
    var exponent: Double
    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T { T.pow(v[0], T(exponent)) }
    func tracked(_ v: [Tracked]) -> Tracked { Tracked.pow(v[0], exponent) }
}

/// c^y for a constant base: `Tracked.pow(_: Double, _: Tracked)`.
struct ConstantBasePower: ScalarTestFunction {
    var base: Double
    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T { T.pow(T(base), v[0]) }
    func tracked(_ v: [Tracked]) -> Tracked { Tracked.pow(base, v[0]) }
}

/// The n-th root.
struct Root: ScalarTestFunction {
    var n: Int
    func callAsFunction<T: SimulationScalar>(_ v: [T]) -> T { T.root(v[0], n) }
}

/// Reference values of the digamma function ψ at these doubles (mpmath, 40 digits, rounded to 19).
let digammaReferences: [(x: Double, psi: Double)] = [
    (0.1, -10.42375494041107623),
    (0.5, -1.963510026021423479),
    (1, -0.5772156649015328606),
    (1.5, 0.03648997397857652056),
    (2, 0.4227843350984671394),
    (3.7, 1.167153539361511441),
    (10, 2.251752589066721108),
    (20.5, 2.995836394707646582),
    (25.3, 3.210911380182535883),
    (100.25, 4.602671243274712559),
    (1e6, 13.81551005796419077),
    (-0.1, 9.245073050052948042),
    (-0.5, 0.03648997397857652056),
    (-1.5, 0.7031566406452431872),
    (-2.3, 3.317323157561822739),
]

/// Negative points where the reflection term π / tan(πx) of `ElementaryRules.digamma` loses
/// accuracy: πx is rounded before tan, an absolute error of about |x|·eps in the argument
/// (1.1e-14 relative in ψ at -7.75, 1.5e-13 at -123456.7, 1.1e-10 at -999999.75). Reducing first,
/// tan(π(x - x.rounded())), is exact up to one rounding (8e-16 at -7.75, 7e-17 at -999999.75).
let digammaReflectionReferences: [(x: Double, psi: Double)] = [
    (-7.75, -1.030768832830931512),
    (-123456.7, 9.441149147824792039),
    (-999999.75, 10.67391815437449128),
]

@Suite("Elementary functions") struct ElementaryFunctionTests {}

// MARK: - Arithmetic

extension ElementaryFunctionTests {
    @Suite("Arithmetic") struct ArithmeticTests {
        static let pairs: [(Double, Double)] = [(3, 0.5), (-2, 7), (0, -1.5), (1e10, -0.03), (-0.25, -4)]

        @Test("x + y, x - y, x * y, x / y", arguments: pairs)
        func binaryOperators(x: Double, y: Double) {
            expectDerivatives(of: Arithmetic.sum, at: [x, y], gradient: [1, 1])
            expectDerivatives(of: Arithmetic.difference, at: [x, y], gradient: [1, -1])
            expectDerivatives(of: Arithmetic.product, at: [x, y], gradient: [y, x])
            expectDerivatives(of: Arithmetic.quotient, at: [x, y], gradient: [1 / y, -x / (y * y)])
        }

        @Test("x ∘ x on the same value", arguments: [-3.0, -0.5, 0.5, 2, 1e5])
        func sameValueOnBothSides(x: Double) {
            expectDerivatives(of: Arithmetic.sumSelf, at: [x], gradient: [2])
            expectDerivatives(of: Arithmetic.differenceSelf, at: [x], gradient: [0])
            expectDerivatives(of: Arithmetic.productSelf, at: [x], gradient: [2 * x])
            expectDerivatives(of: Arithmetic.quotientSelf, at: [x], gradient: [0])
        }

        @Test("x * x at 0") func squareAtZero() {
            expectDerivatives(of: Arithmetic.productSelf, at: [0], gradient: [0])
            expectDerivatives(of: Arithmetic.sumSelf, at: [0], gradient: [2])
        }

        /// `Tracked` records x ∘ x as one statement with one argument whose partial is the sum.
        @Test("x ∘ x records one argument") func sameValueRecordsOneArgument() {
            let tape = Tape()
            let y = tape.record { () -> Tracked in
                let x = tape.registerInput(3)
                return x * x
            }
            let statistics = tape.statistics
            #expect(statistics.statementCount == 2)
            #expect(statistics.argumentCount == 1)
            #expect(y.value == 9)
        }

        @Test("-x", arguments: [-2.0, 0, 0.75, 1e300])
        func negation(x: Double) {
            expectDerivatives(of: Arithmetic.negation, at: [x], gradient: [-1])
        }

        @Test("Tracked with a Double on either side", arguments: [-1.5, 0.5, 4, 1e8], [-3.0, 0.125, 10])
        func doubleOperands(x: Double, c: Double) {
            expectDerivatives(of: Arithmetic.plusConstant(c), at: [x], gradient: [1])
            expectDerivatives(of: Arithmetic.constantPlus(c), at: [x], gradient: [1])
            expectDerivatives(of: Arithmetic.minusConstant(c), at: [x], gradient: [1])
            expectDerivatives(of: Arithmetic.constantMinus(c), at: [x], gradient: [-1])
            expectDerivatives(of: Arithmetic.timesConstant(c), at: [x], gradient: [c])
            expectDerivatives(of: Arithmetic.constantTimes(c), at: [x], gradient: [c])
            expectDerivatives(of: Arithmetic.overConstant(c), at: [x], gradient: [1 / c])
            expectDerivatives(of: Arithmetic.constantOver(c), at: [x], gradient: [-c / (x * x)])
        }

        @Test("compound assignment", arguments: [(1.5, 2.0), (-3, 0.5), (0, -4), (7, 1e-2)])
        func compoundAssignment(x: Double, y: Double) {
            // f = 3/4 (u + 1/4) with u = ((x + y) x - y) / y: ∂u/∂x = (2x + y)/y, ∂u/∂y = -x²/y².
            expectDerivatives(
                of: CompoundAssignment(), at: [x, y], gradient: [0.75 * (2 * x + y) / y, -0.75 * x * x / (y * y)])
        }

        @Test("fma(a, b, c)", arguments: [(2.0, 3.0, 4.0), (-1.5, 0.25, 1e-3), (1e10, 1e-10, -1)])
        func fusedMultiplyAdd(a: Double, b: Double, c: Double) {
            expectDerivatives(of: Binary.fma, at: [a, b, c], gradient: [b, a, 1])
        }

        /// (1 + 2⁻³⁰)(1 - 2⁻³⁰) - 1 = -2⁻⁶⁰ exactly, which only a single rounding keeps.
        @Test("fma rounds once") func fusedMultiplyAddRoundsOnce() {
            let a: Double = 1 + 0x1p-30
            let b: Double = 1 - 0x1p-30
            expectDerivatives(of: Binary.fma, at: [a, b, -1], gradient: [b, a, 1])
            let tape = Tape()
            let y = tape.record { () -> Tracked in
                let x = tape.registerInputs([a, b, -1])
                return Tracked.fma(x[0], x[1], x[2])
            }
            #expect(y.value == -0x1p-60)
            #expect(Dual<Double>.fma(Dual(a), Dual(b), Dual(-1)).value == -0x1p-60)
        }

        @Test("fma(x, x, y) on the same value", arguments: [(-2.0, 1.0), (0.5, -3.0), (0, 2)])
        func fusedMultiplyAddSquare(x: Double, y: Double) {
            expectDerivatives(of: Binary.fmaSquare, at: [x, y], gradient: [2 * x, 1])
        }
    }
}

// MARK: - Magnitude, min, max, comparisons

extension ElementaryFunctionTests {
    @Suite("Magnitude, min, max, comparisons") struct PiecewiseTests {
        @Test("abs and magnitude", arguments: [-2.5, -1e-3, 3, 1e300])
        func magnitude(x: Double) {
            let sign: Double = x > 0 ? 1 : -1
            expectDerivatives(of: Unary.magnitude, at: [x], gradient: [sign])
            expectDerivatives(of: Unary.abs, at: [x], gradient: [sign])
        }

        /// The subgradient 0 at 0 is also what the central difference (|h| - |-h|)/2h gives.
        @Test("abs and magnitude at ±0: subgradient 0", arguments: [0.0, -0.0])
        func magnitudeAtZero(x: Double) {
            expectDerivatives(of: Unary.magnitude, at: [x], gradient: [0])
            expectDerivatives(of: Unary.abs, at: [x], gradient: [0])
        }

        @Test("min and max follow the chosen branch", arguments: [(1.0, 2.0), (2.0, 1.0), (-3.0, 5.0), (7.5, -0.25)])
        func minimumAndMaximum(x: Double, y: Double) {
            expectDerivatives(of: Binary.minimum, at: [x, y], gradient: x < y ? [1, 0] : [0, 1])
            expectDerivatives(of: Binary.maximum, at: [x, y], gradient: x < y ? [0, 1] : [1, 0])
        }

        /// On a tie Swift's `min` returns its first argument and `max` its second; the
        /// derivative follows the operand returned.
        @Test("min and max on a tie", arguments: [-1.0, 0, 2])
        func minimumAndMaximumOnTie(x: Double) {
            let kink = FiniteDifferences.skipped("min and max have a kink where x = y: no derivative for differences to approximate")
            expectDerivatives(of: Binary.minimum, at: [x, x], gradient: [1, 0], finiteDifferences: kink)
            expectDerivatives(of: Binary.maximum, at: [x, x], gradient: [0, 1], finiteDifferences: kink)
        }

        @Test("comparisons are by value, not identity") func comparisonsByValue() {
            let tape = Tape()
            tape.record {
                let x = tape.registerInput(2)
                let y = tape.registerInput(2)
                let z = tape.registerInput(3)
                let before = tape.statistics.statementCount
                #expect(x.identifier != y.identifier)
                #expect(x == y)
                #expect(x == Tracked(2))
                #expect(!(x < y) && !(y < x) && x <= y && x >= y)
                #expect(x < z && z > y && x != z)
                #expect(Tracked(-1) < x)
                #expect(tape.statistics.statementCount == before, "comparisons recorded statements")
            }
            #expect(Dual<Double>(2, tangent: 1) == Dual<Double>(2, tangent: -5))
            #expect(Dual<Double>(1, tangent: 9) < Dual<Double>(2, tangent: 0))
            #expect(!(Dual<Double>(2, tangent: 0) < Dual<Double>(2, tangent: 1)))
        }
    }
}

// MARK: - Roots, powers, exponentials, logarithms

extension ElementaryFunctionTests {
    @Suite("Roots and powers") struct PowerTests {
        @Test("sqrt", arguments: [0.25, 2, 1e10, 1e300])
        func squareRoot(x: Double) {
            expectDerivatives(of: Unary.sqrt, at: [x], gradient: [0.5 / Double.sqrt(x)])
        }

        /// Near 0 the function varies on the scale of x, not of 1: the step scales with x.
        @Test("sqrt near 0", arguments: [1e-4, 1e-12])
        func squareRootNearZero(x: Double) {
            expectDerivatives(
                of: Unary.sqrt, at: [x], gradient: [0.5 / Double.sqrt(x)], finiteDifferences: .central(scale: x))
        }

        @Test("sqrt at tiny x", arguments: [1e-300, 0x1p-1074])
        func squareRootTiny(x: Double) {
            expectDerivatives(
                of: Unary.sqrt, at: [x], gradient: [0.5 / Double.sqrt(x)],
                finiteDifferences: .skipped("the step (≈ 6e-6) reaches past the domain edge at 0"))
        }

        /// Documented policy: at exactly 0 the derivative is +∞, the one-sided limit.
        @Test("sqrt at 0: derivative +∞") func squareRootAtZero() {
            expectDerivatives(
                of: Unary.sqrt, at: [0], gradient: [.infinity],
                finiteDifferences: .skipped("0 is the domain edge of sqrt; the derivative there is infinite"))
        }

        /// -0.0 == 0, so the documented +∞ applies; the rule computes 0.5 / sqrt(-0.0) = 0.5 / -0.0.
        @Test("sqrt at -0.0: derivative +∞")
        func squareRootAtNegativeZero() {
            do {
                expectDerivatives(
                    of: Unary.sqrt, at: [-0.0], gradient: [.infinity],
                    finiteDifferences: .skipped("0 is the domain edge of sqrt; the derivative there is infinite"))
            }
        }

        @Test("cbrt", arguments: [-8.0, -0.3, 0.5, 27, 1e30])
        func cubeRoot(x: Double) {
            // d/dx x^(1/3) = x^(1/3) / (3x), a different formula from the rule's 1/(3 c²).
            expectDerivatives(of: Unary.cbrt, at: [x], gradient: [Double.cbrt(x) / (3 * x)])
        }

        @Test("cbrt at ±0: derivative +∞", arguments: [0.0, -0.0])
        func cubeRootAtZero(x: Double) {
            expectDerivatives(
                of: Unary.cbrt, at: [x], gradient: [.infinity],
                finiteDifferences: .skipped("cbrt has a vertical tangent at 0: the derivative is infinite"))
        }

        @Test("root(x, n)", arguments: [(0.5, 2), (2.0, 2), (27.0, 3), (-8.0, 3), (-0.5, 5), (1e6, 4), (16.0, -2), (3.0, 1)])
        func root(x: Double, n: Int) {
            // d/dx sign(x)|x|^(1/n) = |x|^(1/n - 1) / n (odd n for negative x).
            let derivative = Double.pow(x.magnitude, 1 / Double(n) - 1) / Double(n)
            expectDerivatives(of: Root(n: n), at: [x], gradient: [derivative])
        }

        /// Like sqrt (documented +∞ at 0), root(x, n) has a vertical tangent at 0 for n ≥ 2,
        /// and root(x, 1) = x has derivative 1; the rule computes r / (n x) = 0 / 0 = NaN.
        @Test(
            "root(x, n) at 0",
            arguments: [(1, 1.0), (2, Double.infinity), (3, Double.infinity), (5, Double.infinity)])
        func rootAtZero(n: Int, derivative: Double) {
            do {
                expectDerivatives(
                    of: Root(n: n), at: [0], gradient: [derivative],
                    finiteDifferences: n == 1 ? .central : .skipped("root(x, n) has a vertical tangent at 0"))
            }
        }

        /// r / (n x): n x overflows to ∞ for x > greatestFiniteMagnitude / n, and the
        /// derivative comes out 0 instead of r / n / x.
        @Test("root(x, n) near the top of the range")
        func rootOfHuge() {
            let x = 1e308
            do {
                expectDerivatives(of: Root(n: 3), at: [x], gradient: [Double.cbrt(x) / 3 / x])
            }
        }

        @Test("pow(x, n) for an integer n", arguments: [-2.0, -0.5, 0.5, 3], [0, 1, 2, 3, 7, -1, -2])
        func integerPower(x: Double, n: Int) {
            // n x^n / x, not the rule's n x^(n-1); x^0 = 1 is constant even where 0 · ∞ would be NaN.
            let derivative = n == 0 ? 0 : Double(n) * Double.pow(x, n) / x
            expectDerivatives(of: IntegerPower(n: n), at: [x], gradient: [derivative])
        }

        @Test("pow(0, n) for n ≥ 0", arguments: [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0)])
        func integerPowerAtZero(n: Int, derivative: Double) {
            expectDerivatives(of: IntegerPower(n: n), at: [0], gradient: [derivative])
        }

        @Test("pow(x, y), both tracked", arguments: [(2.0, 3.0), (0.5, -1.5), (3.0, 0.5), (1.0, 5.0), (10.0, 0.0), (0.2, 2.5)])
        func trackedPower(x: Double, y: Double) {
            let value = Double.pow(x, y)
            expectDerivatives(
                of: Binary.pow, at: [x, y], gradient: [y * value / x, value * Double.log(x)])
        }

        /// 0^y = 0 for every y > 0, so ∂/∂y is 0; ∂/∂x = y·0^(y-1).
        @Test("pow(0, y), both tracked", arguments: [2.0, 3.0, 4.5])
        func trackedPowerOfZero(y: Double) {
            expectDerivatives(
                of: Binary.pow, at: [0, y], gradient: [0, 0],
                finiteDifferences: .skipped("x = 0 is the domain edge of the real power x^y (NaN for x < 0)"))
        }

        /// ∂/∂x x^y at (0, 1) is 1·0^0 = 1. The rule computes `y * Double.pow(x, y - 1)`, and
        /// swift-numerics' `Double.pow(0, 0)` (the real, not the integer, power) is NaN.
        @Test("pow(0, 1), both tracked")
        func trackedPowerZeroToTheOne() {
            do {
                expectDerivatives(
                    of: Binary.pow, at: [0, 1], gradient: [1, 0],
                    finiteDifferences: .skipped("x = 0 is the domain edge of the real power x^y (NaN for x < 0)"))
            }
        }

        @Test("pow(x, c) for a constant exponent", arguments: [(2.0, 2.5), (0.5, -0.5), (3.0, 0.0), (4.0, 1.0), (1e3, 1.5)])
        func constantExponent(x: Double, c: Double) {
            let derivative = c == 0 ? 0 : c * Double.pow(x, c) / x
            expectDerivatives(of: ConstantExponentPower(exponent: c), at: [x], gradient: [derivative])
        }

        @Test("pow(0, c) for a constant exponent", arguments: [(0.5, Double.infinity), (2.0, 0.0), (3.5, 0.0)])
        func constantExponentAtZero(c: Double, derivative: Double) {
            expectDerivatives(
                of: ConstantExponentPower(exponent: c), at: [0], gradient: [derivative],
                finiteDifferences: .skipped("x = 0 is the domain edge of the real power x^c (NaN for x < 0)"))
        }

        @Test("pow(0, 1) for a constant exponent")
        func constantExponentZeroToTheOne() {
            do {
                expectDerivatives(
                    of: ConstantExponentPower(exponent: 1), at: [0], gradient: [1],
                    finiteDifferences: .skipped("x = 0 is the domain edge of the real power x^c (NaN for x < 0)"))
            }
        }

        @Test(
            "pow(c, y) for a constant base",
            arguments: [(2.0, 3.0), (0.5, -1.0), (10.0, 0.3), (1.0, 7.0), (0.0, 2.0), (0.0, 1.5)])
        func constantBase(c: Double, y: Double) {
            let derivative = c == 0 ? 0 : Double.pow(c, y) * Double.log(c)
            expectDerivatives(of: ConstantBasePower(base: c), at: [y], gradient: [derivative])
        }

        /// 0^y = 0 for y > 0, so d/dy is 0, and `Tracked` gives 0. `Dual` has no
        /// `pow(Double, Dual)`: generic code reaches `Dual.pow(Dual, Dual)`, whose chain rule
        /// multiplies ∂/∂x = y·0^(y-1) = ∞ (for y < 1) by the constant base's zero tangent:
        /// 0·∞ = NaN. The same happens for `pow(x, y)` at x = 0 in any direction with no x
        /// component.
        @Test(
            "pow(0, y) in tangent mode for y < 1",
            arguments: [0.5, 0.25])
        func constantZeroBaseTangent(y: Double) {
            do {
                expectDerivatives(of: ConstantBasePower(base: 0), at: [y], gradient: [0])
            }
            let tangent = jacobianVectorProduct(at: [0, y], direction: [0, 1]) { x in [Dual.pow(x[0], x[1])] }.product[0]
            do {
                #expect(tangent == 0, "∂/∂y pow(x, y) at (0, \(y)) by tangent mode: \(tangent)")
            }
            let reverse = gradient(at: [0, y]) { x in Tracked.pow(x[0], x[1]) }
            #expect(reverse == [.infinity, 0], "the reverse-mode gradient of pow at (0, \(y)): \(reverse)")
        }
    }

    @Suite("Exponentials and logarithms") struct ExponentialTests {
        @Test("exp", arguments: [-20.0, -1, 0, 0.5, 10, 700])
        func exponential(x: Double) {
            expectDerivatives(of: Unary.exp, at: [x], gradient: [Double.exp(x)])
        }

        @Test("expMinusOne", arguments: [-3.0, -1e-10, 0, 1e-8, 0.5, 30])
        func exponentialMinusOne(x: Double) {
            expectDerivatives(of: Unary.expMinusOne, at: [x], gradient: [Double.exp(x)])
        }

        @Test("exp2", arguments: [-3.0, 0, 0.5, 10, -1000])
        func binaryExponential(x: Double) {
            expectDerivatives(of: Unary.exp2, at: [x], gradient: [Double.exp2(x) * Double.log(2.0)])
        }

        @Test("exp10", arguments: [-3.0, 0, 0.5, 10, 300])
        func decimalExponential(x: Double) {
            expectDerivatives(of: Unary.exp10, at: [x], gradient: [Double.exp10(x) * Double.log(10.0)])
        }

        @Test("log", arguments: [1e-3, 0.5, 1, 10, 1e300])
        func logarithm(x: Double) {
            expectDerivatives(of: Unary.log, at: [x], gradient: [1 / x])
        }

        @Test("log(onePlus:)", arguments: [-0.5, -1e-12, 0, 1e-10, 3, 1e10])
        func logarithmOnePlus(x: Double) {
            expectDerivatives(of: Unary.logOnePlus, at: [x], gradient: [1 / (1 + x)])
        }

        @Test("log2", arguments: [0.125, 1, 3, 1e10, 1e308])
        func binaryLogarithm(x: Double) {
            expectDerivatives(of: Unary.log2, at: [x], gradient: [1 / x / Double.log(2.0)])
        }

        @Test("log10", arguments: [0.125, 1, 3, 1e10, 1e300])
        func decimalLogarithm(x: Double) {
            expectDerivatives(of: Unary.log10, at: [x], gradient: [1 / x / Double.log(10.0)])
        }

        /// 1 / (x ln 10): x ln 10 overflows to ∞ for x > 7.8e307, and the derivative comes out 0
        /// instead of the subnormal 1 / x / ln 10.
        @Test("log10 near the top of the range")
        func decimalLogarithmOfHuge() {
            let x = 1e308
            do {
                expectDerivatives(of: Unary.log10, at: [x], gradient: [1 / x / Double.log(10.0)])
            }
        }

        /// The logarithms at the edge of their domain: value -∞, derivative +∞.
        @Test("log, log2, log10 at 0 and log(onePlus:) at -1: derivative +∞")
        func logarithmsAtTheEdge() {
            let edge = FiniteDifferences.skipped("the domain edge: the function is -∞ there and undefined left of it")
            expectDerivatives(of: Unary.log, at: [0], gradient: [.infinity], finiteDifferences: edge)
            expectDerivatives(of: Unary.log2, at: [0], gradient: [.infinity], finiteDifferences: edge)
            expectDerivatives(of: Unary.log10, at: [0], gradient: [.infinity], finiteDifferences: edge)
            expectDerivatives(of: Unary.logOnePlus, at: [-1], gradient: [.infinity], finiteDifferences: edge)
        }

        /// -0.0 == 0: the same +∞ applies, but 1 / x is 1 / -0.0 = -∞.
        @Test("log at -0.0: derivative +∞")
        func logarithmAtNegativeZero() {
            do {
                expectDerivatives(
                    of: Unary.log, at: [-0.0], gradient: [.infinity],
                    finiteDifferences: .skipped("the domain edge: log is -∞ there and undefined left of it"))
            }
        }
    }
}

// MARK: - Trigonometric and hyperbolic functions

extension ElementaryFunctionTests {
    @Suite("Trigonometric functions") struct TrigonometricTests {
        static let points = [-2.0, 0, 0.5, 1.5, 100]

        @Test("sin", arguments: points)
        func sine(x: Double) {
            expectDerivatives(of: Unary.sin, at: [x], gradient: [Double.cos(x)])
        }

        @Test("cos", arguments: points)
        func cosine(x: Double) {
            expectDerivatives(of: Unary.cos, at: [x], gradient: [-Double.sin(x)])
        }

        @Test("tan", arguments: points)
        func tangent(x: Double) {
            let c = Double.cos(x)
            expectDerivatives(of: Unary.tan, at: [x], gradient: [1 / (c * c)])
        }

        // 1 / sqrt((1 - x)(1 + x)) rather than 1 / sqrt(1 - x²), which loses digits near |x| = 1.
        @Test("asin", arguments: [-0.999, -0.5, 0, 0.3, 0.9])
        func arcsine(x: Double) {
            expectDerivatives(of: Unary.asin, at: [x], gradient: [1 / Double.sqrt((1 - x) * (1 + x))])
        }

        @Test("acos", arguments: [-0.999, -0.5, 0, 0.3, 0.9])
        func arccosine(x: Double) {
            expectDerivatives(of: Unary.acos, at: [x], gradient: [-1 / Double.sqrt((1 - x) * (1 + x))])
        }

        @Test("asin and acos at ±1: infinite derivative", arguments: [-1.0, 1.0])
        func arcsineAtTheEdge(x: Double) {
            let edge = FiniteDifferences.skipped("±1 is the domain edge of asin and acos; the derivative is infinite")
            expectDerivatives(of: Unary.asin, at: [x], gradient: [.infinity], finiteDifferences: edge)
            expectDerivatives(of: Unary.acos, at: [x], gradient: [-.infinity], finiteDifferences: edge)
        }

        @Test("atan", arguments: [-1e3, -1, 0, 0.5, 20])
        func arctangent(x: Double) {
            expectDerivatives(of: Unary.atan, at: [x], gradient: [1 / (1 + x * x)])
        }

        /// ∂/∂y atan2(y, x) = x / (x² + y²), ∂/∂x = -y / (x² + y²), scaled so that x² + y²
        /// neither overflows nor underflows.
        static func atan2Gradient(y: Double, x: Double) -> [Double] {
            let s = Swift.max(y.magnitude, x.magnitude)
            let (ys, xs) = (y / s, x / s)
            let r2 = xs * xs + ys * ys
            return [xs / r2 / s, -ys / r2 / s]
        }

        @Test(
            "atan2 in every quadrant and on the axes",
            arguments: [(1.0, 1.0), (1.0, -1.0), (-1.0, -1.0), (-1.0, 1.0), (0.5, 2.0), (3.0, -4.0), (-2.0, -0.5),
                        (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (1e200, -3e200)])
        func arctangent2(y: Double, x: Double) {
            expectDerivatives(of: Binary.atan2, at: [y, x], gradient: Self.atan2Gradient(y: y, x: x))
        }

        @Test("atan2 at tiny magnitudes") func arctangent2Tiny() {
            expectDerivatives(
                of: Binary.atan2, at: [1e-200, -2e-200], gradient: Self.atan2Gradient(y: 1e-200, x: -2e-200),
                finiteDifferences: .central(scale: 1e-200))
        }

        /// On the negative x-axis atan2 jumps from π (y = +0) to -π (y = -0); the partials are
        /// the one-sided ones.
        @Test("atan2 on the branch cut", arguments: [0.0, -0.0])
        func arctangent2OnBranchCut(y: Double) {
            expectDerivatives(
                of: Binary.atan2, at: [y, -2], gradient: [-0.5, 0],
                finiteDifferences: .skipped("the branch cut: atan2 jumps by 2π across y = 0 for x < 0"))
        }

        @Test("hypot", arguments: [(3.0, 4.0), (-3.0, 4.0), (0.0, 2.0), (-1e200, 1e200), (0.5, -1e-3)])
        func hypotenuse(x: Double, y: Double) {
            let h = Double.hypot(x, y)
            expectDerivatives(of: Binary.hypot, at: [x, y], gradient: [x / h, y / h])
        }

        @Test("hypot at tiny magnitudes") func hypotenuseTiny() {
            let (x, y) = (1e-200, -3e-200)
            let h = Double.hypot(x, y)
            expectDerivatives(
                of: Binary.hypot, at: [x, y], gradient: [x / h, y / h], finiteDifferences: .central(scale: 1e-200))
        }
    }

    @Suite("Hyperbolic functions") struct HyperbolicTests {
        @Test("sinh", arguments: [-3.0, 0, 0.5, 5, 20])
        func hyperbolicSine(x: Double) {
            expectDerivatives(of: Unary.sinh, at: [x], gradient: [Double.cosh(x)])
        }

        @Test("cosh", arguments: [-3.0, 0, 0.5, 5, 20])
        func hyperbolicCosine(x: Double) {
            expectDerivatives(of: Unary.cosh, at: [x], gradient: [Double.sinh(x)])
        }

        @Test("tanh", arguments: [-2.0, 0, 0.5, 1, 2.5])
        func hyperbolicTangent(x: Double) {
            let c = Double.cosh(x)
            expectDerivatives(of: Unary.tanh, at: [x], gradient: [1 / (c * c)])
        }

        /// The rule's (1 - t)(1 + t) cancels once tanh x is close to 1: t carries an absolute
        /// error of up to half an ulp of 1, so the relative error of 1 - t grows like e^{2x}
        /// (1.5e-14 at x = 4, 9e-9 at x = 10) and the derivative is exactly 0 from x ≈ 19.1
        /// (sech² 20 = 1.7e-17). 1 / cosh² x keeps full relative accuracy.
        @Test(
            "tanh for large |x|",
            arguments: [10.0, -10, 20])
        func hyperbolicTangentLarge(x: Double) {
            let c = Double.cosh(x)
            do {
                expectDerivatives(of: Unary.tanh, at: [x], gradient: [1 / (c * c)])
            }
        }

        @Test("asinh", arguments: [-2.0, 0, 0.5, 1e3])
        func inverseHyperbolicSine(x: Double) {
            expectDerivatives(of: Unary.asinh, at: [x], gradient: [1 / Double.sqrt(1 + x * x)])
        }

        /// 1 + x² would overflow; 1 / sqrt(1 + x²) = 1 / |x| to double precision there.
        @Test("asinh for huge |x|", arguments: [1e200, -1e200])
        func inverseHyperbolicSineHuge(x: Double) {
            expectDerivatives(of: Unary.asinh, at: [x], gradient: [1 / x.magnitude])
        }

        @Test("acosh", arguments: [1.5, 2, 10, 1e100])
        func inverseHyperbolicCosine(x: Double) {
            expectDerivatives(of: Unary.acosh, at: [x], gradient: [1 / Double.sqrt((x - 1) * (x + 1))])
        }

        @Test("acosh at 1: derivative +∞") func inverseHyperbolicCosineAtOne() {
            expectDerivatives(
                of: Unary.acosh, at: [1], gradient: [.infinity],
                finiteDifferences: .skipped("1 is the domain edge of acosh; the derivative is infinite"))
        }

        @Test("atanh", arguments: [-0.99, -0.5, 0, 0.5, 0.9])
        func inverseHyperbolicTangent(x: Double) {
            expectDerivatives(of: Unary.atanh, at: [x], gradient: [1 / ((1 - x) * (1 + x))])
        }

        @Test("atanh at ±1: derivative +∞", arguments: [-1.0, 1.0])
        func inverseHyperbolicTangentAtTheEdge(x: Double) {
            expectDerivatives(
                of: Unary.atanh, at: [x], gradient: [.infinity],
                finiteDifferences: .skipped("±1 is the domain edge of atanh; value and derivative are infinite"))
        }
    }
}

// MARK: - Special functions

extension ElementaryFunctionTests {
    @Suite("Special functions") struct SpecialFunctionTests {
        static let twoOverRootPi = 2 / Double.sqrt(Double.pi)

        @Test("erf", arguments: [-3.0, -0.5, 0, 0.7, 2, 5])
        func errorFunction(x: Double) {
            expectDerivatives(of: Unary.erf, at: [x], gradient: [Self.twoOverRootPi * Double.exp(-x * x)])
        }

        @Test("erfc", arguments: [-3.0, -0.5, 0, 0.7, 2, 5])
        func complementaryErrorFunction(x: Double) {
            expectDerivatives(of: Unary.erfc, at: [x], gradient: [-Self.twoOverRootPi * Double.exp(-x * x)])
        }

        @Test("digamma at known values", arguments: digammaReferences)
        func digamma(x: Double, psi: Double) {
            let computed = ElementaryRules.digamma(x)
            #expect(isClose(computed, psi, relative: 1e-14), "ψ(\(x)) = \(computed), expected \(psi)")
        }

        /// Near its positive zero ψ has no relative accuracy to offer; its absolute error is a
        /// few ulps of the terms it sums (≈ 1).
        @Test("digamma at its positive zero") func digammaAtZero() {
            let x = 1.4616321449683623
            let computed = ElementaryRules.digamma(x)
            #expect(isClose(computed, -9.241265521729427e-17, relative: 0, absolute: 2e-15), "ψ(\(x)) = \(computed)")
        }

        @Test("digamma at poles and non-finite arguments", arguments: [0.0, -0.0, -1, -2, -1e6, -0x1p60, -.infinity, .nan])
        func digammaUndefined(x: Double) {
            #expect(ElementaryRules.digamma(x).isNaN, "ψ(\(x)) = \(ElementaryRules.digamma(x)), expected NaN")
        }

        @Test("digamma at +∞") func digammaAtInfinity() {
            #expect(ElementaryRules.digamma(.infinity) == .infinity)
        }

        /// The recurrence ψ(x + 1) = ψ(x) + 1/x, across the switch to the asymptotic series at 10.
        @Test("digamma recurrence", arguments: [0.3, 1.7, 8.5, 9.25, 9.999, 10, 12.5, -3.4])
        func digammaRecurrence(x: Double) {
            let lhs = ElementaryRules.digamma(x + 1)
            let rhs = ElementaryRules.digamma(x) + 1 / x
            #expect(isClose(lhs, rhs, relative: 1e-14, absolute: 4e-16), "ψ(\(x) + 1) = \(lhs), ψ(x) + 1/x = \(rhs)")
        }

        @Test(
            "digamma for negative x far from 0",
            arguments: digammaReflectionReferences)
        func digammaReflection(x: Double, psi: Double) {
            let computed = ElementaryRules.digamma(x)
            do {
                #expect(isClose(computed, psi, relative: 1e-14), "ψ(\(x)) = \(computed), expected \(psi)")
            }
            // Still as accurate as the rounded argument allows (about 4 eps |x| relative).
            #expect(isClose(computed, psi, relative: 4e-15 * x.magnitude), "ψ(\(x)) = \(computed), expected \(psi)")
        }

        @Test(
            "logGamma for negative x far from 0",
            arguments: digammaReflectionReferences.prefix(1))
        func logGammaReflection(x: Double, psi: Double) {
            do {
                expectDerivatives(of: Unary.logGamma, at: [x], gradient: [psi])
            }
        }

        @Test("gamma", arguments: digammaReferences.filter { $0.x < 100 })
        func gamma(x: Double, psi: Double) {
            expectDerivatives(of: Unary.gamma, at: [x], gradient: [Double.gamma(x) * psi])
        }

        @Test("logGamma", arguments: digammaReferences)
        func logGamma(x: Double, psi: Double) {
            expectDerivatives(of: Unary.logGamma, at: [x], gradient: [psi])
        }

        @Test("logGamma at the positive zero of digamma") func logGammaAtMinimum() {
            expectDerivatives(
                of: Unary.logGamma, at: [1.4616321449683623], gradient: [-9.241265521729427e-17],
                tolerance: DerivativeTolerance(absolute: 2e-15))
        }

        /// At a pole log|Γ| is +∞ and its derivative ψ has no value (it tends to ±∞ from
        /// either side): NaN.
        @Test("logGamma at poles", arguments: [0.0, -1, -2, -5])
        func logGammaAtPoles(x: Double) {
            expectDerivatives(
                of: Unary.logGamma, at: [x], gradient: [.nan],
                finiteDifferences: .skipped("a pole of Γ: log|Γ| is infinite there"))
        }
    }
}
