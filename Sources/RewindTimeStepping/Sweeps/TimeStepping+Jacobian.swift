import RewindCore
import RewindParallel
import RewindSchedules
/// The Jacobian of a time-stepping run's final state, and what the run did.
public struct JacobianResult: Sendable {
    /// The final-state indices, one per row.
    public var rows: [Int]
    /// `jacobian[r][c] = ∂x_N[rows[r]] / ∂input c`, inputs being the initial state then the
    /// parameters.
    public var jacobian: [[Double]]
    /// `x_N`, bitwise the `Double` primal's.
    public var finalState: [Double]
    /// Strategy, snapshots, recomputation, memory and time, as for a gradient.
    public var report: RunReport
    /// Threads and the sweep mode actually used (`auto` resolved, SIMD refused for tapes with
    /// external statements).
    public var threads: Int
    /// The sweep mode used: `auto` resolved; SIMD lanes are refused for tapes with external statements.
    public var sweepMode: SweepMode

    /// A result from its parts (the driver makes them).
    public init(
        rows: [Int], jacobian: [[Double]], finalState: [Double], report: RunReport, threads: Int, sweepMode: SweepMode
    ) {
        self.rows = rows
        self.jacobian = jacobian
        self.finalState = finalState
        self.report = report
        self.threads = threads
        self.sweepMode = sweepMode
    }
}

