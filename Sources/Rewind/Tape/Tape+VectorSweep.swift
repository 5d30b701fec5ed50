/// The vector reverse sweep: one pass over the tape's columns carrying `V.scalarCount` adjoints
/// per identifier (SIMD lanes, one seed per lane).
///
/// A scalar sweep for k seeds reads every identifier and partial k times; the vector sweep reads
/// them once and does k multiply-adds per argument in one SIMD instruction, on adjoint entries
/// that share a cache line. Lane `l` of the result is bitwise the scalar sweep seeded with lane
/// `l`'s seed: statements are visited in the same order, and a lane whose adjoint is zero adds
/// an exact `+0` instead of `partial × 0` (which would be NaN for an infinite partial), the
/// vector form of the scalar sweep's "skip statements whose adjoint is zero". Adding `+0`
/// changes nothing because an adjoint entry is never `-0`: entries start at `+0`, and a sum
/// that rounds to zero is `+0`.
///
/// External statements (stencils, custom adjoints) have scalar reverse rules only
/// (`_ExternalStatement.reverse`), so the vector sweep refuses tapes that hold any; callers
/// (`_SeedSweeper`) fall back to scalar sweeps, one per seed, for such tapes.
extension Tape {
    /// Sweeps `chunk` from statement `upper` down to `lower` with SIMD adjoints.
    ///
    /// - Precondition: the statements swept are not external statements.
    @inline(__always)
    static func _vectorSweep<V: SIMD>(
        _ chunk: _TapeChunk, statementsFrom upper: Int, downTo lower: Int, identifierEnd: Int, partialEnd: Int,
        adjoints: UnsafeMutablePointer<V>
    ) where V.Scalar == Double {
        let counts = chunk.argumentCounts
        let identifiers = chunk.identifiers
        let partials = chunk.partials
        var s = upper
        var k = identifierEnd
        var q = partialEnd
        // Linear identifiers, as in the scalar `_sweep`: cannot overflow.
        var id = Int(chunk.firstIdentifier) &+ s
        while s > lower {
            s &-= 1
            id &-= 1
            let n = Int(counts[s])
            if n == 0 { continue }
            precondition(
                n != Int(_StatementCode.external),
                "the vector sweep cannot run an external statement; sweep this tape with scalar adjoints")
            k &-= n
            q &-= n
            let a = adjoints[id]
            let live = a .!= 0
            if !any(live) { continue }
            if all(live) {
                for j in 0..<n {
                    adjoints[Int(identifiers[k &+ j])] += V(repeating: partials[q &+ j]) * a
                }
            } else {
                // Some lanes are zero: give them exactly +0, as the scalar sweep's skip would.
                let dead = .!live
                for j in 0..<n {
                    let contribution = V(repeating: partials[q &+ j]) * a
                    adjoints[Int(identifiers[k &+ j])] += contribution.replacing(with: 0, where: dead)
                }
            }
        }
    }
}
