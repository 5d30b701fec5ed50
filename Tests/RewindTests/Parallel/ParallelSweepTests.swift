import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// A tape of mixed elementary operations over `inputCount` inputs with `outputCount` outputs,
/// including constants, a square root at 0 (infinite partial) whose adjoint stays zero, and
/// wide sums: every branch of both sweeps. The dead square root makes the last input's
/// gradient NaN (0·∞, issue 12: a zero adjoint is skipped only behind finite partials); the
/// other inputs do not reach it and stay finite.
private func recordMixed(
    on tape: Tape, inputCount: Int, outputCount: Int, seed: UInt64
) -> (inputs: [Tracked], outputs: [Tracked]) {
    var random = SplitMix(state: seed)
    return tape.record { () -> ([Tracked], [Tracked]) in
        let inputs = tape.registerInputs((0..<inputCount).map { _ in Double.random(in: 0.5...1.5, using: &random) })
        var pool = inputs
        for i in 0..<200 {
            let a = pool[Int.random(in: 0..<pool.count, using: &random)]
            let b = pool[Int.random(in: 0..<pool.count, using: &random)]
            let c = pool[Int.random(in: 0..<pool.count, using: &random)]
            switch i % 6 {
            case 0: pool.append(a * b + 0.5)
            case 1: pool.append(Tracked.sin(a) - b / (c * c + 1))
            case 2: pool.append(Tracked.exp(0.1 * a) * c)
            case 3: pool.append(a + b + c + Tracked(2.0))
            case 4: pool.append(Tracked.fma(a, b, c))
            default: pool.append(Tracked.sqrt(a * a) * 0.25)
            }
        }
        // A dead branch with an infinite partial: d sqrt(u)/du at u = 0, u = 0 · (last input).
        let zero = 0.0 * inputs[inputCount - 1]
        _ = Tracked.sqrt(zero)
        let outputs = (0..<outputCount).map { k in pool[pool.count - 1 - k] * Tracked.sqrt(zero * 0.0 + 1.0) }
        return (inputs, outputs)
    }
}

/// Serial reference: one `reverse(_:seeding:)` per seed.
private func serialRows(_ tape: Tape, seeds: [[(Tracked, Double)]], inputs: [Tracked]) -> [[Double]] {
    let adjoints = AdjointVector()
    return seeds.map { seed in
        tape.reverse(adjoints, seeding: seed)
        return inputs.map { adjoints[$0] }
    }
}

private func seeds(for outputs: [Tracked], count: Int) -> [[(Tracked, Double)]] {
    (0..<count).map { k in
        // Unit seeds, weighted mixtures and an all-zero seed.
        if k % 5 == 4 { return [(outputs[0], 0.0)] }
        if k % 2 == 0 { return [(outputs[k % outputs.count], 1.0)] }
        return outputs.enumerated().map { ($0.element, Double($0.offset + k) * 0.25 - 0.5) }
    }
}

