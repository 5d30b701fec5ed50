import RewindCore
/// The objective of a time-stepping run and its gradient.
public struct GradientResult: Sendable {
    /// J, bitwise equal to the `Double` primal's.
    public var objective: Double
    /// dJ/dx₀, in the state's order.
    public var initialStateGradient: [Double]
    /// dJ/dp, in the parameters' order.
    public var parameterGradient: [Double]
    /// What the run did: strategy, snapshots, recomputation, memory and time.
    public var report: RunReport
    /// Check mode, store-all: where a NaN or infinity entered (the run throws it).
    @usableFromInline package var nonFinite: (step: Int, report: String)?

    /// A result from its parts (the driver makes them; tests and wrappers may too).
    public init(objective: Double, initialStateGradient: [Double], parameterGradient: [Double], report: RunReport) {
        self.objective = objective
        self.initialStateGradient = initialStateGradient
        self.parameterGradient = parameterGradient
        self.report = report
    }
}

/// Errors of a time-stepping run that the caller can act on.
///
/// Each case carries its figures; `summary` says what is wrong and `remedy` what to change,
/// as data, so that a front end can say it in its own terms (the `rewind` CLI names its flags).
/// `description` is the two together in the library's terms (`TimeSteppingOptions` fields).
public enum TimeSteppingError: Error, CustomStringConvertible, Equatable {
    case invalidSteps(Int)
    case invalidSnapshots(Int)
    case invalidStepsPerBlock(Int)
    /// Blocks of several steps were asked of a strategy that tapes single steps.
    case blocksNeedRevolve(strategy: String)
    case wrongLength(what: String, expected: Int, actual: Int)
    case nonFinite(what: String, index: Int, value: Double)
    /// The budget is below the run's `minimum` bytes; `shortfall` says what needs them.
    case budgetTooSmall(budget: Int, minimum: Int, shortfall: MemoryShortfall)
    case storeAllDoesNotFit(budget: Int, needed: Int)
    /// Check mode found where a NaN or an infinity enters the run.
    case nonFiniteInRun(step: Int, report: String)
    /// Reversing `steps` steps with the `snapshots` the budget holds takes more step
    /// evaluations than `Int` counts; `largestSteps` is the most those snapshots reverse.
    case tooManyEvaluations(steps: Int, snapshots: Int, largestSteps: Int)
    /// The plan is predicted to take `seconds`, more than the `limit` the options set
    /// (`TimeSteppingOptions.maximumPredictedSeconds`).
    case predictedTooLong(seconds: Double, limit: Double, evaluations: Int, plan: String)
    /// A run whose length a stopping condition decides can only be reversed by the online
    /// schedule (`.online` or `.auto`), not by `strategy`.
    case lengthUnknownNeedsOnline(strategy: String)
    /// Steps `firstStep ..< endStep`, replayed from a snapshot to be recorded, ended in a
    /// different state than the run reached at `endStep` before (`StateFingerprint`): the
    /// step is not a function of its state and parameters alone.
    case replayDiffers(firstStep: Int, endStep: Int)
    /// A stencil kernel of the step was caught reading state that changes between its calls;
    /// the sweep gave NaN (`StencilKernelFault`).
    case stencilKernelFault(StencilKernelFault)

