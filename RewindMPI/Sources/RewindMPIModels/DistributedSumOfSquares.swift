import Rewind
import RewindMPI

/// `scale · Σ u²` over every rank's `values`, as the bundled models' objectives define it
/// (`PROBLEMS.md`): the value summed left to right from 0.0 over the ranks in order
/// (`MPICommunicator.serialSum`), so it equals the single process's bit for bit; recorded as the
/// rank's reduction (partials `2·scale·u`, as `RewindModels` records it) followed by the
/// differentiable sum over the ranks (`MPICommunicator.sum`).
@inlinable
func distributedScaledSumOfSquares<S: SimulationScalar>(_ values: [S], scale: Double, communicator: MPICommunicator) -> S {
    var sum = 0.0
    for u in values { sum = sum + u.primal * u.primal }
    let local = S.applying(value: scale * sum, partials: values.map { 2 * scale * $0.primal }, to: values)
    // Inside the sampled steps the sum is the rank's own (`sampling(_:)`): no message.
    let total = communicator.isSampling ? scale * sum : scale * communicator.serialSum(values.map { $0.primal * $0.primal })
    return communicator.sum(local, value: total)
}
