// What one step of Lorenz's gradient costs, piece by piece (issue 15: "lorenz 1e6 at 4 MiB ≤ 5×"):
// the RK4 step on `Double`, its local Jacobian on `Dual`s of 8, 4 and 2 lanes (the 4- and 2-lane
// ones compute too few directions: they show how the cost scales with the lanes), the 8-lane one
// on a million independent states (no step waits for the one before), two ways of keeping the
// chain of steps waiting for values only (the values on `Double` first; the next step's values
// carried beside the `Dual` of the one before), and the step recorded on a tape as `Lorenz.step`
// records it in a gradient.
//
//   swift build -c release --static-swift-stdlib --product rewind-benchmark
//   .build/release/rewind-benchmark lorenz-step        # nanoseconds a step, best of 5, a Markdown table
//   ONLY=independent .build/release/rewind-benchmark lorenz-step    # the pieces whose name contains it
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

/// The step on `Double` for the values, then its Jacobian on `Dual<SIMD8>` seeded with the same
/// inputs: the next step waits only for the `Double` values, not for the `Dual` evaluation.
@inline(never)
private func doubleThenDual() -> Double {
    var state = [1.0, 1.0, 1.0]
    var sum = SIMD8<Double>.zero
    for _ in 0..<lorenzSteps {
        let inputs = LocalValues<Double>(count: 6) { $0 < 3 ? state[$0] : lorenzParameters[$0 - 3] }
        let values = Lorenz.RK4Step()(inputs)
        let next = Lorenz.RK4Step()(LocalValues<Dual<SIMD8<Double>>>(count: 6) { Dual(inputs[$0], tangent: .unit($0)) })
        state.withUnsafeMutableBufferPointer { state in
            state[0] = values[0]
            state[1] = values[1]
            state[2] = values[2]
        }
        sum = sum + next[0].tangent + next[1].tangent + next[2].tangent
    }
    return state[0] + (0..<8).reduce(0) { $0 + sum[lane: $1] }
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

/// `trackedSteps` with each block's values computed on `Double` first and the recording fed
/// from them: no recorded step waits for the one before (the values it starts from are
/// known), so this is what the recording costs without the chain of values.
@inline(never)
private func trackedStepsValueFirst() -> Double {
    let tape = Tape()
    let model = Lorenz()
    var values = [1.0, 1.0, 1.0]
    var buffer = [Double](repeating: 0, count: 3 * 2049)
    var mismatches = 0
    for _ in 0..<(lorenzSteps / 2048) {
        buffer.withUnsafeMutableBufferPointer { b in
            var s = values
            var n = s
            b[0] = s[0]; b[1] = s[1]; b[2] = s[2]
            for k in 0..<2048 {
                model.step(s, parameters: lorenzParameters, into: &n)
                swap(&s, &n)
                b[3 * k + 3] = s[0]; b[3 * k + 4] = s[1]; b[3 * k + 5] = s[2]
            }
        }
        tape.reset()
        tape.record {
            var state = tape.registerInputs(values)
            let parameters = tape.registerInputs(lorenzParameters)
            var next = state
            buffer.withUnsafeBufferPointer { b in
                for k in 0..<2048 {
                    model.step(state, parameters: parameters, into: &next)
                    for i in 0..<3 {
                        let v = b[3 * k + 3 + i]
                        if next[i].value != v { mismatches += 1 }
                        state[i] = next[i]._replacingValue(v)
                    }
                }
            }
            values = state.map(\.value)
        }
    }
    return values[0] + Double(mismatches)
}

/// The reverse half of a store-all gradient through Swift's compiler-generated pullbacks
/// (LorenzCompilerAD.swift), over the stored trajectory; NaN where the toolchain has no
/// `_Differentiation`.
@inline(never)
private func compilerADSteps() -> Double {
    #if canImport(_Differentiation)
    compilerADReverse(states: lorenzTrajectory, parameters: lorenzParameters, steps: lorenzSteps - 1)
    #else
    .nan
    #endif
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
        ("values on `Double`, then the Jacobian on `Dual<SIMD8>`, step after step", doubleThenDual),
        ("the next step's values beside this step's `Dual`, one evaluation", pipedSteps),
        ("`Dual<SIMD4>` (too few directions), step after step", { dualChain(SIMD4<Double>.self) }),
        ("`Dual<SIMD2>` (too few directions), step after step", { dualChain(SIMD2<Double>.self) }),
        ("`Lorenz.step` recorded on a tape", trackedSteps),
        ("the same, each block's values on `Double` first (no step waits for the one before)", trackedStepsValueFirst),
        ("Swift's own reverse mode (`_Differentiation`): a pullback a step, states stored", compilerADSteps),
    ]
    print("| piece | ns a step |")
    print("|---|---|")
    // ONLY=text times only the pieces whose name contains it (for a profiler).
    let only = ProcessInfo.processInfo.environment["ONLY"]
    for (name, body) in cases where only.map({ name.contains($0) }) ?? true {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = now()
            blackHole(body())
            best = min(best, now() - start)
        }
        print("| \(name) | \(String(format: "%.1f", best / Double(lorenzSteps) * 1e9)) |")
    }
}

