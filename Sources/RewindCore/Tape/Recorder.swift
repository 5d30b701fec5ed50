import CRewindSupport

/// The recording state of a tape: a copy of the current chunk's column pointers and fill levels.
///
/// Tracked values reach it through a thread-local pointer (`_Recorder.active`), never through
/// the `Tape` class, because a class reference on the hot path costs retain/release and
/// exclusivity checks on every operation (measured 5× slower, see docs/PERFORMANCE.md).
/// The cold path, switching to the next chunk, goes back to the owning `Tape`.
@usableFromInline
package struct _Recorder {
    @usableFromInline package var argumentCounts: UnsafeMutablePointer<UInt8>
    @usableFromInline package var identifiers: UnsafeMutablePointer<UInt32>
    @usableFromInline package var partials: UnsafeMutablePointer<Double>
    @usableFromInline package var statementCount: Int
    @usableFromInline package var statementCapacity: Int
    @usableFromInline package var identifierCount: Int
    @usableFromInline package var partialCount: Int
    @usableFromInline package var argumentCapacity: Int
    /// The identifier the next statement will define.
    @usableFromInline package var nextIdentifier: UInt32
    /// Stamps this recording; tracked values carry it so that stale ones can be caught.
    @usableFromInline package var tag: UInt32
    @usableFromInline package let tape: Unmanaged<Tape>
    /// Check mode (`Tape.checksFinite`): every statement is inspected for NaN and infinity.
    ///
    /// Check mode costs nothing when off because it rides on the capacity test every push
    /// makes anyway: when on, `statementCapacity` is held at `statementCount`, so each push
    /// takes the cold path, which inspects the statement recorded before it (complete by
    /// then) and notes the name of the one about to be recorded.
    @usableFromInline package var checking = false
    /// Check mode: the operation of the statement recorded last.
    @usableFromInline package var operation: StaticString = "operation"
    /// The value of the statement recorded last (one store per push; check mode reads it).
    @usableFromInline package var lastValue = 0.0
    /// Check mode: the statement recorded last has not been inspected yet.
    @usableFromInline package var inspectionPending = false
    /// Check mode: the current chunk's real statement capacity (`statementCapacity` is held
    /// at the count).
    @usableFromInline package var chunkStatementCapacity = 0
    /// Check mode: each statement's value and operation by identifier, for reports (owned by
    /// the tape; `checkCapacity` entries). Raw memory, so that the per-statement inspection
    /// is a few loads and stores, not an array append behind a class. An operation is kept as
    /// a one-byte code into the tape's table of names (9 bytes a statement, not 32: check
    /// mode's recording is bound by the bytes it writes).
    @usableFromInline package var checkValues: UnsafeMutablePointer<Double>? = nil
    @usableFromInline package var checkOperations: UnsafeMutablePointer<UInt8>? = nil
    @usableFromInline package var checkCapacity = 0
    /// Check mode: the code of each operation name met recently, direct-mapped by the name's
    /// first word (its address, or the scalar of a one-character literal).
    @usableFromInline package var operationCacheKeys: UnsafeMutablePointer<UInt>? = nil
    @usableFromInline package var operationCacheCodes: UnsafeMutablePointer<UInt8>? = nil
    /// Check mode: identifiers from this one on have their values and operations kept.
    @usableFromInline package var checkedFrom: UInt32 = 0
    /// Check mode: the first statement found with a non-finite value or partial (0: none).
    @usableFromInline package var firstNonFiniteIdentifier: UInt32 = 0

    /// The recorder of the tape recording on this thread, if any.
    @inlinable @inline(__always)
    static var active: UnsafeMutablePointer<_Recorder>? {
        rewind_get_active_recorder()?.assumingMemoryBound(to: _Recorder.self)
    }

    /// The active recorder; traps with a clear message when a tracked value is used with no
    /// tape recording on this thread.
    @inlinable @inline(__always)
    static func current(for tag: UInt32) -> UnsafeMutablePointer<_Recorder> {
        guard let recorder = active else { _noActiveRecorder() }
        assert(recorder.pointee.tag == tag, _staleValueMessage)
        return recorder
    }

    @inlinable @inline(__always)
    mutating func _reserve(arguments: Int, operation: StaticString = "operation") {
        if _slowPath(statementCount == statementCapacity || partialCount &+ arguments > argumentCapacity) {
            _coldPush(arguments: arguments, operation: operation)
        }
    }

    @inlinable @inline(__always)
    mutating func _finish(_ value: Double) -> Tracked {
        lastValue = value
        statementCount &+= 1
        let identifier = nextIdentifier
        nextIdentifier &+= 1
        return Tracked(_value: value, identifier: identifier, tag: tag)
    }

    /// Records a statement with no arguments: an independent input, or an output slot of an
    /// external statement.
    @inlinable @inline(__always)
    mutating func pushLeaf(_ value: Double) -> Tracked {
        _reserve(arguments: 0, operation: "input")
        argumentCounts[statementCount] = 0
        return _finish(value)
    }

    /// Records `count` statements with no arguments at once: `value(k)` gives the k-th value
    /// and `store(k, tracked)` receives it. The same statements as `count` calls of `pushLeaf`,
    /// but one capacity test and one `memset` per chunk instead of per statement: a step of a
    /// large state registers thousands of leaves (its inputs, a stencil's outputs).
    @inlinable @inline(__always)
    mutating func pushLeaves(count: Int, value: (Int) -> Double, store: (Int, Tracked) -> Void) {
        var done = 0
        while done < count {
            _reserve(arguments: 0, operation: "input")
            // In check mode the capacity is held at the count, so this is one statement.
            let batch = min(count &- done, statementCapacity &- statementCount)
            (argumentCounts + statementCount).initialize(repeating: 0, count: batch)
            var identifier = nextIdentifier
            var last = lastValue
            for k in done..<(done &+ batch) {
                last = value(k)
                store(k, Tracked(_value: last, identifier: identifier, tag: tag))
                identifier &+= 1
            }
            lastValue = last
            nextIdentifier = identifier
            statementCount &+= batch
            done &+= batch
        }
    }

    @inlinable @inline(__always)
    mutating func push(_ value: Double, _ a: UInt32, _ pa: Double, operation: StaticString = "operation") -> Tracked {
        _reserve(arguments: 1, operation: operation)
        argumentCounts[statementCount] = 1
        identifiers[identifierCount] = a
        partials[partialCount] = pa
        identifierCount &+= 1
        partialCount &+= 1
        return _finish(value)
    }

    @inlinable @inline(__always)
    mutating func push(
        _ value: Double, _ a: UInt32, _ pa: Double, _ b: UInt32, _ pb: Double, operation: StaticString = "operation"
    ) -> Tracked {
        _reserve(arguments: 2, operation: operation)
        argumentCounts[statementCount] = 2
        identifiers[identifierCount] = a
        identifiers[identifierCount &+ 1] = b
        partials[partialCount] = pa
        partials[partialCount &+ 1] = pb
        identifierCount &+= 2
        partialCount &+= 2
        return _finish(value)
    }

    @inlinable @inline(__always)
    mutating func push(
        _ value: Double, _ a: UInt32, _ pa: Double, _ b: UInt32, _ pb: Double, _ c: UInt32, _ pc: Double
    ) -> Tracked {
        _reserve(arguments: 3, operation: "local Jacobian")
        argumentCounts[statementCount] = 3
        identifiers[identifierCount] = a
        identifiers[identifierCount &+ 1] = b
        identifiers[identifierCount &+ 2] = c
        partials[partialCount] = pa
        partials[partialCount &+ 1] = pb
        partials[partialCount &+ 2] = pc
        identifierCount &+= 3
        partialCount &+= 3
        return _finish(value)
    }

    /// Records a statement with `count` arguments (at most `_StatementCode.maximumArguments`);
    /// arguments that are constants (identifier 0) must already be left out.
    @inlinable @inline(__always)
    mutating func push(
        _ value: Double, identifiers ids: UnsafePointer<UInt32>, partials ps: UnsafePointer<Double>, count: Int
    ) -> Tracked {
        _reserve(arguments: count, operation: "local Jacobian")
        argumentCounts[statementCount] = UInt8(truncatingIfNeeded: count)
        (identifiers + identifierCount).update(from: ids, count: count)
        (partials + partialCount).update(from: ps, count: count)
        identifierCount &+= count
        partialCount &+= count
        return _finish(value)
    }

    /// The cold path of a push: a full chunk, or check mode.
    ///
    /// In check mode every push comes here. What it does per statement is kept to a few
    /// loads and stores on this struct's raw buffers (no class, no array, no allocation), so
    /// check mode costs about one non-inlined call per statement (docs/PERFORMANCE.md).
    @inline(never)
    @usableFromInline
    package mutating func _coldPush(arguments: Int, operation: StaticString) {
        guard checking else {
            tape.takeUnretainedValue()._advanceChunk(recorder: &self, arguments: arguments)
            return
        }
        if inspectionPending { _inspectLastInline() }
        if _slowPath(statementCount >= chunkStatementCapacity || partialCount &+ arguments > argumentCapacity) {
            statementCapacity = chunkStatementCapacity
            tape.takeUnretainedValue()._advanceChunk(recorder: &self, arguments: arguments)
            chunkStatementCapacity = statementCapacity
        }
        self.operation = operation
        inspectionPending = true
        // Hold the capacity at the count so that the next push comes here again.
        statementCapacity = statementCount &+ 1
    }

    /// Check mode: the one-byte code of an operation name, from the cache or (cold, once per
    /// name and cache slot) from the tape's table.
    @inline(__always)
    mutating func _operationCode(_ operation: StaticString) -> UInt8 {
        let key = _Recorder._operationKey(operation)
        let slot = Int(truncatingIfNeeded: (key >> 4) ^ key) & (_Recorder.operationCacheSize - 1)
        if _fastPath(operationCacheKeys![slot] == key) { return operationCacheCodes![slot] }
        return _operationCodeMissed(operation, key: key, slot: slot)
    }

    @inline(never)
    mutating func _operationCodeMissed(_ operation: StaticString, key: UInt, slot: Int) -> UInt8 {
        let code = tape.takeUnretainedValue()._operationCode(of: operation, key: key)
        operationCacheKeys![slot] = key
        operationCacheCodes![slot] = code
        return code
    }

    @usableFromInline package static let operationCacheSize = 64

    /// The first word of a `StaticString` (a `@frozen` struct): the address of its UTF-8, or
    /// the scalar of a one-character literal. Distinct names have distinct keys.
    @inline(__always)
    static func _operationKey(_ operation: StaticString) -> UInt {
        withUnsafeBytes(of: operation) { $0.load(as: UInt.self) }
    }

    /// Check mode: keeps the value and operation of the statement recorded last (complete by
    /// now) and looks at its value and partials; the first non-finite one is reported to the
    /// tape, once.
    @usableFromInline
    package mutating func _inspectLast() { _inspectLastInline() }

    /// `_inspectLast` inlined into the check-mode push: what runs per statement stays in one
    /// small frame, and everything rare is a call out (`@inline(never)`).
    @inline(__always)
    mutating func _inspectLastInline() {
        inspectionPending = false
        let identifier = Int(nextIdentifier &- 1)
        if _slowPath(identifier >= checkCapacity) { _growCheckStorage(toHold: identifier &+ 1) }
        let statement = statementCount &- 1
        let n = Int(argumentCounts[statement])
        let isExternal = n == Int(_StatementCode.external)
        checkValues![identifier] = isExternal ? 0 : lastValue
        checkOperations![identifier] = _operationCode(operation)
        guard firstNonFiniteIdentifier == 0, !isExternal else { return }
        var finite = lastValue.isFinite
        var j = partialCount &- n
        while j < partialCount {
            if !partials[j].isFinite { finite = false }
            j &+= 1
        }
        if _slowPath(!finite) { _noteNonFinite(UInt32(identifier)) }
    }

    @inline(never)
    mutating func _growCheckStorage(toHold count: Int) {
        tape.takeUnretainedValue()._growCheckStorage(recorder: &self, toHold: count)
    }

    @inline(never)
    mutating func _noteNonFinite(_ identifier: UInt32) {
        firstNonFiniteIdentifier = identifier
        tape.takeUnretainedValue()._noteNonFiniteRecording(recorder: self)
    }
}

@usableFromInline
package let _staleValueMessage =
    "a tracked value from another tape, or from before this tape's reset, was used in a recording"

@inline(never)
@usableFromInline
package func _noActiveRecorder() -> Never {
    preconditionFailure(
        "a tracked value was used with no tape recording on this thread; "
            + "record inside `tape.record { ... }` or a `gradient(of:at:)` call")
}
