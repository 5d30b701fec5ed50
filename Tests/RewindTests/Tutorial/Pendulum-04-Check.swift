import Rewind

/// Finite differences, the Taylor test and the dot-product test against the tangent mode,
/// all on the gradient `TimeStepping.gradient` computes for the whole run.
func checkPendulumGradient(steps: Int) throws -> DerivativeCheckReport {
    try DerivativeCheck().run(
        Pendulum(), initialState: pendulumStart, parameters: pendulumParameters, steps: steps)
}
