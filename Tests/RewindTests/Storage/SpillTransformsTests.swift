import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Pre-compression transforms")
struct SpillTransformsTests {
    @Test("byte shuffle round-trips for every width and small sizes", arguments: [1, 2, 4, 8])
    func shuffleRoundTrip(width: Int) {
        var rng = SeededGenerator(seed: UInt64(width))
        for count in [0, 1, 2, 3, 5, 10, 64, 1001] {
            let input = (0..<count * width).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var shuffled = [UInt8](repeating: 0, count: input.count)
            var restored = [UInt8](repeating: 0, count: input.count)
            input.withUnsafeBytes { i in shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(i, into: $0, elementWidth: width) } }
            shuffled.withUnsafeBytes { s in restored.withUnsafeMutableBytes { ByteShuffle.unshuffle(s, into: $0, elementWidth: width) } }
            #expect(restored == input, "width \(width), count \(count)")
            // The layout is the documented one: out[b * n + i] == in[i * w + b].
            for i in 0..<count {
                for b in 0..<width { #expect(shuffled[b * count + i] == input[i * width + b]) }
            }
        }
    }

    @Test("shuffling doubles groups sign/exponent bytes together")
    func shuffleGroupsDoubles() {
        let values: [Double] = [1.0, 1.5, 1.25, 1.75]
        var shuffled = [UInt8](repeating: 0, count: 32)
        values.withUnsafeBytes { v in shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(v, into: $0, elementWidth: 8) } }
        // Byte 7 (sign + high exponent) of all four is 0x3F, and it lands last.
        #expect(Array(shuffled[28..<32]) == [0x3F, 0x3F, 0x3F, 0x3F])
    }

    @Test("shuffle works on unaligned buffers")
    func shuffleUnaligned() {
        let input = (0..<81).map { UInt8($0) }
        var out = [UInt8](repeating: 0, count: 81)
        var back = [UInt8](repeating: 0, count: 81)
        input.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in
                ByteShuffle.shuffle(UnsafeRawBufferPointer(rebasing: i[1..<81]), into: UnsafeMutableRawBufferPointer(rebasing: o[1..<81]), elementWidth: 8)
            }
        }
        out.withUnsafeBytes { o in
            back.withUnsafeMutableBytes { b in
                ByteShuffle.unshuffle(UnsafeRawBufferPointer(rebasing: o[1..<81]), into: UnsafeMutableRawBufferPointer(rebasing: b[1..<81]), elementWidth: 8)
            }
        }
        #expect(Array(back[1..<81]) == Array(input[1..<81]))
    }

    @Test("identifier delta round-trips, wraps, and works in place")
    func deltaRoundTrip() {
        var rng = SeededGenerator(seed: 7)
        for count in [0, 1, 2, 3, 7, 64, 1000] {
            let base = (0..<count).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
            // Identifiers below, equal to, above the base, and the extremes: all must survive.
            let ids = (0..<count).map { k -> UInt32 in
                switch k % 5 {
                case 0: return base[k] &- 1
                case 1: return 0
                case 2: return base[k] &+ 3
                case 3: return .max
                default: return UInt32(truncatingIfNeeded: rng.next())
                }
            }
            var stored = [UInt32](repeating: 0, count: count)
            ids.withUnsafeBufferPointer { i in base.withUnsafeBufferPointer { b in
                stored.withUnsafeMutableBufferPointer { IdentifierDelta.encode(i, base: b, into: $0) } } }
            for k in 0..<count { #expect(stored[k] == base[k] &- ids[k]) }
            // In place: decode into the same buffer.
            base.withUnsafeBufferPointer { b in
                stored.withUnsafeMutableBufferPointer { s in IdentifierDelta.decode(UnsafeBufferPointer(s), base: b, into: s) } }
            #expect(stored == ids, "count \(count)")
        }
    }

    @Test("tape identifiers become small repeating numbers")
    func deltaOfTapeIdentifiers() {
        let tape = SpillSyntheticTape(statements: 1000, firstIdentifier: 5000, seed: 1)
        var base = [UInt32](repeating: 0, count: tape.identifiers.count)
        tape.counts.withUnsafeBufferPointer { c in
            base.withUnsafeMutableBufferPointer { SpillSyntheticTape.fillBase($0, counts: c, first: 5000) } }
        var stored = [UInt32](repeating: 0, count: base.count)
        tape.identifiers.withUnsafeBufferPointer { i in base.withUnsafeBufferPointer { b in
            stored.withUnsafeMutableBufferPointer { IdentifierDelta.encode(i, base: b, into: $0) } } }
        let nonPassive = zip(stored, tape.identifiers).filter { $0.1 != 0 }.map(\.0)
        #expect(Set(nonPassive).isSubset(of: [1, 2, 64, 65]))
    }
}
