import RealModule
import RewindReference
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// The operations a random program is built from.
enum ProgramOperation: CaseIterable {
    case add, subtract, multiply, divide, negate
    case sin, cos, tan, exp, log, sqrt, tanh, atan, pow, atan2, hypot
    case addConstant, multiplyByConstant, constantDividedBy
}

/// One assignment of a random program: `operation(node[a], node[b])` (b unused by unary
/// operations), with `constant` for the mixed operations.
struct ProgramInstruction {
    var operation: ProgramOperation
    var a: Int
    var b: Int
    var constant: Double
}

/// A straight-line program over inputs: the nodes are the inputs followed by one per
/// instruction; the result is the sum of the last few nodes.
struct RandomProgram: CustomStringConvertible {
    var inputs: [Double]
    var instructions: [ProgramInstruction]
    var outputCount: Int

    var description: String {
        let lines = instructions.enumerated().map { k, i in
            "v\(inputs.count + k) = \(i.operation)(v\(i.a), v\(i.b), c: \(i.constant))"
        }
        return "inputs \(inputs)\n" + lines.joined(separator: "\n") + "\nresult: sum of the last \(outputCount)"
    }

    /// Runs the program on any scalar the interpreter knows.
    func run<S: ProgramScalar>(_ inputs: [S]) -> S {
        var nodes = inputs
        for i in instructions { nodes.append(S.apply(i, nodes[i.a], nodes[i.b])) }
        var sum = nodes[nodes.count - outputCount]
        for node in nodes.suffix(outputCount - 1) { sum = sum + node }
        return sum
    }

    /// A program of `length` instructions over `inputCount` inputs, every operation applied only
    /// where it is smooth and well conditioned (log and sqrt of at least 0.1, divisors of at
    /// least 0.25 in magnitude, exp of at most 5, tanh on |x| ≤ 2, tan away from its poles,
    /// pow with a base in [0.2, 5] and |exponent| ≤ 3, values at most 1e4): the oracle
    /// comparison is about the tapes, not about conditioning.
    static func generate(seed: UInt64, inputCount: Int, length: Int) -> RandomProgram {
        var g = SeededGenerator(seed: seed)
        let inputs = (0..<inputCount).map { _ in Double.random(in: -2...2, using: &g) }
        var values = inputs
        var instructions: [ProgramInstruction] = []
        func pick() -> Int {
            Bool.random(using: &g) ? Swift.max(0, values.count - 1 - Int.random(in: 0..<3, using: &g)) : Int.random(in: 0..<values.count, using: &g)
        }
        while instructions.count < length {
            let a = pick()
            // One operand in ten is reused on both sides (x·x, x − x, x/x): the tapes must add both uses.
            let b = Int.random(in: 0..<10, using: &g) == 0 ? a : pick()
            let i = ProgramInstruction(
                operation: ProgramOperation.allCases.randomElement(using: &g)!, a: a, b: b,
                constant: Double.random(in: 0.5...3, using: &g) * (Bool.random(using: &g) ? 1 : -1))
            let (x, y) = (values[a], values[b])
            let allowed: Bool
            switch i.operation {
            case .divide: allowed = y.magnitude >= 0.25
            case .constantDividedBy: allowed = x.magnitude >= 0.25
            case .log, .sqrt: allowed = x >= 0.1
            case .exp: allowed = x <= 5
            case .tanh: allowed = x.magnitude <= 2
            case .tan: allowed = Double.cos(x).magnitude >= 0.3
            case .pow: allowed = (0.2...5).contains(x) && y.magnitude <= 3
            case .atan2, .hypot: allowed = x.magnitude + y.magnitude >= 0.1
            default: allowed = true
            }
            guard allowed else { continue }
            let value = Double.apply(i, x, y)
            guard value.isFinite, value.magnitude <= 1e4 else { continue }
            values.append(value)
            instructions.append(i)
        }
        return RandomProgram(inputs: inputs, instructions: instructions, outputCount: Swift.min(3, values.count))
    }
}

