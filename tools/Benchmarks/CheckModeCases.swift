// Check mode on against off (issue 12): the synthetic mix recorded and swept on one tape with
// `checksFinite` false and true, alternating, in one process, so the ratio is free of the
// machine's drift.
//
//   swift build -c release --product rewind-benchmark
//   .build/release/rewind-benchmark check-mode      # one JSON line
import Foundation
import Rewind

struct CheckModeResult: Codable {
    var statements: Int
    var recordOffSeconds: Double
    var recordOnSeconds: Double
    var reverseOffSeconds: Double
    var reverseOnSeconds: Double
    /// The same tape swept with every adjoint 0 (seed 0): the worst case of the zero-adjoint
    /// rule, which skips a statement only after reading its partials.
    var reverseZeroSeedSeconds: Double
    /// Statements whose adjoint is 0 in the seeded sweep.
    var zeroAdjointFraction: Double
    var recordRatio: Double { recordOnSeconds / recordOffSeconds }
    var reverseRatio: Double { reverseOnSeconds / reverseOffSeconds }
}

/// The synthetic mix of `measureSynthetic`, recorded and swept `repetitions` times each way.
func measureCheckMode(operations: Int, repetitions: Int) -> CheckModeResult {
    let tape = Tape()
    let adjoints = AdjointVector()
    var record: [Bool: [Double]] = [false: [], true: []]
    var reverse: [Bool: [Double]] = [false: [], true: []]
    var zeroSeed: [Double] = []
    var zeroAdjointFraction = 0.0
    var statements = 0
    for round in 0..<(2 * repetitions + 2) {
        let checking = round % 2 == 1
        tape.checksFinite = false
        tape.reset()
        tape.checksFinite = checking
        let start = now()
        let (x, y) = tape.record { () -> (Tracked, Tracked) in
            let x = tape.registerInput(1.1)
            var a = x
            var b = tape.registerInput(0.7)
            for i in 0..<(operations / 4) {
                a = a * b + 0.5
                b = b - a * 1e-3
                if i & 1023 == 0 { a = Tracked.sqrt(a) }
            }
            return (x, a + b)
        }
        let recorded = now()
        statements = tape.statistics.statementCount
        adjoints.prepare(for: tape)
        adjoints[y] = 1
        let sweepStart = now()
        tape.reverse(adjoints)
        let reversed = now()
        blackHole(adjoints[x])
        if !checking && round >= 2 {
            var zeros = 0
            for identifier in 1..<tape.identifierCount where adjoints[identifier: UInt32(identifier)] == 0 { zeros += 1 }
            zeroAdjointFraction = Double(zeros) / Double(tape.identifierCount - 1)
            adjoints.prepare(for: tape)
            let zeroStart = now()
            tape.reverse(adjoints)
            zeroSeed.append(now() - zeroStart)
        }
        // The first round of each mode touches fresh memory; keep the warm ones.
        if round >= 2 {
            record[checking]!.append(recorded - start)
            reverse[checking]!.append(reversed - sweepStart)
        }
    }
    return CheckModeResult(
        statements: statements, recordOffSeconds: median(record[false]!), recordOnSeconds: median(record[true]!),
        reverseOffSeconds: median(reverse[false]!), reverseOnSeconds: median(reverse[true]!),
        reverseZeroSeedSeconds: median(zeroSeed), zeroAdjointFraction: zeroAdjointFraction)
}