extension TimeStepping {
    /// `∂x_N / ∂(x_0, p)` for the chosen rows of the final state, by reverse sweeps: one per
    /// row, all rows reversed together so that each step is taped (and recomputed) once.
    ///
    /// Store-all records the run once and sweeps it once per row; checkpointing (revolve,
    /// online) follows the same schedule as `gradient`, and when it reverses a step it records
    /// that step once and sweeps it for every row, each row carrying its own adjoints of the
    /// state and parameters. The sweeps of one recording run on `parallel.threads` threads.
    /// The Jacobian is bitwise the same for every strategy, thread count and sweep mode.
    ///
    /// Strategies: store-all, revolve, online and auto (which picks store-all or revolve);
    /// others (two-level) throw `ParallelError.unsupportedStrategy`.
    ///
    /// The memory budget also pays for the extra adjoint vectors (one per thread, or one lane
    /// per row in SIMD mode) and for the rows' carried adjoints.
    ///
    /// ```swift
    /// let result = try TimeStepping.jacobian(
    ///     of: Lorenz(), initialState: [1, 1, 1], parameters: [10, 10, 8.0 / 3], steps: 1000,
    ///     options: TimeSteppingOptions(strategy: .revolve(snapshots: 10)),
    ///     parallel: ParallelOptions(threads: 2))
    /// result.jacobian      // 3 × 6: ∂(x, y, z)_N / ∂(x0, y0, z0, sigma, rho, beta)
    /// ```
    @inlinable
    public static func jacobian<P: TimeSteppingProblem>(
        of problem: P, initialState: [Double], parameters: [Double], steps: Int, rows: [Int]? = nil,
        options: TimeSteppingOptions = TimeSteppingOptions(), parallel: ParallelOptions = ParallelOptions()
    ) throws -> JacobianResult {
        precondition(options.group == nil, "jacobian plans without the ranks' agreement: it takes no TimeSteppingGroup")
        try validate(problem, initialState: initialState, parameters: parameters, steps: steps)
        let n = problem.stateCount
        let p = problem.parameterCount
        if let rows {
            guard !rows.isEmpty else { throw ParallelError.noRows }
            if let bad = rows.first(where: { $0 < 0 || $0 >= n }) {
                throw ParallelError.rowOutOfRange(row: bad, stateCount: n)
            }
        }
        // Before the sample step and the rows' arrays are allocated (a heat2d 4096² Jacobian
        // of every row would otherwise allocate gigabytes before refusing).
        try checkJacobianBudget(options.memoryBudget, stateCount: n, parameterCount: p, rows: rows?.count ?? n)
        let rows = rows ?? Array(0..<n)
        let started = monotonicSeconds()
        let tape = Tape()
        let sample = RunSample.measure(
            problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
            adjoints: AdjointVector())
        let plan = try _JacobianPlanner.plan(
            strategy: options.strategy, budget: options.memoryBudget, steps: steps, stateCount: n,
            parameterCount: p, lanes: rows.count, parallel: parallel, sample: sample,
            maximumSeconds: options.maximumPredictedSeconds)
        let run = PlannedRun(workspace: TimeSteppingWorkspace(tape: tape), sample: sample, plan: plan, started: started)

        let lanes = rows.count
        let stateAdjoints = UnsafeMutablePointer<Double>.allocate(capacity: lanes * n)
        let parameterAdjoints = UnsafeMutablePointer<Double>.allocate(capacity: max(1, lanes * p))
        defer {
            stateAdjoints.deallocate()
            parameterAdjoints.deallocate()
        }
        stateAdjoints.initialize(repeating: 0, count: lanes * n)
        parameterAdjoints.initialize(repeating: 0, count: lanes * p)
        for (lane, row) in rows.enumerated() { stateAdjoints[lane * n + row] = 1 }
        let sweeper = _SeedSweeper(options: parallel)

        var report: RunReport
        var finalState: [Double] = []
        switch plan.strategy {
        case .storeAll, .auto:
            let recorded = RecordedSteps.record(
                problem, on: tape, state: initialState, parameters: parameters, steps: steps, runningSum: 0,
                endsRun: false)
            finalState = recorded.finalState.map(\.value)
            recorded.reverse(
                on: tape, sweeper: sweeper, lanes: lanes, stateAdjoints: stateAdjoints,
                parameterAdjoints: parameterAdjoints)
            if let fault = tape.stencilKernelFault { throw TimeSteppingError.stencilKernelFault(fault) }
            report = RunReport(strategy: .storeAll)
            report.tapedSteps = steps
            report.peakTapeBytes = tape.reservedByteCount + sweeper.byteCount
        case .revolve(let snapshots), .online(let snapshots):
            let isOnline: Bool
            if case .online = plan.strategy { isOnline = true } else { isOnline = false }
            let executor = CheckpointExecutor(
                problem: problem, initialState: initialState, parameters: parameters, steps: steps, tape: tape,
                adjoints: AdjointVector())
            executor.progress = options.progress
            // The first kernel fault of a step's sweep (its tape is reset for the next step).
            var fault: StencilKernelFault?
            func reverseStep(_ step: Int) -> [Tracked] {
                let recorded = RecordedSteps.record(
                    problem, on: tape, state: executor.current, parameters: parameters, steps: 1,
                    runningSum: executor.runningSum, endsRun: false)
                if step == steps - 1 { finalState = recorded.finalState.map(\.value) }
                recorded.reverse(
                    on: tape, sweeper: sweeper, lanes: lanes, stateAdjoints: stateAdjoints,
                    parameterAdjoints: parameterAdjoints)
                executor.peakTapeBytes = max(executor.peakTapeBytes, tape.reservedByteCount + sweeper.byteCount)
                if fault == nil { fault = tape.stencilKernelFault }
                return recorded.finalState
            }
            if isOnline {
                var schedule = OnlineSchedule(snapshots: snapshots ?? plan.snapshots)
                for step in 0..<(steps - 1) {
                    for action in schedule.forwardActions(atStep: step) {
                        try executor.perform(action, reversingWith: reverseStep)
                    }
                }
                try executor.run(schedule.reversal(steps: steps), reversingWith: reverseStep)
            } else {
                try executor.run(
                    RevolveSchedule(steps: steps, snapshots: snapshots ?? plan.snapshots), reversingWith: reverseStep)
            }
            if let fault { throw TimeSteppingError.stencilKernelFault(fault) }
            precondition(executor.nextReverse == -1, "the schedule ended before reversing every step")
            report = RunReport(strategy: isOnline ? .online : .revolve, executor: executor)
            report.optimalForwardSteps = plan.predictedAdvances
        default:
            throw ParallelError.unsupportedStrategy(plan.strategy.description)
        }
        report.complete(run)
        options.progress?(1)

        let jacobian = (0..<lanes).map { lane in
            Array(UnsafeBufferPointer(start: stateAdjoints + lane * n, count: n))
                + Array(UnsafeBufferPointer(start: parameterAdjoints + lane * p, count: p))
        }
        return JacobianResult(
            rows: rows, jacobian: jacobian, finalState: finalState, report: report, threads: parallel.threads,
            sweepMode: sweeper.lastMode)
    }
}

extension TimeStepping {
    /// Refuses, before anything is allocated, a Jacobian of `rows` rows whose carried
    /// adjoints (rows × inputs, twice: carried and returned) and the states of one recorded
    /// step exceed `budget`. `jacobian` asks this itself; a caller can ask it before building
    /// a large initial state or row list.
    ///
    /// - Throws: `TimeSteppingError.budgetTooSmall` naming `budget`.
    public static func checkJacobianBudget(
        _ budget: MemoryBudget, stateCount: Int, parameterCount: Int, rows: Int
    ) throws {
        try checkBudgetHoldsStates(
            budget, stateCount: stateCount,
            extraBytes: _JacobianPlanner.carriedBytes(lanes: rows, stateCount: stateCount, parameterCount: parameterCount))
    }
}