/// What the interpreter needs of a scalar: the operations, and constants mixed in.
protocol ProgramScalar {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func tan(_ x: Self) -> Self
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func sqrt(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func atan2(y: Self, x: Self) -> Self
    static func hypot(_ x: Self, _ y: Self) -> Self
    static func addConstant(_ a: Self, _ c: Double) -> Self
    static func multiplyByConstant(_ c: Double, _ a: Self) -> Self
    static func constantDivided(_ c: Double, by a: Self) -> Self
}

extension ProgramScalar {
    static func apply(_ i: ProgramInstruction, _ x: Self, _ y: Self) -> Self {
        switch i.operation {
        case .add: return x + y
        case .subtract: return x - y
        case .multiply: return x * y
        case .divide: return x / y
        case .negate: return -x
        case .sin: return sin(x)
        case .cos: return cos(x)
        case .tan: return tan(x)
        case .exp: return exp(x)
        case .log: return log(x)
        case .sqrt: return sqrt(x)
        case .tanh: return tanh(x)
        case .atan: return atan(x)
        case .pow: return pow(x, y)
        case .atan2: return atan2(y: x, x: y)
        case .hypot: return hypot(x, y)
        case .addConstant: return addConstant(x, i.constant)
        case .multiplyByConstant: return multiplyByConstant(i.constant, x)
        case .constantDividedBy: return constantDivided(i.constant, by: x)
        }
    }
}

extension Double: ProgramScalar {
    static func addConstant(_ a: Double, _ c: Double) -> Double { a + c }
    static func multiplyByConstant(_ c: Double, _ a: Double) -> Double { c * a }
    static func constantDivided(_ c: Double, by a: Double) -> Double { c / a }
}

extension Tracked: ProgramScalar {
    // The mixed operators of SimulationScalar, so Rewind's constant paths are exercised too.
    static func addConstant(_ a: Tracked, _ c: Double) -> Tracked { a + c }
    static func multiplyByConstant(_ c: Double, _ a: Tracked) -> Tracked { c * a }
    static func constantDivided(_ c: Double, by a: Tracked) -> Tracked { c / a }
}

extension ReferenceVariable: ProgramScalar {
    static func addConstant(_ a: ReferenceVariable, _ c: Double) -> ReferenceVariable { a + c }
    static func multiplyByConstant(_ c: Double, _ a: ReferenceVariable) -> ReferenceVariable { c * a }
    static func constantDivided(_ c: Double, by a: ReferenceVariable) -> ReferenceVariable { c / a }
}

@Suite("The reference tape, and Rewind against it on random programs")
struct ReferenceTapeTests {
    @Test func theReferenceDifferentiatesTheTextbookExamples() {
        let tape = ReferenceTape()
        let x = tape.input(2.0)
        let y = tape.input(-0.5)
        let f = x * ReferenceVariable.sin(x) + (x - x) + x * x / y
        let g = tape.gradient(of: f, withRespectTo: [x, y])
        #expect(isClose(g[0], Double.sin(2) + 2 * Double.cos(2) + 2 * 2 / -0.5, relative: 1e-15), "\(g)")
        #expect(isClose(g[1], -4 / 0.25, relative: 1e-15), "\(g)")
        // |partials| along every path: sin 2 + 2|cos 2| + (1 + 1) + 2·|2/−0.5| for x.
        let bound = tape.absoluteGradient(of: f, withRespectTo: [x, y])
        #expect(isClose(bound[0], Double.sin(2) + 2 * Double.cos(2).magnitude + 2 + 8, relative: 1e-15), "\(bound)")
    }

