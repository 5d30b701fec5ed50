import RewindCore
import Dispatch

/// Several reverse sweeps over one recording, concurrently.
///
/// A recorded tape is frozen while it is swept: sweeps only read its columns, so k seeds
/// (k output weightings, k Jacobian rows) can be swept at once, each with its own adjoints.
/// The results are bitwise those of k serial `reverse(_:seeding:)` calls, whatever the
/// threads and sweep mode.
extension Tape {
    /// Sweeps once per seed and returns, for each seed, the adjoints of `inputs`.
    ///
    /// Row `r` is the vector–Jacobian product of seed `r`: `Σ seed · ∂output/∂input` for each
    /// input. Seeds are added onto zeroed adjoints in their order, as `reverse(_:seeding:)` does.
    /// Pass a `workspace` to keep the workers' adjoint storage from one call to the next.
    ///
    /// ```swift
    /// let tape = Tape()
    /// let (x, y) = tape.record { () -> ([Tracked], [Tracked]) in
    ///     let x = tape.registerInputs([1, 2])
    ///     return (x, [x[0] * x[1], Tracked.sin(x[0])])
    /// }
    /// let jacobian = tape.reverse(
    ///     seeds: [[(y[0], 1)], [(y[1], 1)]], reading: x, options: ParallelOptions(threads: 2))
    /// // [[2, 1], [cos(1), 0]]
    /// ```
    ///
    /// - Complexity: `seeds.count` sweeps of the whole tape, divided among `options.threads`.
    public func reverse(
        seeds: [[(Tracked, Double)]], reading inputs: [Tracked], options: ParallelOptions = ParallelOptions(),
        workspace: SweepWorkspace? = nil
    ) -> [[Double]] {
        let frozen = _FrozenTape(self)
        let width = inputs.count
        let rows = UnsafeMutablePointer<Double>.allocate(capacity: max(1, seeds.count * width))
        defer { rows.deallocate() }
        let identifiers = inputs.map(\.identifier)
        let seedIdentifiers = seeds.map { $0.map { ($0.0.identifier, $0.1) } }
        let sweeper = workspace?.sweeper ?? _SeedSweeper()
        sweeper.options = options
        sweeper.run(
            frozen, lanes: seeds.count,
            seed: { lane, adjoints in
                for (identifier, value) in seedIdentifiers[lane] where identifier != 0 {
                    adjoints[identifier] += value
                }
            },
            collect: { lane, adjoints in
                let row = rows + lane * width
                for j in 0..<width { row[j] = adjoints[identifiers[j]] }
            })
        return (0..<seeds.count).map { Array(UnsafeBufferPointer(start: rows + $0 * width, count: width)) }
    }

    /// Sweeps once per seed into the given adjoint vectors (`adjoints[r]` gets seed `r`),
    /// `threads` sweeps at a time, in scalar mode: every entry of every vector is available
    /// afterwards, as after `reverse(_:seeding:)`.
    ///
    /// ```swift
    /// let vectors = (0..<4).map { _ in AdjointVector() }
    /// tape.reverse(vectors, seeds: outputs.map { [($0, 1.0)] }, threads: 2)
    /// vectors[3][x]   // ∂outputs[3]/∂x
    /// ```
    public func reverse(_ adjoints: [AdjointVector], seeds: [[(Tracked, Double)]], threads: Int) {
        precondition(adjoints.count == seeds.count, "one adjoint vector per seed (\(seeds.count))")
        precondition(threads >= 1, "parallel sweeps need at least 1 thread (got \(threads))")
        precondition(
            Set(adjoints.map(ObjectIdentifier.init)).count == adjoints.count,
            "each seed needs its own AdjointVector; two sweeps cannot share one")
        let frozen = _FrozenTape(self)
        let workers = min(threads, adjoints.count)
        let entries = frozen.identifierCount
        func work(_ worker: Int) {
            var lane = worker
            while lane < adjoints.count {
                let vector = adjoints[lane]
                vector.prepare(identifierCount: entries)
                for (value, seed) in seeds[lane] where value.identifier != 0 {
                    vector[value] += seed
                }
                frozen.sweep(vector.baseAddress, from: frozen.end, to: .start)
                lane += workers
            }
        }
        if workers <= 1 {
            for worker in 0..<max(workers, 0) { work(worker) }
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
    }
}
