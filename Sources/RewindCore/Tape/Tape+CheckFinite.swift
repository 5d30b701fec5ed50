/// Where a NaN or an infinity entered a computation: the first statement, in recording order
/// or in sweep order, at which a value, a partial derivative or an adjoint stops being finite.
///
/// ```swift
/// tape.checksFinite = true
/// // ... record, sweep ...
/// if let report = tape.firstNonFinite { print(report) }
/// ```
public struct NonFiniteReport: Sendable, Equatable, CustomStringConvertible {
    /// When the non-finite value appeared: while recording (a value or partial) or while sweeping
    /// (an adjoint).
    public enum Phase: String, Sendable { case recording, reverseSweep = "reverse sweep" }
    /// One argument of the offending statement.
    public struct Argument: Sendable, Equatable {
        /// The statement that defined the argument.
        public var identifier: UInt32
        /// The argument's value, or NaN where it was not kept (an input of an external statement).
        public var value: Double
        /// The local partial derivative with respect to it: an infinite one here is usually the
        /// culprit.
        public var partial: Double
    }
    /// Whether the recording or the reverse sweep found it.
    public var phase: Phase
    /// The statement that defines the offending value (recording), or whose adjoint spreads a
    /// non-finite contribution (reverse sweep).
    public var identifier: UInt32
    /// The operation (`*`, `sin`, `input`, ...), as named when it was recorded (check mode
    /// keeps every statement's name; a statement recorded with check mode off reads
    /// "unknown operation").
    public var operation: String
    /// The statement's value.
    public var value: Double
    /// The statement's arguments with their partials.
    public var arguments: [Argument]
    /// Reverse sweep: the adjoint of the statement when it was swept.
    public var adjoint: Double?
    /// Where on the tape the statement is.
    public var position: TapePosition

    /// A sentence naming the statement, its operation and arguments, and the phase.
    public var description: String {
        let args = arguments.map { "#\($0.identifier) = \($0.value) (∂ = \($0.partial))" }.joined(separator: ", ")
        switch phase {
        case .recording:
            if arguments.isEmpty { return "statement \(identifier) (\(operation)) has the value \(value) [recording, \(position)]" }
            return "statement \(identifier) (\(operation)) = \(value) from \(args) [recording, \(position)]"
        case .reverseSweep:
            return "statement \(identifier) (\(operation), value \(value)) with adjoint \(adjoint ?? .nan) "
                + "sends a non-finite adjoint to \(args) [reverse sweep, \(position)]"
        }
    }
}

/// Check mode: the opt-in inspection behind `--check-finite`. Off, it costs one predictable
/// branch per recorded statement (see docs/PERFORMANCE.md); on, every statement's value and
/// partials are inspected as they are recorded, each value and operation name is kept so that
/// reports can show operands, and sweeps look at every contribution.
///
/// Check mode only reports: it never changes a value, a partial or an adjoint. A checked
/// sweep does the arithmetic of the unchecked one, in the same order, to the end; it only
/// notes the first non-finite contribution (`firstNonFiniteAdjoint`). A caller that wants to
/// stop at a NaN must throw (as `TimeStepping` does with `TimeSteppingError.nonFiniteInRun`),
/// never hand back a gradient it did not finish.
extension Tape {
    /// Whether recordings and sweeps on this tape look for NaN and infinity.
    public var checksFinite: Bool {
        get { _recorder.pointee.checking }
        set {
            guard newValue != _recorder.pointee.checking else { return }
            let r = _recorder
            if r.pointee.checking && r.pointee.inspectionPending { r.pointee._inspectLast() }
            r.pointee.inspectionPending = false
            if newValue {
                // Identifiers recorded so far were not kept; their values read as NaN.
                r.pointee.checkedFrom = r.pointee.nextIdentifier
                r.pointee.chunkStatementCapacity = r.pointee.statementCapacity
                // Hold the capacity at the count so that every push takes the cold path that
                // inspects.
                r.pointee.statementCapacity = r.pointee.statementCount
            } else {
                r.pointee.statementCapacity = r.pointee.chunkStatementCapacity
            }
            r.pointee.checking = newValue
        }
    }

