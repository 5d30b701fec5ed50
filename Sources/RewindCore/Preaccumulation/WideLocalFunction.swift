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
/// registers, which is what makes a stencil point cost nanoseconds. A wide function allocates
/// arrays on every call (inputs, outputs, one partial row per output); what that costs against
/// the operation-by-operation recording is not measured yet, and for many inputs and few
/// outputs one local reverse sweep per output would do less work than ⌈n/8⌉ forward passes.
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
        // One array of seeded inputs; each pass moves the eight unit tangents to the next inputs.
        var seeded = inputs.map { Dual<Lanes>($0.value, tangent: .zero) }
        var first = 0
        while first < n {
            let window = first..<Swift.min(first + 8, n)
            for j in window { seeded[j].tangent = Lanes.unit(j - first) }
            let outputs = function(seeded)
            for j in window { seeded[j].tangent = .zero }
            if first == 0 {
                values = outputs.map(\.value)
                partials = [[Double]](repeating: [Double](repeating: 0, count: n), count: outputs.count)
            }
            precondition(
                outputs.count == values.count,
                "a WideLocalFunction returned \(outputs.count) outputs in one call and \(values.count) in another "
                    + "for the same \(n) inputs")
            for (o, output) in outputs.enumerated() {
                for j in window { partials[o][j] = output.tangent[j - first] }
            }
            first += 8
        }
        return (0..<values.count).map { o in
            // Named as what it is in check mode's reports; wider than one statement, it is
            // split into groups by `applying`.
            if n <= Int(_StatementCode.maximumArguments) {
                return _nary(values[o], count: n, operation: "wide local function") { (inputs[$0], partials[o][$0]) }
            }
            return applying(value: values[o], partials: partials[o], to: inputs)
        }
    }
}
