import RewindCommandLine

/// "wave2d": the 2-D wave equation `u_tt = c²·Δu` on a periodic `m × m` grid of unit spacing, as
/// two fields (displacement `u`, velocity `v`) advanced by symplectic Euler with `dt = 0.25`:
/// `v' = v + dt·c²·Δu`, `u' = u + dt·v'`, from a Gaussian bump at rest. The objective is the
/// energy-like `J = 0.5·Σ u_N²` of the final displacement.
///
/// The state is the two fields one after another (`u` then `v`, `2·m²` values), the layout
/// multi-field stencils read and write. The whole step is one `MultiFieldStencilKernel`:
/// `u` read at five points, `v` at the centre, two outputs, so `Tracked` records the step as
/// one statement of `m² × 2 × 7` partials and no argument identifiers.
struct WaveEquation2D: Model {
    static let name = "wave2d"
    static let summary = "2-D wave equation, two fields (u, v), symplectic Euler, J = 0.5·Σu_N²"
    static let parameterNames = ["c2"]
    static let defaultParameters = [1.0]
    static let defaultSteps = 500
    static let defaultSize: Int? = 64
    static let sizeRange = 3...4096
    static let dt = 0.25

    let m: Int
    var elementary = false

    init(m: Int) { self.m = m }
    /// The command line makes a sized model from `--size`, and `init()` at the default size.
    init(size: Int) { self.init(m: size) }
    init() { self.init(m: WaveEquation2D.defaultSize!) }

    var size: Int? { m }
    var stateCount: Int { 2 * m * m }
    var parameterCount: Int { 1 }
    func stateName(_ index: Int) -> String {
        let point = index % (m * m)
        return "\(index < m * m ? "u" : "v")[\(point / m),\(point % m)]"
    }

    func initialState() -> [Double] {
        let centre = Double(m) / 2
        let width = Double(m) / 8
        let u = (0..<(m * m)).map { point -> Double in
            let (r, c) = (Double(point / m) - centre, Double(point % m) - centre)
            return Double.exp(-(r * r + c * c) / (2 * width * width))
        }
        return u + [Double](repeating: 0, count: m * m)
    }

    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let c2 = LocalValues<S>(count: 1) { _ in parameters[0] }
        let grid = StencilGrid.periodic(rows: m, columns: m)
        if elementary {
            S.applyStencilPointwise(LeapFrog(), on: grid, to: state, parameters: c2, into: &next)
        } else {
            S.applyStencil(LeapFrog(), on: grid, to: state, parameters: c2, into: &next)
        }
    }

    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum: S = 0
        for point in 0..<(m * m) { sum = sum + finalState[point] * finalState[point] }
        return 0.5 * sum
    }

    /// One point of a symplectic Euler step: the new velocity from the Laplacian of `u`, then
    /// the new displacement from the new velocity.
    struct LeapFrog: MultiFieldStencilKernel {
        /// `u` at north, south, west, east and centre; `v` at the centre.
        var neighbours: [[GridOffset]] {
            [[GridOffset(row: -1, column: 0), GridOffset(row: 1, column: 0), GridOffset(row: 0, column: -1),
              GridOffset(row: 0, column: 1), GridOffset(row: 0, column: 0)],
             [GridOffset(row: 0, column: 0)]]
        }
        var outputCount: Int { 2 }

        @inline(__always)
        func callAsFunction<T: SimulationScalar>(_ x: MultiFieldNeighbourhood<T>, _ p: LocalValues<T>) -> LocalValues<T> {
            let u = x.field(0)
            let laplacian = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
            let v = x[1, 0] + WaveEquation2D.dt * p[0] * laplacian
            let uNext = u[4] + WaveEquation2D.dt * v
            return LocalValues(count: 2) { $0 == 0 ? uNext : v }
        }
    }
}
