import Dispatch
import Testing

import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Threads: one tape per recording thread")
struct ThreadSafetyTests {
    /// Every worker records its own tape at the same time (the active recorder is
    /// thread-local) and gets what a serial recording gets.
    @Test func differentThreadsRecordDifferentTapes() {
        func gradient(_ k: Int) -> [Double] {
            let tape = Tape(configuration: .init(initialStatementCapacity: 8, maximumStatementCapacity: 64))
            let (x, y) = tape.record { () -> ([Tracked], Tracked) in
                let x = tape.registerInputs([0.5 + Double(k), 1.5])
                var y = x[0]
                for _ in 0..<2_000 { y = Tracked.sin(y) * x[1] + 0.1 * y }
                return (x, y)
            }
            let adjoints = AdjointVector()
            tape.reverse(adjoints, seeding: [(y, 1)])
            return x.map { adjoints[$0] }
        }
        let serial = (0..<8).map(gradient)
        let results = UnsafeMutableBufferPointer<[Double]>.allocate(capacity: 8)
        results.initialize(repeating: [])
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        DispatchQueue.concurrentPerform(iterations: 8) { k in results[k] = gradient(k) }
        #expect(zip(serial, results).allSatisfy { bitwiseEqual($0, $1) })
    }

    @Test("two threads recording into one tape trap with a clear message")
    func twoThreadsRecordingOneTapeTrap() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape()
            let entered = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                tape.record {
                    _ = tape.registerInput(1)
                    entered.signal()
                    release.wait()
                }
            }
            entered.wait()
            // The other thread holds the recording: this must trap, not interleave statements.
            tape.record { _ = tape.registerInput(2) }
            release.signal()
        }
    }

    /// The control for the trap above: the same recordings one after the other are fine.
    @Test func recordingOneTapeFromTwoThreadsInTurnIsFine() async {
        await #expect(processExitsWith: .success) {
            let tape = Tape()
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                tape.record { _ = tape.registerInput(1) }
                done.signal()
            }
            done.wait()
            tape.record { _ = tape.registerInput(2) }
        }
    }
}
