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
    /// entries hold the vector–Jacobian product. The arithmetic is plain IEEE: a statement
    /// whose adjoint is zero is skipped only when all its partials are finite (then every
    /// contribution would be ±0 and adding it changes no bit, see `_skipsZeroAdjoint`); a
    /// zero adjoint times an infinite or NaN partial is formed, and its NaN reaches the
    /// inputs, so a gradient that IEEE arithmetic makes NaN is never returned as a finite
    /// number (`sqrt(x)·sqrt(x)` at 0 gives NaN, not 0; see docs/pitfalls.md).
    /// Sweeping does not change the tape, so several sweeps can run at once, each with its
    /// own adjoint vector. In check mode (`checksFinite`) the sweep does the same arithmetic
    /// to the end (check mode never changes a value) and `firstNonFiniteAdjoint` names the
    /// first statement, in sweep order, that sent a non-finite contribution.
    ///
    /// - Parameters:
    ///   - adjoints: Seeded adjoints, prepared for this tape (`prepare(for:)`); they receive
    ///     the sweep's contributions.
    ///   - end: Where the sweep starts; the end of the recording by default.
    ///   - start: Where it stops; the beginning by default. Sweeping one step's range at a time
    ///     is how checkpointing reverses a run step by step.
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
        let complete = Tape._forEachChunk(from: end, to: start, chunk: _chunkForSweep) { c, chunk, range in
            if _slowPath(checksFinite) {
                _sweepChecked(
                    chunk, chunkIndex: c, statementsFrom: range.upper, downTo: range.lower,
                    identifierEnd: range.identifierEnd, partialEnd: range.partialEnd, externals: externals,
                    adjoints: adjointBase)
                return true
            }
            Tape._sweep(
                chunk, statementsFrom: range.upper, downTo: range.lower, identifierEnd: range.identifierEnd,
                partialEnd: range.partialEnd, externals: externals, adjoints: adjointBase)
            return true
        }
        if !complete { _poisonUnfinishedSweep(adjoints) }
    }

    /// The part of each chunk between two positions, from the last chunk down: the one walk
    /// every sweep (scalar, checked, vector, parallel) makes. `chunk(c)` supplies chunk `c`
    /// (nil stops the walk, as does `body` returning false). Returns false when a chunk could
    /// not be had (a spill read failed), so that the caller can poison what it did not sweep.
    @discardableResult
    package static func _forEachChunk(
        from end: TapePosition, to start: TapePosition, chunk: (Int) -> _TapeChunk?,
        _ body: (Int, _TapeChunk, (upper: Int, lower: Int, identifierEnd: Int, partialEnd: Int)) -> Bool
    ) -> Bool {
        var c = end.chunk
        while c >= start.chunk {
            guard let current = chunk(c) else { return false }
            let upper =
                c == end.chunk
                ? (end.statement, end.identifier, end.partial)
                : (current.statementCount, current.identifierCount, current.partialCount)
            let lower = c == start.chunk ? start.statement : 0
            guard body(c, current, (upper.0, lower, upper.1, upper.2)) else { return true }
            c -= 1
        }
        return true
    }

    /// Zeroes `adjoints`, sets the given seeds and sweeps the whole tape.
    ///
    /// ```swift
    /// tape.reverse(adjoints, seeding: [(y, 1.0)])
    /// ```
    ///
    /// - Parameters:
    ///   - adjoints: Receives the adjoints of every statement; `adjoints[x]` of an input is
    ///     then `Σ seed · ∂output/∂x`.
    ///   - seeds: Outputs and their weights; seeding one output with 1 gives its gradient.
    public func reverse(_ adjoints: AdjointVector, seeding seeds: [(Tracked, Double)]) {
        adjoints.prepare(for: self)
        for (value, seed) in seeds where value.identifier != 0 {
            adjoints[value] += seed
        }
        reverse(adjoints)
    }

    /// Sweeps statements `lower..<upper` of `chunk` into `adjoints` (a dense vector, or pages).
    @inline(__always)
    package static func _sweep<Adjoints: _AdjointStorage>(
        _ chunk: _TapeChunk, statementsFrom upper: Int, downTo lower: Int, identifierEnd: Int, partialEnd: Int,
        externals: [_ExternalStatement], adjoints: Adjoints
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
            if n == 0 {
                // Leaves come in runs (a stencil's outputs, a step's inputs): past them eight
                // at a time, one load instead of eight.
                while s &- 8 >= lower && UnsafeRawPointer(counts + (s &- 8)).loadUnaligned(as: UInt64.self) == 0 {
                    s &-= 8
                    id &-= 8
                }
                continue
            }
            if n == Int(_StatementCode.external) {
                k &-= 1
                let external = externals[Int(identifiers[k])]
                q &-= max(external.partialCount, 1)
                guard let dense = adjoints.denseBase else {
                    preconditionFailure(
                        "external statements (stencils, custom adjoints) are swept into a dense AdjointVector only")
                }
                external.reverse(firstOutput: UInt32(id &+ 1), partials: partials + q, adjoints: dense)
                continue
            }
            k &-= n
            q &-= n
            let a = adjoints.value(at: id)
            if a == 0 && _skipsZeroAdjoint(partials + q, count: n) { continue }
            switch n {
            case 1:
                adjoints.add(partials[q] * a, at: Int(identifiers[k]))
            case 2:
                adjoints.add(partials[q] * a, at: Int(identifiers[k]))
                adjoints.add(partials[q &+ 1] * a, at: Int(identifiers[k &+ 1]))
            case 3:
                adjoints.add(partials[q] * a, at: Int(identifiers[k]))
                adjoints.add(partials[q &+ 1] * a, at: Int(identifiers[k &+ 1]))
                adjoints.add(partials[q &+ 2] * a, at: Int(identifiers[k &+ 2]))
            default:
                for j in 0..<n {
                    adjoints.add(partials[q &+ j] * a, at: Int(identifiers[k &+ j]))
                }
            }
        }
    }

    /// Whether a statement whose adjoint is zero may be skipped: when all its `count` partials
    /// are finite. Then each contribution `partial × 0` is ±0, and adding ±0 to an adjoint
    /// changes no bit, because an adjoint entry is never −0 (entries start at +0, `+0 + −0`
    /// is `+0`, and a sum that rounds to zero is `+0`): skipping is exactly the IEEE sweep,
    /// only faster. An infinite or NaN partial makes `0 × partial` NaN, which must reach the
    /// arguments. The test runs only for zero adjoints, so it costs the common case nothing.
    @inline(__always)
    static func _skipsZeroAdjoint(_ partials: UnsafePointer<Double>, count: Int, stride: Int = 1) -> Bool {
        var j = 0
        while j < count {
            if !partials[j &* stride].isFinite { return false }
            j &+= 1
        }
        return true
    }

    /// Sweeps statements from `end` down to `start` into paged adjoints, releasing the pages
    /// the sweep has passed after each chunk (`PagedAdjointVector`; not when
    /// `releasingPages` is false, for a sweep whose results above `start` are still wanted).
    /// The tape must hold no external statements. Same additions in the same order as the
    /// dense sweep, so the same bits.
    public func reverse(
        _ adjoints: PagedAdjointVector, from end: TapePosition? = nil, to start: TapePosition = .start,
        releasingPages: Bool = true
    ) {
        let end = end ?? position
        precondition(start <= end, "a reverse sweep runs from a later position down to an earlier one")
        precondition(!checksFinite, "check mode sweeps a dense AdjointVector")
        let externals = self.externals
        let complete = Tape._forEachChunk(from: end, to: start, chunk: _chunkForSweep) { c, chunk, range in
            adjoints.sweepFloorPage = (Int(chunk.firstIdentifier) &+ range.lower) >> PagedAdjointVector.pageShift
            Tape._sweep(
                chunk, statementsFrom: range.upper, downTo: range.lower, identifierEnd: range.identifierEnd,
                partialEnd: range.partialEnd, externals: externals, adjoints: adjoints)
            if releasingPages { adjoints.releasePages(from: Int(chunk.firstIdentifier) &+ range.lower) }
            return true
        }
        adjoints.sweepFloorPage = Int.max
        if !complete { _poisonUnfinishedSweep(adjoints) }
    }
}

/// Where a sweep keeps its adjoints: a dense vector indexed by identifier, or pages.
@usableFromInline
package protocol _AdjointStorage {
    func value(at identifier: Int) -> Double
    func add(_ contribution: Double, at identifier: Int)
    /// The dense vector external statements sweep into, if the storage is one.
    var denseBase: UnsafeMutablePointer<Double>? { get }
}

extension UnsafeMutablePointer: _AdjointStorage where Pointee == Double {
    @inlinable @inline(__always)
    package func value(at identifier: Int) -> Double { self[identifier] }
    @inlinable @inline(__always)
    package func add(_ contribution: Double, at identifier: Int) { self[identifier] += contribution }
    @inlinable
    package var denseBase: UnsafeMutablePointer<Double>? { self }
}

extension PagedAdjointVector: _AdjointStorage {
    @usableFromInline package var denseBase: UnsafeMutablePointer<Double>? { nil }
}
