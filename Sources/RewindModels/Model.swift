import Rewind

/// A bundled model of `PROBLEMS.md`: a time-stepping problem with its names, defaults and
/// initial condition, as the CLI and the tests use it.
public protocol Model: TimeSteppingProblem {
    /// The name on the command line (`lorenz`, `burgers`, `heat2d`).
    static var name: String { get }
    /// One line for `rewind models`.
    static var summary: String { get }
    static var parameterNames: [String] { get }
    static var defaultParameters: [Double] { get }
    static var defaultSteps: Int { get }
    /// The default size, or nil for a model of fixed size.
    static var defaultSize: Int? { get }
    /// The grid size (`n` or `m`), or nil for a model of fixed size.
    var size: Int? { get }
    func initialState() -> [Double]
    /// Names of the state's components for reports (`x`, `y`, `z`, or `u[17]`).
    func stateName(_ index: Int) -> String
    /// Records steps elementwise (every arithmetic operation a statement) instead of
    /// preaccumulating local Jacobians; for comparisons and tests.
    var elementary: Bool { get set }
}

/// The bundled models, by name.
public enum ModelCatalog {
    public static let names = [Lorenz.name, Burgers.name, Heat2D.name]

    /// Makes the named model at `size`, or its default size.
    public static func make(_ name: String, size: Int? = nil) throws -> any Model {
        switch name {
        case Lorenz.name:
            if let size, size != 3 { throw ModelError.fixedSize(model: name) }
            return Lorenz()
        case Burgers.name: return Burgers(n: size ?? Burgers.defaultSize!)
        case Heat2D.name: return Heat2D(m: size ?? Heat2D.defaultSize!)
        default: throw ModelError.unknownModel(name)
        }
    }

    /// The model type for a name.
    public static func type(named name: String) -> (any Model.Type)? {
        switch name {
        case Lorenz.name: return Lorenz.self
        case Burgers.name: return Burgers.self
        case Heat2D.name: return Heat2D.self
        default: return nil
        }
    }
}

/// Mistakes in choosing or configuring a model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String)
    case fixedSize(model: String)
    case unknownParameter(model: String, name: String, allowed: [String])
    case malformedParameter(String)

    public var description: String {
        switch self {
        case .unknownModel(let name):
            return "unknown model '\(name)'; the models are \(ModelCatalog.names.joined(separator: ", "))"
        case .fixedSize(let model):
            return "model '\(model)' has a fixed size; make it without a size"
        case .unknownParameter(let model, let name, let allowed):
            return "model '\(model)' has no parameter '\(name)'; its parameters are \(allowed.joined(separator: ", "))"
        case .malformedParameter(let text):
            return "'\(text)' is not NAME=VALUE with a number VALUE (for example rho=10)"
        }
    }
}

extension Model {
    /// Applies `NAME=VALUE` overrides to the default parameters.
    public static func parameters(overriding assignments: [String]) throws -> [Double] {
        var values = defaultParameters
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ModelError.malformedParameter(assignment)
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
