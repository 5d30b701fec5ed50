import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// Constants (identifier 0) record nothing and get no adjoint; inputs that the output does not
/// depend on get exactly 0; tracked values used outside their recording trap.
@Suite("Constant propagation") struct ConstantPropagationTests {
    /// A point inside every function's domain (acosh needs x ≥ 1, asin and atanh |x| < 1).
    static func point(for function: Unary) -> Double {
        switch function {
        case .acosh: 1.25
        case .asin, .acos, .atanh: 0.25
        default: 0.75
        }
    }

    @Test("unary functions of a constant record nothing", arguments: Unary.allCases)
    func unaryOfConstant(function: Unary) {
        let x = Self.point(for: function)
        let tape = Tape()
        tape.record {
            // An input first, so the tape is recording and not empty.
            let input = tape.registerInput(x)
            let before = tape.statistics.statementCount
            let y = function.tracked([Tracked(x)])
            #expect(y.isConstant, "\(function) of a constant is not a constant: \(y)")
            #expect(tape.statistics.statementCount == before, "\(function) of a constant recorded a statement")
            #expect(isIdentical(y.value, function([x])), "\(function): \(y.value) vs \(function([x]) as Double)")
            // The same function of the input does record, so the check above can fail.
            _ = function.tracked([input])
            #expect(tape.statistics.statementCount == before + 1, "\(function) of an input recorded no statement")
        }
    }

    @Test("binary functions and operators of constants record nothing")
    func binaryOfConstants() {
        let tape = Tape()
        tape.record {
            _ = tape.registerInput(1)
            let before = tape.statistics.statementCount
            let (a, b, c) = (Tracked(1.5), Tracked(-0.25), Tracked(4))
            let results: [Tracked] = [
                a + b, a - b, a * b, a / b, -a, a + 2.0, 2.0 + a, a - 2.0, 2.0 - a, a * 2.0, 2.0 * a, a / 2.0,
                2.0 / a, Tracked.pow(a, c), Tracked.pow(a, 3), Tracked.pow(a, 2.5), Tracked.pow(2.5, a),
                Tracked.atan2(y: a, x: b), Tracked.hypot(a, b), Tracked.fma(a, b, c), Tracked.root(c, 2),
                Swift.min(a, b), Swift.max(a, b), b.magnitude, a.reciprocal!,
            ]
            var compound = a
            compound += b
            compound -= 1.0
            compound *= c
            compound /= 3.0
            for (k, y) in (results + [compound]).enumerated() {
                #expect(y.isConstant, "result \(k) of constants is not a constant: \(y)")
            }
            #expect(tape.statistics.statementCount == before, "operations on constants recorded statements")
        }
    }

    /// A constant operand is left out of the statement: x · c records one argument, not two.
    @Test("constant operands are left out of statements") func constantOperandsLeftOut() {
        let tape = Tape()
        let inputs = tape.record { () -> [Tracked] in
            let x = tape.registerInput(2)
            _ = x * Tracked(3)  // 1 argument
            _ = Tracked(3) - x  // 1 argument
            _ = Tracked.fma(x, Tracked(3), Tracked(1))  // 1 argument
            _ = Tracked.fma(Tracked(3), Tracked(1), x)  // 1 argument
            _ = Tracked.atan2(y: Tracked(1), x: x)  // 1 argument
            _ = x * x  // 1 argument (x ∘ x)
            let y = tape.registerInput(5)
            _ = x * y  // 2 arguments
            _ = Tracked.fma(x, y, Tracked(1))  // 2 arguments
            return [x, y]
        }
        let statistics = tape.statistics
        #expect(statistics.statementCount == 2 + 8)
        #expect(statistics.argumentCount == 6 + 2 + 2)
        #expect(!inputs[0].isConstant && !inputs[1].isConstant)
    }

