// `_invariantViolations()` exists only where `_checkInvariants()` is compiled in (debug builds;
// Package.swift defines REWIND_CHECK_INVARIANTS for them, and for this target).
#if REWIND_CHECK_INVARIANTS
import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage

/// Records 1 + 3·40 statements into chunks of 8: the tape has finished chunks, links between
/// them and a current chunk, each of which a corruption below can break.
private func tapeAcrossChunks() -> Tape {
    let tape = Tape(configuration: .init(initialStatementCapacity: 8, maximumStatementCapacity: 8))
    tape.record {
        var x = tape.registerInput(0.5)
        for _ in 0..<40 { x = Tracked.sin(x) * x + 1.0 }
    }
    return tape
}

@Suite("Tape: invariants (REWIND_CHECK_INVARIANTS)")
struct TapeInvariantTests {
    @Test func aSoundTapeHasNoViolations() throws {
        let tape = tapeAcrossChunks()
        #expect(tape.currentChunk >= 2)
        #expect(tape._invariantViolations() == [])
        tape.reset()
        #expect(tape._invariantViolations() == [])
    }

    @Test func aSpillingTapeHasNoViolations() throws {
        let directory = try SpillDirectory(prefix: "rewind-test-invariants")
        defer { try? directory.remove() }
        let tape = Tape()
        try tape.enableSpilling(to: directory, statementsPerChunk: 16)
        tape.record {
            var x = tape.registerInput(0.5)
            for _ in 0..<40 { x = Tracked.sin(x) * x + 1.0 }
        }
        #expect(tape.currentChunk >= 2)
        #expect(tape._invariantViolations() == [])
    }

    @Test func aStatementCountAboveCapacityIsReported() {
        let tape = tapeAcrossChunks()
        let saved = tape.chunks[0].statementCount
        tape.chunks[0].statementCount = tape.chunks[0].statementCapacity + 1
        let violations = tape._invariantViolations()
        tape.chunks[0].statementCount = saved
        #expect(violations.contains { $0.hasPrefix("chunk 0 holds 9 statements") })
        #expect(tape._invariantViolations() == [])
    }

    @Test func moreIdentifiersThanPartialsAreReported() {
        let tape = tapeAcrossChunks()
        let saved = tape.chunks[1].identifierCount
        tape.chunks[1].identifierCount = tape.chunks[1].partialCount + 1
        let violations = tape._invariantViolations()
        tape.chunks[1].identifierCount = saved
        #expect(violations.contains { $0.hasPrefix("chunk 1 breaks identifierCount <= partialCount") })
    }

    @Test func theCurrentChunkIsCheckedAsRecorded() {
        // The current chunk's levels live in the recorder until it moves on.
        let tape = tapeAcrossChunks()
        let saved = tape._recorder.pointee.partialCount
        tape._recorder.pointee.partialCount = tape._recorder.pointee.argumentCapacity + 1
        let violations = tape._invariantViolations()
        tape._recorder.pointee.partialCount = saved
        #expect(violations.contains { $0.hasPrefix("chunk \(tape.currentChunk) breaks") })
    }

    @Test func aGapBetweenChunksIsReported() {
        let tape = tapeAcrossChunks()
        tape.chunks[2].firstIdentifier += 1
        let violations = tape._invariantViolations()
        tape.chunks[2].firstIdentifier -= 1
        #expect(violations.contains { $0.hasPrefix("chunk 2 starts at identifier") })
        #expect(violations.contains { $0.hasPrefix("chunk 3 starts at identifier") })
    }

    @Test func aSpilledChunkOnATapeThatDoesNotSpillIsReported() {
        let tape = tapeAcrossChunks()
        tape.chunks[0].isSpilled = true
        let violations = tape._invariantViolations()
        tape.chunks[0].isSpilled = false
        #expect(violations == ["chunk 0 is marked spilled on a tape that does not spill"])
    }

    @Test func theChunkCheckOfTheColdPathSeesTheFinishedChunk() {
        let tape = tapeAcrossChunks()
        let k = tape.currentChunk
        let saved = tape.chunks[k - 1].partialCount
        tape.chunks[k - 1].partialCount = tape.chunks[k - 1].argumentCapacity + 1
        let violations = tape._chunkViolations(k - 1, asRecorded: false)
        tape.chunks[k - 1].partialCount = saved
        #expect(violations.count == 1)
        #expect(tape._chunkViolations(k - 1, asRecorded: false) == [])
    }
}
#endif
