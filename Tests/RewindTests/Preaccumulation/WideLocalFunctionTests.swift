import Testing

import Rewind
@testable import RewindCore

/// A two-field flux over a five-point stencil: (h, q) at points −2…2, ten inputs, two outputs.
/// Every operation kind a flux has: products, a square root, a max, a division.
struct TwoFieldFlux: WideLocalFunction {
    var g = 9.81
    func callAsFunction<T: SimulationScalar>(_ x: [T]) -> [T] {
        precondition(x.count == 10)
        let h = [x[0], x[2], x[4], x[6], x[8]]
        let q = [x[1], x[3], x[5], x[7], x[9]]
        // Left and right states of the face between points 0 and 1 (indices 2 and 3), with a
        // slope correction from the outer points.
        let hl = h[2] + 0.25 * (h[3] - h[1])
        let hr = h[3] - 0.25 * (h[4] - h[2])
        let ql = q[2] + 0.25 * (q[3] - q[1])
        let qr = q[3] - 0.25 * (q[4] - q[2])
        let ul = ql / hl
        let ur = qr / hr
        let cl = T.sqrt(g * hl)
        let cr = T.sqrt(g * hr)
        let speed = Swift.max(Swift.abs(ul) + cl, Swift.abs(ur) + cr) + 0.0 * h[0]
        let fh = 0.5 * (ql + qr) - 0.5 * speed * (hr - hl)
        let fq = 0.5 * (ql * ul + 0.5 * g * hl * hl + qr * ur + 0.5 * g * hr * hr) - 0.5 * speed * (qr - ql)
        return [fh, fq]
    }
}

/// n inputs, three outputs mixing them all: crosses the 8-lane passes at every n.
struct Mixer: WideLocalFunction {
    func callAsFunction<T: SimulationScalar>(_ x: [T]) -> [T] {
        var a = T(0)
        var b = T(1)
        var c = T(0)
        for (k, v) in x.enumerated() {
            a = a + Double(k + 1) * v * v
            b = b * (1.0 + 0.01 * T.sin(v))
            c = c + T.exp(-v * Double(k % 3))
        }
        return [a, b, c]
    }
}