    @Test("an input the output does not depend on gets exactly 0") func independentInputGetsZero() {
        let tape = Tape()
        let (inputs, output) = tape.record { () -> ([Tracked], Tracked) in
            let x = tape.registerInputs([0.5, 2, -3, 7])
            // x[1] enters only through a branch on its value, x[2] is never used, x[3] only in a
            // value that is dropped.
            let scale: Tracked = x[1].primal > 1 ? Tracked(3) : Tracked(4)
            _ = Tracked.exp(x[3]) * x[0]
            return (x, Tracked.sin(x[0]) * scale + 1.0)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(output, 1)])
        let gradient = inputs.map { adjoints[$0] }
        #expect(isClose(gradient[0], 3 * Double.cos(0.5), relative: 1e-15))
        for i in 1...3 {
            #expect(gradient[i].bitPattern == 0, "∂f/∂x[\(i)] = \(gradient[i]), expected exactly +0")
        }
    }

    @Test("valueWithGradient: unused inputs and a constant output get exactly 0") func helperZeros() {
        let (value, gradient) = valueWithGradient(at: [1, 2, 3]) { x in x[0] * x[2] }
        #expect(value == 3)
        #expect(gradient == [3, 0, 1])
        let (constantValue, constantGradient) = valueWithGradient(at: [1, 2]) { _ in Tracked.exp(Tracked(1)) }
        #expect(constantValue == Double.exp(1))
        #expect(constantGradient == [0, 0])
    }

    /// The reverse sweep skips a zero adjoint only where every partial is finite (issue 12):
    /// 0 · sqrt(x) at x = 0 gives x the adjoint 0 · ∞ = NaN, as IEEE arithmetic does, rather
    /// than a silently finite 0. A finite partial behind a zero adjoint still gives exactly 0.
    @Test("a zero adjoint times an infinite partial is NaN, as IEEE says") func zeroTimesInfinity() {
        let (value, gradient) = valueWithGradient(at: [0, 2]) { x in x[1] + 0.0 * Tracked.sqrt(x[0]) }
        #expect(value == 2)
        #expect(gradient[0].isNaN)
        #expect(gradient[1] == 1)
        let finite = valueWithGradient(at: [0, 2]) { x in x[1] + 0.0 * Tracked.sin(x[0]) }
        #expect(finite.gradient[0].bitPattern == 0 && finite.gradient[1] == 1)
    }

    @Test("literals and Double conversions are constants") func literalsAreConstants() {
        let values: [Tracked] = [0, 1.5, Tracked(2), Tracked(exactly: 7)!, .zero]
        #expect(values.allSatisfy { $0.isConstant })
        #expect(Tracked(0).reciprocal == nil)
        #expect(Dual<Double>(3).tangent == 0)
    }

    // MARK: - Misuse traps

    @Test("a tracked value used with no recording tape traps") func noActiveTapeTraps() async {
        await #expect(processExitsWith: .failure) {
            let tape = Tape()
            let x = tape.record { tape.registerInput(1) }
            _ = Tracked.sin(x)
        }
    }

    /// The control for the traps below: the same code with live values exits normally.
    @Test("live tracked values do not trap") func liveValuesDoNotTrap() async {
        await #expect(processExitsWith: .success) {
            let tape = Tape()
            let x = tape.record { tape.registerInput(1) }
            tape.record {
                _ = Tracked.sin(x) * 2.0
                _ = Tracked.fma(x, x, x)
            }
            let other = Tape()
            other.record { _ = Tracked.sin(Tracked(1)) + 2.0 }
        }
    }

    // The stale-value check is an `assert`: it traps in debug builds only.

    @Test("a tracked value used after reset() traps", .enabled(if: _isDebugAssertConfiguration()))
    func staleAfterResetTraps() async {
        await #expect(processExitsWith: .failure) {
            let tape = Tape()
            let x = tape.record { tape.registerInput(1) }
            tape.reset()
            tape.record { _ = x * 2.0 }
        }
        await #expect(processExitsWith: .failure) {
            let tape = Tape()
            let x = tape.record { tape.registerInput(1) }
            tape.reset()
            tape.record {
                let y = tape.registerInput(2)
                _ = Tracked.fma(y, y, x)
            }
        }
    }

    @Test("a tracked value from another tape traps", .enabled(if: _isDebugAssertConfiguration()))
    func otherTapeTraps() async {
        await #expect(processExitsWith: .failure) {
            let first = Tape()
            let x = first.record { first.registerInput(1) }
            let second = Tape()
            second.record { _ = Tracked.exp(x) }
        }
        await #expect(processExitsWith: .failure) {
            let first = Tape()
            let x = first.record { first.registerInput(1) }
            let second = Tape()
            second.record {
                let y = second.registerInput(2)
                _ = x * y
            }
        }
    }
}
