import Rewind
import RewindMPI
import RewindModels

/// P2 "burgers" (`Burgers`) with its periodic grid of `n` points split across the ranks: rank
/// `r` owns a run of consecutive points (`range`; the first `n % size` ranks one more), and
/// each step extends its part by one ghost cell a side (`HaloExchange`), applies burgers'
/// point-update to it, and keeps the owned points. The objective `0.5·dx·Σ u²` is summed over
/// the ranks (`MPICommunicator.sum`), its value in the serial order, so it equals `Burgers`'
/// bit for bit.
///
/// The gradient equals the single process's up to the order of a few additions: the adjoint
/// of a rank's last cell adds its right neighbour's contribution after its own two (one
/// process adds it first), and `dJ/dnu` adds the ranks' shares; docs/mpi.md gives the tolerance
/// the tests hold it to.
public struct DistributedBurgers: TimeSteppingProblem {
    /// Points of the whole grid.
    public let n: Int
    /// The grid spacing of `Burgers(n:)`.
    public let dx: Double
    /// The time step of `Burgers(n:)`.
    public let dt: Double
    /// The ranks and their halo.
    public let halo: HaloExchange
    /// The grid points this rank owns.
    public let range: Range<Int>

    /// Burgers on `n` points split across `communicator`'s ranks.
    ///
    /// - Precondition: every rank owns at least one point (`n >= size`).
    public init(n: Int, communicator: MPICommunicator) {
        precondition(n >= max(3, communicator.size), "burgers on \(communicator.size) ranks needs at least \(max(3, communicator.size)) points")
        let single = Burgers(n: n)
        self.n = n
        dx = single.dx
        dt = single.dt
        halo = HaloExchange(communicator: communicator, width: 1)
        let (base, extra) = n.quotientAndRemainder(dividingBy: communicator.size)
        let r = communicator.rank
        let lower = r * base + min(r, extra)
        range = lower..<(lower + base + (r < extra ? 1 : 0))
    }

    public var stateCount: Int { range.count }
    public var parameterCount: Int { 1 }

    /// This rank's part of `Burgers(n:).initialState()`.
    public func initialState() -> [Double] { Array(Burgers(n: n).initialState()[range]) }

    @inlinable
    public func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let extended = halo.extended(state)
        // As `Burgers.step`: d = dt·nu/dx², once per step.
        let d = dt * parameters[0] / (dx * dx)
        let nu = LocalValues<S>(count: 1) { _ in d }
        var updated = extended
        // Periodic over the extended part: the two edge outputs wrap onto the far ghosts and
        // are dropped; every kept point reads only its true neighbours.
        S.applyStencil(Burgers.PointUpdate(dx: dx, dt: dt), on: .periodic(extended.count), to: extended, parameters: nu, into: &updated)
        for i in 0..<state.count { next[i] = updated[i + 1] }
    }

    @inlinable
    public func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        distributedScaledSumOfSquares(finalState, scale: 0.5 * dx, communicator: halo.communicator)
    }
}
