import Rewind
import RewindModels
import Testing

/// The models at sizes small enough for unit tests, with the parameters that keep their
/// gradients well-conditioned.
enum SmallModels {
    static var lorenzStable: (Lorenz, [Double], Int) { (Lorenz(), [10.0, 10.0, 8.0 / 3.0], 300) }
    static var lorenzChaotic: (Lorenz, [Double], Int) { (Lorenz(), Lorenz.defaultParameters, 1000) }
    static var burgers: (Burgers, [Double], Int) { (Burgers(n: 32), Burgers.defaultParameters, 60) }
    static var heat: (Heat2D, [Double], Int) { (Heat2D(m: 8), Heat2D.defaultParameters, 25) }
}

/// Relative difference with an absolute floor for values near zero.
func relativeError(_ a: Double, _ b: Double, floor: Double = 1e-300) -> Double {
    abs(a - b) / max(abs(a), abs(b), floor)
}

/// dJ along `direction` (initial state then parameters) by the tangent mode over the whole run.
func tangentDerivative<M: Model>(_ model: M, parameters: [Double], steps: Int, direction: [Double]) -> Double {
    let x0 = model.initialState()
    let n = x0.count
    let state = (0..<n).map { Dual<Double>(x0[$0], tangent: direction[$0]) }
    let p = parameters.indices.map { Dual<Double>(parameters[$0], tangent: direction[n + $0]) }
    return model.run(initialState: state, parameters: p, steps: steps).objective.tangent
}

/// dJ/d(input k) by central differences with a step from the rounding/truncation trade-off.
func centralDifference<M: Model>(_ model: M, parameters: [Double], steps: Int, input k: Int) -> Double {
    let x0 = model.initialState()
    let n = x0.count
    let value = k < n ? x0[k] : parameters[k - n]
    let h = 6.055454452393343e-06 * max(1, abs(value))  // cbrt(machine epsilon)
    func objective(_ shift: Double) -> Double {
        var x = x0
        var p = parameters
        if k < n { x[k] += shift } else { p[k - n] += shift }
        return model.primal(initialState: x, parameters: p, steps: steps).objective
    }
    return (objective(h) - objective(-h)) / (2 * h)
}

