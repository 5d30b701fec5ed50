import Rewind

/// A time-stepping problem with what a command line needs to run it: a name, default
/// parameters and steps, an initial condition, names for the state's components.
///
/// The bundled models (`Lorenz`, `Burgers`, `Heat2D`) are models, and so is any problem a user
/// writes: `RewindCommand.main(models:)` (module `RewindCommandLine`) gives an executable the
/// commands of `rewind` for a list of model types. Besides `TimeSteppingProblem`'s `stateCount`,
/// `parameterCount`, `step` and `objective`, a model of fixed size implements seven things:
///
/// ```swift
/// struct Decay: Model {
///     static let name = "decay"
///     static let summary = "x' = -k·x, explicit Euler (dt = 0.1), J = x_N²"
///     static let parameterNames = ["k"]
///     static let defaultParameters = [1.0]
///     static let defaultSteps = 100
///     let stateCount = 1, parameterCount = 1
///     func initialState() -> [Double] { [1.0] }
///     func step<S: SimulationScalar>(_ x: [S], parameters p: [S], into next: inout [S]) {
///         next[0] = x[0] - 0.1 * p[0] * x[0]
///     }
///     func objective<S: SimulationScalar>(finalState x: [S], runningCostSum: S, parameters: [S]) -> S {
///         x[0] * x[0]
///     }
/// }
/// ```
///
/// A model with a size (a grid of `n` points) also gives `defaultSize`, `init(size:)` and
/// `size`, and may narrow `sizeRange`. `stateName` (`x[17]`) and `elementary` (no
/// elementwise variant) have defaults.
///
/// The requirements whose names start with an underscore (`_gradient`, `_gradients`,
/// `_jacobian`, `_check`) are not for implementing: their default implementations call the
/// engine with `Self`, and because they are requirements the compiler emits them, specialised
/// for the concrete model, where the model conforms. A caller holding `any Model` (a command
/// line choosing a model by name) reaches a specialised engine through them; opening the
/// existential in a generic function instead would run the engine unspecialised, ~30× slower.
public protocol Model: TimeSteppingProblem {
    /// The name on the command line (`lorenz`, `burgers`, `heat2d`).
    static var name: String { get }
    /// One line for `rewind models`.
    static var summary: String { get }
    /// The parameters' names, in the order of `parameters` in `step` (`sigma`, `rho`, `beta`).
    static var parameterNames: [String] { get }
    /// The parameters' values when none is overridden, in the order of `parameterNames`.
    static var defaultParameters: [Double] { get }
    /// The steps of a run when none are asked for.
    static var defaultSteps: Int { get }
    /// The default size, or nil for a model of fixed size (the default).
    static var defaultSize: Int? { get }
    /// The sizes `init(size:)` accepts; `1...1_048_576` unless the model narrows it (the state
    /// must also fit the memory budget, which the engine checks before building it).
    static var sizeRange: ClosedRange<Int> { get }

    /// The model at its default size.
    init()
    /// The model at `size`, one of `sizeRange`. Called only for a model with a `defaultSize`;
    /// the default, for a model of fixed size, is `init()`.
    init(size: Int)

    /// The grid size (`n` or `m`), or nil for a model of fixed size (the default).
    var size: Int? { get }
    /// The initial state, `stateCount` values.
    func initialState() -> [Double]
    /// Names of the state's components for reports (`x`, `y`, `z`, or `u[17]`); by default
    /// `x[index]`.
    func stateName(_ index: Int) -> String
    /// Records steps elementwise (every arithmetic operation a statement) instead of
    /// preaccumulating local Jacobians; for comparisons and tests. By default always false
    /// (setting it does nothing): a model without an elementwise variant.
    var elementary: Bool { get set }

    // MARK: Specialised entry points (not for implementing; see the protocol's discussion)

    /// `TimeStepping.gradient(of: self, …)`, specialised for `Self`.
    func _gradient(initialState: [Double], parameters: [Double], steps: Int, options: TimeSteppingOptions) throws
        -> GradientResult
    /// `TimeStepping.gradients(of: self, members: …)` (an ensemble), specialised for `Self`.
    func _gradients(members: [EnsembleMember], steps: Int, options: TimeSteppingOptions, threads: Int) throws
        -> [GradientResult]
    /// `TimeStepping.jacobian(of: self, …)`, specialised for `Self`.
    func _jacobian(
        initialState: [Double], parameters: [Double], steps: Int, rows: [Int]?, options: TimeSteppingOptions,
        parallel: ParallelOptions
    ) throws -> JacobianResult
    /// `check.run(self, …)` with the model's state and parameter names, specialised for `Self`.
    func _check(
        _ check: DerivativeCheck, initialState: [Double], parameters: [Double], steps: Int, stateComponents: Int
    ) throws -> DerivativeCheckReport
}

extension Model {
    /// A model of fixed size.
    public static var defaultSize: Int? { nil }
    /// Up to 2²⁰ points; a model narrows it to what its grid allows.
    public static var sizeRange: ClosedRange<Int> { 1...(1 << 20) }
    /// A model of fixed size has none.
    public var size: Int? { nil }
    /// `x[index]`.
    public func stateName(_ index: Int) -> String { "x[\(index)]" }
    /// Always false: no elementwise variant.
    public var elementary: Bool {
        get { false }
        set {}
    }

