import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification
@testable import RewindReference

/// Random small programs full of zeros, kinks and infinities, differentiated by Rewind and by
/// the teaching reference tape swept with plain IEEE arithmetic (every entry visited, every
/// `partial × adjoint` formed, nothing skipped).
///
/// What is demanded (issue 12):
/// 1. **Honesty**, on every program: where the reference gives NaN, Rewind never gives a
///    finite number. (Rewind may give ±∞ where the reference gives NaN: their rules for `log`
///    and `sqrt` at −0 differ in the sign of the infinite partial.)
/// 2. **Bit equality** where the arithmetic is the same: programs in which no binary
///    operation is applied to one value twice (Rewind records `x ∘ x` as one argument with the
///    summed partial) and no `sqrt`/`log` meets −0 (Rewind's partial there is +∞, the
///    reference's `1/x` is −∞). Rewind's skipping of zero adjoints with finite partials must
///    then be invisible: same bits.
/// 3. **Check mode never changes a value**: the same program recorded and swept in check mode
///    gives the same bits.
///
/// Differences of *rule* (not of sweep) are kept out, so that what is compared is the sweeps:
/// - `x / x` is not generated (Rewind's partial is exactly 0; `1/x − (x/x)/x` is `∞ − ∞` at
///   `x = 1e-320`; docs/pitfalls.md), nor `pow(x, 0)` (Rewind: `x⁰ ≡ 1`, derivative 0; the
///   reference's `0 · x⁻¹` is NaN at 0).
/// - Division is recorded on the reference with Rewind's partials `1/b, −(a/b)/b` instead of
///   its textbook `−a/b²`, whose `b²` underflows (`0/(1e-300)²` is `0/0`) where Rewind's form
///   is exact; the reference's own rule is the weaker one there, not its sweep.
@Suite("Honest sweeps: random programs against the IEEE reference")
struct HonestSweepPropertyTests {
    enum Operation: CaseIterable {
        case add, subtract, multiply, divide, negate, sqrt, exp, log, pow, abs, addConstant, multiplyByConstant
    }

    struct Instruction {
        var operation: Operation
        var a: Int
        var b: Int
        var constant: Double
    }

    struct Program: CustomStringConvertible {
        var inputs: [Double]
        var instructions: [Instruction]
        var outputCount: Int

        var description: String {
            "inputs \(inputs)\n"
                + instructions.enumerated().map { k, i in
                    "v\(inputs.count + k) = \(i.operation)(v\(i.a), v\(i.b), c: \(i.constant))"
                }.joined(separator: "\n") + "\noutput: sum of the last \(outputCount)"
        }

        /// Whether Rewind and the reference do the same arithmetic on this program (up to −0
        /// under a root, which the reference run reports).
        var sameArithmetic: Bool {
            instructions.allSatisfy { i in
                switch i.operation {
                case .add, .subtract, .multiply, .divide: return i.a != i.b
                default: return true
                }
            }
        }
    }

    static let special: [Double] = [0, 1, -1, 2, 0.5, -3, 1e300, -1e300, 1e-300, 5e-324, .infinity, -.infinity]
    static let constants: [Double] = [0, 0.5, -2, 3, 1e300]
    static let exponents: [Double] = [-1, 0.5, 1, 2, 3, 2.5]

    static func generate(seed: UInt64, sameArithmeticOnly: Bool) -> Program {
        var g = SeededGenerator(seed: seed)
        let inputCount = Int.random(in: 1...3, using: &g)
        let inputs = (0..<inputCount).map { _ in special.randomElement(using: &g)! }
        var instructions: [Instruction] = []
        let operations = Operation.allCases
        let length = Int.random(in: 2...10, using: &g)
        while instructions.count < length {
            let nodes = inputCount + instructions.count
            let a = Int.random(in: 0..<nodes, using: &g)
            var b = Bool.random(using: &g) ? nodes - 1 : Int.random(in: 0..<nodes, using: &g)
            let operation = operations.randomElement(using: &g)!
            // x / x is a deliberate difference of rule (see above).
            if operation == .divide && a == b { continue }
            let binary = [.add, .subtract, .multiply, .divide].contains(operation)
            if sameArithmeticOnly && binary && a == b {
                guard nodes > 1 else { continue }
                b = (a + 1) % nodes
            }
            let constant = operation == .pow ? exponents.randomElement(using: &g)! : constants.randomElement(using: &g)!
            instructions.append(Instruction(operation: operation, a: a, b: b, constant: constant))
        }
        return Program(inputs: inputs, instructions: instructions, outputCount: min(3, length))
    }

