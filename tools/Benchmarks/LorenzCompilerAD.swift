// Lorenz's RK4 step differentiated by Swift's own reverse mode (`_Differentiation`, source
// transformation by the compiler), for `rewind-benchmark lorenz-step`: what a pullback per step
// costs when no tape is kept, the one alternative to preaccumulating the step's Jacobian that a
// Swift tool could take. Not part of Rewind: Rewind's `LocalFunction` steps are generic over
// `SimulationScalar`, and `@differentiable` functions are not.
#if canImport(_Differentiation)
import _Differentiation

private struct CompilerADState: Differentiable {
    var x: Double, y: Double, z: Double
}

private struct CompilerADParameters: Differentiable {
    var sigma: Double, rho: Double, beta: Double
}

@differentiable(reverse)
@inline(__always)
private func lorenzRate(_ s: CompilerADState, _ p: CompilerADParameters) -> CompilerADState {
    CompilerADState(x: p.sigma * (s.y - s.x), y: s.x * (p.rho - s.z) - s.y, z: s.x * s.y - p.beta * s.z)
}

/// `Lorenz.RK4Step`'s arithmetic, in the same order.
@differentiable(reverse)
private func lorenzRK4(_ s: CompilerADState, _ p: CompilerADParameters) -> CompilerADState {
    let dt = 0.01
    let h2 = 0.5 * dt
    let h6 = dt / 6.0
    let k1 = lorenzRate(s, p)
    let k2 = lorenzRate(CompilerADState(x: s.x + h2 * k1.x, y: s.y + h2 * k1.y, z: s.z + h2 * k1.z), p)
    let k3 = lorenzRate(CompilerADState(x: s.x + h2 * k2.x, y: s.y + h2 * k2.y, z: s.z + h2 * k2.z), p)
    let k4 = lorenzRate(CompilerADState(x: s.x + dt * k3.x, y: s.y + dt * k3.y, z: s.z + dt * k3.z), p)
    return CompilerADState(
        x: s.x + h6 * (((k1.x + 2.0 * k2.x) + 2.0 * k3.x) + k4.x),
        y: s.y + h6 * (((k1.y + 2.0 * k2.y) + 2.0 * k3.y) + k4.y),
        z: s.z + h6 * (((k1.z + 2.0 * k2.z) + 2.0 * k3.z) + k4.z))
}

/// The reverse half of a store-all gradient of `J = 0.5·dt·Σ|s_n|²` over `steps` stored states:
/// one compiler-generated pullback a step. Returns dJ/dσ + dJ/dρ + dJ/dβ.
@inline(never)
func compilerADReverse(states: [Double], parameters: [Double], steps: Int) -> Double {
    let p = CompilerADParameters(sigma: parameters[0], rho: parameters[1], beta: parameters[2])
    var stateAdjoint = CompilerADState.TangentVector(x: 0, y: 0, z: 0)
    var parameterAdjoint = CompilerADParameters.TangentVector(sigma: 0, rho: 0, beta: 0)
    for n in stride(from: steps, to: 0, by: -1) {
        // The running cost of state n, then the step from state n − 1 to n.
        stateAdjoint.x += 0.01 * states[3 * n]
        stateAdjoint.y += 0.01 * states[3 * n + 1]
        stateAdjoint.z += 0.01 * states[3 * n + 2]
        let before = CompilerADState(x: states[3 * n - 3], y: states[3 * n - 2], z: states[3 * n - 1])
        let (_, pullback) = valueWithPullback(at: before, p, of: lorenzRK4)
        let (ds, dp) = pullback(stateAdjoint)
        stateAdjoint = ds
        parameterAdjoint += dp
    }
    return parameterAdjoint.sigma + parameterAdjoint.rho + parameterAdjoint.beta
}
#endif
