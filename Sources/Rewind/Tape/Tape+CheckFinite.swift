/// Where a NaN or an infinity entered a computation: the first statement, in recording order
/// or in sweep order, at which a value, a partial derivative or an adjoint stops being finite.
///
/// ```swift
/// tape.checksFinite = true
/// // ... record, sweep ...
/// if let report = tape.firstNonFinite { print(report) }
/// ```
public struct NonFiniteReport: Sendable, Equatable, CustomStringConvertible {
    public enum Phase: String, Sendable { case recording, reverseSweep = "reverse sweep" }
    public struct Argument: Sendable, Equatable {
        public var identifier: UInt32
        /// The argument's value, or NaN where it was not kept (an input of an external statement).
        public var value: Double
        public var partial: Double
    }
    public var phase: Phase
    /// The statement that defines the offending value (recording), or whose adjoint spreads a
    /// non-finite contribution (reverse sweep).
    public var identifier: UInt32
    /// The operation (`*`, `sin`, `input`, ...), as named when it was recorded.
    public var operation: String
    public var value: Double
    public var arguments: [Argument]
    /// Reverse sweep: the adjoint of the statement when it was swept.
    public var adjoint: Double?
    public var position: TapePosition

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
/// partials are inspected as they are recorded, each value is kept so that reports can show
/// operands, and sweeps check every contribution.
extension Tape {
    /// Whether recordings and sweeps on this tape look for NaN and infinity.
    public var checksFinite: Bool {
        get { _recorder.pointee.checking }
        set {
            guard newValue != _recorder.pointee.checking else { return }
            _inspectPending(recorder: &_recorder.pointee)
            _recorder.pointee.checking = newValue
            _recorder.pointee.inspectionPending = false
            // On: hold the capacity at the count so that every push takes the cold path that
            // inspects; off: give the chunk its real capacity back.
            _recorder.pointee.statementCapacity =
                newValue ? _recorder.pointee.statementCount : chunks[currentChunk].statementCapacity
        }
    }

    /// The first non-finite value or partial recorded since the last reset (check mode).
    public var firstNonFinite: NonFiniteReport? {
        _inspectPending(recorder: &_recorder.pointee)
        return _diagnostics.recording
    }
    /// The first non-finite adjoint contribution of the last checked sweep.
    public var firstNonFiniteAdjoint: NonFiniteReport? { _diagnostics.sweep }
    /// Risky patterns met while recording in check mode, each naming the stable alternative.
    public var warnings: [String] { _diagnostics.warnings }

    /// Check mode: inspects the statement recorded last, if it has not been yet. Its columns
    /// are complete; its value is the recorder's `lastValue`.
    func _inspectPending(recorder r: inout _Recorder) {
        guard r.checking, r.inspectionPending else { return }
        r.inspectionPending = false
        let identifier = r.nextIdentifier &- 1
        let value = r.lastValue
        // Values by identifier (entry 0 is the constants' slot).
        if _diagnostics.values.isEmpty { _diagnostics.values.append(0) }
        while _diagnostics.values.count < Int(identifier) { _diagnostics.values.append(.nan) }
        guard r.statementCount > 0 else { return }
        let count = r.argumentCounts[r.statementCount - 1]
        let isExternal = count == _StatementCode.external
        _diagnostics.values.append(isExternal ? 0 : value)
        guard _diagnostics.recording == nil, !isExternal else { return }
        let n = Int(count)
        var finite = value.isFinite
        for j in 0..<n where !r.partials[r.partialCount - n + j].isFinite { finite = false }
        guard !finite else { return }
        let arguments = (0..<n).map { j -> NonFiniteReport.Argument in
            let id = r.identifiers[r.identifierCount - n + j]
            return NonFiniteReport.Argument(
                identifier: id, value: _diagnostics.value(of: id), partial: r.partials[r.partialCount - n + j])
        }
        _diagnostics.recording = NonFiniteReport(
            phase: .recording, identifier: identifier, operation: n == 0 ? "input" : "\(r.operation)", value: value,
            arguments: arguments, adjoint: nil,
            position: TapePosition(
                chunk: currentChunk, statement: r.statementCount - 1, identifier: r.identifierCount - n,
                partial: r.partialCount - n))
    }

    @usableFromInline
    func _warn(_ message: String) {
        if _diagnostics.warnings.count < 100 { _diagnostics.warnings.append(message) }
    }

    /// The checked sweep of one chunk: like `_sweep`, but it stops at the first contribution
    /// that is not finite and records where it came from.
    func _sweepChecked(
        _ chunk: _TapeChunk, chunkIndex: Int, statementsFrom upper: Int, downTo lower: Int, identifierEnd: Int,
        partialEnd: Int, externals: [_ExternalStatement], adjoints: UnsafeMutablePointer<Double>
    ) -> Bool {
        var s = upper
        var k = identifierEnd
        var q = partialEnd
        var id = Int(chunk.firstIdentifier) &+ s
        while s > lower {
            s -= 1
            id -= 1
            let n = Int(chunk.argumentCounts[s])
            if n == 0 { continue }
            if n == Int(_StatementCode.external) {
                k -= 1
                let external = externals[Int(chunk.identifiers[k])]
                q -= max(external.partialCount, 1)
                external.reverse(firstOutput: UInt32(id + 1), partials: chunk.partials + q, adjoints: adjoints)
                continue
            }
            k -= n
            q -= n
            let a = adjoints[id]
            if a == 0 { continue }
            var bad = !a.isFinite
            for j in 0..<n {
                let contribution = chunk.partials[q + j] * a
                if !contribution.isFinite { bad = true }
                adjoints[Int(chunk.identifiers[k + j])] += contribution
            }
            if bad {
                _diagnostics.sweep = NonFiniteReport(
                    phase: .reverseSweep, identifier: UInt32(id), operation: "statement",
                    value: _diagnostics.value(of: UInt32(id)),
                    arguments: (0..<n).map { j in
                        let argument = chunk.identifiers[k + j]
                        return NonFiniteReport.Argument(
                            identifier: argument, value: _diagnostics.value(of: argument), partial: chunk.partials[q + j])
                    },
                    adjoint: a, position: TapePosition(chunk: chunkIndex, statement: s, identifier: k, partial: q))
                return false
            }
        }
        return true
    }
}

/// What check mode keeps about a recording.
final class _TapeDiagnostics {
    var values: [Double] = []
    var recording: NonFiniteReport?
    var sweep: NonFiniteReport?
    var warnings: [String] = []

    func value(of identifier: UInt32) -> Double {
        Int(identifier) < values.count ? values[Int(identifier)] : .nan
    }

    func reset() {
        values.removeAll(keepingCapacity: true)
        recording = nil
        sweep = nil
        warnings.removeAll()
    }
}
