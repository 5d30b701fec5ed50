import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind
import RewindModels

extension GradientCommand {
    /// `rewind gradient MODEL --ensemble K [--threads T]`: K members from the model's initial
    /// state, member m with the first parameter scaled by (1 + 0.01·m), differentiated
    /// concurrently, each with its own tape and an equal share of --memory-budget.
    ///
    /// Members run with the strategy and the limits; the spill directory, blocks and the
    /// non-finite check are single-run options.
    func runEnsemble(_ model: any Model, parameters: [Double], steps: Int, count: Int) throws {
        let members = EnsembleMember.scalingFirstParameter(
            initialState: model.initialState(), parameters: parameters, count: count)
        let options = limits.timeSteppingOptions(strategy: checkpointing.checkpointStrategy)
        let threads = limits.threads
        let started = Date()
        let results = try runEnsembleGradients(model, members: members, steps: steps, options: options, threads: threads)
        let ensembleOutput = EnsembleOutput(
            ensemble: count, threads: threads, seconds: Date().timeIntervalSince(started),
            rule: "member m scales \(type(of: model).parameterNames.first ?? "the first parameter") by (1 + 0.01·m)",
            members: zip(members, results).map {
                GradientOutput(model: model, parameters: $0.parameters, steps: steps, result: $1)
            })
        if output.json {
            // Streamed member by member, each gradient number by number (see `GradientOutput`).
            var skeleton = ensembleOutput
            skeleton.members = []
            var memberError: Error?
            let written = try JSONOutput.stream(skeleton, replacingEmptyArrayAt: "members") { stream in
                stream.write("[")
                for (index, member) in ensembleOutput.members.enumerated() where memberError == nil {
                    if index > 0 { stream.write(",") }
                    do { try member.writeJSON(into: &stream) } catch { memberError = error }
                }
                stream.write("]")
            }
            if let memberError { throw memberError }
            guard written else {
                throw CommandFailure("cannot write the JSON output to stdout: \(String(cString: strerror(errno)))")
            }
        } else {
            for (m, member) in ensembleOutput.members.enumerated() {
                print("member \(m):")
                print(member.text(for: model))
            }
            print("ensemble: \(count) members on \(threads) thread(s) in \(ensembleOutput.seconds.printf("%.3f")) s; \(ensembleOutput.rule)")
        }
        for (m, result) in results.enumerated() {
            if let warning = NonFiniteWarning.gradient(
                objective: result.objective, initialState: result.initialStateGradient,
                parameters: result.parameterGradient, model: model)
            {
                fputs("warning: member \(m): \(warning)\n", stderr)
            }
        }
    }
}

/// The JSON object of `rewind gradient --ensemble K --json`: the usual gradient object per member.
struct EnsembleOutput: Encodable {
    var ensemble: Int
    var threads: Int
    var seconds: Double
    var rule: String
    var members: [GradientOutput]
}

/// The ensemble through the model's specialised `_gradients` (see `runGradient`).
func runEnsembleGradients(
    _ model: any Model, members: [EnsembleMember], steps: Int, options: TimeSteppingOptions, threads: Int
) throws -> [GradientResult] {
    try model._gradients(members: members, steps: steps, options: options, threads: threads)
}
