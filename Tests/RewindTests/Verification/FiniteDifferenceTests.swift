import RealModule
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Finite-difference stencils and the step scan")
struct FiniteDifferenceTests {
    @Test func fornbergReproducesTheClassicCenteredWeights() {
        // Fornberg 1988, Table 1 (first derivative, centered).
        let tables: [Int: [Double]] = [
            2: [-1.0 / 2, 1.0 / 2],
            4: [1.0 / 12, -2.0 / 3, 2.0 / 3, -1.0 / 12],
            6: [-1.0 / 60, 3.0 / 20, -3.0 / 4, 3.0 / 4, -3.0 / 20, 1.0 / 60],
        ]
        for (order, weights) in tables {
            let stencil = FiniteDifferenceStencil.centered(order: order)
            #expect(stencil.order == order)
            #expect(stencil.weights.count == weights.count, "order \(order): \(stencil.weights)")
            for (w, expected) in zip(stencil.weights, weights) {
                #expect(isClose(w, expected, relative: 1e-15), "order \(order): weight \(w), expected \(expected)")
            }
            #expect(!stencil.offsets.contains(0), "the centre's weight is 0 and is dropped")
        }
    }

    @Test func fornbergSecondDerivativeAndOneSidedWeights() {
        let c = FiniteDifferenceStencil.fornbergWeights(derivative: 2, at: 0, offsets: [-1, 0, 1])
        #expect(c[2] == [1, -2, 1])
        // One-sided 3-point formula: (−3f₀ + 4f₁ − f₂)/2, exact for quadratics: order 2.
        let forward = FiniteDifferenceStencil(offsets: [0, 1, 2])
        #expect(forward.weights == [-1.5, 2, -0.5])
        #expect(forward.order == 2)
        #expect(FiniteDifferenceStencil(offsets: [-1, 1]).order == 2)
    }

    @Test(arguments: [2, 4, 6])
    func truncationErrorFallsAsTheStepToTheOrder(order: Int) {
        // Halving h divides the error by 2^order while truncation dominates.
        let stencil = FiniteDifferenceStencil.centered(order: order)
        let h = 0.1
        let e1 = (stencil.derivative(step: h) { Double.exp(0.3 + $0) } - Double.exp(0.3)).magnitude
        let e2 = (stencil.derivative(step: h / 2) { Double.exp(0.3 + $0) } - Double.exp(0.3)).magnitude
        let rate = Double.log2(e1 / e2)
        #expect((rate - Double(order)).magnitude < 0.1, "order \(order): observed rate \(rate)")
    }

    @Test func theScanFindsAnAccurateStepForAFunctionOnAShortLength() {
        // f varies on a length 1e-4: the nominal step (7e-4 for order 4) would be useless.
        let f: ([Double]) -> Double = { x in Double.sin(1e4 * x[0]) + x[1] * x[1] }
        let x = [0.123, 2.0]
        let estimate = FiniteDifference.partialDerivative(of: f, at: x, index: 0)
        let exact = 1e4 * Double.cos(1e4 * 0.123)
        #expect(isClose(estimate.derivative, exact, relative: 1e-8), "\(estimate) vs \(exact)")
        #expect(estimate.step < 1e-4)
        #expect(estimate.estimatedError < 1e-8 * exact.magnitude + 1e-6)
        let along = FiniteDifference.directionalDerivative(of: f, at: x, along: [0, 1])
        #expect(isClose(along.derivative, 4, relative: 1e-10), "\(along)")
    }
}
