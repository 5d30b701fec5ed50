import RewindCore
/// How the adjoints of several seeds are carried through a reverse sweep.
///
/// - `scalar`: one sweep per seed, each with its own `AdjointVector`; sweeps of different
///   seeds run on different threads. Works for every tape.
/// - `simd4`, `simd8`: one sweep per batch of 4 or 8 seeds with SIMD adjoints (each entry
///   carries one lane per seed; see `Tape._vectorSweep`); batches run on different threads.
///   Tapes with external statements (stencils, custom adjoints) have scalar reverse rules
///   only, so they are always swept in scalar mode, whatever is asked.
/// - `auto`: the faster for the seed count and threads, from the crossover measured on the
///   development machine (docs/parallel.md): `simd4` from 2 seeds on
///   1 thread, from 4 seeds on 2 threads (when the busiest thread sweeps fewer batches × 1.8
///   than it would sweep seeds); never `simd8`, which measured slower than scalar here.
///
/// Every mode gives bitwise the same adjoints as serial scalar sweeps.
///
/// ```swift
/// let rows = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: 2, sweepMode: .simd4))
/// ```
public enum SweepMode: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Choose `scalar` or `simd4` from the seed count and threads (see
    /// `resolved(seeds:threads:tapeHasExternalStatements:)`).
    case auto
    /// One sweep per seed.
    case scalar
    /// One sweep per batch of 4 seeds, with 4-lane adjoints.
    case simd4
    /// One sweep per batch of 8 seeds, with 8-lane adjoints.
    case simd8

    /// The mode's name (`auto`, `scalar`, `simd4`, `simd8`), as reports print it.
    public var description: String { rawValue }

    /// Lanes per sweep: 1 for scalar (and auto, before it is resolved).
    public var laneWidth: Int {
        switch self {
        case .auto, .scalar: return 1
        case .simd4: return 4
        case .simd8: return 8
        }
    }

    /// The mode `auto` stands for, for `seeds` seeds on `threads` threads over a tape with or
    /// without external statements; an explicit SIMD mode falls back to scalar when the tape
    /// has external statements.
    public func resolved(seeds: Int, threads: Int, tapeHasExternalStatements: Bool) -> SweepMode {
        if tapeHasExternalStatements { return .scalar }
        guard self == .auto else { return self }
        // Measured on lorenz 1e5 (docs/parallel.md): one simd4 sweep of 4 seeds costs
        // about 1.8 scalar sweeps, and simd8 was slower than scalar (an 8-lane double vector
        // spans four SSE registers on the baseline x86-64 target), so auto never picks it.
        // Compare the sweeps the busiest thread runs in each mode.
        let threads = max(1, threads)
        let scalarCost = Double((seeds + threads - 1) / threads)
        let batches = (seeds + 3) / 4
        let vectorCost = SweepMode.simd4CostInScalarSweeps * Double((batches + threads - 1) / threads)
        return vectorCost < scalarCost ? .simd4 : .scalar
    }

    /// The measured cost of one `simd4` sweep in scalar sweeps of the same tape.
    static let simd4CostInScalarSweeps = 1.8
}

/// Threads and sweep mode of a computation that runs several reverse sweeps.
///
/// Results never depend on either: each seed's adjoints are computed by exactly the same
/// operations in the same order whichever thread or SIMD lane carries them.
///
/// ```swift
/// let options = ParallelOptions(threads: 2)          // sweep mode auto
/// ```
public struct ParallelOptions: Hashable, Sendable {
    /// Workers for `DispatchQueue.concurrentPerform` (1 runs everything on the calling thread).
    public var threads: Int
    /// How seeds are batched into sweeps.
    public var sweepMode: SweepMode

    /// - Parameters:
    ///   - threads: Workers, at least 1.
    ///   - sweepMode: How seeds are batched; `auto` picks from measurements.
    public init(threads: Int = 1, sweepMode: SweepMode = .auto) {
        precondition(threads >= 1, "parallel sweeps need at least 1 thread (got \(threads))")
        self.threads = threads
        self.sweepMode = sweepMode
    }
}

/// Mistakes in asking for a Jacobian or an ensemble that the user can correct.
public enum ParallelError: Error, CustomStringConvertible, Equatable {
    /// A requested Jacobian row is not an index of the state.
    case rowOutOfRange(row: Int, stateCount: Int)
    /// A Jacobian was asked for with no rows.
    case noRows
    /// An ensemble was asked for with no members.
    case emptyEnsemble
    /// The checkpointing strategy cannot serve a Jacobian's repeated sweeps.
    case unsupportedStrategy(String)

    /// A sentence saying what to change.
    public var description: String {
        switch self {
        case .rowOutOfRange(let row, let stateCount):
            return "row \(row) is not a state index; the state has indices 0 to \(stateCount - 1)"
        case .noRows:
            return "a Jacobian needs at least one row"
        case .emptyEnsemble:
            return "an ensemble needs at least one member"
        case .unsupportedStrategy(let strategy):
            return "Jacobians support the store-all, revolve, online and auto strategies, not \(strategy)"
        }
    }
}
