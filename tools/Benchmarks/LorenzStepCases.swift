// What one step of Lorenz's gradient costs, piece by piece (issue 15: "lorenz 1e6 at 4 MiB ≤ 5×"):
// the RK4 step on `Double`, its local Jacobian on `Dual`s of 8, 4 and 2 lanes (the 4- and 2-lane
// ones compute too few directions: they show how the cost scales with the lanes), the 8-lane one
// on a million independent states (no step waits for the one before), and the step recorded on
// a tape as `Lorenz.step` records it in a gradient.
//
//   swift build -c release --static-swift-stdlib --product rewind-benchmark
//   .build/release/rewind-benchmark lorenz-step        # nanoseconds a step, best of 5, a Markdown table
import Foundation
import Rewind
import RewindModels

private let lorenzSteps = 1_000_000
private let lorenzParameters = [10.0, 28.0, 8.0 / 3.0]

/// The trajectory's states, three values each, for the evaluation on independent states.
private let lorenzTrajectory: [Double] = {
    var state = [1.0, 1.0, 1.0]
    var trajectory = [Double]()
    trajectory.reserveCapacity(3 * lorenzSteps)
    for _ in 0..<lorenzSteps {
        trajectory += state
        let next = Lorenz.RK4Step()(LocalValues<Double>(count: 6) { $0 < 3 ? state[$0] : lorenzParameters[$0 - 3] })
        state = [next[0], next[1], next[2]]
    }
    return trajectory
}()

/// `steps` RK4 steps on `Dual<D>`, each seeded afresh from the last one's values (as a
/// recording does): the chain of steps, each waiting for the one before.
@inline(never)
private func dualChain<D: TangentDirections>(_: D.Type) -> Double {
    var state = [1.0, 1.0, 1.0]
    // Every lane of every output is used, or the compiler drops the lanes nobody reads.
    var sum = D.zero
    for _ in 0..<lorenzSteps {
        let next = Lorenz.RK4Step()(
            LocalValues<Dual<D>>(count: 6) {
                Dual($0 < 3 ? state[$0] : lorenzParameters[$0 - 3], tangent: D.unit($0 % D.laneCount))
            })
        state.withUnsafeMutableBufferPointer { state in
            state[0] = next[0].value
            state[1] = next[1].value
            state[2] = next[2].value
        }
        sum = sum + next[0].tangent + next[1].tangent + next[2].tangent
    }
    return state[0] + (0..<D.laneCount).reduce(0) { $0 + sum[lane: $1] }
}

/// Where `dualIndependent` stores its Jacobians: allocated (and its pages touched) once.
private var lorenzJacobians = [Double](repeating: 0, count: 18 * lorenzSteps)

/// The 8-lane Jacobian of every state of the trajectory, stored as a recording stores it.
@inline(never)
private func dualIndependent() -> Double {
    var jacobians: [Double] = []
    swap(&jacobians, &lorenzJacobians)
    defer { swap(&jacobians, &lorenzJacobians) }
    lorenzTrajectory.withUnsafeBufferPointer { states in
        jacobians.withUnsafeMutableBufferPointer { out in
            for k in 0..<lorenzSteps {
                let next = Lorenz.RK4Step()(
                    LocalValues<Dual<SIMD8<Double>>>(count: 6) {
                        Dual($0 < 3 ? states[3 * k + $0] : lorenzParameters[$0 - 3], tangent: .unit($0))
                    })
                for r in 0..<3 { for c in 0..<6 { out[18 * k + 6 * r + c] = next[r].tangent[lane: c] } }
            }
        }
    }
    return jacobians[18 * lorenzSteps - 1]
}

/// `Lorenz.step` recorded on a tape in blocks of 2048 steps, as a checkpointed gradient does.
@inline(never)
private func trackedSteps() -> Double {
    let tape = Tape()
    let model = Lorenz()
    var values = [1.0, 1.0, 1.0]
    for _ in 0..<(lorenzSteps / 2048) {
        tape.reset()
        tape.record {
            var state = tape.registerInputs(values)
            let parameters = tape.registerInputs(lorenzParameters)
            var next = state
            for _ in 0..<2048 {
                model.step(state, parameters: parameters, into: &next)
                swap(&state, &next)
            }
            values = state.map(\.value)
        }
    }
    return values[0]
}

@inline(never)
private func primalSteps() -> Double {
    var state = [1.0, 1.0, 1.0]
    let model = Lorenz()
    var next = state
    for _ in 0..<lorenzSteps {
        model.step(state, parameters: lorenzParameters, into: &next)
        swap(&state, &next)
    }
    return state[0]
}

func runLorenzStepCases() {
    _ = lorenzTrajectory.count + lorenzJacobians.count
    let cases: [(String, () -> Double)] = [
        ("RK4 step on `Double`", primalSteps),
        ("local Jacobian, `Dual<SIMD8>` (6 directions), step after step", { dualChain(SIMD8<Double>.self) }),
        ("the same on a million independent states", dualIndependent),
        ("`Dual<SIMD4>` (too few directions), step after step", { dualChain(SIMD4<Double>.self) }),
        ("`Dual<SIMD2>` (too few directions), step after step", { dualChain(SIMD2<Double>.self) }),
        ("`Lorenz.step` recorded on a tape", trackedSteps),
    ]
    print("| piece | ns a step |")
    print("|---|---|")
    for (name, body) in cases {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = now()
            blackHole(body())
            best = min(best, now() - start)
        }
        print("| \(name) | \(String(format: "%.1f", best / Double(lorenzSteps) * 1e9)) |")
    }
}
