import RewindCore
import RewindParallel
import RewindSchedules
import RewindStorage
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

    public init(objective: Double, initialStateGradient: [Double], parameterGradient: [Double], report: RunReport) {
        self.objective = objective
        self.initialStateGradient = initialStateGradient
        self.parameterGradient = parameterGradient
        self.report = report
    }
}

/// How a run was carried out, with measured figures.
public struct RunReport: Sendable, Codable, Equatable {
    public var strategy: String
    public var snapshotsInMemory: Int
    public var snapshotsOnDisk: Int
    /// Evaluations of the step function other than the one taped evaluation per step.
    public var forwardSteps: Int
    /// The fewest such evaluations any schedule with these snapshots needs.
    public var optimalForwardSteps: Int
    /// Steps recorded on a tape (each exactly once).
    public var tapedSteps: Int
    /// Steps recorded together on one tape by a checkpointed run (its schedule runs over
    /// blocks of this many steps); 1 for classic step-by-step revolve and for store-all.
    public var stepsPerBlock: Int
    /// The largest tape (columns and external data) held at once.
    public var peakTapeBytes: Int
    public var spilledBytes: Int
    public var compressedBytes: Int
    /// Per column and per phase, when anything spilled.
    public var spill: SpillReport?
    /// Peak resident memory of the process (`VmHWM`), measured.
    public var peakResidentBytes: Int
    /// Wall time of the whole call: sampling, planning and the run.
    public var seconds: Double
    /// Wall time of the run the plan predicts (after sampling and planning).
    public var runSeconds: Double
    /// Seconds spent recording steps on tapes (all taped steps).
    public var recordSeconds: Double
    /// Seconds spent in reverse sweeps.
    public var reverseSeconds: Double
    /// Seconds spent advancing (untaped primal steps from snapshots).
    public var advanceSeconds: Double
    /// Seconds of one primal step on `Double`, timed by the planner's sample: the yardstick
    /// for the gradient's cost (`runSeconds / (primalSecondsPerStep · steps)`).
    public var primalSecondsPerStep: Double
    /// Statements and bytes in use of the largest tape recorded.
    public var tapeStatements: Int
    public var tapeBytesInUse: Int
    /// The plan made before the run, as one line.
    public var plan: String
    /// Predicted seconds for the run, from a timed sample of the step (0 when not predicted).
    public var predictedSeconds: Double

    public init(strategy: String) {
        self.strategy = strategy
        snapshotsInMemory = 0
        snapshotsOnDisk = 0
        forwardSteps = 0
        optimalForwardSteps = 0
        tapedSteps = 0
        stepsPerBlock = 1
        peakTapeBytes = 0
        spilledBytes = 0
        compressedBytes = 0
        peakResidentBytes = 0
        seconds = 0
        runSeconds = 0
        recordSeconds = 0
        reverseSeconds = 0
        advanceSeconds = 0
        primalSecondsPerStep = 0
        tapeStatements = 0
        tapeBytesInUse = 0
        plan = ""
        predictedSeconds = 0
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
            return "\(what)[\(index)] is \(value); every input must be a finite number"
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
        case .invalidSteps, .wrongLength, .nonFinite, .nonFiniteInRun: return nil
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
