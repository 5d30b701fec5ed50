import Rewind

/// The energy of a pendulum of unit length and mass at angle θ and angular velocity ω, under
/// gravity g. Written once, generically: `Double` evaluates it, `Tracked` records it.
func pendulumEnergy<S: SimulationScalar>(theta: S, omega: S, g: S) -> S {
    0.5 * omega * omega + g * (1 - S.cos(theta))
}

/// ∂E/∂θ, ∂E/∂ω and ∂E/∂g at one point: one recording, one reverse sweep.
func energyGradient(theta: Double, omega: Double, g: Double) -> [Double] {
    gradient(at: [theta, omega, g]) { x in
        pendulumEnergy(theta: x[0], omega: x[1], g: x[2])
    }
}

/// The same gradient, with the tape in plain sight.
func energyGradientOnATape(theta: Double, omega: Double, g: Double) -> [Double] {
    let tape = Tape()
    let (inputs, energy) = tape.record { () -> ([Tracked], Tracked) in
        let x = tape.registerInputs([theta, omega, g])
        return (x, pendulumEnergy(theta: x[0], omega: x[1], g: x[2]))
    }
    let adjoints = AdjointVector()
    tape.reverse(adjoints, seeding: [(energy, 1.0)])
    return inputs.map { adjoints[$0] }
}