    /// What is wrong, with its figures, and no advice.
    public var summary: String {
        switch self {
        case .invalidSteps(let steps):
            return "the number of steps must be at least 1 (got \(steps))"
        case .invalidSnapshots(let count):
            return "checkpointing needs at least 1 snapshot (got \(count))"
        case .invalidStepsPerBlock(let count):
            return "a block has at least 1 step (got \(count))"
        case .blocksNeedRevolve(let strategy):
            return "blocks of several steps are taped by revolve and online only, not by \(strategy)"
        case .wrongLength(let what, let expected, let actual):
            return "\(what) has \(actual) values but the problem needs \(expected)"
        case .nonFinite(let what, let index, let value):
            return "value \(index) of \(what) is \(value); every input must be a finite number"
        case .budgetTooSmall(let budget, let minimum, let shortfall):
            let figure = "\(MemoryBudget.format(minimum)) (\(minimum) bytes)"
            let below = shortfall.isLowerBound
                ? "below the minimum for this run, which is more than \(figure)"
                : "below the minimum of \(figure) for this run"
            return "a memory budget of \(MemoryBudget.format(budget, distinctFrom: minimum)) is \(below): \(shortfall)"
        case .nonFiniteInRun(let step, let report):
            return "a NaN or infinity enters the run at time step \(step): \(report)"
        case .tooManyEvaluations(let steps, let snapshots, let largestSteps):
            return "reversing \(steps) steps with \(snapshots) snapshot(s) takes more than \(Int.max) step "
                + "evaluations, more than can be counted; \(snapshots) snapshot(s) reverse at most \(largestSteps) steps "
                + "within that"
        case .predictedTooLong(let seconds, let limit, let evaluations, let plan):
            return "this run is predicted to take \(TimeSteppingError.duration(seconds, distinctFrom: limit)) "
                + "(\(evaluations) step evaluations; plan: \(plan)), more than the limit of "
                + TimeSteppingError.duration(limit, distinctFrom: seconds)
        case .lengthUnknownNeedsOnline(let strategy):
            return "a run whose length a stopping condition decides is reversed by the online schedule; "
                + "strategy \(strategy) needs the number of steps in advance"
        case .replayDiffers(let first, let end):
            return "the step function gave a different state at step \(end) when steps \(first)..<\(end) were "
                + "replayed from a snapshot than the run had reached there before, so a checkpointed gradient "
                + "would be the gradient of a run that never happened"
        case .stencilKernelFault(let fault):
            return fault.description
        case .storeAllDoesNotFit(let budget, let needed):
            return "store-all needs about \(MemoryBudget.format(needed, distinctFrom: budget)) but the budget is "
                + MemoryBudget.format(budget, distinctFrom: needed)
        }
    }

    /// What the caller can change, or nil where the input itself is wrong (and `summary` says how).
    public var remedy: TimeSteppingRemedy? {
        switch self {
        case .invalidSnapshots: return .snapshotsAtLeastOne
        case .invalidStepsPerBlock: return .stepsPerBlockAtLeastOne
        case .blocksNeedRevolve: return .blockTapingStrategy
        case .budgetTooSmall(_, let minimum, let shortfall):
            return .raiseBudget(
                bytes: minimum, isLowerBound: shortfall.isLowerBound, orCheckpointing: shortfall.checkpointingNeedsLess)
        case .storeAllDoesNotFit: return .checkpointOrRaiseBudget
        case .tooManyEvaluations: return .fewerSteps
        case .predictedTooLong: return .shorterRun
        case .lengthUnknownNeedsOnline: return .onlineStrategy
        case .replayDiffers: return .pureStep
        // The fault says what to change (the kernel), in terms no front end needs to rename.
        case .invalidSteps, .wrongLength, .nonFinite, .nonFiniteInRun, .stencilKernelFault: return nil
        }
    }

    public var description: String {
        remedy.map { "\(summary); \($0)" } ?? summary
    }
}

extension TimeSteppingError {
    /// `duration(seconds)`, with the seconds themselves added (`7.0 days (604801.0 s)`) when
    /// `duration` would print `other` the same way: a prediction and its limit must not read
    /// as equal.
    static func duration(_ seconds: Double, distinctFrom other: Double) -> String {
        let text = duration(seconds)
        guard seconds != other, seconds.isFinite, text == duration(other) else { return text }
        return "\(text) (\(seconds) s)"
    }

    /// Seconds as a person reads them: `12.0 s`, `3.4 hours`, `21000.0 years`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "\(seconds) s" }
        let units: [(String, Double)] = [("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)]
        for (name, length) in units where seconds >= 2 * length {
            return "\((seconds / length * 10).rounded() / 10) \(name)"
        }
        return "\((seconds * 10).rounded() / 10) s"
    }
}