@Suite("Wide local functions: preaccumulation past eight inputs")
struct WideLocalFunctionTests {
    /// Jacobian rows of `function` at `x` on `Tracked`, preaccumulated or operation by operation,
    /// and the statements each recorded beyond its inputs.
    func jacobian<F: WideLocalFunction>(_ function: F, at x: [Double], preaccumulated: Bool) -> ([[Double]], Int) {
        let tape = Tape()
        let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
            let inputs = x.map { tape.registerInput($0) }
            return (inputs, preaccumulated ? Tracked.evaluate(function, inputs) : function(inputs))
        }
        let statements = tape.statistics.statementCount - x.count
        let rows = outputs.map { output -> [Double] in
            let adjoints = AdjointVector()
            tape.reverse(adjoints, seeding: [(output, 1)])
            return inputs.map { adjoints[$0] }
        }
        return (rows, statements)
    }

    func expectClose(_ a: [[Double]], _ b: [[Double]], relative: Double, _ comment: Comment? = nil) {
        #expect(a.count == b.count)
        for (ra, rb) in zip(a, b) {
            let scale = Swift.max(1, rb.map(abs).max() ?? 1)
            for (u, v) in zip(ra, rb) { #expect(abs(u - v) <= relative * scale, "\(u) vs \(v) \(comment.map { "\($0)" } ?? "")") }
        }
    }

    let fluxPoint: [Double] = [1.0, 0.3, 1.1, 0.25, 1.3, 0.2, 1.2, -0.1, 0.9, 0.05]

    @Test func aTenInputFluxAgreesWithTheOperationByOperationRecording() {
        let (wide, wideStatements) = jacobian(TwoFieldFlux(), at: fluxPoint, preaccumulated: true)
        let (elementary, elementaryStatements) = jacobian(TwoFieldFlux(), at: fluxPoint, preaccumulated: false)
        expectClose(wide, elementary, relative: 1e-14)
        #expect(wideStatements == 2, "one statement per output")
        #expect(elementaryStatements > 40)
        // Point 0's height enters only through `0.0 * h[0]`: its partial is exactly 0.
        #expect(wide[0][0] == 0 && wide[1][0] == 0)
    }

    @Test func aTenInputFluxAgreesWithCentralDifferences() {
        let (wide, _) = jacobian(TwoFieldFlux(), at: fluxPoint, preaccumulated: true)
        for j in fluxPoint.indices {
            let h = 1e-6 * Swift.max(1, abs(fluxPoint[j]))
            var plus = fluxPoint, minus = fluxPoint
            plus[j] += h
            minus[j] -= h
            let fp = TwoFieldFlux()(plus), fm = TwoFieldFlux()(minus)
            for o in 0..<2 {
                let difference = (fp[o] - fm[o]) / (2 * h)
                #expect(abs(wide[o][j] - difference) <= 1e-7 * Swift.max(1, abs(difference)), "output \(o), input \(j)")
            }
        }
    }

    /// Every input count around the 8-lane pass boundaries, and past one statement's 253 arguments.
    @Test(arguments: [1, 7, 8, 9, 16, 17, 20, 253, 254, 300])
    func everyInputCountGivesTheOperationByOperationJacobian(inputs n: Int) {
        let x: [Double] = (0..<n).map { (k: Int) -> Double in
            let wobble: Double = 0.37 * Double(k % 11)
            return 0.5 + wobble - 0.05 * Double(k)
        }
        let (wide, statements) = jacobian(Mixer(), at: x, preaccumulated: true)
        let (elementary, _) = jacobian(Mixer(), at: x, preaccumulated: false)
        expectClose(wide, elementary, relative: 1e-13, "n = \(n)")
        // One statement per output, plus one auxiliary per 253 arguments past the first group.
        let groups = (n + 252) / 253
        #expect(statements == 3 * (groups == 1 ? 1 : groups + 1), "n = \(n)")
    }

    /// A constant among the inputs (a boundary value, say) takes no argument slot; the others'
    /// partials are those of the operation-by-operation recording.
    @Test func constantInputsAreLeftOutAndTheGradientStaysRight() {
        func rows(preaccumulated: Bool) -> ([[Double]], Int) {
            let tape = Tape()
            let (variables, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
                let variables = fluxPoint.indices.filter { $0 != 4 }.map { tape.registerInput(fluxPoint[$0]) }
                var inputs = variables
                inputs.insert(Tracked(fluxPoint[4]), at: 4)
                return (variables, preaccumulated ? Tracked.evaluate(TwoFieldFlux(), inputs) : TwoFieldFlux()(inputs))
            }
            let partials = tape.statistics.partialCount
            return (outputs.map { output in
                let adjoints = AdjointVector()
                tape.reverse(adjoints, seeding: [(output, 1)])
                return variables.map { adjoints[$0] }
            }, partials)
        }
        let (wide, widePartials) = rows(preaccumulated: true)
        let (elementary, _) = rows(preaccumulated: false)
        expectClose(wide, elementary, relative: 1e-14)
        #expect(widePartials == 2 * 9, "nine variable inputs per output, the constant left out")
    }

    @Test func onDoubleAndDualTheFunctionIsSimplyCalled() {
        #expect(Double.evaluate(TwoFieldFlux(), fluxPoint) == TwoFieldFlux()(fluxPoint))
        let duals = fluxPoint.enumerated().map { Dual<Double>($0.element, tangent: $0.offset == 3 ? 1 : 0) }
        let (wide, _) = jacobian(TwoFieldFlux(), at: fluxPoint, preaccumulated: true)
        let tangents = Dual<Double>.evaluate(TwoFieldFlux(), duals).map(\.tangent)
        #expect(abs(tangents[0] - wide[0][3]) <= 1e-14 && abs(tangents[1] - wide[1][3]) <= 1e-14)
    }

    /// Check mode names the statement for what recorded it: a square root at 0 inside a
    /// ten-input function gives an infinite partial, reported as the wide local function's.
    @Test func checkModeNamesTheWideLocalFunction() {
        struct RootOfFirst: WideLocalFunction {
            func callAsFunction<T: SimulationScalar>(_ x: [T]) -> [T] {
                [x.dropFirst().reduce(T.sqrt(x[0]), +)]
            }
        }
        let tape = Tape()
        tape.checksFinite = true
        tape.record {
            let inputs = (0..<10).map { tape.registerInput($0 == 0 ? 0 : Double($0)) }
            _ = Tracked.evaluate(RootOfFirst(), inputs)
        }
        let report = tape.firstNonFinite
        #expect(report?.operation == "wide local function", "\(String(describing: report))")
        #expect(report?.arguments.first?.partial == .infinity)
    }

    @Test func aNinthInputToALocalFunctionTrapsNamingTheWideForm() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = LocalValues<Double>(count: 9) { Double($0) }
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("WideLocalFunction"), "\(message)")
    }
}
