import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// f(x, y) = sin(x·y) + x/y − exp(y), recorded through several chunk sizes.
private func record(on tape: Tape, x: Double, y: Double) -> (Tracked, Tracked, Tracked) {
    tape.record {
        let a = tape.registerInput(x)
        let b = tape.registerInput(y)
        var f = Tracked.sin(a * b) + a / b - Tracked.exp(b)
        for _ in 0..<10 { f = f * 0.5 + a }
        return (a, b, f)
    }
}

private func analyticGradient(x: Double, y: Double) -> (Double, Double) {
    // f₀ = sin(xy) + x/y − e^y, then 10 times f ← f/2 + x: f = f₀/1024 + x·(1 − 2⁻¹⁰)·2
    let scale = 1.0 / 1024
    let fx = (y * Double.cos(x * y) + 1 / y) * scale + (2 - 2 * scale)
    let fy = (x * Double.cos(x * y) - x / (y * y) - Double.exp(y)) * scale
    return (fx, fy)
}

@Suite("Tape: recording, sweeping, chunks")
struct TapeTests {
    @Test(arguments: [1, 2, 3, 7, 64, 1024])
    func gradientIsTheSameForEveryChunkCapacity(capacity: Int) {
        let tape = Tape(configuration: .init(initialStatementCapacity: capacity, maximumStatementCapacity: capacity))
        let (a, b, f) = record(on: tape, x: 0.7, y: 1.3)
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: [(f, 1)])
        let (fx, fy) = analyticGradient(x: 0.7, y: 1.3)
        #expect(abs(adjoints[a] - fx) < 1e-14 * abs(fx))
        #expect(abs(adjoints[b] - fy) < 1e-14 * abs(fy))
        if capacity < 8 { #expect(tape.statistics.chunksInUse > 1) }
    }

    @Test func resetKeepsTheChunksAndGivesTheSameResult() {
        let tape = Tape(configuration: .init(initialStatementCapacity: 4, maximumStatementCapacity: 4))
        let adjoints = AdjointVector()
        var results: [Double] = []
        var reserved: [Int] = []
        for _ in 0..<3 {
            tape.reset()
            let (a, _, f) = record(on: tape, x: 0.3, y: 2.0)
            tape.reverse(adjoints, seeding: [(f, 1)])
            results.append(adjoints[a])
            reserved.append(tape.statistics.chunksReserved)
        }
        #expect(results[0] == results[1] && results[1] == results[2])
        #expect(reserved[0] == reserved[2])
    }

    @Test func statisticsCountStatementsArgumentsAndBytes() {
        let tape = Tape()
        tape.record {
            let x = tape.registerInput(1)
            let y = tape.registerInput(2)
            _ = x * y  // binary: 2 arguments
            _ = Tracked.sin(x)  // unary: 1 argument
            _ = x * 3.0  // unary with a constant
        }
        let stats = tape.statistics
        #expect(stats.statementCount == 5)
        #expect(stats.argumentCount == 4)
        #expect(stats.partialCount == 4)
        #expect(stats.bytesInUse == 5 * 1 + 4 * 4 + 4 * 8)
        #expect(stats.bytesReserved >= stats.bytesInUse)
    }

    @Test func aBinaryStatementCostsTwentyFiveBytes() {
        let tape = Tape()
        tape.record {
            let x = tape.registerInput(1)
            let y = tape.registerInput(2)
            let before = tape.statistics.bytesInUse
            _ = x * y
            #expect(tape.statistics.bytesInUse - before == 25)
        }
    }

    @Test func sweepBetweenPositionsReversesOnlyThatPart() {
        let tape = Tape(configuration: .init(initialStatementCapacity: 2, maximumStatementCapacity: 2))
        let adjoints = AdjointVector()
        let (x, mid, y, middlePosition) = tape.record { () -> (Tracked, Tracked, Tracked, TapePosition) in
            let x = tape.registerInput(2)
            let mid = x * x * x  // x³
            let position = tape.position
            let y = Tracked.sin(mid)
            return (x, mid, y, position)
        }
        adjoints.prepare(for: tape)
        adjoints[y] = 1
        tape.reverse(adjoints, from: tape.position, to: middlePosition)
        #expect(adjoints[mid] == Double.cos(8))
        #expect(adjoints[x] == 0, "statements before the position must not be swept")
        tape.reverse(adjoints, from: middlePosition, to: .start)
        #expect(abs(adjoints[x] - Double.cos(8) * 12) < 1e-14)
    }

    @Test func aFrozenTapeIsSweptWithManySeeds() {
        let tape = Tape()
        let (x, outputs) = tape.record { () -> (Tracked, [Tracked]) in
            let x = tape.registerInput(0.5)
            return (x, [x * x, Tracked.sin(x), Tracked.exp(x)])
        }
        let expected = [1.0, Double.cos(0.5), Double.exp(0.5)]
        let adjoints = AdjointVector()
        for round in 0..<2 {
            for (k, output) in outputs.enumerated() {
                tape.reverse(adjoints, seeding: [(output, 1)])
                #expect(abs(adjoints[x] - expected[k]) < 1e-15, "round \(round), output \(k)")
            }
        }
        tape.reverse(adjoints, seeding: [(outputs[0], 2), (outputs[2], -1)])
        #expect(abs(adjoints[x] - (2 * expected[0] - expected[2])) < 1e-15)
    }

    @Test func constantsRecordNothing() {
        let tape = Tape()
        tape.record {
            let c = Tracked(3)
            let before = tape.statistics.statementCount
            let d = c * c + Tracked.sin(c) / 2.0
            #expect(d.isConstant)
            #expect(tape.statistics.statementCount == before)
        }
    }

    @Test func anInputWithNoDependenceGetsExactlyZero() {
        let (value, gradient) = valueWithGradient(at: [1, 2, 3]) { x in x[0] * x[2] }
        #expect(value == 3)
        #expect(gradient == [3, 0, 1])
    }

    @Test func adjointVectorGrowsAndZeroes() {
        let adjoints = AdjointVector()
        adjoints.prepare(identifierCount: 10)
        adjoints[identifier: 5] = 7
        adjoints.prepare(identifierCount: 1000)
        #expect(adjoints.count == 1000 && adjoints[identifier: 5] == 0)
    }

    @Test func twoThreadsRecordTheirOwnTapes() async {
        let results = await withTaskGroup(of: Double.self) { group in
            for k in 0..<4 {
                group.addTask {
                    let tape = Tape(configuration: .init(initialStatementCapacity: 3, maximumStatementCapacity: 3))
                    let (a, _, f) = record(on: tape, x: 0.1 * Double(k + 1), y: 1.5)
                    let adjoints = AdjointVector()
                    tape.reverse(adjoints, seeding: [(f, 1)])
                    return adjoints[a] - analyticGradient(x: 0.1 * Double(k + 1), y: 1.5).0
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { abs($0) < 1e-13 })
    }

    @Test func usingAValueWithNoRecordingTapeTraps() async {
        await #expect(processExitsWith: .failure) {
            let tape = Tape()
            let x = tape.record { tape.registerInput(1) }
            _ = x * x
        }
    }

    @Test func recordingOneTapeTwiceAtOnceTraps() async {
        await #expect(processExitsWith: .failure) {
            let tape = Tape()
            tape.record { tape.record {} }
        }
    }
}