    /// A model of fixed size is made by `init()`; a model with a `defaultSize` must implement
    /// `init(size:)`.
    public init(size: Int) {
        precondition(
            Self.defaultSize == nil, "model '\(Self.name)' has a default size, so it must implement init(size:)")
        self.init()
    }

    /// The model at `size`, or at its default size when `size` is nil.
    ///
    /// - Throws: `ModelError.fixedSize` for a size given to a model of fixed size,
    ///   `ModelError.sizeOutOfRange` for a size outside `sizeRange`.
    public static func make(size: Int?) throws -> Self {
        guard let size else { return Self() }
        guard defaultSize != nil else { throw ModelError.fixedSize(model: name) }
        guard sizeRange.contains(size) else { throw ModelError.sizeOutOfRange(model: name, size: size, range: sizeRange) }
        return Self(size: size)
    }
}

extension Model {
    @inlinable
    public func _gradient(initialState: [Double], parameters: [Double], steps: Int, options: TimeSteppingOptions) throws
        -> GradientResult
    {
        try TimeStepping.gradient(
            of: self, initialState: initialState, parameters: parameters, steps: steps, options: options)
    }

    @inlinable
    public func _gradients(members: [EnsembleMember], steps: Int, options: TimeSteppingOptions, threads: Int) throws
        -> [GradientResult]
    {
        try TimeStepping.gradients(of: self, members: members, steps: steps, options: options, threads: threads)
    }

    @inlinable
    public func _jacobian(
        initialState: [Double], parameters: [Double], steps: Int, rows: [Int]?, options: TimeSteppingOptions,
        parallel: ParallelOptions
    ) throws -> JacobianResult {
        try TimeStepping.jacobian(
            of: self, initialState: initialState, parameters: parameters, steps: steps, rows: rows, options: options,
            parallel: parallel)
    }

    @inlinable
    public func _check(
        _ check: DerivativeCheck, initialState: [Double], parameters: [Double], steps: Int, stateComponents: Int
    ) throws -> DerivativeCheckReport {
        let n = stateCount
        return try check.run(
            self, initialState: initialState, parameters: parameters, steps: steps, stateComponents: stateComponents,
            names: { $0 < n ? self.stateName($0) : Self.parameterNames[$0 - n] })
    }
}

/// The bundled models, by name.
public enum ModelCatalog {
    /// `Lorenz`, `Burgers` and `Heat2D`, in the order `rewind models` lists them.
    public static let models: [any Model.Type] = [Lorenz.self, Burgers.self, Heat2D.self]

    public static let names = models.map { $0.name }

    /// Makes the named model at `size`, or its default size.
    public static func make(_ name: String, size: Int? = nil) throws -> any Model {
        guard let type = type(named: name) else { throw ModelError.unknownModel(name, known: names) }
        return try type.make(size: size)
    }

    /// The model type for a name.
    public static func type(named name: String) -> (any Model.Type)? {
        models.first { $0.name == name }
    }
}

/// Mistakes in choosing or configuring a model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A name that is none of `known`.
    case unknownModel(String, known: [String])
    case fixedSize(model: String)
    case sizeOutOfRange(model: String, size: Int, range: ClosedRange<Int>)
    case unknownParameter(model: String, name: String, allowed: [String])
    /// An override that is not `NAME=VALUE`; `example` is one that is (`sigma=10`).
    case malformedParameter(String, example: String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "unknown model '\(name)'; the models are \(known.joined(separator: ", "))"
        case .fixedSize(let model):
            return "model '\(model)' has a fixed size; make it without a size"
        case .sizeOutOfRange(let model, let size, let range):
            return "model '\(model)' takes sizes from \(range.lowerBound) to \(range.upperBound) (got \(size))"
        case .unknownParameter(let model, let name, let allowed):
            return "model '\(model)' has no parameter '\(name)'; its parameters are \(allowed.joined(separator: ", "))"
        case .malformedParameter(let text, let example):
            return "'\(text)' is not NAME=VALUE with a number VALUE (for example \(example))"
        }
    }
}

extension Model {
    /// An override for help and messages: the first parameter at its default (`sigma=10`),
    /// or `NAME=1` for a model without parameters.
    public static var exampleAssignment: String {
        guard let name = parameterNames.first, let value = defaultParameters.first else { return "NAME=1" }
        return "\(name)=\(value == value.rounded() && value.magnitude < 1e15 ? String(Int(value)) : String(value))"
    }

    /// Applies `NAME=VALUE` overrides to the default parameters.
    public static func parameters(overriding assignments: [String]) throws -> [Double] {
        var values = defaultParameters
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ModelError.malformedParameter(assignment, example: exampleAssignment)
            }
            let name = parts[0]
            guard let index = parameterNames.firstIndex(of: name) else {
                throw ModelError.unknownParameter(model: Self.name, name: name, allowed: parameterNames)
            }
            values[index] = value
        }
        return values
    }
}

/// `scale · Σ u²`, summed left to right from 0.0 in `Double` exactly as `PROBLEMS.md` defines
/// the grid models' objectives, and recorded as one reduction with partials `2·scale·u` rather
/// than two statements per point (which also keeps the last step's adjoint vector small).
@inlinable
func scaledSumOfSquares<S: SimulationScalar>(_ values: [S], scale: Double) -> S {
    var sum = 0.0
    for u in values { sum = sum + u.primal * u.primal }
    return S.applying(value: scale * sum, partials: values.map { 2 * scale * $0.primal }, to: values)
}

/// π as `PROBLEMS.md` fixes it: the double nearest to pi.
let pi = 3.141592653589793
