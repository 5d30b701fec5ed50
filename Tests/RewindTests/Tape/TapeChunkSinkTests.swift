import Testing

@testable import RewindCore

/// A sink that keeps chunks in memory, with faults on demand: the tape's side of the seam
/// between recording and storage, tested without any file.
final class MemorySink: TapeChunkSink {
    struct Chunk {
        var counts: [UInt8]
        var identifiers: [UInt32]
        var partials: [Double]
    }
    struct Refused: Error, Equatable {
        let segment: Int
    }
    var chunks: [Int: Chunk] = [:]
    /// Accepting this segment fails.
    var refuseAccepting: Int?
    /// Reading this segment back fails.
    var refuseReading: Int?
    /// Reading this segment back flips the sign of its first partial (a sink that lies).
    var corruptReading: Int?
    private(set) var failure: (any Error)?
    private(set) var accepted = 0

    func accept(segment: Int, columns: TapeChunkColumns) {
        accepted += 1
        if segment == refuseAccepting {
            failure = Refused(segment: segment)
            return
        }
        chunks[segment] = Chunk(
            counts: Array(columns.argumentCounts), identifiers: Array(columns.identifiers),
            partials: Array(columns.partials))
    }

    func read(segment: Int, into destination: TapeChunkDestination) throws {
        if segment == refuseReading { throw Refused(segment: segment) }
        guard var chunk = chunks[segment] else { throw Refused(segment: segment) }
        if segment == corruptReading, !chunk.partials.isEmpty { chunk.partials[0] = -chunk.partials[0] }
        precondition(destination.argumentCounts.count == chunk.counts.count, "the tape asks for what it gave")
        _ = destination.argumentCounts.update(from: chunk.counts)
        _ = destination.identifiers.update(from: chunk.identifiers)
        _ = destination.partials.update(from: chunk.partials)
    }
}

@Suite("The tape's chunk sink: recording hands chunks over, sweeps get them back")
struct TapeChunkSinkTests {
    /// ∂f/∂(a, b) of a 600-statement function, recorded with chunks of 16 statements into `sink`
    /// (or in memory), and the tape.
    func gradient(sink: MemorySink?) -> (gradient: [Double], tape: Tape) {
        let tape = Tape()
        if let sink { tape.enableSpilling(to: sink, statementsPerChunk: 16) }
        let (a, b, f) = tape.record { () -> (Tracked, Tracked, Tracked) in
            let a = tape.registerInput(0.7)
            let b = tape.registerInput(1.3)
            var f = Tracked.sin(a * b) + a / b
            for k in 0..<200 { f = f * 0.99 + Tracked.cos(a * Double(k)) * b }
            return (a, b, f)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(f, 1)])
        return ([adjoints[a], adjoints[b]], tape)
    }

    @Test func aSpilledSweepThroughAnySinkIsTheInMemorySweepBitForBit() throws {
        let sink = MemorySink()
        let (spilled, tape) = gradient(sink: sink)
        let (inMemory, _) = gradient(sink: nil)
        #expect(spilled.map(\.bitPattern) == inMemory.map(\.bitPattern))
        #expect(sink.accepted > 10, "the recording went through the sink")
        #expect(tape.spillError == nil)
        try tape.throwSpillError()
    }

    @Test func aChunkTheSinkCouldNotTakeGivesNaNAndTheSinksError() {
        let sink = MemorySink()
        sink.refuseAccepting = 3
        let (values, tape) = self.gradient(sink: sink)
        #expect(values.allSatisfy { $0.isNaN }, "\(values)")
        #expect(tape.spillError as? MemorySink.Refused == MemorySink.Refused(segment: 3))
        #expect(throws: MemorySink.Refused(segment: 3)) { try tape.throwSpillError() as Void }
        // The tape stops handing chunks over after the first failure.
        #expect(sink.chunks[4] == nil)
    }

    @Test func aChunkTheSinkCouldNotGiveBackGivesNaNAndTheSinksError() {
        let sink = MemorySink()
        sink.refuseReading = 2
        let (values, tape) = self.gradient(sink: sink)
        #expect(values.allSatisfy { $0.isNaN }, "\(values)")
        #expect(throws: MemorySink.Refused(segment: 2)) { try tape.throwSpillError() as Void }
        // The error stays across a reset: the run that lost a chunk fails as a whole.
        tape.reset()
        #expect(tape.spillError != nil)
    }

    /// The tape trusts the sink's bytes: verifying them is the storage layer's job
    /// (`SpillSegmentCoder`'s checksums, tested in the fault matrix). This shows why that
    /// layer must verify: a sink that returns changed partials changes the gradient.
    @Test func theTapeTrustsTheSinkSoTheSinkMustVerify() {
        let sink = MemorySink()
        sink.corruptReading = 5
        let (corrupted, _) = gradient(sink: sink)
        let (inMemory, _) = gradient(sink: nil)
        #expect(corrupted != inMemory)
    }

    @Test func disablingSpillingClearsTheErrorAndRecordsInMemoryAgain() {
        let sink = MemorySink()
        sink.refuseAccepting = 1
        let (_, tape) = gradient(sink: sink)
        #expect(tape.spillError != nil)
        tape.disableSpilling()
        #expect(tape.spillError == nil && !tape.isSpilling)
        let (a, f) = tape.record { () -> (Tracked, Tracked) in
            let a = tape.registerInput(2)
            return (a, a * a)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(f, 1)])
        #expect(adjoints[a] == 4)
    }
}