/// A `Dual<SIMD8>` with a second value riding along: lane 0 of `v` is the value the tangent
/// belongs to, lane 1 another point's value, computed by the same packed instructions. One
/// evaluation then gives the next step's values (lane 1) and the previous step's Jacobian, so
/// that the chain of steps waits only for values. Only the operations the RK4 step uses.
private struct Piped {
    var v: SIMD2<Double>
    var t: SIMD8<Double>
    @inline(__always) init(_ v: SIMD2<Double>, _ t: SIMD8<Double>) { self.v = v; self.t = t }
    @inline(__always) static func + (a: Piped, b: Piped) -> Piped { Piped(a.v + b.v, a.t + b.t) }
    @inline(__always) static func - (a: Piped, b: Piped) -> Piped { Piped(a.v - b.v, a.t - b.t) }
    @inline(__always) static func * (a: Piped, b: Piped) -> Piped {
        Piped(a.v * b.v, a.v[0] * b.t + b.v[0] * a.t)
    }
    @inline(__always) static func * (a: Double, b: Piped) -> Piped { Piped(a * b.v, a * b.t) }
}

/// `Lorenz.RK4Step` written out on `Piped` (which is not a `SimulationScalar`).
@inline(__always)
private func pipedRK4(_ x: Piped, _ y: Piped, _ z: Piped, _ sigma: Piped, _ rho: Piped, _ beta: Piped) -> (Piped, Piped, Piped) {
    @inline(__always) func f(_ x: Piped, _ y: Piped, _ z: Piped) -> (Piped, Piped, Piped) {
        (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)
    }
    let dt = Lorenz.dt
    let h2 = 0.5 * dt
    let h6 = dt / 6.0
    let k1 = f(x, y, z)
    let k2 = f(x + h2 * k1.0, y + h2 * k1.1, z + h2 * k1.2)
    let k3 = f(x + h2 * k2.0, y + h2 * k2.1, z + h2 * k2.2)
    let k4 = f(x + dt * k3.0, y + dt * k3.1, z + dt * k3.2)
    let nx = x + h6 * (((k1.0 + 2.0 * k2.0) + 2.0 * k3.0) + k4.0)
    let ny = y + h6 * (((k1.1 + 2.0 * k2.1) + 2.0 * k3.1) + k4.1)
    let nz = z + h6 * (((k1.2 + 2.0 * k2.2) + 2.0 * k3.2) + k4.2)
    return (nx, ny, nz)
}

/// Step k's values and step k − 1's Jacobian from one evaluation, the Jacobians stored as a
/// recording stores them.
@inline(never)
private func pipedSteps() -> Double {
    var previous = SIMD4<Double>(1, 1, 1, 0)
    var state = previous
    let p = lorenzParameters
    var out: [Double] = []
    swap(&out, &lorenzJacobians)
    defer { swap(&out, &lorenzJacobians) }
    out.withUnsafeMutableBufferPointer { out in
        for k in 0..<lorenzSteps {
            @inline(__always) func input(_ i: Int, _ a: Double, _ b: Double) -> Piped {
                var t = SIMD8<Double>.zero
                t[i] = 1
                return Piped(SIMD2(a, b), t)
            }
            let (nx, ny, nz) = pipedRK4(
                input(0, previous[0], state[0]), input(1, previous[1], state[1]), input(2, previous[2], state[2]),
                input(3, p[0], p[0]), input(4, p[1], p[1]), input(5, p[2], p[2]))
            let base = 18 * k
            for c in 0..<6 {
                out[base + c] = nx.t[c]
                out[base + 6 + c] = ny.t[c]
                out[base + 12 + c] = nz.t[c]
            }
            previous = state
            state = SIMD4(nx.v[1], ny.v[1], nz.v[1], 0)
        }
    }
    return state[0] + out[18 * lorenzSteps - 1]
}
