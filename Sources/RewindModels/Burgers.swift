import Rewind

/// P2 "burgers": 1D viscous Burgers on a periodic grid of `n` points, conservative flux form
/// with a global Lax–Friedrichs flux (alpha = 1.5), explicit Euler, `J = 0.5·dx·Σ u_N,i²`.
///
/// The point-update is a `StencilKernel` over (u_{i-1}, u_i, u_{i+1}) and nu, so `Tracked`
/// records a whole step as one stencil statement with 4 partials per point, or, on a
/// gradient's tape, the one value per point the kernel read (its parameter is `d = dt·nu/dx²`,
/// computed once per step as the definition says).
public struct Burgers: Model {
    public static let name = "burgers"
    public static let summary = "1D viscous Burgers, periodic, Rusanov flux, explicit Euler, J = 0.5·dx·Σu²"
    public static let parameterNames = ["nu"]
    public static let defaultParameters = [0.01]
    public static let defaultSteps = 1000
    public static let defaultSize: Int? = 256
    public static let alpha = 1.5

    public let n: Int
    public let dx: Double
    /// The time step, fixed from the nominal nu = 0.01 (not differentiated).
    public let dt: Double
    public var elementary = false

    /// `--size` from 3 (a periodic 3-point stencil needs 3 points) to 32768, as for heat2d.
    public static let sizeRange = 3...(1 << 15)

    /// The model at its default size.
    public init() { self.init(n: Burgers.defaultSize!) }
    /// The model at `size` points.
    public init(size: Int) { self.init(n: size) }

    public init(n: Int) {
        precondition(n >= 3, "burgers needs at least 3 points")
        self.n = n
        dx = 2.0 * pi / Double(n)
        dt = 0.5 / (Burgers.alpha / dx + 2.0 * 0.01 / (dx * dx))
    }

    public var size: Int? { n }
    public var stateCount: Int { n }
    public var parameterCount: Int { 1 }
    public func stateName(_ index: Int) -> String { "u[\(index)]" }

    public func initialState() -> [Double] {
        (0..<n).map { i in
            let x = Double(i) * dx
            return Double.sin(x) + 0.5 * Double.sin(2.0 * x)
        }
    }

    @inlinable
    public func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let kernel = PointUpdate(dx: dx, dt: dt)
        // d = dt·nu/dx², once per step as PROBLEMS.md defines it; the kernel takes d itself.
        let d = dt * parameters[0] / (dx * dx)
        let nu = LocalValues<S>(count: 1) { _ in d }
        if elementary {
            S.applyStencilPointwise(kernel, on: .periodic(n), to: state, parameters: nu, into: &next)
        } else {
            S.applyStencil(kernel, on: .periodic(n), to: state, parameters: nu, into: &next)
        }
    }

    @inlinable
    public func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        scaledSumOfSquares(finalState, scale: (0.5 * dx))
    }

    /// `u_i - c·(F_{i+1/2} - F_{i-1/2}) + d·(u_{i+1} - 2u_i + u_{i-1})`, as PROBLEMS.md writes it;
    /// public so that a domain-decomposed Burgers (`RewindMPI`) runs the same expression in the
    /// same order on its part of the grid.
    ///
    /// ```swift
    /// S.applyStencil(Burgers.PointUpdate(dx: dx, dt: dt), on: .periodic(n), to: u, parameters: d, into: &next)
    /// ```
    public struct PointUpdate: StencilKernel {
        @usableFromInline let dx: Double
        @usableFromInline let dt: Double
        /// The update for grid spacing `dx` and time step `dt`.
        @inlinable public init(dx: Double, dt: Double) {
            self.dx = dx
            self.dt = dt
        }
        /// `u[i-1]`, `u[i]`, `u[i+1]`.
        public var neighbours: [GridOffset] { [GridOffset(-1), GridOffset(0), GridOffset(1)] }

        /// The new `u[i]`; `p[0]` is `d = dt·nu/dx²`.
        @inlinable @inline(__always)
        public func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
            let (um, ui, up) = (u[0], u[1], u[2])
            let alpha = Burgers.alpha
            let c = dt / dx
            let d = p[0]
            let fPlus = 0.25 * (ui * ui + up * up) - 0.5 * alpha * (up - ui)
            let fMinus = 0.25 * (um * um + ui * ui) - 0.5 * alpha * (ui - um)
            return ui - c * (fPlus - fMinus) + d * (up - 2.0 * ui + um)
        }
    }
}
