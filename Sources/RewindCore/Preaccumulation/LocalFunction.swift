/// A small function of a few inputs (at most `LocalValues.capacity`), written once for every
/// scalar type, that `Tracked` records as one statement per output.
///
/// This is Rewind's substitute for C++ expression templates. An RK4 step of a 3-variable ODE
/// is about 60 arithmetic operations; recorded one by one it costs 60–90 statements. As a
/// local function it is evaluated once with a `Dual` whose SIMD lanes carry one direction per
/// input, which yields the whole local Jacobian, and then recorded as 3 statements of 6
/// arguments each.
///
/// ```swift
/// struct Rotate: LocalFunction {
///     func callAsFunction<T: SimulationScalar>(_ x: LocalValues<T>) -> LocalValues<T> {
///         LocalValues(count: 2) { $0 == 0 ? T.cos(x[0]) * x[1] : T.sin(x[0]) * x[1] }
///     }
/// }
/// let y = Tracked.evaluate(Rotate(), LocalValues([angle, radius]))
/// ```
public protocol LocalFunction {
    /// The function's outputs at `inputs`, written once for every scalar type: Rewind calls it on
    /// `Dual` with one SIMD lane per input to get the local Jacobian in one evaluation.
    ///
    /// - Parameter inputs: At most `LocalValues.capacity` values.
    /// - Returns: At most `LocalValues.capacity` outputs.
    func callAsFunction<T: SimulationScalar>(_ inputs: LocalValues<T>) -> LocalValues<T>
}

extension Tracked {
    /// Records `function` as one statement per output whose partials are its local Jacobian.
    @inlinable @inline(__always)
    public static func evaluate<F: LocalFunction>(_ function: F, _ inputs: LocalValues<Tracked>) -> LocalValues<Tracked> {
        switch inputs.count {
        case 0: return function(inputs)
        case 1...2: return _preaccumulate(function, inputs, SIMD2<Double>.self)
        case 3...4: return _preaccumulate(function, inputs, SIMD4<Double>.self)
        default: return _preaccumulate(function, inputs, SIMD8<Double>.self)
        }
    }

    @inlinable @inline(__always)
    static func _preaccumulate<F: LocalFunction, D: TangentDirections>(
        _ function: F, _ inputs: LocalValues<Tracked>, _: D.Type
    ) -> LocalValues<Tracked> {
        let seeded = LocalValues<Dual<D>>(count: inputs.count) { Dual(inputs[$0].value, tangent: D.unit($0)) }
        let outputs = function(seeded)
        return LocalValues<Tracked>(count: outputs.count) { o in
            let output = outputs[o]
            return _nary(output.value, count: inputs.count) { j in (inputs[j], output.tangent[lane: j]) }
        }
    }
}
