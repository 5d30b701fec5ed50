import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

private func f(_ x: [Tracked]) -> [Tracked] { [x[0] * x[1], Tracked.sin(x[0]) + x[2] * x[2], x[1] / x[2]] }
private func fDual(_ x: [Dual<Double>]) -> [Dual<Double>] { [x[0] * x[1], Dual.sin(x[0]) + x[2] * x[2], x[1] / x[2]] }

@Suite("Modes: gradients, products, Jacobians, custom adjoints")
struct ModesTests {
    let point = [0.4, -1.5, 2.5]

    var exactJacobian: [[Double]] {
        let (x, y, z) = (point[0], point[1], point[2])
        return [[y, x, 0], [Double.cos(x), 0, 2 * z], [0, 1 / z, -y / (z * z)]]
    }

    @Test func jacobianByReverseSweepsIsExact() {
        let j = jacobian(at: point, of: f)
        for r in 0..<3 { for c in 0..<3 { #expect(abs(j[r][c] - exactJacobian[r][c]) < 1e-15) } }
    }

    @Test func vectorJacobianProductIsTheTransposeTimesTheCotangent() {
        let w = [1.0, -2.0, 0.5]
        let vjp = vectorJacobianProduct(at: point, cotangent: w, of: f)
        for c in 0..<3 {
            let expected = (0..<3).reduce(0.0) { $0 + w[$1] * exactJacobian[$1][c] }
            #expect(abs(vjp[c] - expected) < 1e-14)
        }
    }

    @Test func dotProductTestBetweenTangentAndReverse() {
        let v = [0.3, -0.7, 1.1]
        let w = [2.0, 0.5, -1.0]
        let jv = jacobianVectorProduct(at: point, direction: v, of: fDual).product
        let jtw = vectorJacobianProduct(at: point, cotangent: w, of: f)
        let left = zip(jv, w).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(v, jtw).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(left - right) <= 1e-15 * max(abs(left), 1))
    }

    @Test func vectorTangentCarriesSeveralDirectionsAtOnce() {
        let x = (0..<3).map { Dual<SIMD4<Double>>(point[$0], tangent: .unit($0)) }
        let y = [x[0] * x[1], Dual.sin(x[0]) + x[2] * x[2], x[1] / x[2]]
        for r in 0..<3 { for c in 0..<3 { #expect(abs(y[r].tangent[c] - exactJacobian[r][c]) < 1e-15) } }
    }

    @Test func customAdjointReplacesTheElementaryRecording() {
        // y = A x for a 2×2 matrix, with a hand-written adjoint Aᵀ ȳ.
        let a = [[2.0, -1.0], [0.5, 3.0]]
        var calls = 0
        let recorded = RecordedFunction(at: [1.0, 2.0]) { x in
            let values = [a[0][0] * x[0].value + a[0][1] * x[1].value, a[1][0] * x[0].value + a[1][1] * x[1].value]
            let y = Tracked.custom(inputs: x, outputs: values) { ybar, xbar in
                calls += 1
                xbar[0] = a[0][0] * ybar[0] + a[1][0] * ybar[1]
                xbar[1] = a[0][1] * ybar[0] + a[1][1] * ybar[1]
            }
            return [y[0] * y[1]]
        }
        let g = recorded.pullback([1])
        let y = recorded.outputs[0].value
        _ = y
        let y0 = 2.0 * 1 - 1.0 * 2, y1 = 0.5 * 1 + 3.0 * 2
        #expect(g == [a[0][0] * y1 + a[1][0] * y0, a[0][1] * y1 + a[1][1] * y0])
        #expect(calls == 1)
        #expect(recorded.tape.statistics.externalStatementCount == 1)
    }

    /// A custom rule meets a zero output adjoint like any statement: a linear finite rule
    /// returns 0 and changes nothing, a rule with an infinite partial returns 0·∞ = NaN, which
    /// reaches the input (it used to be skipped: a silently finite gradient).
    @Test func customAdjointWithZeroOutputAdjointIsCalledAndItsNaNKept() {
        var calls = 0
        let linear = RecordedFunction(at: [1.0]) { x in
            _ = Tracked.custom(inputs: x, outputs: [5]) { ybar, xbar in
                calls += 1
                xbar[0] = 7 * ybar[0]
            }
            return [x[0] * 2]
        }
        #expect(linear.pullback([1]) == [2])
        #expect(calls == 1)
        let infinite = RecordedFunction(at: [0.0]) { x in
            _ = Tracked.custom(inputs: x, outputs: [0]) { ybar, xbar in xbar[0] = ybar[0] * .infinity }
            return [x[0] * 2]
        }
        #expect(infinite.pullback([1])[0].isNaN)
    }
}