    /// Rewind's gradient (dense scalar sweep), in check mode or not.
    static func rewind(_ p: Program, checking: Bool) -> [Double] {
        let tape = Tape()
        tape.checksFinite = checking
        let (inputs, y) = tape.record { () -> ([Tracked], Tracked) in
            var nodes = tape.registerInputs(p.inputs)
            for i in p.instructions {
                let x = nodes[i.a], z = nodes[i.b]
                let v: Tracked
                switch i.operation {
                case .add: v = x + z
                case .subtract: v = x - z
                case .multiply: v = x * z
                case .divide: v = x / z
                case .negate: v = -x
                case .sqrt: v = Tracked.sqrt(x)
                case .exp: v = Tracked.exp(x)
                case .log: v = Tracked.log(x)
                case .pow: v = Tracked.pow(x, i.constant)
                case .abs: v = Tracked.abs(x)
                case .addConstant: v = x + i.constant
                case .multiplyByConstant: v = i.constant * x
                }
                nodes.append(v)
            }
            var sum = nodes[nodes.count - p.outputCount]
            for node in nodes.suffix(p.outputCount - 1) { sum = sum + node }
            return (Array(nodes.prefix(p.inputs.count)), sum)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        return inputs.map { adjoints[$0] }
    }

    /// The reference tape's gradient with an IEEE sweep: no entry skipped (or, with
    /// `skippingZeroAdjoints`, the old rule that skipped every zero adjoint, to show that the
    /// property below catches it).
    static func reference(_ p: Program, skippingZeroAdjoints: Bool = false) -> (gradient: [Double], negativeZeroUnderRoot: Bool) {
        let tape = ReferenceTape()
        var nodes = p.inputs.map { tape.input($0) }
        var negativeZeroUnderRoot = false
        for i in p.instructions {
            let x = nodes[i.a], z = nodes[i.b]
            let v: ReferenceVariable
            switch i.operation {
            case .add: v = x + z
            case .subtract: v = x - z
            case .multiply: v = x * z
            case .divide:
                let q = x.value / z.value
                v = ReferenceVariable.record(q, [(x, 1 / z.value), (z, -q / z.value)])
            case .negate: v = -x
            case .sqrt: v = ReferenceVariable.sqrt(x)
            case .exp: v = ReferenceVariable.exp(x)
            case .log: v = ReferenceVariable.log(x)
            case .pow: v = ReferenceVariable.pow(x, x.lift(i.constant))
            case .abs:
                // |x|′ = sign x, and 0 at 0 (the subgradient Rewind uses).
                v = ReferenceVariable.record(Swift.abs(x.value), [(x, x.value > 0 ? 1 : (x.value < 0 ? -1 : 0))])
            case .addConstant: v = x + i.constant
            case .multiplyByConstant: v = i.constant * x
            }
            if (i.operation == .sqrt || i.operation == .log) && x.value == 0 && x.value.sign == .minus {
                negativeZeroUnderRoot = true
            }
            nodes.append(v)
        }
        var sum = nodes[nodes.count - p.outputCount]
        for node in nodes.suffix(p.outputCount - 1) { sum = sum + node }
        // The IEEE sweep over the reference's own list.
        var adjoints = [Double](repeating: 0, count: tape.entries.count)
        adjoints[sum.index] = 1
        for k in stride(from: sum.index, through: 0, by: -1) {
            if skippingZeroAdjoints && adjoints[k] == 0 { continue }
            let entry = tape.entries[k]
            for (parent, partial) in zip(entry.parents, entry.partials) {
                adjoints[parent] += partial * adjoints[k]
            }
        }
        return (nodes.prefix(p.inputs.count).map { adjoints[$0.index] }, negativeZeroUnderRoot)
    }

    static func identical(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    @Test func rewindIsNeverFiniteWhereTheIEEEReferenceIsNaN() {
        var nanCases = 0
        for seed in 0..<3000 as Range<UInt64> {
            let p = Self.generate(seed: seed, sameArithmeticOnly: false)
            let r = Self.rewind(p, checking: false)
            let reference = Self.reference(p).gradient
            for (k, (g, e)) in zip(r, reference).enumerated() where e.isNaN {
                nanCases += 1
                #expect(!g.isFinite, "seed \(seed), input \(k): Rewind \(g), reference NaN\n\(p)")
            }
            let checked = Self.rewind(p, checking: true)
            for (a, b) in zip(r, checked) {
                #expect(Self.identical(a, b), "seed \(seed): check mode changed \(a) to \(b)\n\(p)")
            }
        }
        // The programs must actually reach the cases in question.
        #expect(nanCases > 300, "only \(nanCases) NaN gradients in 3000 programs")
    }

    /// The property has teeth: the old rule (skip every zero adjoint), run on the same
    /// programs, returns finite numbers where the IEEE sweep gives NaN, many times.
    @Test func theOldSkipRuleFailsTheProperty() {
        var violations = 0
        for seed in 0..<3000 as Range<UInt64> {
            let p = Self.generate(seed: seed, sameArithmeticOnly: false)
            let skipping = Self.reference(p, skippingZeroAdjoints: true).gradient
            let ieee = Self.reference(p).gradient
            violations += zip(skipping, ieee).filter { $0.isFinite && $1.isNaN }.count
        }
        #expect(violations > 50, "the old skip rule hid only \(violations) NaNs")
    }

    @Test func rewindIsBitEqualToTheIEEEReferenceWhereTheArithmeticIsTheSame() {
        var compared = 0
        var zeroAdjointsWithInfinitePartials = 0
        for seed in 10_000..<13_000 as Range<UInt64> {
            let p = Self.generate(seed: seed, sameArithmeticOnly: true)
            precondition(p.sameArithmetic)
            let reference = Self.reference(p)
            guard !reference.negativeZeroUnderRoot else { continue }
            let r = Self.rewind(p, checking: false)
            compared += 1
            if reference.gradient.contains(where: \.isNaN) { zeroAdjointsWithInfinitePartials += 1 }
            for (k, (g, e)) in zip(r, reference.gradient).enumerated() {
                #expect(Self.identical(g, e), "seed \(seed), input \(k): Rewind \(g), reference \(e)\n\(p)")
            }
        }
        #expect(compared > 2500)
        #expect(zeroAdjointsWithInfinitePartials > 200, "only \(zeroAdjointsWithInfinitePartials) NaN gradients")
    }
}