    /// The first non-finite value or partial recorded since the last reset (check mode).
    public var firstNonFinite: NonFiniteReport? {
        _inspectPending(recorder: &_recorder.pointee)
        return _diagnostics.recording
    }
    /// The first non-finite adjoint contribution swept in check mode since the last reset, in
    /// sweep order (a sweep in several pieces, `reverse(_:from:to:)`, counts as one).
    public var firstNonFiniteAdjoint: NonFiniteReport? { _diagnostics.sweep }
    /// Risky patterns met while recording or sweeping in check mode, each naming the stable
    /// alternative. They are raised where a result is actually affected: a `0·∞` formed by
    /// the sweep, a square root of an underflowed square, a power whose partial is undefined.
    public var warnings: [String] { _diagnostics.warnings }

    /// Check mode: inspects the statement recorded last, if it has not been yet.
    func _inspectPending(recorder r: inout _Recorder) {
        guard r.checking, r.inspectionPending else { return }
        r._inspectLast()
    }

    /// Check mode: makes room for the values and operations of identifiers `0 ..< count`.
    func _growCheckStorage(recorder r: inout _Recorder, toHold count: Int) {
        let capacity = max(count, 2 * r.checkCapacity, 1 << 12)
        let values = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        let operations = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        values.initialize(repeating: .nan, count: capacity)
        operations.initialize(repeating: 0, count: capacity)
        if r.operationCacheKeys == nil {
            r.operationCacheKeys = .allocate(capacity: _Recorder.operationCacheSize)
            r.operationCacheKeys!.initialize(repeating: UInt.max, count: _Recorder.operationCacheSize)
            r.operationCacheCodes = .allocate(capacity: _Recorder.operationCacheSize)
            r.operationCacheCodes!.initialize(repeating: 0, count: _Recorder.operationCacheSize)
        }
        if let old = r.checkValues, let oldOperations = r.checkOperations {
            values.update(from: old, count: r.checkCapacity)
            operations.update(from: oldOperations, count: r.checkCapacity)
            old.deallocate()
            oldOperations.deallocate()
        }
        r.checkValues = values
        r.checkOperations = operations
        r.checkCapacity = capacity
    }

    /// Frees check mode's per-identifier storage (the tape's `deinit`).
    func _freeCheckStorage() {
        _recorder.pointee.checkValues?.deallocate()
        _recorder.pointee.checkOperations?.deallocate()
        _recorder.pointee.operationCacheKeys?.deallocate()
        _recorder.pointee.operationCacheCodes?.deallocate()
        _recorder.pointee.checkValues = nil
        _recorder.pointee.checkOperations = nil
        _recorder.pointee.checkCapacity = 0
    }

    /// Check mode, cold: the code of an operation name in `_diagnostics.operations` (code 0
    /// is "unknown operation"; past 255 names, new ones share code 0).
    func _operationCode(of operation: StaticString, key: UInt) -> UInt8 {
        if let k = _diagnostics.operationKeys.firstIndex(of: key) { return UInt8(k) }
        guard _diagnostics.operations.count < 256 else { return 0 }
        _diagnostics.operations.append(operation)
        _diagnostics.operationKeys.append(key)
        return UInt8(_diagnostics.operations.count - 1)
    }

    /// The value of `identifier` as check mode kept it (NaN where it was not kept: recorded
    /// with check mode off, or an input of an external statement).
    func _checkedValue(of identifier: UInt32) -> Double {
        let r = _recorder.pointee
        if identifier == 0 { return 0 }
        if identifier == r.nextIdentifier &- 1 && r.inspectionPending { return r.lastValue }
        guard identifier >= r.checkedFrom, identifier < r.nextIdentifier, Int(identifier) < r.checkCapacity,
            let values = r.checkValues
        else { return .nan }
        return values[Int(identifier)]
    }

    /// The operation that defined `identifier`, as named when it was recorded in check mode.
    func _checkedOperation(of identifier: UInt32) -> String {
        let r = _recorder.pointee
        if identifier == 0 { return "constant" }
        if identifier == r.nextIdentifier &- 1 && r.inspectionPending { return "\(r.operation)" }
        guard identifier >= r.checkedFrom, identifier < r.nextIdentifier, Int(identifier) < r.checkCapacity,
            let operations = r.checkOperations
        else { return "unknown operation" }
        return "\(_diagnostics.operations[Int(operations[Int(identifier)])])"
    }

