import Rewind

extension MPICommunicator {
    /// The sum over the ranks of each rank's `local` — an objective assembled from the ranks'
    /// parts — the same value on every rank, and differentiable: on `Tracked` it is recorded as
    /// one external statement whose adjoint broadcasts rank 0's seed, so every rank's `local`
    /// receives the seed of the one replicated objective (the adjoint of `J = Σᵣ Jᵣ` is
    /// `∂J/∂Jᵣ = 1` times the seed, on each rank).
    ///
    /// The value is the ranks' values added in rank order (`orderedSum`) unless `value` gives
    /// it: a caller that can add the terms in their serial order (`serialSum(_:)`) passes that
    /// sum, so that the objective equals the single process's bit for bit.
    ///
    /// Every rank must reach it with a recorded `local` when one rank does (a constant `local`
    /// records nothing, and its rank would skip the broadcast of the reverse sweep).
    /// Inside `sampling(_:)` it is the rank's own value and communicates nothing.
    public func sum<S: SimulationScalar>(_ local: S, value: Double? = nil) -> S {
        let local_ = local
        if isSampling { return local_ }
        let total = value ?? orderedSum([local_.primal])[0]
        if S.self == Double.self { return S(total) }
        if S.self == Tracked.self {
            let tracked = unsafeBitCast(local_, to: Tracked.self)
            let result = Tracked.custom(inputs: [tracked], outputs: [total]) { [self] outputAdjoints, inputAdjoints in
                inputAdjoints[0] = broadcast([outputAdjoints[0]], from: 0)[0]
            }[0]
            return unsafeBitCast(result, to: S.self)
        }
        preconditionFailure("MPICommunicator.sum supports Double and Tracked, not \(S.self)")
    }
}
