import Rewind

/// The halo exchange of a one-dimensional periodic domain split into consecutive parts, one
/// per rank: each rank's part gains `width` ghost cells on each side, copies of its
/// neighbours' edge cells (the left ghosts are the left neighbour's last `width` cells, the
/// right ghosts the right neighbour's first `width`).
///
/// On `Tracked` the exchange is recorded as one external statement (`Tracked.custom`), so
/// that store-all, revolve, online, two-level and spilled runs reverse it like any other
/// statement, on every rank. Its adjoint is the halo exchange transposed, as in MeDiPack/AMPI:
/// each ghost's adjoint is sent back to the rank that owns the cell, which adds it to the
/// cell's adjoint. On `Double` (the advances) the values are exchanged without recording.
///
/// Every rank exchanges in the same order: forward, right edge to the right neighbour and
/// left edge to the left one; reverse, left ghosts' adjoints to the left neighbour, then right
/// ghosts' to the right one — each pair in one `MPI_Sendrecv`, so the ring cannot deadlock.
/// Inside `MPICommunicator.sampling(_:)` the exchange wraps around the rank's own part and
/// sends nothing (the planner's sample repeats steps a different number of times per rank).
public struct HaloExchange {
    /// The ranks and their ring.
    public let communicator: MPICommunicator
    /// Ghost cells on each side.
    public let width: Int

    /// An exchange of `width` ghost cells a side over `communicator`'s ranks.
    public init(communicator: MPICommunicator, width: Int = 1) {
        precondition(width >= 1, "a halo has at least one ghost cell a side")
        self.communicator = communicator
        self.width = width
    }

    /// The part `owned` with its ghosts: `width` left ghosts, the owned values, `width` right
    /// ghosts (`owned.count + 2·width` values).
    ///
    /// On `Tracked` the owned values are copied too (as outputs of the recorded statement),
    /// so that the extended part's values are consecutive on the tape and a stencil over it
    /// records with its cheapest input description. Supported scalars: `Double` and `Tracked`.
    ///
    /// - Precondition: `owned.count >= width` on every rank.
    public func extended<S: SimulationScalar>(_ owned: [S]) -> [S] {
        precondition(owned.count >= width, "a part of \(owned.count) cells cannot fill a halo of \(width)")
        if S.self == Double.self {
            return unsafeBitCast(extendedValues(unsafeBitCast(owned, to: [Double].self)), to: [S].self)
        }
        if S.self == Tracked.self {
            return unsafeBitCast(extendedTracked(unsafeBitCast(owned, to: [Tracked].self)), to: [S].self)
        }
        preconditionFailure("HaloExchange supports Double and Tracked, not \(S.self)")
    }

    /// The values of the extended part: ghosts received from the neighbours.
    func extendedValues(_ owned: [Double]) -> [Double] {
        let n = owned.count
        let w = width
        var result = [Double](repeating: 0, count: n + 2 * w)
        owned.withUnsafeBufferPointer { owned in
            result.withUnsafeMutableBufferPointer { result in
                let base = result.baseAddress!
                (base + w).update(from: owned.baseAddress!, count: n)
                let leftEdge = UnsafeBufferPointer(rebasing: owned[0..<w])
                let rightEdge = UnsafeBufferPointer(rebasing: owned[(n - w)..<n])
                let leftGhosts = UnsafeMutableBufferPointer(start: base, count: w)
                let rightGhosts = UnsafeMutableBufferPointer(start: base + w + n, count: w)
                if communicator.isSampling {
                    // The rank's own part, periodic.
                    _ = leftGhosts.update(fromContentsOf: rightEdge)
                    _ = rightGhosts.update(fromContentsOf: leftEdge)
                } else {
                    communicator.sendReceive(rightEdge, to: communicator.right, into: leftGhosts, from: communicator.left, tag: 1)
                    communicator.sendReceive(leftEdge, to: communicator.left, into: rightGhosts, from: communicator.right, tag: 2)
                    communicator.haloTraffic.forwardBytes += 2 * w * MemoryLayout<Double>.stride
                    communicator.haloTraffic.forwardExchanges += 1
                }
            }
        }
        return result
    }

    /// The recorded exchange: one external statement whose inputs are the owned values and
    /// whose outputs are the extended part; its reverse returns the ghosts' adjoints to their
    /// owners (who add them to their edge cells' adjoints) and passes the copies' adjoints
    /// through.
    func extendedTracked(_ owned: [Tracked]) -> [Tracked] {
        let values = extendedValues(owned.map(\.value))
        let n = owned.count
        let w = width
        let communicator = communicator
        // Fixed when recorded: a statement recorded by the sample is swept by the sample.
        let local = communicator.isSampling
        return Tracked.custom(inputs: owned, outputs: values) { outputAdjoints, inputAdjoints in
            // The copies' adjoints, then the ghosts' adjoints from the ranks that hold them.
            for k in 0..<n { inputAdjoints[k] = outputAdjoints[w + k] }
            let leftGhosts = UnsafeBufferPointer(rebasing: outputAdjoints[0..<w])
            let rightGhosts = UnsafeBufferPointer(rebasing: outputAdjoints[(w + n)..<(n + 2 * w)])
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * w) { received in
                let fromRight = UnsafeMutableBufferPointer(rebasing: received[0..<w])
                let fromLeft = UnsafeMutableBufferPointer(rebasing: received[w..<(2 * w)])
                if local {
                    _ = fromRight.update(fromContentsOf: leftGhosts)
                    _ = fromLeft.update(fromContentsOf: rightGhosts)
                } else {
                    // My left ghosts are my left neighbour's right edge; my right edge is my
                    // right neighbour's left ghosts, whose adjoints come back from the right.
                    communicator.sendReceive(leftGhosts, to: communicator.left, into: fromRight, from: communicator.right, tag: 3)
                    communicator.sendReceive(rightGhosts, to: communicator.right, into: fromLeft, from: communicator.left, tag: 4)
                    communicator.haloTraffic.reverseBytes += 2 * w * MemoryLayout<Double>.stride
                    communicator.haloTraffic.reverseExchanges += 1
                }
                for k in 0..<w {
                    inputAdjoints[n - w + k] += fromRight[k]
                    inputAdjoints[k] += fromLeft[k]
                }
            }
        }
    }
}
