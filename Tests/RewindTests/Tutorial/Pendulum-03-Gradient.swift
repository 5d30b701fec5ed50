import Rewind

let pendulumStart: [Double] = [1.0, 0.0]
let pendulumParameters: [Double] = [9.81, 0.1]

/// dJ/dx₀ and dJ/dp of the whole run, every step recorded on one tape.
func pendulumGradientStoringAll(steps: Int) throws -> GradientResult {
    try TimeStepping.gradient(
        of: Pendulum(), initialState: pendulumStart, parameters: pendulumParameters, steps: steps,
        options: TimeSteppingOptions(strategy: .storeAll))
}

/// The same gradient with 8 snapshots: revolve re-runs steps from them instead of keeping
/// the whole tape.
func pendulumGradientWithRevolve(steps: Int) throws -> GradientResult {
    try TimeStepping.gradient(
        of: Pendulum(), initialState: pendulumStart, parameters: pendulumParameters, steps: steps,
        options: TimeSteppingOptions(strategy: .revolve(snapshots: 8)))
}

/// The same gradient inside a memory budget: the planner picks the strategy.
func pendulumGradient(steps: Int, budget: MemoryBudget) throws -> GradientResult {
    try TimeStepping.gradient(
        of: Pendulum(), initialState: pendulumStart, parameters: pendulumParameters, steps: steps,
        options: TimeSteppingOptions(memoryBudget: budget))
}

/// Advances revolve needs to reverse `steps` steps with `snapshots` slots, without running.
func revolveAdvances(steps: Int, snapshots: Int) -> Int {
    RevolveSchedule(steps: steps, snapshots: snapshots).advances
}
