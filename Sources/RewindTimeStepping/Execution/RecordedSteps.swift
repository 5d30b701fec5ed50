import RewindCore
/// Steps of a time-stepping problem recorded on a tape, ready to be reversed.
///
/// Every strategy reverses through this one type: store-all records all steps in one
/// `RecordedSteps`, checkpointing one step or block at a time. Because both record the same
/// statements and add adjoint contributions in the same order — the parameters' adjoint is
/// carried from segment to segment as a seed rather than summed afterwards — the gradient is
/// bitwise the same whatever the strategy.
@usableFromInline
package struct RecordedSteps {
    @usableFromInline package var stateLeaves: [Tracked]
    @usableFromInline package var parameterLeaves: [Tracked]
    @usableFromInline package var finalState: [Tracked]
    /// Identifiers of the running costs, in step order.
    @usableFromInline package var runningCosts: [UInt32]
    /// The objective and the leaf that stands for the running sum in it, when the last step
    /// of the run is among these steps.
    @usableFromInline package var objective: Tracked?
    @usableFromInline package var sumLeaf: Tracked?
    @usableFromInline package var positionBeforeObjective: TapePosition
    /// The running sum after these steps (the input sum plus their costs, left to right).
    @usableFromInline package var runningSum: Double
    /// Check mode: the first identifier of each step, to map a statement to its time step.
    @usableFromInline package var stepStarts: [UInt32] = []
    /// Whether `finalState`'s identifiers are one consecutive run, when a pass that read it
    /// anyway found out (`StateFingerprint.ofValues`); nil: the seeding looks for itself.
    @usableFromInline package var finalStateIsConsecutive: Bool? = nil
    /// The second state buffer of a recording, kept for the next one.
    @usableFromInline package var _next: [Tracked] = []

    @inlinable
    init(
        stateLeaves: [Tracked], parameterLeaves: [Tracked], finalState: [Tracked], runningCosts: [UInt32],
        objective: Tracked?, sumLeaf: Tracked?, positionBeforeObjective: TapePosition, runningSum: Double
    ) {
        self.stateLeaves = stateLeaves
        self.parameterLeaves = parameterLeaves
        self.finalState = finalState
        self.runningCosts = runningCosts
        self.objective = objective
        self.sumLeaf = sumLeaf
        self.positionBeforeObjective = positionBeforeObjective
        self.runningSum = runningSum
    }

    /// A recording of nothing, whose arrays `rerecord` fills.
    @inlinable
    static var empty: RecordedSteps {
        RecordedSteps(
            stateLeaves: [], parameterLeaves: [], finalState: [], runningCosts: [], objective: nil, sumLeaf: nil,
            positionBeforeObjective: .start, runningSum: 0)
    }

    /// Records `steps` steps from `state` on `tape` (after resetting it); when
    /// `endsRun`, also the objective with the running sum so far.
    @inlinable
    static func record<P: TimeSteppingProblem>(
        _ problem: P, on tape: Tape, state: [Double], parameters: [Double], steps: Int,
        runningSum: Double, endsRun: Bool
    ) -> RecordedSteps {
        var recorded = RecordedSteps.empty
        recorded.rerecord(
            problem, on: tape, state: state, parameters: parameters, steps: steps, runningSum: runningSum,
            endsRun: endsRun)
        return recorded
    }

    /// `record`, reusing this value's arrays: checkpointing records a million one-step tapes,
    /// and fresh arrays for each were most of the cost of a small step.
    @inlinable
    mutating func rerecord<P: TimeSteppingProblem>(
        _ problem: P, on tape: Tape, state: [Double], parameters: [Double], steps: Int,
        runningSum: Double, endsRun: Bool
    ) {
        tape.reset()
        finalStateIsConsecutive = nil
        let previous = tape._beginRecording()
        defer { tape._endRecording(restoring: previous) }
        parameterLeaves.removeAll(keepingCapacity: true)
        tape.registerInputs(parameters, appendingTo: &parameterLeaves)
        // In place: a block of one step of a large state (heat2d 256²) spent more time filling
        // the leaves' array, and copying it into the state buffer, than on its stencil.
        tape._registerInputs(state, replacing: &stateLeaves)
        runningCosts.removeAll(keepingCapacity: true)
        stepStarts.removeAll(keepingCapacity: true)
        // `finalState` and `_next` are reused as the two state buffers of the recording; the
        // first step reads the leaves themselves.
        if finalState.count != state.count { finalState = [Tracked](repeating: Tracked(0), count: state.count) }
        if _next.count != state.count { _next = [Tracked](repeating: Tracked(0), count: state.count) }
        if steps == 0 { finalState = stateLeaves }
        var sum = runningSum
        for step in 0..<steps {
            if tape.checksFinite { stepStarts.append(UInt32(tape.identifierCount)) }
            // Two calls, not one with a conditional argument: that would retain and release
            // an array every step (4 % of a Lorenz run).
            if step == 0 {
                problem.step(stateLeaves, parameters: parameterLeaves, into: &_next)
            } else {
                problem.step(finalState, parameters: parameterLeaves, into: &_next)
            }
            precondition(
                _next.count == problem.stateCount,
                "the step function changed the state's length from \(problem.stateCount) to \(_next.count)")
            swap(&finalState, &_next)
            if problem.hasRunningCost {
                let cost = problem.runningCost(finalState, parameters: parameterLeaves)
                runningCosts.append(cost.identifier)
                sum = sum + cost.value
            }
        }
        positionBeforeObjective = tape.position
        objective = nil
        sumLeaf = nil
        if endsRun {
            let leaf = tape.registerInput(sum)
            sumLeaf = leaf
            objective = problem.objective(finalState: finalState, runningCostSum: leaf, parameters: parameterLeaves)
        }
        self.runningSum = sum
    }

    /// Check mode: the time step (counted from `firstStep`) and a readable account of the
    /// statement where a NaN or infinity entered, if one did.
    @inlinable
    func nonFinite(on tape: Tape, firstStep: Int) -> (step: Int, report: String)? {
        guard let report = tape.firstNonFinite ?? tape.firstNonFiniteAdjoint else { return nil }
        let offset = stepStarts.lastIndex { $0 <= report.identifier } ?? 0
        var text = report.description
        if let k = parameterLeaves.firstIndex(where: { $0.identifier == report.identifier }) {
            text = "parameter \(k) is \(report.value); " + text
        } else if let k = stateLeaves.firstIndex(where: { $0.identifier == report.identifier }) {
            text = "state component \(k) is \(report.value) at the start of the step; " + text
        }
        return (firstStep + offset, text)
    }

    /// Reverses the recording.
    ///
    /// - Parameters:
    ///   - stateAdjoint: on entry the adjoint of the final state (ignored when the objective
    ///     is recorded here); on exit the adjoint of the initial state.
    ///   - sumAdjoint: dJ/dS; set here when the objective is recorded here.
    ///   - parameterAdjoint: accumulated in place.
    @inlinable
    func reverse(
        on tape: Tape, adjoints: AdjointVector, stateAdjoint: inout [Double], sumAdjoint: inout Double,
        parameterAdjoint: inout [Double]
    ) {
        adjoints.prepare(for: tape)
        for (leaf, seed) in zip(parameterLeaves, parameterAdjoint) { adjoints[leaf] = seed }
        if let objective, let sumLeaf {
            adjoints[objective] += 1
            tape.reverse(adjoints, from: tape.position, to: positionBeforeObjective)
            sumAdjoint = adjoints[sumLeaf]
        } else {
            // Raw loops: a step of a large state seeds and reads thousands of adjoints, and
            // through the checked subscripts that was a tenth of a Burgers step's sweep.
            precondition(finalState.count == stateAdjoint.count)
            let storage = adjoints.baseAddress
            finalState.withUnsafeBufferPointer { values in
                stateAdjoint.withUnsafeBufferPointer { seeds in
                    // A stencil's outputs are consecutive identifiers: a loop the compiler vectorises.
                    if let first = values.first.map({ Int($0.identifier) }), first > 0,
                        finalStateIsConsecutive ?? Tracked._identifiersAreConsecutive(values, from: UInt32(first))
                    {
                        let target = storage + first
                        for k in seeds.indices { target[k] += seeds[k] }
                        return
                    }
                    for k in values.indices where !values[k].isConstant {
                        storage[Int(values[k].identifier)] += seeds[k]
                    }
                }
            }
        }
        for identifier in runningCosts where identifier != 0 {
            adjoints[identifier: identifier] += sumAdjoint
        }
        tape.reverse(adjoints, from: positionBeforeObjective, to: .start)
        // The state's leaves were registered in one call, which gives consecutive identifiers.
        Self.readAdjoints(of: stateLeaves, from: adjoints, into: &stateAdjoint, consecutive: true)
        Self.readAdjoints(of: parameterLeaves, from: adjoints, into: &parameterAdjoint)
    }

    /// Reverses a recording that carries no adjoints in (the parameters' start at zero, the
    /// state's and the running sum's too, the objective's is 1 when it is recorded here):
    /// the adjoints of the initial state and the parameters.
    @inlinable
    func reversedFromScratch(on tape: Tape, adjoints: AdjointVector) throws -> (state: [Double], parameters: [Double]) {
        var stateAdjoint = [Double](repeating: 0, count: stateLeaves.count)
        var parameterAdjoint = [Double](repeating: 0, count: parameterLeaves.count)
        var sumAdjoint = 0.0
        reverse(
            on: tape, adjoints: adjoints, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
            parameterAdjoint: &parameterAdjoint)
        try Self.throwFaults(of: tape, poisoning: &stateAdjoint, &parameterAdjoint, &sumAdjoint)
        return (stateAdjoint, parameterAdjoint)
    }

    /// `reverse` into `paged` adjoints when they are given and the tape can use them (no
    /// external statements: stencils and custom adjoints sweep dense, and their dense adjoint
    /// vector is small beside their states), else into the dense `adjoints`.
    @inlinable
    func reverse(
        on tape: Tape, adjoints: AdjointVector, paged: PagedAdjointVector?, stateAdjoint: inout [Double],
        sumAdjoint: inout Double, parameterAdjoint: inout [Double]
    ) throws {
        if let paged, !tape._hasExternalStatements {
            reverse(
                on: tape, paged: paged, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
                parameterAdjoint: &parameterAdjoint)
        } else {
            reverse(
                on: tape, adjoints: adjoints, stateAdjoint: &stateAdjoint, sumAdjoint: &sumAdjoint,
                parameterAdjoint: &parameterAdjoint)
        }
        try Self.throwFaults(of: tape, poisoning: &stateAdjoint, &parameterAdjoint, &sumAdjoint)
    }

    /// Throws what made a sweep's adjoints worthless, after making them NaN: a spilled chunk
    /// that was lost, or a stencil kernel caught changing between its calls.
    @inlinable
    static func throwFaults(
        of tape: Tape, poisoning state: inout [Double], _ parameters: inout [Double], _ sum: inout Double
    ) throws {
        if _slowPath(tape.spillError != nil) {
            poison(&state, &parameters, &sum)
            try tape.throwSpillError()
        }
        if _slowPath(tape._hasExternalStatements), let fault = tape.stencilKernelFault {
            poison(&state, &parameters, &sum)
            throw TimeSteppingError.stencilKernelFault(fault)
        }
    }

    /// A sweep that lost a spilled chunk has not finished: its adjoints become NaN, so that
    /// nothing downstream can mistake them for a gradient even before the error is thrown.
    @inlinable
    static func poison(_ state: inout [Double], _ parameters: inout [Double], _ sum: inout Double) {
        for k in state.indices { state[k] = .nan }
        for k in parameters.indices { parameters[k] = .nan }
        sum = .nan
    }

    /// `reverse`, into paged adjoints: only the inputs' adjoints and the pages the sweep is in
    /// stay in memory (`PagedAdjointVector`), for a step whose dense adjoint vector does not fit
    /// the budget. The same additions in the same order, so the same bits.
    @inlinable
    func reverse(
        on tape: Tape, paged adjoints: PagedAdjointVector, stateAdjoint: inout [Double], sumAdjoint: inout Double,
        parameterAdjoint: inout [Double]
    ) {
        // The leaves come first on the tape, parameters then state, each in identifier order:
        // their adjoints are the result, so they are kept.
        let lastLeaf = Int(max(parameterLeaves.last?.identifier ?? 0, stateLeaves.last?.identifier ?? 0))
        adjoints.prepare(for: tape, keepingBelow: lastLeaf + 1)
        for (leaf, seed) in zip(parameterLeaves, parameterAdjoint) { adjoints.seed(leaf.identifier, seed) }
        if let objective, let sumLeaf {
            adjoints.seed(objective.identifier, 1)
            tape.reverse(adjoints, from: tape.position, to: positionBeforeObjective, releasingPages: false)
            sumAdjoint = adjoints[sumLeaf.identifier]
        } else {
            for (value, seed) in zip(finalState, stateAdjoint) where !value.isConstant {
                adjoints.seed(value.identifier, seed)
            }
        }
        for identifier in runningCosts where identifier != 0 {
            adjoints.seed(identifier, sumAdjoint)
        }
        tape.reverse(adjoints, from: positionBeforeObjective, to: .start)
        for k in stateLeaves.indices { stateAdjoint[k] = adjoints[stateLeaves[k].identifier] }
        for k in parameterLeaves.indices { parameterAdjoint[k] = adjoints[parameterLeaves[k].identifier] }
        adjoints.returnFreedMemory()
    }

    /// `result[k] = adjoint of leaves[k]`; the leaves are inputs of this tape, so in range.
    /// `consecutive` says the identifiers are one run when the caller knows (nil: look).
    @inlinable
    static func readAdjoints(
        of leaves: [Tracked], from adjoints: AdjointVector, into result: inout [Double], consecutive: Bool? = nil
    ) {
        precondition(leaves.count == result.count)
        let storage = adjoints.baseAddress
        let count = adjoints.count
        leaves.withUnsafeBufferPointer { leaves in
            result.withUnsafeMutableBufferPointer { out in
                // Registered together, a step's leaves are consecutive identifiers: one copy
                // (a 256² state is read back after every step it reverses).
                if let first = leaves.first.map({ Int($0.identifier) }), first + leaves.count <= count,
                    consecutive ?? Tracked._identifiersAreConsecutive(leaves, from: UInt32(first))
                {
                    out.baseAddress!.update(from: storage + first, count: leaves.count)
                    return
                }
                precondition(leaves.allSatisfy { Int($0.identifier) < count })
                for k in leaves.indices { out[k] = storage[Int(leaves[k].identifier)] }
            }
        }
    }

}
