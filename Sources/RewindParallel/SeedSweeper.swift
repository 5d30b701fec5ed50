import RewindCore
import Dispatch

/// One seed's adjoints inside a sweep's storage: a scalar `AdjointVector` (`stride` 1), or one
/// lane of a SIMD adjoint buffer (`stride` = the lane count, `base` offset by the lane).
@usableFromInline
package struct _LaneAdjoints {
    @usableFromInline package let base: UnsafeMutablePointer<Double>
    @usableFromInline package let stride: Int

    @usableFromInline package init(base: UnsafeMutablePointer<Double>, stride: Int) {
        self.base = base
        self.stride = stride
    }

    /// The adjoint of an identifier (0, a constant's entry, reads as 0 as in `AdjointVector`).
    @usableFromInline package subscript(identifier: UInt32) -> Double {
        get { identifier == 0 ? 0 : base[Int(identifier) &* stride] }
        nonmutating set { base[Int(identifier) &* stride] = newValue }
    }
}

/// Runs one reverse sweep per seed ("lane") over a frozen tape, spread over threads with
/// `DispatchQueue.concurrentPerform`, in scalar or SIMD mode.
///
/// Worker `w` of `W` takes lanes (or SIMD batches) `w, w + W, w + 2W, ...`: a fixed
/// assignment, so no counter is shared. Each worker owns its adjoint storage, allocated here
/// before the workers start; the inner loop touches only that storage and the tape's
/// read-only columns, so it needs no lock or atomic. The `seed` and `collect` callbacks run on
/// the workers, each call for a different lane: they must write only to that lane's slots.
///
/// Small sweeps (one time step of a small state) run on the calling thread: a dispatch costs
/// more than it saves below `parallelThreshold` multiply-adds. The results are the same
/// either way.
@usableFromInline
package final class _SeedSweeper {
    @usableFromInline package var options: ParallelOptions
    private var scalarStorage: [AdjointVector] = []
    private var vectorStorage: [UnsafeMutableRawPointer] = []
    private var vectorCapacityInBytes = 0
    /// The mode of the last sweep, after `auto` and the externals fallback are resolved.
    @usableFromInline package private(set) var lastMode: SweepMode = .scalar
    /// Adjoint storage bytes held, for memory reports.
    @usableFromInline package var byteCount: Int {
        scalarStorage.reduce(0) { $0 + $1.byteCount } + vectorStorage.count * vectorCapacityInBytes
    }

    /// Multiply-adds (arguments × lanes) below which a run stays on the calling thread.
    @usableFromInline package static let parallelThreshold = 1 << 16

    @usableFromInline
    package init(options: ParallelOptions = ParallelOptions()) {
        self.options = options
    }

    deinit {
        for buffer in vectorStorage { buffer.deallocate() }
    }

    /// Sweeps `tape` from `end` down to `start` once per lane `0 ..< lanes`.
    ///
    /// For each lane: the adjoints are zeroed, `seed(lane, adjoints)` sets the lane's seeds,
    /// the tape is swept, and `collect(lane, adjoints)` reads what the lane needs.
    @usableFromInline
    package func run(
        _ tape: _FrozenTape, lanes: Int, from end: TapePosition? = nil, to start: TapePosition = .start,
        seed: (_ lane: Int, _ adjoints: _LaneAdjoints) -> Void,
        collect: (_ lane: Int, _ adjoints: _LaneAdjoints) -> Void
    ) {
        guard lanes > 0 else { return }
        let end = end ?? tape.end
        let mode = options.sweepMode.resolved(
            seeds: lanes, threads: options.threads, tapeHasExternalStatements: tape.hasExternalStatements)
        lastMode = mode
        let width = mode.laneWidth
        let units = (lanes + width - 1) / width
        let worthSpreading = tape.argumentCount &* lanes >= _SeedSweeper.parallelThreshold
        let workers = worthSpreading ? min(options.threads, units) : 1
        let entries = max(tape.identifierCount, 1)

        switch mode {
        case .auto, .scalar:
            while scalarStorage.count < workers { scalarStorage.append(AdjointVector()) }
            let storage = scalarStorage
            // A local function, not a closure value: it may use the non-escaping callbacks.
            func work(_ worker: Int) {
                let adjoints = storage[worker]
                var lane = worker
                while lane < lanes {
                    adjoints.prepare(identifierCount: entries)
                    let view = _LaneAdjoints(base: adjoints.baseAddress, stride: 1)
                    seed(lane, view)
                    tape.sweep(adjoints.baseAddress, from: end, to: start)
                    collect(lane, view)
                    lane += workers
                }
            }
            if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        case .simd4:
            runVector(SIMD4<Double>.self, tape, lanes: lanes, workers: workers, entries: entries, end, start, seed, collect)
        case .simd8:
            runVector(SIMD8<Double>.self, tape, lanes: lanes, workers: workers, entries: entries, end, start, seed, collect)
        }
    }

    private func runVector<V: SIMD>(
        _: V.Type, _ tape: _FrozenTape, lanes: Int, workers: Int, entries: Int, _ end: TapePosition,
        _ start: TapePosition, _ seed: (Int, _LaneAdjoints) -> Void, _ collect: (Int, _LaneAdjoints) -> Void
    ) where V.Scalar == Double {
        let width = V.scalarCount
        let batches = (lanes + width - 1) / width
        let bytes = entries * MemoryLayout<V>.stride
        if bytes > vectorCapacityInBytes {
            for buffer in vectorStorage { buffer.deallocate() }
            vectorStorage.removeAll()
            vectorCapacityInBytes = bytes
        }
        while vectorStorage.count < workers {
            vectorStorage.append(.allocate(byteCount: vectorCapacityInBytes, alignment: MemoryLayout<V>.alignment))
        }
        let storage = vectorStorage
        func work(_ worker: Int) {
            let adjoints = storage[worker].bindMemory(to: V.self, capacity: entries)
            let scalars = UnsafeMutableRawPointer(adjoints).assumingMemoryBound(to: Double.self)
            var batch = worker
            while batch < batches {
                adjoints.initialize(repeating: .zero, count: entries)
                let first = batch * width
                let count = min(width, lanes - first)
                for l in 0..<count { seed(first + l, _LaneAdjoints(base: scalars + l, stride: width)) }
                tape.sweep(adjoints, from: end, to: start)
                for l in 0..<count { collect(first + l, _LaneAdjoints(base: scalars + l, stride: width)) }
                batch += workers
            }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
    }
}

/// Adjoint storage kept between calls of `Tape.reverse(seeds:reading:options:workspace:)`, so
/// that repeated parallel sweeps touch their memory once (fresh pages cost a fault each, and
/// faults on several threads at once serialise in the kernel).
///
/// A workspace serves one call at a time; give concurrent callers their own.
///
/// ```swift
/// let workspace = SweepWorkspace()
/// for seeds in batches { rows += tape.reverse(seeds: seeds, reading: x, workspace: workspace) }
/// ```
public final class SweepWorkspace {
    let sweeper = _SeedSweeper()
    /// An empty workspace; it grows on first use.
    public init() {}
    /// Bytes of adjoint storage held.
    public var byteCount: Int { sweeper.byteCount }
}
