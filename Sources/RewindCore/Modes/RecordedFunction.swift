/// A function of several variables recorded once at a point, then swept as often as needed:
/// one reverse sweep per cotangent (a vector–Jacobian product), one per output row for a
/// Jacobian. The recording is frozen: sweeps only read it, so they may run concurrently,
/// each with its own `AdjointVector`.
///
/// ```swift
/// let f = RecordedFunction(at: [1.0, 2.0]) { x in [x[0] * x[1], Tracked.sin(x[0])] }
/// f.pullback([1, 0])      // the gradient of x0·x1
/// f.jacobian()            // 2×2
/// ```
public final class RecordedFunction {
    /// The tape holding the recording; sweeps only read it.
    public let tape: Tape
    /// The independent variables, one per coordinate of the recorded point.
    public let inputs: [Tracked]
    /// The function's results as recorded.
    public let outputs: [Tracked]

    /// Records `function` at `point`.
    ///
    /// - Parameters:
    ///   - point: The inputs' values; each becomes a registered input.
    ///   - tape: The tape to record on; it is reset first, so a tape reused across calls keeps
    ///     its memory.
    ///   - function: The function, on tracked values.
    /// - Throws: Whatever `function` throws.
    public init(at point: [Double], tape: Tape = Tape(), _ function: ([Tracked]) throws -> [Tracked]) rethrows {
        self.tape = tape
        tape.reset()
        let (inputs, outputs) = try tape.record { () throws -> ([Tracked], [Tracked]) in
            let inputs = tape.registerInputs(point)
            return (inputs, try function(inputs))
        }
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The function's value at the recorded point.
    public var value: [Double] { outputs.map(\.value) }

    /// The vector–Jacobian product `wᵀ J` (the gradient of `Σ wᵢ fᵢ`), by one reverse sweep.
    ///
    /// Why one sweep gives a whole row combination: the sweep propagates the weights `w` from
    /// the outputs back to every input at once, so its cost does not grow with the number of
    /// inputs.
    ///
    /// - Parameters:
    ///   - cotangent: `w`, one weight per output.
    ///   - adjoints: Storage for the sweep; pass one to reuse its memory across calls.
    /// - Returns: `wᵀ J`, one entry per input.
    public func pullback(_ cotangent: [Double], adjoints: AdjointVector = AdjointVector()) -> [Double] {
        precondition(cotangent.count == outputs.count, "the cotangent needs one entry per output (\(outputs.count))")
        tape.reverse(adjoints, seeding: Array(zip(outputs, cotangent)))
        return inputs.map { adjoints[$0] }
    }

    /// The Jacobian, row by row: one reverse sweep per output.
    ///
    /// - Returns: `J[i][j] = ∂fᵢ/∂xⱼ`, one row per output.
    public func jacobian() -> [[Double]] {
        let adjoints = AdjointVector()
        return outputs.indices.map { row in
            var seed = [Double](repeating: 0, count: outputs.count)
            seed[row] = 1
            return pullback(seed, adjoints: adjoints)
        }
    }
}

/// The value and gradient of a scalar function, by one recording and one reverse sweep.
///
/// - Parameters:
///   - point: Where to differentiate.
///   - function: The function, on tracked values.
/// - Returns: `f(point)` and `∇f(point)`, one entry per input.
/// - Throws: Whatever `function` throws.
///
/// ```swift
/// let (value, gradient) = valueWithGradient(at: [1.0, 2.0]) { x in x[0] * x[0] * x[1] }
/// // value 2, gradient [4, 1]
/// ```
public func valueWithGradient(
    at point: [Double], of function: ([Tracked]) throws -> Tracked
) rethrows -> (value: Double, gradient: [Double]) {
    let recorded = try RecordedFunction(at: point) { [try function($0)] }
    return (recorded.value[0], recorded.pullback([1]))
}

/// The gradient of a scalar function, by one recording and one reverse sweep.
///
/// Reverse mode is the right tool here because the cost of the sweep is a small multiple of
/// one evaluation of `function`, whatever the number of inputs; finite differences or the
/// tangent mode would need one evaluation per input.
///
/// ```swift
/// let g = gradient(at: [1.0, 2.0]) { x in x[0] * x[0] * x[1] }   // [4, 1]
/// ```
///
/// - Parameters:
///   - point: Where to differentiate.
///   - function: The function, on tracked values.
/// - Returns: `∇f(point)`, one entry per input.
/// - Throws: Whatever `function` throws.
public func gradient(at point: [Double], of function: ([Tracked]) throws -> Tracked) rethrows -> [Double] {
    try valueWithGradient(at: point, of: function).gradient
}

/// The vector–Jacobian product `wᵀ J_f(x)`, by one reverse sweep.
///
/// - Parameters:
///   - point: `x`.
///   - cotangent: `w`, one weight per output.
///   - function: The function, on tracked values.
/// - Returns: `wᵀ J_f(x)`, one entry per input.
/// - Throws: Whatever `function` throws.
public func vectorJacobianProduct(
    at point: [Double], cotangent: [Double], of function: ([Tracked]) throws -> [Tracked]
) rethrows -> [Double] {
    try RecordedFunction(at: point, function).pullback(cotangent)
}

/// The Jacobian `J_f(x)` by reverse sweeps (one per output), `[row][column]`.
///
/// - Parameters:
///   - point: `x`.
///   - function: The function, on tracked values.
/// - Returns: `J[i][j] = ∂fᵢ/∂xⱼ`.
/// - Throws: Whatever `function` throws.
public func jacobian(at point: [Double], of function: ([Tracked]) throws -> [Tracked]) rethrows -> [[Double]] {
    try RecordedFunction(at: point, function).jacobian()
}

/// The Jacobian–vector product `J_f(x) v` by the tangent mode (no tape).
///
/// ```swift
/// let jv = jacobianVectorProduct(at: [1.0, 2.0], direction: [1, 0]) { x in [x[0] * x[1]] }
/// ```
///
/// - Parameters:
///   - point: `x`.
///   - direction: `v`, one entry per input.
///   - function: The function, on dual numbers.
/// - Returns: `f(x)` and `J_f(x) v`, one entry per output each.
/// - Throws: Whatever `function` throws.
public func jacobianVectorProduct(
    at point: [Double], direction: [Double], of function: ([Dual<Double>]) throws -> [Dual<Double>]
) rethrows -> (value: [Double], product: [Double]) {
    precondition(point.count == direction.count, "the direction needs one entry per input")
    let outputs = try function(zip(point, direction).map { Dual($0, tangent: $1) })
    return (outputs.map(\.value), outputs.map(\.tangent))
}
