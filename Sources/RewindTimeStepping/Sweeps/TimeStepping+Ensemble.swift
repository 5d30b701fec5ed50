import RewindCore
import RewindParallel
import Dispatch

/// One member of an ensemble: a simulation's own initial state and parameters.
public struct EnsembleMember: Hashable, Sendable {
    /// The member's `x₀`.
    public var initialState: [Double]
    /// The member's `p`.
    public var parameters: [Double]

    /// A member with its own initial state and parameters.
    public init(initialState: [Double], parameters: [Double]) {
        self.initialState = initialState
        self.parameters = parameters
    }

    /// The command line's ensemble rule: member `m` (from 0) starts from `initialState` with
    /// the first parameter scaled by `1 + 0.01·m`, the others unchanged, so member 0 is the
    /// unperturbed run.
    ///
    /// ```swift
    /// EnsembleMember.scalingFirstParameter(initialState: [1, 1, 1], parameters: [10, 28, 8.0 / 3], count: 3)
    /// // sigma = 10, 10.1, 10.2
    /// ```
    public static func scalingFirstParameter(initialState: [Double], parameters: [Double], count: Int) -> [EnsembleMember] {
        (0..<count).map { m in
            var scaled = parameters
            if !scaled.isEmpty { scaled[0] = scaled[0] * (1 + 0.01 * Double(m)) }
            return EnsembleMember(initialState: initialState, parameters: scaled)
        }
    }
}

extension TimeStepping {
    /// The gradients of independent runs of one problem (an ensemble: different parameters
    /// or initial states), differentiated concurrently.
    ///
    /// Each member is an ordinary `gradient` run with its own tape, recorded on the thread
    /// that runs it, with `options.memoryBudget` divided evenly among the members that run
    /// at once (`min(threads, members.count)`), so the whole ensemble stays in the budget.
    /// Worker `w` of `W` runs members `w, w + W, ...`; every member's result is bitwise what a
    /// lone `gradient` call with that share of the budget gives. `options.progress` is not
    /// called (members finish out of order), and `options.workspace` is not used (its one tape
    /// cannot record on several threads at once). The problem is shared by all workers: its
    /// `step` must not mutate shared state (the bundled models are plain values).
    ///
    /// ```swift
    /// let members = EnsembleMember.scalingFirstParameter(
    ///     initialState: model.initialState(), parameters: [10, 28, 8.0 / 3], count: 8)
    /// let results = try TimeStepping.gradients(
    ///     of: model, members: members, steps: 10_000, threads: 2)
    /// results[3].parameterGradient
    /// ```
    ///
    /// - Throws: the first member's error, in member order, if any member fails.
    @inlinable
    public static func gradients<P: TimeSteppingProblem>(
        of problem: P, members: [EnsembleMember], steps: Int, options: TimeSteppingOptions = TimeSteppingOptions(),
        threads: Int = 1
    ) throws -> [GradientResult] {
        precondition(threads >= 1, "an ensemble needs at least 1 thread (got \(threads))")
        precondition(options.group == nil, "an ensemble's members run concurrently: they take no TimeSteppingGroup")
        guard !members.isEmpty else { throw ParallelError.emptyEnsemble }
        let workers = min(threads, members.count)
        var memberOptions = options
        memberOptions.progress = nil
        // A workspace holds one tape, which records on one thread at a time: members get their own.
        memberOptions.workspace = nil
        memberOptions.memoryBudget = MemoryBudget(bytes: options.memoryBudget.bytes / workers)
        let results = UnsafeMutableBufferPointer<Result<GradientResult, Error>?>.allocate(capacity: members.count)
        results.initialize(repeating: nil)
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        _forEachWorker(workers) { worker in
            var m = worker
            while m < members.count {
                // Each slot is written by exactly one worker; the buffer is never resized.
                results[m] = Result {
                    try gradient(
                        of: problem, initialState: members[m].initialState, parameters: members[m].parameters,
                        steps: steps, options: memberOptions)
                }
                m += workers
            }
        }
        return try results.map { try $0!.get() }
    }
}

/// Runs `body(0 ..< workers)` with `DispatchQueue.concurrentPerform`, or on the calling thread
/// when there is one worker.
@usableFromInline
package func _forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
        body(0)
    } else {
        DispatchQueue.concurrentPerform(iterations: workers, execute: body)
    }
}
