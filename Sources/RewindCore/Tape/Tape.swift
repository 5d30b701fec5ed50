import CRewindSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A Jacobian tape with linear identifiers: the record of a computation that a reverse sweep
/// walks backwards to obtain derivatives.
///
/// Every operation on `Tracked` values appends a *statement*: the identifier it defines
/// (implicitly, the next one), its arguments' identifiers and the local partial derivatives
/// with respect to them. Statements live in struct-of-arrays columns in arena chunks
/// (`_TapeChunk`): appending never copies, and `reset()` keeps the chunks for the next
/// recording, so a loop that records one time step after another touches new memory only
/// once.
///
/// A tape records on one thread at a time (`record(_:)` makes it the thread's active tape);
/// once recorded it can be swept any number of times, from any threads at once, each sweep
/// with its own `AdjointVector`.
///
/// ```swift
/// let tape = Tape()
/// let (x, y) = tape.record { () -> (Tracked, Tracked) in
///     let x = tape.registerInput(2.0)
///     return (x, Tracked.sin(x) * x)
/// }
/// let adjoints = AdjointVector()
/// tape.reverse(adjoints, seeding: [(y, 1.0)])
/// adjoints[x]   // sin(2) + 2 cos(2)
/// ```
public final class Tape {
    @usableFromInline package let _recorder: UnsafeMutablePointer<_Recorder>
    // A tape is recorded by one thread at a time (enforced by `record`) and only read by
    // sweeps, so the dynamic exclusivity checks on these properties guard nothing; they cost
    // a runtime call per access on the per-step path of checkpointing.
    @exclusivity(unchecked) package var chunks: [_TapeChunk] = []
    @exclusivity(unchecked) var currentChunk = 0
    @exclusivity(unchecked) package var externals: [_ExternalStatement] = []
    /// Whether the recording holds external statements (stencils, custom adjoints), which
    /// sweep into a dense `AdjointVector` only.
    @usableFromInline package var _hasExternalStatements: Bool { !externals.isEmpty }
    let _diagnostics = _TapeDiagnostics()
    /// How the arena sizes its chunks (fixed at creation; spilling sets its own chunk size).
    public package(set) var configuration: TapeConfiguration
    /// What the tape keeps of a recorded stencil: its partials (the default) or the values it
    /// read, from which each sweep computes the partials again (`StencilStorage`).
    public var stencilStorage: StencilStorage = .partials
    /// Whether the arena's next chunk is allocated and its pages touched on another thread while
    /// the recording fills the current one (`_PrefaultedChunk`): for a long recording that keeps
    /// every chunk, at the price of one chunk allocated ahead. Turning it off frees that chunk.
    @usableFromInline package var prefaultsChunks = false {
        didSet {
            if !prefaultsChunks, let pending = _prefault {
                pending.take().deallocate()
                _prefault = nil
            }
        }
    }
    var _prefault: _PrefaultedChunk?
    /// The identifier a recording that prefaults its chunks is expected to reach (its caller's
    /// estimate; `Int.max`: unknown). Pages beyond it are not touched ahead: the chunk after the
    /// last one, and the part of the last one the recording will not fill, were made resident
    /// for nothing (Lorenz store-all: about 50 MB of its 350).
    @usableFromInline package var prefaultIdentifierLimit = Int.max
    var _sink: (any TapeChunkSink)?
    /// Where the sweep reads spilled chunks back into (one buffer, reused).
    var _spillReadBuffer: _TapeChunk?
    var _spillError: (any Error)?
    /// Set while a thread records into this tape. A flag taken by compare-and-swap, not a
    /// lock: `record` never waits for it (a second recorder is a bug and traps), so all it
    /// needs is the atomic test-and-set, one instruction on the per-step path.
    private let isRecording = Atomic<Bool>(false)