@Suite("Parallel sweeps over one frozen tape")
struct ParallelSweepTests {
    @Test(arguments: [1, 2, 3, 7, 64], [1, 3, 8, 13])
    func everyModeAndThreadCountEqualsTheSerialSweeps(capacity: Int, seedCount: Int) {
        let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity * 4))
        let (inputs, outputs) = recordMixed(on: tape, inputCount: 5, outputCount: 4, seed: UInt64(capacity))
        let seeds = seeds(for: outputs, count: seedCount)
        let reference = serialRows(tape, seeds: seeds, inputs: inputs)
        #expect(reference.allSatisfy { $0.dropLast().allSatisfy(\.isFinite) && $0.last!.isNaN })
        for threads in parallelThreadCounts {
            for mode in SweepMode.allCases {
                let rows = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: threads, sweepMode: mode))
                #expect(bitwiseEqual(rows, reference), "threads \(threads), mode \(mode)")
            }
        }
    }

    @Test func aLargeTapeIsSpreadOverThreadsAndStillEqual() {
        // Large enough to pass the dispatch threshold, so the workers really run concurrently.
        let tape = Tape()
        let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
            let x = tape.registerInputs([0.3, 0.7, 1.1])
            var s = x
            for _ in 0..<20_000 {
                let a = s[0] * s[1] + Tracked.sin(s[2])
                let b = s[1] - 0.01 * a * s[0]
                let c = Tracked.cos(s[2] + 0.001 * a)
                s = [a * 0.5, b, c]
            }
            return (x, s)
        }
        let seeds = seeds(for: outputs, count: 16)
        let reference = serialRows(tape, seeds: seeds, inputs: inputs)
        for threads in parallelThreadCounts {
            for mode in SweepMode.allCases {
                let rows = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: threads, sweepMode: mode))
                #expect(bitwiseEqual(rows, reference), "threads \(threads), mode \(mode)")
            }
        }
    }

    @Test func externalStatementsFallBackToScalarSweeps() {
        let tape = Tape()
        let problem = TestDiffusion(n: 9)
        let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
            let x = tape.registerInputs(problem.initialState() + [0.8])
            var state = Array(x[0..<9])
            var next = state
            for _ in 0..<4 {
                problem.step(state, parameters: [x[9]], into: &next)
                swap(&state, &next)
            }
            // And a custom adjoint: y = 3·u0.
            let custom = Tracked.custom(inputs: [state[0]], outputs: [3 * state[0].value]) { ybar, xbar in
                xbar[0] = 3 * ybar[0]
            }
            return (x, state + custom)
        }
        #expect(tape.statistics.externalStatementCount == 5)
        let seeds = seeds(for: outputs, count: 10)
        let reference = serialRows(tape, seeds: seeds, inputs: inputs)
        for threads in parallelThreadCounts {
            for mode in SweepMode.allCases {
                let rows = tape.reverse(seeds: seeds, reading: inputs, options: ParallelOptions(threads: threads, sweepMode: mode))
                #expect(bitwiseEqual(rows, reference), "threads \(threads), mode \(mode)")
            }
        }
        #expect(SweepMode.simd8.resolved(seeds: 16, threads: 1, tapeHasExternalStatements: true) == .scalar)
    }

    @Test func fullAdjointVectorsPerSeedEqualTheSerialOnes() {
        let tape = Tape(configuration: .init(initialStatementCapacity: 7, maximumStatementCapacity: 7))
        let (_, outputs) = recordMixed(on: tape, inputCount: 4, outputCount: 3, seed: 11)
        let seeds = seeds(for: outputs, count: 6)
        let reference = AdjointVector()
        for threads in parallelThreadCounts {
            let vectors = seeds.map { _ in AdjointVector() }
            tape.reverse(vectors, seeds: seeds, threads: threads)
            for (vector, seed) in zip(vectors, seeds) {
                tape.reverse(reference, seeding: seed)
                let all = (0..<tape.identifierCount).map { UInt32($0) }
                #expect(bitwiseEqual(all.map { vector[identifier: $0] }, all.map { reference[identifier: $0] }))
            }
        }
    }

    @Test func recordedFunctionJacobianEqualsTheSerialOne() {
        let f = RecordedFunction(at: [1.0, 2.0, 0.5]) { x in
            [x[0] * x[1], Tracked.sin(x[0]) * x[2], Tracked.exp(x[1] - x[2]), x[0] / x[2]]
        }
        let serial = f.jacobian()
        for threads in parallelThreadCounts {
            for mode in SweepMode.allCases {
                #expect(bitwiseEqual(f.jacobian(options: ParallelOptions(threads: threads, sweepMode: mode)), serial))
            }
        }
        let cotangents = [[1.0, 0, 0, 2], [0, -1, 0.5, 0]]
        #expect(bitwiseEqual(f.pullbacks(cotangents, options: ParallelOptions(threads: 2)), cotangents.map { f.pullback($0) }))
    }

    @Test func autoModeFollowsTheMeasuredCrossover() {
        func auto(_ seeds: Int, _ threads: Int) -> SweepMode {
            SweepMode.auto.resolved(seeds: seeds, threads: threads, tapeHasExternalStatements: false)
        }
        #expect(auto(1, 1) == .scalar)
        #expect(auto(2, 1) == .simd4)
        #expect(auto(2, 2) == .scalar)
        #expect(auto(4, 2) == .simd4)
        #expect(auto(16, 2) == .simd4)
        #expect(auto(3, 8) == .scalar)
        #expect(SweepMode.simd4.resolved(seeds: 1, threads: 8, tapeHasExternalStatements: false) == .simd4)
        #expect(SweepMode.simd4.resolved(seeds: 9, threads: 1, tapeHasExternalStatements: true) == .scalar)
    }
}