/// The run plan of a Jacobian: `RunPlanner`'s, with the budget reduced by what several seeds
/// need beyond one gradient — the rows' carried adjoints and the Jacobian itself, and an
/// adjoint vector per extra worker (scalar mode) or per extra lane (SIMD mode).
///
/// Refusals name the caller's budget and a minimum that includes these extras (the planner
/// itself only sees what is left of the budget after them).
@usableFromInline
package enum _JacobianPlanner {
    /// Carried adjoints (lanes × inputs) and the returned rows: both live through the run.
    @usableFromInline
    package static func carriedBytes(lanes: Int, stateCount: Int, parameterCount: Int) -> Int {
        .saturating(.saturating(2 * MemoryLayout<Double>.stride, times: lanes), times: stateCount + parameterCount)
    }

    @usableFromInline
    package static func plan(
        strategy: CheckpointStrategy, budget: MemoryBudget, steps: Int, stateCount: Int, parameterCount: Int,
        lanes: Int, parallel: ParallelOptions, sample: RunSample, maximumSeconds: Double? = nil
    ) throws -> RunPlan {
        let doubles = MemoryLayout<Double>.stride
        let fixed = carriedBytes(lanes: lanes, stateCount: stateCount, parameterCount: parameterCount)
        // Adjoint copies beyond the one RunPlanner counts: the widest sweep mode may be chosen.
        let width = parallel.sweepMode == .scalar ? 1 : max(parallel.sweepMode.laneWidth, 8)
        let copies = max(min(parallel.threads, lanes), min(lanes, Int.saturating(width, times: parallel.threads)))
        let extraCopies = max(0, copies - 1)
        let inputs = stateCount + parameterCount + 16
        let storeAllExtra = Int.saturating(
            fixed,
            plus: .saturating(
                extraCopies,
                times: .saturating(.saturating(.saturating(steps, times: sample.identifiersPerStep), plus: inputs), times: doubles)))
        let stepExtra = Int.saturating(
            fixed, plus: .saturating(extraCopies, times: (sample.identifiersPerStep + inputs) * doubles))
        /// The planner with what the budget leaves beside `extra`; its refusals restated
        /// against the whole budget.
        func planner(_ strategy: CheckpointStrategy, extra: Int) throws -> RunPlan {
            do {
                var plan = try RunPlanner.plan(
                    strategy: strategy, budget: MemoryBudget(bytes: max(0, budget.bytes - extra)), steps: steps,
                    stateCount: stateCount, sample: sample)
                // The planner predicts one sweep a step; a Jacobian sweeps each recorded step
                // once a row, its threads sharing the rows. Charged at a whole taped step a
                // sweep (recording included: an overestimate), so the limit errs on the safe side.
                let sweepsPerThread = Double(lanes - 1) / Double(max(1, min(parallel.threads, lanes)))
                plan.predictedSeconds += Double(steps) * sample.tapedSecondsPerStep(stepsPerBlock: 1) * sweepsPerThread
                try RunPlanner.checkDuration(of: plan, steps: steps, maximumSeconds: maximumSeconds)
                return plan
            } catch TimeSteppingError.budgetTooSmall(_, let minimum, let shortfall) {
                throw TimeSteppingError.budgetTooSmall(
                    budget: budget.bytes, minimum: .saturating(minimum, plus: extra),
                    shortfall: .withJacobianRows(shortfall, rows: lanes, adjointBytes: extra))
            } catch TimeSteppingError.storeAllDoesNotFit(_, let needed) {
                throw TimeSteppingError.storeAllDoesNotFit(budget: budget.bytes, needed: .saturating(needed, plus: extra))
            }
        }
        switch strategy {
        case .storeAll:
            return try planner(.storeAll, extra: storeAllExtra)
        case .auto:
            if let plan = try? planner(.auto, extra: storeAllExtra), plan.strategy == .storeAll { return plan }
            return try planner(.revolve(snapshots: nil), extra: stepExtra)
        case .revolve, .online:
            return try planner(strategy, extra: stepExtra)
        default:
            throw ParallelError.unsupportedStrategy(strategy.description)
        }
    }
}