    /// An empty tape whose arena starts with one chunk.
    ///
    /// - Parameter configuration: How chunks are sized; the default suits both one-step and
    ///   whole-run recordings.
    public init(configuration: TapeConfiguration = .default) {
        self.configuration = configuration
        let first = _TapeChunk(
            statementCapacity: configuration.statementCapacity(ofChunk: 0),
            argumentCapacity: configuration.statementCapacity(ofChunk: 0) * configuration.argumentsPerStatement)
        chunks = [first]
        _recorder = .allocate(capacity: 1)
        _recorder.initialize(
            to: _Recorder(
                argumentCounts: first.argumentCounts, identifiers: first.identifiers, partials: first.partials,
                statementCount: 0, statementCapacity: first.statementCapacity,
                identifierCount: 0, partialCount: 0, argumentCapacity: first.argumentCapacity,
                nextIdentifier: 1, tag: _nextRecordingTag(), tape: .passUnretained(self)))
        chunks[0].firstIdentifier = 1
    }

    deinit {
        _freeCheckStorage()
        _prefault?.take().deallocate()
        for chunk in chunks { chunk.deallocate() }
        _spillReadBuffer?.deallocate()
        _recorder.deinitialize(count: 1)
        _recorder.deallocate()
    }

    // MARK: - Recording

