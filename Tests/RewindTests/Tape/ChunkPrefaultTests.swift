import Testing

import Rewind
@testable import RewindCore

@Suite("Chunks prepared ahead on another thread")
struct ChunkPrefaultTests {
    /// f recorded on chunks of 4 to 64 statements, prepared ahead or not.
    func gradient(prefaulting: Bool, tape: Tape) -> [Double] {
        tape.prefaultsChunks = prefaulting
        let (inputs, f) = tape.record { () -> ([Tracked], Tracked) in
            let inputs = (0..<3).map { tape.registerInput(0.5 + Double($0)) }
            var f = inputs[0] * inputs[1]
            for k in 0..<2_000 { f = f * 0.999 + Tracked.sin(inputs[k % 3] * Double(k)) * inputs[2] }
            return (inputs, f)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(f, 1)])
        return inputs.map { adjoints[$0] }
    }

    @Test func aPreparedChunkIsTheChunkTheArenaWouldHaveMade() {
        let configuration = TapeConfiguration(initialStatementCapacity: 4, maximumStatementCapacity: 64)
        let plain = gradient(prefaulting: false, tape: Tape(configuration: configuration))
        let tape = Tape(configuration: configuration)
        let prepared = gradient(prefaulting: true, tape: tape)
        #expect(prepared.map(\.bitPattern) == plain.map(\.bitPattern))
        #expect(tape._prefault != nil, "the recording grew the arena, so the next chunk is being prepared")
        let withPending = tape.reservedByteCount
        // The tape is reused: the kept chunks, then the prepared one, take the next recording.
        tape.reset()
        #expect(gradient(prefaulting: true, tape: tape).map(\.bitPattern) == plain.map(\.bitPattern))
        tape.prefaultsChunks = false
        #expect(tape._prefault == nil)
        #expect(tape.reservedByteCount < withPending + 64 * 25, "turning it off freed the chunk prepared ahead")
    }

    /// A statement wider than the chunk prepared ahead gets a chunk of its own; the prepared
    /// one is freed, not leaked or used.
    @Test func aWideStatementDoesNotUseTheChunkPreparedAhead() {
        let tape = Tape(configuration: TapeConfiguration(initialStatementCapacity: 4, maximumStatementCapacity: 8))
        tape.prefaultsChunks = true
        let (x, y) = tape.record { () -> ([Tracked], Tracked) in
            let x = (0..<40).map { tape.registerInput(Double($0) * 0.1) }
            var sum = Tracked(0)
            for k in 0..<40 { sum = sum + x[k] * x[k] }
            let wide = Tracked.applying(value: 1, partials: (0..<40).map { Double($0) }, to: x)
            return (x, sum + wide)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(y, 1)])
        for k in 0..<40 { #expect(adjoints[x[k]] == 2 * x[k].value + Double(k)) }
        tape.prefaultsChunks = false
    }

    /// With the identifier the recording is expected to reach, no chunk is prepared past it
    /// (store-all gives its estimate): the chunk after the last one would be resident memory
    /// the recording never uses. The gradient is the same bits either way.
    @Test func noChunkIsPreparedPastTheExpectedEnd() {
        let configuration = TapeConfiguration(initialStatementCapacity: 4, maximumStatementCapacity: 64)
        let plain = gradient(prefaulting: false, tape: Tape(configuration: configuration))
        let unlimited = Tape(configuration: configuration)
        #expect(gradient(prefaulting: true, tape: unlimited).map(\.bitPattern) == plain.map(\.bitPattern))
        #expect(unlimited._prefault != nil, "without an expected end, the next chunk is prepared")
        let limited = Tape(configuration: configuration)
        limited.prefaultIdentifierLimit = unlimited.identifierCount
        #expect(gradient(prefaulting: true, tape: limited).map(\.bitPattern) == plain.map(\.bitPattern))
        #expect(limited._prefault == nil, "the recording ends in its last chunk: nothing prepared after it")
        #expect(limited.reservedByteCount < unlimited.reservedByteCount)
        limited.prefaultsChunks = false
        unlimited.prefaultsChunks = false
    }

    /// The share of the next chunk the recording is expected to fill: all of it when the end
    /// is unknown or beyond it, none when the end comes before it, the part in between else.
    @Test func theExpectedShareOfTheNextChunk() {
        let tape = Tape(configuration: TapeConfiguration(initialStatementCapacity: 4, maximumStatementCapacity: 64))
        var finished = tape.chunks[0]
        finished.statementCount = finished.statementCapacity / 2  // chunks fill to half (arguments first)
        let capacity = finished.statementCapacity
        // The current chunk starts at 100 and holds capacity / 2; the next starts there and holds 2·capacity / 2.
        let nextStart = 100 + capacity / 2
        #expect(tape._expectedShare(ofChunkAfter: capacity, nextCapacity: 2 * capacity, finished: finished, from: 100) == 1)
        tape.prefaultIdentifierLimit = nextStart + 10 * capacity
        #expect(tape._expectedShare(ofChunkAfter: capacity, nextCapacity: 2 * capacity, finished: finished, from: 100) == 1)
        tape.prefaultIdentifierLimit = nextStart - 1
        #expect(tape._expectedShare(ofChunkAfter: capacity, nextCapacity: 2 * capacity, finished: finished, from: 100) == 0)
        tape.prefaultIdentifierLimit = nextStart + capacity / 2
        #expect(tape._expectedShare(ofChunkAfter: capacity, nextCapacity: 2 * capacity, finished: finished, from: 100) == 0.5)
    }
}