    /// The worked example of docs/how-it-works.md, section 12, exactly as the guide prints it:
    /// if this fails, the guide is wrong.
    @Test func theGuidesWorkedExampleIsWhatTheReferencePrints() {
        let tape = ReferenceTape()
        let x = tape.input(2.0)
        let y = tape.input(3.0)
        let f = ReferenceVariable.sin(x * y) + x / y
        #expect(tape.description == """
            v0 input or constant
            v1 input or constant
            v2 = φ(v0, v1)   ∂/∂v0 = 3.0, ∂/∂v1 = 2.0
            v3 = φ(v2)   ∂/∂v2 = 0.960170286650366
            v4 = φ(v0, v1)   ∂/∂v0 = 0.3333333333333333, ∂/∂v1 = -0.2222222222222222
            v5 = φ(v3, v4)   ∂/∂v3 = 1.0, ∂/∂v4 = 1.0
            """)
        #expect(tape.gradient(of: f, withRespectTo: [x, y]) == [3.2138441932844315, 1.6981183510785098])
        #expect(tape.absoluteGradient(of: f, withRespectTo: [x, y]) == [3.2138441932844315, 2.142562795522954])

        // x·x: two parents, both v0, and only += gives 2x.
        let square = ReferenceTape()
        let z = square.input(2.0)
        let zz = z * z
        #expect(square.description.contains("v1 = φ(v0, v0)   ∂/∂v0 = 2.0, ∂/∂v0 = 2.0"), "\(square)")
        #expect(square.gradient(of: zz, withRespectTo: [z]) == [4])
    }

    /// A zero adjoint is skipped only behind finite partials: 0·sqrt(z) + z at 0 gives NaN (the
    /// IEEE sweep's answer, as Rewind's), not the 1 that skipping every zero adjoint would give.
    @Test func aZeroAdjointMeetingAnInfinitePartialGivesNaN() {
        let tape = ReferenceTape()
        let z = tape.input(0.0)
        let g = 0.0 * ReferenceVariable.sqrt(z) + z
        #expect(tape.gradient(of: g, withRespectTo: [z])[0].isNaN)
        // With finite partials the skip changes nothing: 0·sin(w) + w has derivative 1.
        let finite = ReferenceTape()
        let w = finite.input(0.0)
        let h = 0.0 * ReferenceVariable.sin(w) + w
        #expect(finite.gradient(of: h, withRespectTo: [w]) == [1])
    }

    /// Seeds 0..<300: 1 to 4 inputs, 3 to 40 instructions.
    @Test(arguments: 0..<300)
    func rewindAgreesWithTheReferenceOnARandomProgram(seed: Int) {
        let s = UInt64(seed)
        let program = RandomProgram.generate(seed: s, inputCount: 1 + seed % 4, length: 3 + (seed * 7) % 38)

        let reference = ReferenceTape()
        let referenceInputs = program.inputs.map { reference.input($0) }
        let referenceOutput = program.run(referenceInputs)
        let expected = reference.gradient(of: referenceOutput, withRespectTo: referenceInputs)
        let bound = reference.absoluteGradient(of: referenceOutput, withRespectTo: referenceInputs)

        let (value, gradient) = valueWithGradient(at: program.inputs) { program.run($0) }
        let primal: Double = program.run(program.inputs)

        // Both engines evaluate through the same libm, so values agree bit for bit.
        #expect(isIdentical(value, referenceOutput.value) && isIdentical(value, primal),
                "seed \(seed): Rewind \(value), reference \(referenceOutput.value), Double \(primal)\n\(program)")
        for i in expected.indices {
            // 1e-14 relative; the floor for entries that cancel to (nearly) 0 is 1e-14 of the
            // sum over paths of |∏ partials|, the size rounding in the partials can reach.
            let allowed = 1e-14 * Swift.max(expected[i].magnitude, bound[i])
            #expect(
                (gradient[i] - expected[i]).magnitude <= allowed,
                "seed \(seed): ∂/∂x[\(i)] Rewind \(gradient[i]), reference \(expected[i]) (allowed \(allowed))\n\(program)")
        }
    }
}
