import Rewind
import RewindMPI
import RewindModels

/// P3 "heat2d" (`Heat2D`) with its periodic `m × m` grid split across the ranks in strips of
/// whole rows: rank `r` owns a run of consecutive rows (`rows`; the first `m % size` ranks one
/// more), stored row-major like the whole grid. Each step extends the strip by one ghost row
/// a side — a `HaloExchange` of width `m`, since a row is `m` consecutive values — applies
/// heat2d's 5-point update to the extended strip (periodic along the rows as the whole grid
/// is), and keeps the owned rows. The objective `0.5·h²·Σ u²` is summed over the ranks in the
/// serial order, so it equals `Heat2D`'s bit for bit.
///
/// The gradient equals the single process's up to the order of a few additions, as for
/// `DistributedBurgers`: the adjoint of a strip's last row adds its right neighbour's
/// contribution last (one process adds it first), and `dJ/dk` adds the ranks' shares
/// (docs/mpi.md).
public struct DistributedHeat2D: TimeSteppingProblem {
    /// Points per side of the whole grid.
    public let m: Int
    /// The grid spacing of `Heat2D(m:)`.
    public let h: Double
    /// The time step of `Heat2D(m:)`.
    public let dt: Double
    /// The ranks and their halo of one row a side.
    public let halo: HaloExchange
    /// The grid rows this rank owns.
    public let rows: Range<Int>

    /// Heat2d on an `m × m` grid split in strips across `communicator`'s ranks.
    ///
    /// - Precondition: every rank owns at least one row (`m >= size`).
    public init(m: Int, communicator: MPICommunicator) {
        precondition(m >= max(3, communicator.size), "heat2d on \(communicator.size) ranks needs at least \(max(3, communicator.size)) rows")
        let single = Heat2D(m: m)
        self.m = m
        h = single.h
        dt = single.dt
        halo = HaloExchange(communicator: communicator, width: m)
        let (base, extra) = m.quotientAndRemainder(dividingBy: communicator.size)
        let r = communicator.rank
        let lower = r * base + min(r, extra)
        rows = lower..<(lower + base + (r < extra ? 1 : 0))
    }

    /// The whole grid's indices of this rank's values (row-major).
    public var range: Range<Int> { (rows.lowerBound * m)..<(rows.upperBound * m) }
    public var stateCount: Int { rows.count * m }
    public var parameterCount: Int { 1 }

    /// This rank's strip of `Heat2D(m:).initialState()`.
    public func initialState() -> [Double] { Array(Heat2D(m: m).initialState()[range]) }

    @inlinable
    public func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let extended = halo.extended(state)
        // As `Heat2D.step`: r = dt·k/h², once per step.
        let r = dt * parameters[0] / (h * h)
        let k = LocalValues<S>(count: 1) { _ in r }
        var updated = extended
        // Periodic over the extended strip: the two ghost rows' outputs wrap onto each other
        // and are dropped; every kept row reads only its true neighbours.
        S.applyStencil(
            Heat2D.PointUpdate(h: h, dt: dt), on: .periodic(rows: rows.count + 2, columns: m), to: extended, parameters: k,
            into: &updated)
        for i in 0..<state.count { next[i] = updated[m + i] }
    }

    @inlinable
    public func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        distributedScaledSumOfSquares(finalState, scale: 0.5 * h * h, communicator: halo.communicator)
    }
}
