import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind
import RewindModels

/// The JSON object of `rewind gradient --json`, as the CLI contract fixes it.
struct GradientOutput: Encodable {
    struct Gradient: Encodable {
        var initialState: [Double]
        var parameters: [String: Double]
    }
    var model: String
    var steps: Int
    var size: Int?
    var parameterValues: [String: Double]
    var objective: Double
    var gradient: Gradient
    /// The engine's report as it is: its fields are the contract's `run` object (docs/cli.md).
    var run: RunReport

    init(model: any Model, parameters: [Double], steps: Int, result: GradientResult) {
        let names = type(of: model).parameterNames
        self.model = type(of: model).name
        self.steps = steps
        size = model.size ?? model.stateCount
        parameterValues = Dictionary(uniqueKeysWithValues: zip(names, parameters))
        objective = result.objective
        gradient = Gradient(
            initialState: result.initialStateGradient,
            parameters: Dictionary(uniqueKeysWithValues: zip(names, result.parameterGradient)))
        run = result.report
    }

    /// Prints the JSON object on stdout as `JSONOutput.encode` would, with the initial-state
    /// gradient streamed number by number (heat2d 2048² has 4 Mi of them).
    func streamJSON() throws {
        var stream = JSONStream()
        try writeJSON(into: &stream)
        stream.write("\n")
        stream.flush()
        if stream.failed {
            throw CommandFailure("cannot write the JSON output to stdout: \(String(cString: strerror(errno)))")
        }
    }

    /// The JSON object, without a newline, into `stream` (an ensemble writes one per member).
    func writeJSON(into stream: inout JSONStream) throws {
        var skeleton = self
        skeleton.gradient.initialState = []
        let values = gradient.initialState
        try JSONOutput.write(skeleton, replacingEmptyArrayAt: "initialState", into: &stream) { $0.writeArray(values) }
    }

    /// The readable summary printed without --json.
    func text(for model: any Model) -> String {
        var lines: [String] = []
        let sizeText = model.size.map { ", size \($0)" } ?? ""
        lines.append("\(self.model): \(steps) steps\(sizeText)")
        lines.append("objective J = \(objective)")
        let names = type(of: model).parameterNames
        let shown = min(gradient.initialState.count, 6)
        // Names in a column at least 8 wide, wide enough for the longest shown.
        let width = (names + (0..<shown).map(model.stateName)).reduce(8) { max($0, $1.count) }
        lines.append("dJ/dparameters:")
        for name in names {
            lines.append("  \(name.padding(width)) \(gradient.parameters[name]!)")
        }
        lines.append("dJ/dinitial state (\(shown) of \(gradient.initialState.count)):")
        for i in 0..<shown {
            lines.append("  \(model.stateName(i).padding(width)) \(gradient.initialState[i])")
        }
        let blocks = run.stepsPerBlock > 1 ? " in blocks of \(run.stepsPerBlock)" : ""
        lines.append("run: \(run.strategy); \(run.tapedSteps) taped steps\(blocks), \(run.forwardSteps) advances (optimum \(run.optimalForwardSteps)), \(run.snapshotsInMemory) snapshots in memory")
        lines.append("     peak tape \(MemoryBudget.format(run.peakTapeBytes)), peak resident \(MemoryBudget.format(run.peakResidentBytes)), \(seconds(run.seconds)) in all, run \(seconds(run.runSeconds)) (predicted \(seconds(run.predictedSeconds)))")
        lines.append("plan: \(run.plan)")
        // Whether the model's stencils took the affine path (docs/your-own-simulation.md).
        let (stencils, affine) = (run.tapeStencilStatements, run.tapeAffineStencilStatements)
        if stencils > 0 {
            lines.append(
                affine == stencils
                    ? "stencils: affine in their neighbours (one partial a point per parameter)"
                    : affine == 0
                        ? "stencils: not affine in their neighbours"
                        : "stencils: \(affine) of \(stencils) on a recorded tape affine in their neighbours")
        }
        return lines.joined(separator: "\n")
    }

    private func seconds(_ s: Double) -> String {
        s < 1 ? "\(Int((s * 1000).rounded())) ms" : "\((s * 100).rounded() / 100) s"
    }
}
