import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// Issue 12, "Honest sweeps": every pitfall the issue reproduced, with the exact answer Rewind
/// must give (NaN where IEEE arithmetic without skipping gives NaN and no finite answer is
/// right), through every sweep (dense, paged, SIMD lanes, parallel), with and without check
/// mode, and check mode compared bit for bit with the plain run.
@Suite("Pitfall regressions (issue 12)")
struct PitfallRegressionTests {
    /// One pitfall: a function of a few inputs, where to evaluate it, and what Rewind returns.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var point: [Double]
        var function: @Sendable ([Tracked]) -> Tracked
        var value: Double
        var gradient: [Double]
        var testDescription: String { name }
    }

    /// The same number, NaN equal to NaN (any payload), and ±0 told apart only if `signed`.
    static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
    /// Bit for bit, NaN equal to NaN: check mode must not move a single bit.
    static func identical(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    static let cases: [Case] = [
        // 1. The zero-adjoint skip must not hide 0·∞.
        Case(name: "sqrt(x)·sqrt(x) at 0", point: [0], function: { Tracked.sqrt($0[0]) * Tracked.sqrt($0[0]) },
             value: 0, gradient: [.nan]),
        Case(name: "exp(log x) at 0", point: [0], function: { Tracked.exp(Tracked.log($0[0])) }, value: 0, gradient: [.nan]),
        Case(name: "log(exp x) at 800", point: [800], function: { Tracked.log(Tracked.exp($0[0])) },
             value: .infinity, gradient: [.nan]),
        Case(name: "log(x^1000) at 10", point: [10], function: { Tracked.log(Tracked.pow($0[0], 1000)) },
             value: .infinity, gradient: [.nan]),
        Case(name: "naive logsumexp at (1000, 1000)", point: [1000, 1000],
             function: { Tracked.log(Tracked.exp($0[0]) + Tracked.exp($0[1])) }, value: .infinity, gradient: [.nan, .nan]),
        Case(name: "naive softplus at 1000", point: [1000], function: { Tracked.log(1 + Tracked.exp($0[0])) },
             value: .infinity, gradient: [.nan]),
        Case(name: "exp(y·log x) at (0, 1)", point: [0, 1], function: { Tracked.exp($0[1] * Tracked.log($0[0])) },
             value: 0, gradient: [.nan, .nan]),
        // A square root at 0 that is recorded but unused: its zero adjoint meets +∞ (IEEE: NaN).
        Case(name: "unused sqrt at 0", point: [0], function: { x in
            _ = Tracked.sqrt(x[0])
            return 2.0 * x[0]
        }, value: 0, gradient: [.nan]),
        // The rule skips what cannot matter: an unused finite branch changes nothing.
        Case(name: "unused sin at 0", point: [0], function: { x in
            _ = Tracked.sin(x[0])
            return 2.0 * x[0]
        }, value: 0, gradient: [2]),
        // sqrt at 0 used directly: +∞ is the true one-sided derivative.
        Case(name: "sqrt x at 0", point: [0], function: { Tracked.sqrt($0[0]) }, value: 0, gradient: [.infinity]),
        // 3. Stable options.
        Case(name: "sqrt(x·x, .zero) at 1e-200 (underflow: documented, warned)", point: [1e-200],
             function: { Tracked.sqrt($0[0] * $0[0], derivativeAtZero: .zero) }, value: 0, gradient: [0]),
        Case(name: "abs x at 1e-200", point: [1e-200], function: { Tracked.abs($0[0]) }, value: 1e-200, gradient: [1]),
        Case(name: "norm [x] at 1e-200", point: [1e-200], function: { Tracked.norm([$0[0]]) }, value: 1e-200, gradient: [1]),
        Case(name: "norm(x, y) at (1e-200, 0)", point: [1e-200, 0], function: { Tracked.norm($0[0], $0[1]) },
             value: 1e-200, gradient: [1, 0]),
        Case(name: "x/x at 1e-320", point: [1e-320], function: { $0[0] / $0[0] }, value: 1, gradient: [0]),
        Case(name: "x/x at 0.1", point: [0.1], function: { $0[0] / $0[0] }, value: 1, gradient: [0]),
        Case(name: "x/x at 0", point: [0], function: { $0[0] / $0[0] }, value: .nan, gradient: [.nan]),
        Case(name: "x/x at ∞", point: [.infinity], function: { $0[0] / $0[0] }, value: .nan, gradient: [.nan]),
        // 4. pow with a Double exponent: C's semantics.
        Case(name: "pow(x, 2.0) at -2", point: [-2], function: { Tracked.pow($0[0], 2.0) }, value: 4, gradient: [-4]),
        Case(name: "pow(x, 3.0) at -2", point: [-2], function: { Tracked.pow($0[0], 3.0) }, value: -8, gradient: [12]),
        Case(name: "pow(x, 0.0) at 0", point: [0], function: { Tracked.pow($0[0], 0.0) }, value: 1, gradient: [0]),
        Case(name: "pow(x, 2.0) at 0", point: [0], function: { Tracked.pow($0[0], 2.0) }, value: 0, gradient: [0]),
        Case(name: "pow(x, 1.0) at 0", point: [0], function: { Tracked.pow($0[0], 1.0) }, value: 0, gradient: [1]),
        Case(name: "pow(x, 0.5) at 0", point: [0], function: { Tracked.pow($0[0], 0.5) }, value: 0, gradient: [.infinity]),
        Case(name: "pow(x, 2.5) at -2 (not real)", point: [-2], function: { Tracked.pow($0[0], 2.5) },
             value: .nan, gradient: [.nan]),
        Case(name: "pow(2.0, y) at 3", point: [3], function: { Tracked.pow(2.0, $0[0]) },
             value: 8, gradient: [8 * Double.log(2.0)]),
        Case(name: "pow(-2.0, y) at 2 (d/dy undefined)", point: [2], function: { Tracked.pow(-2.0, $0[0]) },
             value: 4, gradient: [.nan]),
        Case(name: "power(x, y) at (-2, 2)", point: [-2, 2], function: { Tracked.power($0[0], $0[1]) },
             value: 4, gradient: [-4, .nan]),
        Case(name: "power(x, y) at (0, 0)", point: [0, 0], function: { Tracked.power($0[0], $0[1]) },
             value: 1, gradient: [0, .nan]),
        Case(name: "power(x, y) at (0, 2)", point: [0, 2], function: { Tracked.power($0[0], $0[1]) },
             value: 0, gradient: [0, 0]),
        Case(name: "real pow(x, y) at (-2, 2)", point: [-2, 2], function: { Tracked.pow($0[0], $0[1]) },
             value: .nan, gradient: [.nan, .nan]),
        Case(name: "real pow(x, y) at (0, 1)", point: [0, 1], function: { Tracked.pow($0[0], $0[1]) },
             value: 0, gradient: [1, 0]),
        Case(name: "pow(x, 3) (Int) at -2", point: [-2], function: { Tracked.pow($0[0], 3) }, value: -8, gradient: [12]),
        // The stable primitives keep their answers under the honest sweep.
        Case(name: "logSumExp at (1000, 1000)", point: [1000, 1000], function: { Tracked.logSumExp($0) },
             value: 1000 + Double.log(2.0), gradient: [0.5, 0.5]),
        Case(name: "softplus at 1000", point: [1000], function: { Tracked.softplus($0[0]) }, value: 1000, gradient: [1]),
        Case(name: "xlogx at 0", point: [0], function: { Tracked.xlogx($0[0]) }, value: 0, gradient: [-.infinity]),
        Case(name: "sqrt(x·x, .zero) at 0", point: [0], function: { Tracked.sqrt($0[0] * $0[0], derivativeAtZero: .zero) },
             value: 0, gradient: [0]),
        Case(name: "norm of the zero vector", point: [0, 0, 0], function: { Tracked.norm($0) }, value: 0, gradient: [0, 0, 0]),
        Case(name: "sinc at 0", point: [0], function: { Tracked.sinc($0[0]) }, value: 1, gradient: [0]),
    ]

    /// Records `c` on a fresh tape (check mode or not) and sweeps it densely.
    static func run(_ c: Case, checking: Bool) -> (value: Double, gradient: [Double], tape: Tape) {
        let tape = Tape()
        tape.checksFinite = checking
        let (inputs, y) = tape.record { () -> ([Tracked], Tracked) in
            let x = tape.registerInputs(c.point)
            return (x, c.function(x))
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        return (y.value, inputs.map { adjoints[$0] }, tape)
    }

    @Test(arguments: cases)
    func rewindReturnsTheHonestAnswer(_ c: Case) {
        let r = Self.run(c, checking: false)
        #expect(Self.same(r.value, c.value), "value \(r.value), expected \(c.value)")
        #expect(r.gradient.count == c.gradient.count)
        for (g, e) in zip(r.gradient, c.gradient) {
            #expect(Self.same(g, e), "gradient \(r.gradient), expected \(c.gradient)")
        }
    }

    @Test(arguments: cases)
    func checkModeNeverChangesAValue(_ c: Case) {
        let plain = Self.run(c, checking: false)
        let checked = Self.run(c, checking: true)
        #expect(Self.identical(plain.value, checked.value))
        for (a, b) in zip(plain.gradient, checked.gradient) {
            #expect(Self.identical(a, b), "plain \(plain.gradient), checked \(checked.gradient)")
        }
        // A non-finite gradient entry that the recording did not already show must have
        // been seen by the checked sweep.
        if checked.gradient.contains(where: { !$0.isFinite }) {
            #expect(checked.tape.firstNonFinite != nil || checked.tape.firstNonFiniteAdjoint != nil)
        }
    }

    /// Paged adjoints, SIMD4 lanes and parallel scalar sweeps follow the same rule.
    @Test(arguments: cases)
    func everySweepGivesTheSameBits(_ c: Case) {
        let dense = Self.run(c, checking: false)
        let tape = Tape()
        let (inputs, y) = tape.record { () -> ([Tracked], Tracked) in
            let x = tape.registerInputs(c.point)
            return (x, c.function(x))
        }
        let paged = PagedAdjointVector()
        paged.prepare(for: tape, keepingBelow: tape.identifierCount)
        if y.identifier != 0 { paged.seed(y.identifier, 1) }
        tape.reverse(paged)
        for (k, x) in inputs.enumerated() {
            #expect(Self.identical(paged[x.identifier], dense.gradient[k]), "paged")
        }
        // Four lanes: the seed in lane 2, zero seeds elsewhere (a zero lane must not differ
        // from a scalar sweep seeded with 0).
        for mode in [SweepMode.simd4, .scalar] {
            let seeds: [[(Tracked, Double)]] = [[], [(y, 0)], [(y, 1)], [(y, 2)]]
            let rows = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: 2, sweepMode: mode))
            let zeroSeed = Self.gradient(of: y, inputs: inputs, on: tape, seed: 0)
            let twoSeed = Self.gradient(of: y, inputs: inputs, on: tape, seed: 2)
            for k in inputs.indices {
                #expect(Self.identical(rows[2][k], dense.gradient[k]), "\(mode) lane 2")
                #expect(Self.identical(rows[1][k], zeroSeed[k]), "\(mode) zero lane")
                #expect(Self.identical(rows[3][k], twoSeed[k]), "\(mode) lane 3")
            }
        }
    }

    static func gradient(of y: Tracked, inputs: [Tracked], on tape: Tape, seed: Double) -> [Double] {
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, seed)])
        return inputs.map { adjoints[$0] }
    }

    // MARK: - Check mode: reports, never stops

    @Test func theCheckedSweepRunsToTheEndAndNamesTheOperation() {
        // y = sqrt(x)·sqrt(x) + 3z at (0, 1): the NaN reaches x; z's gradient is still 3.
        let tape = Tape()
        tape.checksFinite = true
        let (x, z, y) = tape.record { () -> (Tracked, Tracked, Tracked) in
            let x = tape.registerInput(0)
            let z = tape.registerInput(1)
            let s = Tracked.sqrt(x)
            return (x, z, s * s + 3.0 * z)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        #expect(adjoints[x].isNaN)
        #expect(adjoints[z] == 3, "the sweep went on past the first NaN")
        let report = try? #require(tape.firstNonFiniteAdjoint)
        #expect(report?.operation == "sqrt")
        #expect(report?.adjoint == 0)
        #expect(report?.description.contains("sqrt") == true)
        #expect(tape.warnings.contains { $0.contains("sqrt") && $0.contains("0·∞") })
    }

    @Test func recordingReportsNameTheOperation() {
        for (operation, f) in [
            ("*", { (x: Tracked) in 1e300 * x }), ("/", { (x: Tracked) in x / 1e-300 }),
            ("+", { (x: Tracked) in x + Double.infinity }), ("pow", { (x: Tracked) in Tracked.pow(x, 0.5) }),
            ("xlogx", { (x: Tracked) in Tracked.xlogx(x) }), ("fma", { (x: Tracked) in Tracked.fma(x, x, Tracked(.infinity)) }),
            ("norm", { (x: Tracked) in Tracked.norm([x, x + 1]) * 0 + Tracked.norm([x, Tracked(.infinity)]) }),
        ] as [(String, (Tracked) -> Tracked)] {
            let tape = Tape()
            tape.checksFinite = true
            tape.record { _ = f(tape.registerInput(operation == "*" || operation == "/" ? 1e10 : 0)) }
            #expect(tape.firstNonFinite?.operation == operation, "\(String(describing: tape.firstNonFinite))")
        }
    }

    @Test func noWarningOnCorrectResults() {
        let tape = Tape()
        tape.checksFinite = true
        let (x, y) = tape.record { () -> (Tracked, Tracked) in
            let x = tape.registerInput(0)
            let a = Tracked.pow(x, 2.0) + Tracked.pow(x, 3)  // base 0, integer exponents: right
            let b = Tracked.pow(x, Tracked(2.0))  // the real power at 0^2: 0 with partials (0, ·)
            let s = Tracked.sqrt(x)  // +∞ derivative: the truth for √x at 0
            return (x, a + b + s)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        #expect(adjoints[x] == .infinity)
        #expect(tape.warnings.isEmpty, "\(tape.warnings)")
    }

    @Test func checkModeWarnsAboutAnUnderflowedSquare() {
        for f in [
            { (x: Tracked, y: Tracked) in Tracked.sqrt(x * x, derivativeAtZero: .zero) },
            { (x: Tracked, y: Tracked) in Tracked.sqrt(x * x + y * y) },
            { (x: Tracked, y: Tracked) in Tracked.sqrt(x * y) },
        ] {
            let tape = Tape()
            tape.checksFinite = true
            tape.record { _ = f(tape.registerInput(1e-200), tape.registerInput(3e-200)) }
            #expect(tape.warnings.contains { $0.contains("underflowed") }, "\(tape.warnings)")
        }
        // An exact zero is not an underflow.
        let tape = Tape()
        tape.checksFinite = true
        tape.record {
            let x = tape.registerInput(0)
            _ = Tracked.sqrt(x * x, derivativeAtZero: .zero)
        }
        #expect(tape.warnings.isEmpty, "\(tape.warnings)")
    }

    @Test func theRealPowerWarnsWhereItIsNaNAndNamesTheCForm() {
        let tape = Tape()
        tape.checksFinite = true
        tape.record {
            let x = tape.registerInput(-2)
            _ = Tracked.pow(x, Tracked(2.0))
        }
        #expect(tape.warnings.count == 1)
        #expect(tape.warnings.first?.contains("power(x, y)") == true)
    }

    // MARK: - One generic step, three scalar types

    static func step<S: SimulationScalar>(_ x: S, _ y: S) -> S { S.power(x, y) + S.power(x, 0) }

    @Test func powerAgreesOnDoubleTrackedAndDual() {
        for (x, y) in [(-2.0, 2.0), (-2.0, 3.0), (0.0, 0.0), (0.0, 2.0), (2.0, 0.5), (-2.0, 0.5)] {
            let d = Self.step(x, y)
            let tracked = valueWithGradient(at: [x]) { Self.step($0[0], Tracked(y)) }
            let dual = Self.step(Dual<Double>(x, tangent: 1), Dual(y))
            #expect(Self.identical(d, tracked.value) && Self.identical(d, dual.value), "\(x)^\(y)")
            #expect(Self.identical(tracked.gradient[0], dual.tangent), "\(x)^\(y): \(tracked.gradient[0]) vs \(dual.tangent)")
        }
        // And the real power agrees with swift-numerics' Double.pow on all three.
        for (x, y) in [(-2.0, 2.0), (0.0, 0.0), (2.0, 0.5)] {
            let d = Double.pow(x, y)
            #expect(Self.identical(d, Tracked.pow(Tracked(x), Tracked(y)).value))
            #expect(Self.identical(d, Dual<Double>.pow(Dual(x), Dual(y)).value))
        }
    }
}
