import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind
import RewindModels

/// `rewind check MODEL`: verifies the model's reverse-mode gradient by finite differences, the
/// Taylor remainder test and the dot-product test against the tangent mode.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a model's gradient: finite differences, Taylor remainder rates, tangent vs reverse.",
        discussion: """
            Exit status 0 when every check passes (by default: each finite difference within 10 \
            times its own estimated error, Taylor rates all at least 1.9 and not moving away \
            from 2, dot product with relative error at most 1e-10), 1 when one fails (stderr says \
            which), 64 for usage errors.
            """)

    @OptionGroup var selection: ModelSelection

    @Option(parsing: .unconditional, help: "Seed of the random direction and the dot-product vectors.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Order of the centered finite-difference formula: 2, 4 or 6.")
    var order: Int = 4

    @Option(parsing: .unconditional, help: "State components whose partials are differenced (every parameter always is).")
    var stateComponents: Int = 4

    @Option(parsing: .unconditional, help: "How many times its estimated error a finite difference may be off.")
    var finiteDifferenceSafetyFactor = DerivativeCheck.Thresholds().finiteDifferenceSafetyFactor

    @Option(parsing: .unconditional, help: "Smallest Taylor convergence rate (with the gradient term) that passes.")
    var minTaylorRate = DerivativeCheck.Thresholds().taylorMinimumRate

    @Option(parsing: .unconditional, help: "Largest relative gap between tangent and reverse mode in the dot-product test.")
    var maxDotProductError = DerivativeCheck.Thresholds().dotProductRelativeError

    @OptionGroup var output: OutputOptions

    mutating func validate() throws {
        guard [2, 4, 6].contains(order) else { throw ValidationError("--order must be 2, 4 or 6 (got \(order))") }
        for (flag, value) in [
            ("--finite-difference-safety-factor", finiteDifferenceSafetyFactor), ("--min-taylor-rate", minTaylorRate),
            ("--max-dot-product-error", maxDotProductError),
        ] where !(value.isFinite && value > 0) {
            throw ValidationError("\(flag) must be a positive number (got \(value))")
        }
        guard stateComponents >= 0 else {
            throw ValidationError("--state-components must be 0 or more (got \(stateComponents))")
        }
    }

    func run() throws {
        let (model, parameters, steps) = try selection.make()
        do {
            // Before the initial state is built: the check records store-all in the default budget.
            try TimeStepping.checkBudgetHoldsStates(TimeSteppingOptions().memoryBudget, stateCount: model.stateCount)
        } catch let error as TimeSteppingError {
            // The check has no --memory-budget to raise (`ErrorMessages` would advise it).
            throw CommandFailure("check runs in the default budget: \(error.summary); check a smaller --size")
        }
        let thresholds = DerivativeCheck.Thresholds(
            finiteDifferenceSafetyFactor: finiteDifferenceSafetyFactor, taylorMinimumRate: minTaylorRate,
            dotProductRelativeError: maxDotProductError)
        let check = DerivativeCheck(thresholds: thresholds, stencil: .centered(order: order), seed: seed)
        let report: DerivativeCheckReport
        do {
            report = try runCheck(model, check: check, parameters: parameters, steps: steps, stateComponents: stateComponents)
        } catch TimeSteppingError.storeAllDoesNotFit(let budget, let needed) {
            // The check has no --strategy: it always records the whole run on one tape.
            throw CommandFailure(
                "check records the whole run on one tape, which needs about "
                    + "\(MemoryBudget.format(needed, distinctFrom: budget)), more than its "
                    + "\(MemoryBudget.format(budget, distinctFrom: needed)); check fewer --steps or a smaller --size")
        }
        let checkOutput = CheckOutput(model: model, parameters: parameters, steps: steps, seed: seed, report: report)
        print(output.json ? try JSONOutput.encode(checkOutput) : checkOutput.text(for: model))
        if !report.passed {
            for failure in report.failures {
                fputs("check failed: \(failure)\n", stderr)
            }
            throw ExitCode.failure
        }
    }
}

/// The check through the model's specialised `_check` (see `runGradient`).
func runCheck(
    _ model: any Model, check: DerivativeCheck, parameters: [Double], steps: Int, stateComponents: Int
) throws -> DerivativeCheckReport {
    try model._check(
        check, initialState: model.initialState(), parameters: parameters, steps: steps,
        stateComponents: stateComponents)
}
