/// A local function of any number of inputs: `LocalFunction` without its limit of
/// `LocalValues.capacity` (8) inputs, for kernels that read several fields at several points
/// (a flux of a two-field system over a five-point stencil has ten inputs).
///
/// On `Tracked` it is preaccumulated like a `LocalFunction`: the function runs on `Dual` values
/// with eight tangent lanes, ⌈n/8⌉ times for n inputs (each pass seeds the next eight inputs),
/// and each output is recorded as one statement with its n partials — instead of one
/// statement per operation inside. On `Double` and `Dual` it is simply called.
///
/// Why arrays here and `LocalValues` there: `LocalValues` keeps up to eight values in
/// registers, which is what makes a stencil point cost nanoseconds; a wider function is
/// rarer and does enough work per call that an array per call does not show. For many inputs
/// and few outputs the ⌈n/8⌉ passes cost more than one local reverse sweep per output would;
/// a local reverse mode for that shape is still to be built and measured.
///
/// ```swift
/// /// Rusanov flux of a shallow-water pair (h, hu) between two cells, with gravity g.
/// struct Flux: WideLocalFunction {
///     var g: Double
///     func callAsFunction<T: SimulationScalar>(_ x: [T]) -> [T] {
///         let (hl, hul, hr, hur) = (x[0], x[1], x[2], x[3])
///         // ...
///         return [fluxH, fluxHU]
///     }
/// }
/// let out = Tracked.evaluate(Flux(g: 9.81), inputs)     // two statements, four partials each
/// ```
public protocol WideLocalFunction {
    /// The outputs at `inputs`; called with `Double`, `Dual` and `Tracked` alike, so write it
    /// once, generically. It must return the same number of outputs for every call with the
    /// same number of inputs.
    func callAsFunction<T: SimulationScalar>(_ inputs: [T]) -> [T]
}

extension SimulationScalar {
    /// `function(inputs)`: on `Double` and `Dual` the function is simply called.
    ///
    /// ```swift
    /// let outputs = S.evaluate(flux, [hl, hul, hr, hur])
    /// ```
    @inlinable
    public static func evaluate<F: WideLocalFunction>(_ function: F, _ inputs: [Self]) -> [Self] {
        function(inputs)
    }
}

extension Tracked {
    /// `function(inputs)` preaccumulated: one statement per output (see `WideLocalFunction`).
    @inlinable
    public static func evaluate<F: WideLocalFunction>(_ function: F, _ inputs: [Tracked]) -> [Tracked] {
        _preaccumulateWide(function, inputs)
    }

    /// ⌈n/8⌉ forward passes with 8 tangent lanes give every output's n partials; each output
    /// is then one statement (or a few, past 253 arguments: `applying(value:partials:to:)`).
    @inlinable
    static func _preaccumulateWide<F: WideLocalFunction>(_ function: F, _ inputs: [Tracked]) -> [Tracked] {
        typealias Lanes = SIMD8<Double>
        let n = inputs.count
        if n == 0 { return function(inputs) }
        var values: [Double] = []
        var partials: [[Double]] = []
        var first = 0
        while first < n {
            let seeded = (0..<n).map { j in
                Dual<Lanes>(inputs[j].value, tangent: j >= first && j < first + 8 ? Lanes.unit(j - first) : .zero)
            }
            let outputs = function(seeded)
            if first == 0 {
                values = outputs.map(\.value)
                partials = [[Double]](repeating: [Double](repeating: 0, count: n), count: outputs.count)
            }
            precondition(
                outputs.count == values.count,
                "a WideLocalFunction returned \(outputs.count) outputs in one call and \(values.count) in another "
                    + "for the same \(n) inputs")
            for (o, output) in outputs.enumerated() {
                for lane in 0..<Swift.min(8, n - first) { partials[o][first + lane] = output.tangent[lane] }
            }
            first += 8
        }
        return (0..<values.count).map { o in
            applying(value: values[o], partials: partials[o], to: inputs)
        }
    }
}