    /// Runs `body` with this tape as the current thread's recording tape.
    ///
    /// Operations on tracked values inside `body` append to this tape. Recording nests: a
    /// tape recording on this thread is suspended during `body` and resumes after it. A tape
    /// records on one thread at a time; recording it from a second thread at once traps.
    ///
    /// - Parameter body: The computation to record; it registers its inputs with
    ///   `registerInput(_:)` and computes on `Tracked` values.
    /// - Returns: What `body` returns, typically its inputs and outputs for the sweep.
    /// - Throws: Whatever `body` throws; the statements it recorded stay on the tape.
    @inlinable
    public func record<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = _beginRecording()
        defer { _endRecording(restoring: previous) }
        return try body()
    }

    @usableFromInline
    package func _beginRecording() -> UnsafeMutableRawPointer? {
        // Acquiring: this thread then sees what the previous recorder wrote to the tape.
        guard isRecording.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            preconditionFailure(
                "this tape is already recording (on this thread or another); "
                    + "give each thread its own Tape")
        }
        let previous = rewind_get_active_recorder()
        rewind_set_active_recorder(UnsafeMutableRawPointer(_recorder))
        return previous
    }

    @usableFromInline
    package func _endRecording(restoring previous: UnsafeMutableRawPointer?) {
        if _recorder.pointee.checking { _inspectPending(recorder: &_recorder.pointee) }
        rewind_set_active_recorder(previous)
        isRecording.store(false, ordering: .releasing)
    }

    /// Whether this tape is the current thread's recording tape.
    public var isRecordingOnCurrentThread: Bool {
        rewind_get_active_recorder() == UnsafeMutableRawPointer(_recorder)
    }

    /// Records an independent input and returns it as a tracked value.
    ///
    /// Inputs are the variables derivatives are taken with respect to; read their adjoints
    /// after a sweep with `adjoints[input]`.
    ///
    /// - Parameter value: The input's value.
    /// - Returns: The input as a tracked value, defining the next identifier.
    @inlinable
    public func registerInput(_ value: Double) -> Tracked {
        _recorder.pointee.pushLeaf(value)
    }

    /// Records `values.count` independent inputs.
    public func registerInputs(_ values: [Double]) -> [Tracked] {
        var inputs: [Tracked] = []
        registerInputs(values, appendingTo: &inputs)
        return inputs
    }

    /// Records `values.count` independent inputs and appends them to `inputs`.
    @inlinable
    public func registerInputs(_ values: [Double], appendingTo inputs: inout [Tracked]) {
        let start = inputs.count
        inputs.append(contentsOf: repeatElement(Tracked(0), count: values.count))
        inputs.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { v in
                _recorder.pointee.pushLeaves(count: v.count, value: { v[$0] }, store: { out[start &+ $0] = $1 })
            }
        }
    }

    /// Records `values.count` independent inputs into `inputs`, over its elements when it
    /// holds as many (a driver that records the same state every block keeps one array), else
    /// as a new array.
    @inlinable
    package func _registerInputs(_ values: [Double], replacing inputs: inout [Tracked]) {
        guard inputs.count == values.count else {
            inputs = []
            registerInputs(values, appendingTo: &inputs)
            return
        }
        inputs.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { v in
                _recorder.pointee.pushLeaves(count: v.count, value: { v[$0] }, store: { out[$0] = $1 })
            }
        }
    }

    /// Forgets the recording, as `reset()` does, and gives every arena chunk but the first
    /// back to the system.
    ///
    /// For a driver whose trial recordings grew the arena past what its run needs: a planning
    /// sample records blocks longer, and stencils in a larger storage, than the plan may keep,
    /// and the arena keeps every chunk it ever grew. The run's own recordings grow it again as
    /// far as they need.
    @usableFromInline
    package func _resetReleasingChunks() {
        reset()
        guard chunks.count > 1 else { return }
        for chunk in chunks.dropFirst() { chunk.deallocate() }
        chunks.removeSubrange(1...)
        _checkInvariants()
    }

    /// The end of the recording so far.
    public var position: TapePosition {
        let r = _recorder.pointee
        return TapePosition(
            chunk: currentChunk, statement: r.statementCount, identifier: r.identifierCount, partial: r.partialCount)
    }

    /// One more than the largest identifier recorded: the length an adjoint vector needs.
    public var identifierCount: Int { Int(_recorder.pointee.nextIdentifier) }

    /// Forgets the recording but keeps the arena's chunks for the next one.
    ///
    /// Tracked values recorded before the reset must not be used again; debug builds trap
    /// when they are.
    public func reset() {
        _syncCurrentChunk()
        if _sink != nil {
            // Chunks after the first only name parts of spill files (or wide buffers).
            for chunk in chunks.dropFirst() { chunk.deallocate() }
            chunks.removeSubrange(1...)
            chunks[0].isSpilled = false
            // `_spillError` stays: a failed write or read poisons the whole run, not one
            // recording (it is cleared only by enabling or disabling spilling).
        }
        for k in chunks.indices {
            chunks[k].statementCount = 0
            chunks[k].identifierCount = 0
            chunks[k].partialCount = 0
        }
        externals.removeAll(keepingCapacity: true)
        _diagnostics.reset()
        currentChunk = 0
        chunks[0].firstIdentifier = 1
        _load(chunk: 0, into: &_recorder.pointee, nextIdentifier: 1)
        _recorder.pointee.tag = _nextRecordingTag()
        _recorder.pointee.firstNonFiniteIdentifier = 0
        _recorder.pointee.checkedFrom = 1
        _recorder.pointee.chunkStatementCapacity = _recorder.pointee.statementCapacity
        if _recorder.pointee.checking {
            _recorder.pointee.inspectionPending = false
            _recorder.pointee.statementCapacity = 0
        }
        _checkInvariants()
    }

    // MARK: - Arena

    /// Moves the recorder to the next chunk of the arena, reusing it when it is large
    /// enough and allocating otherwise. The cold path of every push.
    func _advanceChunk(recorder: inout _Recorder, arguments: Int) {
        _store(recorder, intoChunk: currentChunk)
        if _sink != nil && chunks[currentChunk].statementCount > 0 {
            _advanceSpillingChunk(recorder: &recorder, arguments: arguments)
            return
        }
        let wanted = configuration.statementCapacity(ofChunk: currentChunk + 1)
        let wantedArguments = max(wanted * configuration.argumentsPerStatement, arguments)
        // An empty current chunk that is merely too narrow is replaced rather than skipped.
        let target = chunks[currentChunk].statementCount == 0 ? currentChunk : currentChunk + 1
        let identifierLimit = UInt64(recorder.nextIdentifier) + UInt64(wanted)
        precondition(
            identifierLimit < UInt64(UInt32.max),
            "a tape holds at most 4 294 967 295 statements; checkpoint the computation "
                + "(see TimeStepping) instead of recording it whole")
        if target < chunks.count && chunks[target].argumentCapacity >= wantedArguments {
            chunks[target].statementCount = 0
            chunks[target].identifierCount = 0
            chunks[target].partialCount = 0
        } else {
            let chunk = _takePrefaultedChunk(statementCapacity: wanted, argumentCapacity: wantedArguments)
                ?? _TapeChunk(statementCapacity: wanted, argumentCapacity: wantedArguments)
            if target < chunks.count {
                chunks[target].deallocate()
                chunks[target] = chunk
            } else {
                chunks.append(chunk)
            }
            if prefaultsChunks && target + 1 >= chunks.count && target > 0 {
                // Touched as far as the chunk just finished was filled, and no further than
                // the recording is expected to go.
                let finished = chunks[target - 1]
                let next = configuration.statementCapacity(ofChunk: target + 1)
                let share = _expectedShare(
                    ofChunkAfter: chunks[target].statementCapacity, nextCapacity: next, finished: finished,
                    from: Int(recorder.nextIdentifier))
                if share > 0 {
                    _prefault = _PrefaultedChunk(
                        statementCapacity: next, argumentCapacity: next * configuration.argumentsPerStatement,
                        fill: (share * Double(finished.statementCount) / Double(finished.statementCapacity),
                               share * Double(finished.identifierCount) / Double(finished.argumentCapacity),
                               share * Double(finished.partialCount) / Double(finished.argumentCapacity)))
                }
            }
        }
        currentChunk = target
        chunks[target].firstIdentifier = recorder.nextIdentifier
        _load(chunk: target, into: &recorder, nextIdentifier: recorder.nextIdentifier)
        _checkChunkInvariants(target)
    }

    /// The share (0...1) of the chunk after the current one that the recording is expected to
    /// fill: chunks hold statements at the rate `finished` did, the current one starts at
    /// identifier `start` and has `currentCapacity` statements of capacity, the next `nextCapacity`.
    func _expectedShare(ofChunkAfter currentCapacity: Int, nextCapacity: Int, finished: _TapeChunk, from start: Int) -> Double {
        guard prefaultIdentifierLimit != Int.max, finished.statementCapacity > 0 else { return 1 }
        let rate = Double(finished.statementCount) / Double(finished.statementCapacity)
        let nextStart = Double(start) + rate * Double(currentCapacity)
        let nextHolds = rate * Double(nextCapacity)
        guard nextHolds > 0 else { return 1 }
        return min(max((Double(prefaultIdentifierLimit) - nextStart) / nextHolds, 0), 1)
    }

    /// The chunk prepared ahead, if it is the one wanted; one that is not (a statement wider
    /// than the configured chunk) is freed.
    private func _takePrefaultedChunk(statementCapacity: Int, argumentCapacity: Int) -> _TapeChunk? {
        guard let pending = _prefault else { return nil }
        _prefault = nil
        let chunk = pending.take()
        if pending.statementCapacity == statementCapacity && pending.argumentCapacity >= argumentCapacity {
            return chunk
        }
        chunk.deallocate()
        return nil
    }

    /// Spilling: writes the finished chunk and records the next one into the same buffer (or
    /// into a buffer of its own when a statement is wider than the chunk).
    private func _advanceSpillingChunk(recorder: inout _Recorder, arguments: Int) {
        _spillChunk(currentChunk)
        let identifierLimit = UInt64(recorder.nextIdentifier) + UInt64(configuration.maximumStatementCapacity)
        precondition(identifierLimit < UInt64(UInt32.max), "a tape holds at most 4 294 967 295 statements")
        var next = chunks[currentChunk].sharingMemory()
        if next.argumentCapacity < arguments {
            next = _TapeChunk(statementCapacity: next.statementCapacity, argumentCapacity: arguments)
        }
        next.firstIdentifier = recorder.nextIdentifier
        chunks.append(next)
        currentChunk += 1
        _load(chunk: currentChunk, into: &recorder, nextIdentifier: recorder.nextIdentifier)
        _checkChunkInvariants(currentChunk)
    }

    private func _load(chunk k: Int, into recorder: inout _Recorder, nextIdentifier: UInt32) {
        let chunk = chunks[k]
        recorder.argumentCounts = chunk.argumentCounts
        recorder.identifiers = chunk.identifiers
        recorder.partials = chunk.partials
        recorder.statementCount = chunk.statementCount
        recorder.statementCapacity = chunk.statementCapacity
        recorder.identifierCount = chunk.identifierCount
        recorder.partialCount = chunk.partialCount
        recorder.argumentCapacity = chunk.argumentCapacity
        recorder.nextIdentifier = nextIdentifier
    }

    private func _store(_ recorder: _Recorder, intoChunk k: Int) {
        chunks[k].statementCount = recorder.statementCount
        chunks[k].identifierCount = recorder.identifierCount
        chunks[k].partialCount = recorder.partialCount
    }

    /// Chunk `k` with its fill levels as recorded so far. Reading the current chunk's levels
    /// from the recorder, rather than copying them into the chunk first, keeps sweeps free of
    /// writes to shared state, so that several may run at once.
    package func _chunkAsRecorded(_ k: Int) -> _TapeChunk {
        var chunk = chunks[k]
        if k == currentChunk {
            let r = _recorder.pointee
            chunk.statementCount = r.statementCount
            chunk.identifierCount = r.identifierCount
            chunk.partialCount = r.partialCount
        }
        return chunk
    }

    /// Copies the recorder's fill levels into the current chunk (before the recorder moves to
    /// another chunk, or is reset).
    func _syncCurrentChunk() {
        _store(_recorder.pointee, intoChunk: currentChunk)
    }

    // MARK: - Statistics

    /// What the tape holds now and what its arena reserves.
    public var statistics: TapeStatistics {
        var stats = TapeStatistics(
            statementCount: 0, argumentCount: 0, partialCount: 0, externalStatementCount: externals.count,
            bytesInUse: 0, bytesReserved: 0, chunksInUse: currentChunk + 1, chunksReserved: chunks.count)
        for k in chunks.indices {
            let chunk = _chunkAsRecorded(k)
            // A spilling tape's chunks share one buffer; count it once.
            if chunk.ownsMemory { stats.bytesReserved += chunk.reservedByteCount }
            guard k <= currentChunk else { continue }
            stats.statementCount += chunk.statementCount
            stats.argumentCount += chunk.identifierCount
            stats.partialCount += chunk.partialCount
            if !chunk.isSpilled { stats.bytesInUse += chunk.usedByteCount }
        }
        for external in externals {
            stats.bytesInUse += external.byteCount
            stats.bytesReserved += external.byteCount
            if external is _StencilStatement { stats.stencilStatementCount += 1 }
            if external is _AffineStencilStatement { stats.affineStencilStatementCount += 1 }
        }
        return stats
    }

    /// Bytes of the largest chunk the arena allocates (a wider statement gets one of its own).
    @usableFromInline package var maximumChunkBytes: Int {
        configuration.maximumStatementCapacity
            * (MemoryLayout<UInt8>.stride
                + configuration.argumentsPerStatement * (MemoryLayout<UInt32>.stride + MemoryLayout<Double>.stride))
    }

    /// Bytes the arena has reserved (with a chunk prepared ahead); the figure a memory budget counts.
    public var reservedByteCount: Int {
        chunks.reduce(0) { $0 + ($1.ownsMemory ? $1.reservedByteCount : 0) }
            + (_prefault?.reservedByteCount ?? 0)
            + (_spillReadBuffer?.reservedByteCount ?? 0) + externals.reduce(0) { $0 + $1.byteCount }
    }
}

/// Stamps each recording, process-wide, so that a tracked value from another tape, or from
/// before a reset, can be told apart from a live one. Relaxed: only uniqueness matters.
private let _recordingTagCounter = Atomic<UInt32>(0)

/// The next recording tag; never 0, which is reserved for "never recorded" so that a zeroed
/// value cannot look live.
func _nextRecordingTag() -> UInt32 {
    let tag = _recordingTagCounter.wrappingAdd(1, ordering: .relaxed).newValue
    return tag != 0 ? tag : _recordingTagCounter.wrappingAdd(1, ordering: .relaxed).newValue
}
