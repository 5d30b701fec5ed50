/// The reverse sweep: the heart of reverse mode.
///
/// Statements are visited from the last to the first. Visiting statement `i` with adjoint
/// `ā_i` adds `∂v_i/∂v_j · ā_i` to the adjoint of each argument `j`. Because a statement's
/// arguments were all recorded before it, by the time the sweep reaches statement `i` every
/// statement that used `v_i` has been visited, so `ā_i` is complete: one pass gives the
/// derivative of the seeded output with respect to every input at once.
extension Tape {
    /// Sweeps statements from `end` down to `start`, accumulating into `adjoints`.
    ///
    /// Seed `adjoints` first (set the adjoints of the outputs); afterwards the inputs'
    /// entries hold the vector–Jacobian product. Statements whose adjoint is zero are skipped
    /// (so a zero adjoint never multiplies an infinite partial: the "strong zero" rule).
    /// Sweeping does not change the tape, so several sweeps can run at once, each with its
    /// own adjoint vector. In check mode (`checksFinite`) the sweep stops at the first
    /// contribution that is not finite and `firstNonFiniteAdjoint` says where it came from.
    ///
    /// - Complexity: O(statements + arguments between the positions).
    public func reverse(_ adjoints: AdjointVector, from end: TapePosition? = nil, to start: TapePosition = .start) {
        let end = end ?? position
        precondition(start <= end, "a reverse sweep runs from a later position down to an earlier one")
        precondition(
            adjoints.count >= identifierCount,
            "the adjoint vector has \(adjoints.count) entries but the tape defines \(identifierCount); "
                + "call adjoints.prepare(for: tape)")
        let externals = self.externals
        let adjointBase = adjoints.baseAddress
        Tape._forEachChunk(from: end, to: start, chunk: _chunkForSweep) { c, chunk, range in
            if _slowPath(checksFinite) {
                return _sweepChecked(
                    chunk, chunkIndex: c, statementsFrom: range.upper, downTo: range.lower,
                    identifierEnd: range.identifierEnd, partialEnd: range.partialEnd, externals: externals,
                    adjoints: adjointBase)
            }
            Tape._sweep(
                chunk, statementsFrom: range.upper, downTo: range.lower, identifierEnd: range.identifierEnd,
                partialEnd: range.partialEnd, externals: externals, adjoints: adjointBase)
            return true
        }
    }

    /// The part of each chunk between two positions, from the last chunk down: the one walk
    /// every sweep (scalar, checked, vector, parallel) makes. `chunk(c)` supplies chunk `c`
    /// (nil stops the walk, as does `body` returning false).
    static func _forEachChunk(
        from end: TapePosition, to start: TapePosition, chunk: (Int) -> _TapeChunk?,
        _ body: (Int, _TapeChunk, (upper: Int, lower: Int, identifierEnd: Int, partialEnd: Int)) -> Bool
    ) {
        var c = end.chunk
        while c >= start.chunk {
            guard let current = chunk(c) else { return }
            let upper =
                c == end.chunk
                ? (end.statement, end.identifier, end.partial)
                : (current.statementCount, current.identifierCount, current.partialCount)
            let lower = c == start.chunk ? start.statement : 0
            guard body(c, current, (upper.0, lower, upper.1, upper.2)) else { return }
            c -= 1
        }
    }

    /// Zeroes `adjoints`, sets the given seeds and sweeps the whole tape.
    ///
    /// ```swift
    /// tape.reverse(adjoints, seeding: [(y, 1.0)])
    /// ```
    public func reverse(_ adjoints: AdjointVector, seeding seeds: [(Tracked, Double)]) {
        adjoints.prepare(for: self)
        for (value, seed) in seeds where value.identifier != 0 {
            adjoints[value] += seed
        }
        reverse(adjoints)
    }

    static func _sweep(
        _ chunk: _TapeChunk, statementsFrom upper: Int, downTo lower: Int, identifierEnd: Int, partialEnd: Int,
        externals: [_ExternalStatement], adjoints: UnsafeMutablePointer<Double>
    ) {
        let counts = chunk.argumentCounts
        let identifiers = chunk.identifiers
        let partials = chunk.partials
        var s = upper
        var k = identifierEnd
        var q = partialEnd
        // Identifiers are linear: statement s of the chunk defines firstIdentifier + s, which
        // cannot overflow because the recorder refused to hand out more.
        var id = Int(chunk.firstIdentifier) &+ s
        while s > lower {
            s &-= 1
            id &-= 1
            let n = Int(counts[s])
            if n == 0 { continue }
            if n == Int(_StatementCode.external) {
                k &-= 1
                let external = externals[Int(identifiers[k])]
                q &-= max(external.partialCount, 1)
                external.reverse(firstOutput: UInt32(id &+ 1), partials: partials + q, adjoints: adjoints)
                continue
            }
            k &-= n
            q &-= n
            let a = adjoints[id]
            if a == 0 { continue }
            switch n {
            case 1:
                adjoints[Int(identifiers[k])] += partials[q] * a
            case 2:
                adjoints[Int(identifiers[k])] += partials[q] * a
                adjoints[Int(identifiers[k &+ 1])] += partials[q &+ 1] * a
            case 3:
                adjoints[Int(identifiers[k])] += partials[q] * a
                adjoints[Int(identifiers[k &+ 1])] += partials[q &+ 1] * a
                adjoints[Int(identifiers[k &+ 2])] += partials[q &+ 2] * a
            default:
                for j in 0..<n {
                    adjoints[Int(identifiers[k &+ j])] += partials[q &+ j] * a
                }
            }
        }
    }
}
