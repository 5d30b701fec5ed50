/// The vector reverse sweep: one pass over the tape's columns carrying `V.scalarCount` adjoints
/// per identifier (SIMD lanes, one seed per lane).
///
/// A scalar sweep for k seeds reads every identifier and partial k times; the vector sweep reads
/// them once and does k multiply-adds per argument in one SIMD instruction, on adjoint entries
/// that share a cache line. Lane `l` of the result is bitwise the scalar sweep seeded with lane
/// `l`'s seed: statements are visited in the same order, and every lane gets the plain IEEE
/// product `partial × adjoint`. A statement is skipped only when every lane's adjoint is zero
/// and its partials are finite, the scalar sweep's rule (`Tape._skipsZeroAdjoint`); a lane
/// whose adjoint is zero in a statement that is not skipped adds `partial × 0`, which is ±0
/// (no bit changes, as the scalar skip) for a finite partial and NaN for an infinite one, as
/// in the scalar sweep.
///
/// External statements (stencils, custom adjoints) have scalar reverse rules only
/// (`_ExternalStatement.reverse`), so the vector sweep refuses tapes that hold any; callers
/// (`_SeedSweeper`) fall back to scalar sweeps, one per seed, for such tapes.
extension Tape {
    /// Sweeps `chunk` from statement `upper` down to `lower` with SIMD adjoints.
    ///
    /// - Precondition: the statements swept are not external statements.
    @inline(__always)
    package static func _vectorSweep<V: SIMD>(
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
            if !any(a .!= 0) && Tape._skipsZeroAdjoint(partials + q, count: n) { continue }
            for j in 0..<n {
                adjoints[Int(identifiers[k &+ j])] += V(repeating: partials[q &+ j]) * a
            }
        }
    }
}
