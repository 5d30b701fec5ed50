import RewindCommandLine

/// "particles": `n` bodies in the plane under Plummer-softened mutual gravity, all pairs,
/// advanced by symplectic Euler (kick, then drift) with `dt = 0.001` from a ring in slow
/// rotation. The objective is the final spread `J = 0.5·Σ |x_i|²`. Parameters: `gm` (G times
/// the body mass) and `eps2` (the softening length squared).
///
/// The state is the positions then the velocities (`4·n` values). The forces are one
/// `PairInteraction` summed over all ordered pairs: `Tracked` records them as one statement
/// holding every pair's partials and no argument identifiers, instead of about 20 statements
/// per pair.
struct Particles: Model {
    static let name = "particles"
    static let summary = "n bodies, softened gravity over all pairs, symplectic Euler, J = 0.5·Σ|x_N|²"
    static let parameterNames = ["gm", "eps2"]
    static let defaultParameters = [1.0, 0.01]
    static let defaultSteps = 2000
    static let defaultSize: Int? = 32
    static let sizeRange = 2...4096
    static let dt = 0.001

    let n: Int
    var elementary = false

    init(n: Int) { self.n = n }
    init(size: Int) { self.init(n: size) }
    init() { self.init(n: Particles.defaultSize!) }

    var size: Int? { n }
    var stateCount: Int { 4 * n }
    var parameterCount: Int { 2 }
    func stateName(_ index: Int) -> String {
        let body = (index % (2 * n)) / 2
        let axis = index % 2 == 0 ? "x" : "y"
        return index < 2 * n ? "\(axis)[\(body)]" : "v\(axis)[\(body)]"
    }

    func initialState() -> [Double] {
        var positions: [Double] = []
        var velocities: [Double] = []
        for i in 0..<n {
            let angle = 2 * Double.pi * Double(i) / Double(n)
            let radius = 1 + 0.1 * Double.sin(3 * angle)
            positions += [radius * Double.cos(angle), radius * Double.sin(angle)]
            velocities += [-0.5 * Double.sin(angle), 0.5 * Double.cos(angle)]
        }
        return positions + velocities
    }

    func step<S: SimulationScalar>(_ state: [S], parameters: [S], into next: inout [S]) {
        let positions = Array(state[0..<(2 * n)])
        let gravity = LocalValues<S>(count: 2) { parameters[$0] }
        var acceleration = [S](repeating: 0, count: 2 * n)
        if elementary {
            S.sumInteractionsElementary(SoftGravity(), bodies: positions, parameters: gravity, into: &acceleration)
        } else {
            S.sumInteractions(SoftGravity(), bodies: positions, parameters: gravity, into: &acceleration)
        }
        let dt = Particles.dt
        for k in 0..<(2 * n) {
            let velocity = state[2 * n + k] + dt * acceleration[k]
            next[2 * n + k] = velocity
            next[k] = state[k] + dt * velocity
        }
    }

    func objective<S: SimulationScalar>(finalState: [S], runningCostSum: S, parameters: [S]) -> S {
        var sum: S = 0
        for k in 0..<(2 * n) { sum = sum + finalState[k] * finalState[k] }
        return 0.5 * sum
    }

    /// The pull of `source` on `target`: `gm·d / (|d|² + eps2)^(3/2)` with `d = source − target`.
    struct SoftGravity: PairInteraction {
        var width: Int { 2 }
        var outputCount: Int { 2 }
        /// x and y enter only as `source − target`: `Tracked` need not carry the target's lanes
        /// (4 lanes instead of 6; checked at the first pair of every call).
        var differenceComponents: Int { 2 }

        @inline(__always)
        func callAsFunction<T: SimulationScalar>(
            _ target: LocalValues<T>, _ source: LocalValues<T>, _ p: LocalValues<T>
        ) -> LocalValues<T> {
            let dx = source[0] - target[0]
            let dy = source[1] - target[1]
            let r2 = (dx * dx + dy * dy) + p[1]
            let scale = p[0] / (r2 * T.sqrt(r2))
            return LocalValues(count: 2) { $0 == 0 ? scale * dx : scale * dy }
        }
    }
}