    /// Check mode, cold: the statement recorded last is the first with a non-finite value or
    /// partial; keep its report.
    func _noteNonFiniteRecording(recorder r: _Recorder) {
        guard _diagnostics.recording == nil else { return }
        let identifier = r.nextIdentifier &- 1
        let n = Int(r.argumentCounts[r.statementCount - 1])
        let arguments = (0..<n).map { j -> NonFiniteReport.Argument in
            let id = r.identifiers[r.identifierCount - n + j]
            return NonFiniteReport.Argument(
                identifier: id, value: _checkedValue(of: id), partial: r.partials[r.partialCount - n + j])
        }
        _diagnostics.recording = NonFiniteReport(
            phase: .recording, identifier: identifier, operation: "\(r.operation)", value: r.lastValue,
            arguments: arguments, adjoint: nil,
            position: TapePosition(
                chunk: currentChunk, statement: r.statementCount - 1, identifier: r.identifierCount - n,
                partial: r.partialCount - n))
    }

    @usableFromInline
    package func _warn(_ message: String) {
        if _diagnostics.warnings.count < 100 && !_diagnostics.warnings.contains(message) {
            _diagnostics.warnings.append(message)
        }
    }

    /// The checked sweep of one chunk: exactly the arithmetic of `_sweep`, in the same order
    /// and to the end, noting the first contribution that is not finite and warning where a
    /// zero adjoint meets an infinite partial (`0·∞`, the NaN the sweep cannot avoid).
    func _sweepChecked(
        _ chunk: _TapeChunk, chunkIndex: Int, statementsFrom upper: Int, downTo lower: Int, identifierEnd: Int,
        partialEnd: Int, externals: [_ExternalStatement], adjoints: UnsafeMutablePointer<Double>
    ) {
        let counts = chunk.argumentCounts
        let identifiers = chunk.identifiers
        let partials = chunk.partials
        var s = upper
        var k = identifierEnd
        var q = partialEnd
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
            if a == 0 && Tape._skipsZeroAdjoint(partials + q, count: n) { continue }
            var finite = true
            for j in 0..<n {
                let contribution = partials[q &+ j] * a
                if !contribution.isFinite { finite = false }
                adjoints[Int(identifiers[k &+ j])] += contribution
            }
            if _slowPath(!finite) {
                _noteNonFiniteContribution(
                    chunk, identifier: id, adjoint: a, position: TapePosition(chunk: chunkIndex, statement: s, identifier: k, partial: q),
                    argumentCount: n)
            }
        }
    }

    /// Check mode, cold: statement `identifier` sent a non-finite contribution.
    func _noteNonFiniteContribution(
        _ chunk: _TapeChunk, identifier: Int, adjoint: Double, position: TapePosition, argumentCount n: Int
    ) {
        let operation = _checkedOperation(of: UInt32(identifier))
        if adjoint == 0 {
            _warn(
                "\(operation) (statement \(identifier)) has an infinite or NaN partial and a zero adjoint, so the "
                    + "sweep forms 0·∞ = NaN: the result is unused, multiplied by 0, or its derivative is exactly "
                    + "cancelled. " + Tape._advice(for: operation))
        }
        guard _diagnostics.sweep == nil else { return }
        _diagnostics.sweep = NonFiniteReport(
            phase: .reverseSweep, identifier: UInt32(identifier), operation: operation,
            value: _checkedValue(of: UInt32(identifier)),
            arguments: (0..<n).map { j in
                let argument = chunk.identifiers[position.identifier + j]
                return NonFiniteReport.Argument(
                    identifier: argument, value: _checkedValue(of: argument),
                    partial: chunk.partials[position.partial + j])
            },
            adjoint: adjoint, position: position)
    }

    /// Check mode: `x`, about to be the argument of a square root (`operation`), is 0; warn
    /// if it is a square (or a sum of squares) that underflowed from nonzero operands, for
    /// then the value 0 and every derivative taken from it are wrong (`√(x·x)` at `1e-200`
    /// is 0 with gradient 0 or ∞, not `1e-200` with gradient 1).
    @usableFromInline
    package func _warnIfUnderflowedSquare(_ x: Tracked, in operation: String) {
        _inspectPending(recorder: &_recorder.pointee)
        guard _isUnderflowedZero(x.identifier, depth: 4) else { return }
        _warn(
            "\(operation) of 0 (statement \(x.identifier)) that underflowed from nonzero operands: the value and "
                + "its derivatives are lost (√(x·x) at 1e-200 is 0, not 1e-200); use abs(x) for √(x²) and "
                + "norm(x, y) or norm([...]) for √(x² + y² + …), which scale before squaring")
    }

    /// Whether `identifier`'s value is 0 only because a product underflowed: a `*` (or `/`)
    /// of nonzero finite operands, or a `+`/`−` of such zeros. Looks `depth` statements deep
    /// in the current chunk; anything it cannot see counts as not underflowed.
    func _isUnderflowedZero(_ identifier: UInt32, depth: Int) -> Bool {
        guard depth > 0, identifier != 0, _checkedValue(of: identifier) == 0,
            let arguments = _argumentsInCurrentChunk(of: identifier), !arguments.isEmpty
        else { return false }
        switch _checkedOperation(of: identifier) {
        case "*", "/":
            return arguments.allSatisfy { let v = _checkedValue(of: $0); return v != 0 && v.isFinite }
        case "+", "-":
            return arguments.allSatisfy { _isUnderflowedZero($0, depth: depth - 1) }
        default:
            return false
        }
    }

    /// The argument identifiers of the statement defining `identifier`, if it is among the
    /// last 1024 statements of the current chunk (found by walking back from the end).
    func _argumentsInCurrentChunk(of identifier: UInt32) -> [UInt32]? {
        let r = _recorder.pointee
        let first = r.nextIdentifier &- UInt32(r.statementCount)
        guard identifier >= first, identifier < r.nextIdentifier else { return nil }
        var s = r.statementCount
        var k = r.identifierCount
        var id = r.nextIdentifier
        var steps = 0
        while s > 0 && steps < 1024 {
            s -= 1
            id &-= 1
            steps += 1
            let n = Int(r.argumentCounts[s])
            let width = n == Int(_StatementCode.external) ? 1 : n
            k -= width
            if id == identifier {
                return n == Int(_StatementCode.external) ? nil : (0..<n).map { r.identifiers[k + $0] }
            }
        }
        return nil
    }

    /// Check mode: `pow(x, y)` (the real power) at a base ≤ 0 where it is NaN or has an
    /// undefined partial; not at `0^y` with `y > 0`, whose value and partials are right.
    @usableFromInline
    package func _warnAboutRealPower(_ x: Tracked, _ y: Tracked) {
        if x.value < 0 {
            _warn(
                "pow at the negative base \(x.value) (statement \(x.identifier)) is NaN: pow(x, y) is the real power "
                    + "exp(y·log x), as Double.pow is in generic code; for C's pow (pow(-2, 2) = 4) use "
                    + "power(x, y), pow(x, n: Int) or, on Tracked, pow(x, y: Double)")
        } else if x.value == 0 && y.value <= 0 {
            _warn(
                "pow(0, \(y.value)) (statement \(x.identifier)): the real power is \(y.value == 0 ? "NaN" : "∞") and "
                    + "its partials are undefined; for C's 0⁰ = 1 use power(x, y) or pow(x, 0.0)")
        }
    }

    /// What to do about a `0·∞` at an operation.
    static func _advice(for operation: String) -> String {
        switch operation {
        case "sqrt":
            return "For √(x²) use abs(x), for √(x² + y²) use norm(x, y) or norm([...]) (subgradient 0 at 0); "
                + "do not compute a square root whose result is not used at 0."
        case "log":
            return "For x·log x use xlogx, for log(1 + x) use log(onePlus:); for exp(log x) use x."
        case "pow":
            return "Use pow(x, n) with an Int exponent, or pow(x, y) rather than exp(y·log x)."
        default:
            return "Rewrite the expression so that it does not divide by, or take the log of, a zero it then "
                + "multiplies away (docs/pitfalls.md)."
        }
    }
}

/// What check mode keeps about a recording besides the per-identifier values and operations
/// (those live in the recorder's raw buffers).
final class _TapeDiagnostics {
    /// Check mode's table of operation names, by one-byte code, and their keys
    /// (`_Recorder._operationKey`); kept across resets.
    var operations: [StaticString] = ["unknown operation"]
    var operationKeys: [UInt] = [UInt.max]
    var recording: NonFiniteReport?
    var sweep: NonFiniteReport?
    var warnings: [String] = []

    func reset() {
        recording = nil
        sweep = nil
        warnings.removeAll()
    }
}
