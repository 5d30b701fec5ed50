import ArgumentParser
import Rewind
import RewindModels

/// The bounds the command line puts on numbers that size work, so that an absurd value is
/// a usage error or a refusal before the run, never a trap or a run of centuries.
enum CommandLimits {
    /// `--max-predicted-seconds` by default: one week. A plan predicted to take longer is
    /// refused before it starts (the prediction comes from a timed sample of the step).
    static let defaultMaximumPredictedSeconds = 7 * 86_400.0

    /// Threads beyond this are not a machine anyone runs `rewind` on.
    static let maximumThreads = 1024

    /// Ensemble members: each has its own tape and a share of the budget.
    static let maximumEnsemble = 4096

    static func validateThreads(_ threads: Int) throws {
        guard (1...maximumThreads).contains(threads) else {
            throw ValidationError("--threads must be from 1 to \(maximumThreads) (got \(threads))")
        }
    }

    static func validateMaximumPredictedSeconds(_ seconds: Double) throws {
        guard seconds > 0 else {  // also refuses NaN
            throw ValidationError(
                "--max-predicted-seconds must be a positive number of seconds, or inf for no limit (got \(seconds))")
        }
    }

    /// The library's form of the limit: nil for none.
    static func limit(_ seconds: Double) -> Double? { seconds.isFinite ? seconds : nil }
}

/// The warning for a run that ended with a non-finite objective or derivative: finite inputs
/// can still overflow (`--parameter rho=1e200`), and a NaN printed with status 0 and no word
/// would pass for an answer.
enum NonFiniteWarning {
    /// nil when everything is finite; otherwise what is not, and what to do.
    static func gradient(objective: Double, initialState: [Double], parameters: [Double], model: any Model) -> String? {
        let names = type(of: model).parameterNames
        var found: [String] = []
        if !objective.isFinite { found.append("the objective J is \(objective)") }
        let badParameters = parameters.indices.filter { !parameters[$0].isFinite }
        if let first = badParameters.first {
            found.append(
                "\(badParameters.count) of \(parameters.count) parameter derivative(s) (dJ/d\(names[first]) = \(parameters[first]))")
        }
        if let first = initialState.firstIndex(where: { !$0.isFinite }) {
            let count = initialState.lazy.filter { !$0.isFinite }.count
            found.append(
                "\(count) of \(initialState.count) initial-state derivative(s) (dJ/d\(model.stateName(first)) = \(initialState[first]))")
        }
        guard !found.isEmpty else { return nil }
        return "not finite: " + found.joined(separator: "; ")
            + "; the run overflowed or divided by zero — run again with --check-finite to see where"
    }

    /// nil when the Jacobian is finite; otherwise how many entries are not.
    static func jacobian(_ matrix: [[Double]]) -> String? {
        let count = matrix.reduce(0) { $0 + $1.lazy.filter { !$0.isFinite }.count }
        guard count > 0 else { return nil }
        let total = matrix.reduce(0) { $0 + $1.count }
        return "not finite: \(count) of \(total) Jacobian entries; the run overflowed or divided by zero"
    }
}
