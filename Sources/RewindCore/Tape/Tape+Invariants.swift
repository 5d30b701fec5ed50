/// The tape's structural invariants, checked where they could break: after `reset()`, and each
/// time the recorder moves to another chunk.
///
/// Compiled in only under `REWIND_CHECK_INVARIANTS`, which Package.swift defines for debug
/// builds of the engine targets (so `swift build` and `swift test` run the checks, and a
/// release build carries none of this code). See docs/design-decisions.md.
///
/// Split in two so that the checks themselves can be tested: `_invariantViolations()` lists
/// what is broken, and `_checkInvariants()` traps on a non-empty list.
extension Tape {
    /// Traps, naming every broken invariant, if the tape's bookkeeping is inconsistent.
    @inline(__always)
    func _checkInvariants() {
        #if REWIND_CHECK_INVARIANTS
        let violations = _invariantViolations()
        precondition(violations.isEmpty, "tape invariants broken: " + violations.joined(separator: "; "))
        #endif
    }

    /// Traps if chunk `k` or the chunk before it (the one just finished) is inconsistent, or
    /// they do not link up: the O(1) check of the arena's cold path (`_advanceChunk`), where a
    /// whole-tape check would make recording a long tape quadratic in debug builds.
    @inline(__always)
    func _checkChunkInvariants(_ k: Int) {
        #if REWIND_CHECK_INVARIANTS
        // Stored levels, not the recorder's: this runs inside the recorder's own mutating
        // call (`_advanceChunk(recorder:)`), whose levels were just loaded from chunk `k`.
        let violations = (k > 0 ? _chunkViolations(k - 1, asRecorded: false) : [])
            + _chunkViolations(k, asRecorded: false)
        precondition(violations.isEmpty, "tape invariants broken: " + violations.joined(separator: "; "))
        #endif
    }

    #if REWIND_CHECK_INVARIANTS
    /// Everything that is inconsistent in the tape's bookkeeping, as sentences; empty when the
    /// tape is sound. O(chunks).
    package func _invariantViolations() -> [String] {
        var violations: [String] = []
        guard !chunks.isEmpty else { return ["the arena has no chunk"] }
        guard chunks.indices.contains(currentChunk) else {
            return ["current chunk \(currentChunk) is outside the arena's \(chunks.count) chunks"]
        }
        if chunks[0].firstIdentifier != 1 {
            violations.append("chunk 0 starts at identifier \(chunks[0].firstIdentifier), not 1")
        }
        for k in chunks.indices {
            violations += _chunkViolations(k)
        }
        let current = _chunkAsRecorded(currentChunk)
        let expectedNext = UInt64(current.firstIdentifier) + UInt64(current.statementCount)
        if UInt64(_recorder.pointee.nextIdentifier) != expectedNext {
            violations.append(
                "the next identifier is \(_recorder.pointee.nextIdentifier), but the current chunk \(currentChunk) "
                    + "ends at \(expectedNext)")
        }
        if _sink != nil && current.isSpilled {
            violations.append("the chunk being recorded (\(currentChunk)) is marked spilled")
        }
        return violations
    }

    /// The invariants of chunk `k` on its own, and of its link to chunk `k - 1` while both
    /// are in use. `asRecorded`: the current chunk's levels from the recorder (as sweeps see
    /// them), else as last stored in the chunk.
    package func _chunkViolations(_ k: Int, asRecorded: Bool = true) -> [String] {
        let chunk = asRecorded ? _chunkAsRecorded(k) : chunks[k]
        var violations: [String] = []
        if chunk.statementCount < 0 || chunk.statementCount > chunk.statementCapacity {
            violations.append(
                "chunk \(k) holds \(chunk.statementCount) statements, its capacity is \(chunk.statementCapacity)")
        }
        // Every statement that stores an identifier stores at least as many partials (an
        // external statement stores one identifier and at least one partial).
        if !(0 <= chunk.identifierCount && chunk.identifierCount <= chunk.partialCount
            && chunk.partialCount <= chunk.argumentCapacity)
        {
            violations.append(
                "chunk \(k) breaks identifierCount <= partialCount <= argumentCapacity "
                    + "(\(chunk.identifierCount), \(chunk.partialCount), \(chunk.argumentCapacity))")
        }
        if chunk.isSpilled && _sink == nil {
            violations.append("chunk \(k) is marked spilled on a tape that does not spill")
        }
        if _sink != nil && k < currentChunk && !chunk.isSpilled {
            violations.append("chunk \(k) was finished on a spilling tape but is not marked spilled")
        }
        if k > 0 && k <= currentChunk {
            // Identifiers are linear: chunk k starts where chunk k - 1 ends.
            let previous = asRecorded ? _chunkAsRecorded(k - 1) : chunks[k - 1]
            let previousEnd = UInt64(previous.firstIdentifier) + UInt64(max(previous.statementCount, 0))
            if UInt64(chunk.firstIdentifier) != previousEnd {
                violations.append(
                    "chunk \(k) starts at identifier \(chunk.firstIdentifier), but chunk \(k - 1) ends at \(previousEnd)")
            }
        }
        return violations
    }
    #endif
}
