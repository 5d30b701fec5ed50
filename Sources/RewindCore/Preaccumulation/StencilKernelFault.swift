import Synchronization

/// A stencil kernel caught not being a function of its neighbourhood, its parameters and its
/// own stored properties: it reads state that changes between its calls (a counter, a random
/// number, a forcing object the step updates).
///
/// Why an error and not a stop: such a kernel's partials belong to no run, and the checks that
/// catch it (below) used to end the process. Now the statement it recorded sweeps NaN into
/// every input and parameter it reads, so no finite gradient comes of it, and the tape names the
/// fault (`Tape.stencilKernelFault`) for a driver to throw, with its temporary files removed.
///
/// ```swift
/// tape.reverse(adjoints, seeding: seeds)
/// try tape.throwStencilKernelFault()   // the sweep's NaN, explained
/// ```
///
/// The raw value is the code a stencil statement keeps atomically (0 stands for no fault).
public enum StencilKernelFault: UInt8, Error, Equatable, Sendable, CustomStringConvertible {
    /// Evaluated again with the same inputs, the kernel gave another value (a block that keeps
    /// its partials is checked at its first point).
    case changedBetweenEvaluations = 1
    /// At a point other than where Rewind tested it, a kernel found affine in its neighbours
    /// gave other neighbour partials (one point of every row is checked for one field; for
    /// several, one point in each of up to eight rows, after the recording).
    case changedAfterProbe
    /// In the reverse sweep, a kernel whose inputs the tape kept gave other values than while
    /// recording, so the partials it gives now are not the recording's.
    case changedSinceRecording

    public var description: String {
        let what: String
        switch self {
        case .changedBetweenEvaluations:
            what = "a stencil kernel gave another value when evaluated again with the same inputs"
        case .changedAfterProbe:
            what = "a stencil kernel gave partials at a grid point other than it gave where Rewind tested it"
        case .changedSinceRecording:
            what = "a stencil kernel gave other values in the reverse sweep than while recording"
        }
        return what + ": a kernel must depend only on its neighbours, its parameters and its own stored "
            + "properties, not on state that changes between evaluations (pass such values as parameters)"
    }
}

/// A stencil statement's fault, if one was found: a `StencilKernelFault` code kept atomically
/// (0: none), because sweeps of one tape may run at once and any of them may find it.
@usableFromInline
package final class _StencilFaultMark {
    let code = Atomic<UInt8>(0)

    @usableFromInline package init() {}

    /// The fault found, if any; the statement's sweeps then give NaN.
    var fault: StencilKernelFault? { StencilKernelFault(rawValue: code.load(ordering: .relaxed)) }

    /// Whether a fault was found (the sweep's test, one load).
    @inline(__always) var isSet: Bool { code.load(ordering: .relaxed) != 0 }

    /// Notes `fault` (the first one found stays).
    func note(_ fault: StencilKernelFault) {
        _ = code.compareExchange(expected: 0, desired: fault.rawValue, ordering: .relaxed)
    }
}

/// An external statement of a stencil (one field or several), which can be found at fault.
@usableFromInline
package protocol _StencilFaultReporting: _ExternalStatement {
    var faultMark: _StencilFaultMark { get }
}

extension _StencilFaultReporting {
    /// The kernel's fault, if one was found; the statement's sweeps then give NaN.
    var fault: StencilKernelFault? { faultMark.fault }
    /// Notes `fault` (the first one found stays).
    func note(_ fault: StencilKernelFault) { faultMark.note(fault) }
}

extension Tape {
    /// The first stencil kernel fault found in the recording since the last reset, while
    /// recording or in a sweep; its statements' sweeps gave NaN.
    public var stencilKernelFault: StencilKernelFault? {
        for external in externals {
            if let statement = external as? _StencilFaultReporting, let fault = statement.fault { return fault }
        }
        return nil
    }

    /// Throws `stencilKernelFault` if there is one: call it after a sweep to turn its NaN into
    /// the error that caused it (the time-stepping drivers do).
    public func throwStencilKernelFault() throws {
        if let fault = stencilKernelFault { throw fault }
    }

    /// External statements recorded so far: where a stencil's own statements will begin.
    @usableFromInline package var _externalCount: Int { externals.count }

    /// Marks the stencil statements recorded from external statement `first` on with `fault`.
    @usableFromInline package func _noteStencilKernelFault(_ fault: StencilKernelFault, statementsFrom first: Int) {
        for external in externals[first...] {
            (external as? _StencilFaultReporting)?.note(fault)
        }
    }
}
