import RewindCore
/// Jacobians and batches of vector–Jacobian products of a recorded function on several threads.
extension RecordedFunction {
    /// The Jacobian, `[row][column]`, one sweep per output spread over `options.threads`;
    /// bitwise equal to `jacobian()`.
    ///
    /// ```swift
    /// let f = RecordedFunction(at: [1.0, 2.0]) { x in [x[0] * x[1], Tracked.sin(x[0])] }
    /// f.jacobian(options: ParallelOptions(threads: 2))   // [[2, 1], [cos(1), 0]]
    /// ```
    public func jacobian(options: ParallelOptions) -> [[Double]] {
        pullbacks(outputs.indices.map { row in outputs.indices.map { $0 == row ? 1.0 : 0.0 } }, options: options)
    }

    /// The vector–Jacobian products `wᵀ J` for several cotangents `w`, concurrently; entry `r`
    /// is bitwise `pullback(cotangents[r])`.
    public func pullbacks(_ cotangents: [[Double]], options: ParallelOptions = ParallelOptions()) -> [[Double]] {
        let seeds = cotangents.map { cotangent -> [(Tracked, Double)] in
            precondition(
                cotangent.count == outputs.count, "each cotangent needs one entry per output (\(outputs.count))")
            return Array(zip(outputs, cotangent))
        }
        return tape.reverse(seeds: seeds, reading: inputs, options: options)
    }
}
