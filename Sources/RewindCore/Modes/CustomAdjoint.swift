extension Tracked {
    /// A user kernel with a hand-written adjoint, recorded as one statement.
    ///
    /// Use it where differentiating the elementary operations would be wasteful or unstable: a
    /// linear solve (whose adjoint is a solve with the transpose), an iterative method, a call
    /// into C. The reverse closure receives the outputs' adjoints and must *set* the inputs'
    /// adjoint contributions (the buffer starts at zero; Rewind adds it to the sweep's adjoints).
    ///
    /// ```swift
    /// // y = 3x, differentiated by hand
    /// let y = Tracked.custom(inputs: [x], outputs: [3 * x.value]) { ybar, xbar in
    ///     xbar[0] = 3 * ybar[0]
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - inputs: The values the kernel reads; constants among them receive nothing.
    ///   - values: The kernel's results, computed by the caller in `Double`.
    ///   - reverse: Given the outputs' adjoints, writes each input's adjoint contribution
    ///     (the vector–Jacobian product of the kernel). It is called once per sweep, on the
    ///     sweeping thread, so it must not capture mutable state shared between sweeps.
    /// - Returns: The outputs as tracked values, one per entry of `values` (constants when
    ///   every input is a constant: nothing is recorded then).
    public static func custom(
        inputs: [Tracked], outputs values: [Double],
        reverse: @escaping (_ outputAdjoints: UnsafeBufferPointer<Double>, _ inputAdjoints: UnsafeMutableBufferPointer<Double>) -> Void
    ) -> [Tracked] {
        guard let live = inputs.first(where: { !$0.isConstant }) else { return values.map { Tracked($0) } }
        let recorder = _Recorder.current(for: live.tag)
        let tape = recorder.pointee.tape.takeUnretainedValue()
        let statement = _CustomStatement(
            inputs: inputs.map(\.identifier), outputCount: values.count, reverse: reverse)
        _ = tape._pushExternal(statement) { _ in }
        return values.map { recorder.pointee.pushLeaf($0) }
    }
}

final class _CustomStatement: _ExternalStatement {
    let inputs: [UInt32]
    let outputCount: Int
    let rule: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void

    init(
        inputs: [UInt32], outputCount: Int,
        reverse: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) {
        self.inputs = inputs
        self.outputCount = outputCount
        self.rule = reverse
    }

    var partialCount: Int { 0 }
    var byteCount: Int { 48 + inputs.count * 4 }

    func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>) {
        let outputAdjoints = UnsafeBufferPointer(start: adjoints + Int(firstOutput), count: outputCount)
        // No skip for zero output adjoints: the rule is the user's, and only it knows whether
        // it sends 0 back (a linear, finite rule does) or NaN (0·∞ inside it); the sweep's
        // zero-adjoint rule skips only what provably adds ±0 (docs/pitfalls.md).
        let inputAdjoints = UnsafeMutableBufferPointer<Double>.allocate(capacity: inputs.count)
        defer { inputAdjoints.deallocate() }
        inputAdjoints.initialize(repeating: 0)
        rule(outputAdjoints, inputAdjoints)
        for (j, id) in inputs.enumerated() where id != 0 {
            adjoints[Int(id)] += inputAdjoints[j]
        }
    }
}
