import Rewind

/// P3 "heat2d": 2D diffusion on a periodic `m × m` grid, explicit Euler with `dt = 0.2·h²`,
/// `J = 0.5·h²·Σ u_N²`. The 5-point update is a `StencilKernel` with parameter k.
public struct Heat2D: Model {
    public static let name = "heat2d"
    public static let summary = "2D diffusion, periodic m×m grid, explicit Euler, J = 0.5·h²·Σu²"
    public static let parameterNames = ["k"]
    public static let defaultParameters = [1.0]
    public static let defaultSteps = 100
    public static let defaultSize: Int? = 64

    public let m: Int
    public let h: Double
    public let dt: Double
    public var elementary = false

    /// `--size` from 3 to 32768 (a 32768² state is already 8 GiB).
    public static let sizeRange = 3...(1 << 15)

    /// The model at its default size.
    public init() { self.init(m: Heat2D.defaultSize!) }
    /// The model at `size` points per side.
    public init(size: Int) { self.init(m: size) }

    public init(m: Int) {
        precondition(m >= 3, "heat2d needs at least 3 points per side")
        self.m = m
        h = 1.0 / Double(m)
        dt = 0.2 * h * h
    }

    public var size: Int? { m }
    public var stateCount: Int { m * m }
    public var parameterCount: Int { 1 }
    public func stateName(_ index: Int) -> String { "u[\(index / m),\(index % m)]" }

    public func initialState() -> [Double] {
        var u = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            let x = Double(i) * h
            for j in 0..<m {
                let y = Double(j) * h
                u[i * m + j] = Double.sin(2.0 * pi * x) * Double.sin(2.0 * pi * y) + 0.5 * Double.cos(4.0 * pi * x)
            }
        }
        return u
    }

    @inlinable
    public func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let kernel = PointUpdate(h: h, dt: dt)
        // r = dt·k/h², once per step as PROBLEMS.md defines it; the kernel takes r itself.
        let r = dt * parameters[0] / (h * h)
        let k = LocalValues<S>(count: 1) { _ in r }
        let grid = StencilGrid.periodic(rows: m, columns: m)
        if elementary {
            S.applyStencilPointwise(kernel, on: grid, to: state, parameters: k, into: &next)
        } else {
            S.applyStencil(kernel, on: grid, to: state, parameters: k, into: &next)
        }
    }

    @inlinable
    public func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        scaledSumOfSquares(finalState, scale: (0.5 * h * h))
    }

    /// `u + r·(((u[i+1,j] + u[i-1,j]) + (u[i,j+1] + u[i,j-1])) - 4u)` with `r = dt·k/h²`;
    /// public so that a domain-decomposed heat2d (`RewindMPI`) runs the same expression in the
    /// same order on its strip.
    ///
    /// ```swift
    /// S.applyStencil(Heat2D.PointUpdate(h: h, dt: dt), on: grid, to: u, parameters: r, into: &next)
    /// ```
    public struct PointUpdate: StencilKernel {
        @usableFromInline let h: Double
        @usableFromInline let dt: Double
        /// The update for grid spacing `h` and time step `dt`.
        @inlinable public init(h: Double, dt: Double) {
            self.h = h
            self.dt = dt
        }
        /// South, north, east, west and the point itself.
        public var neighbours: [GridOffset] {
            [GridOffset(row: 1, column: 0), GridOffset(row: -1, column: 0),
             GridOffset(row: 0, column: 1), GridOffset(row: 0, column: -1), GridOffset(row: 0, column: 0)]
        }

        /// The new value at the point; `p[0]` is `r = dt·k/h²`.
        @inlinable @inline(__always)
        public func callAsFunction<T: SimulationScalar>(_ u: StencilNeighbourhood<T>, _ p: LocalValues<T>) -> T {
            let r = p[0]
            let lap = ((u[0] + u[1]) + (u[2] + u[3])) - 4.0 * u[4]
            return u[4] + r * lap
        }
    }
}
