import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("LZ4 frame codec")
struct LZ4FrameCodecTests {
    static func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// Tape-like bytes: long runs and short repeating patterns.
    static func structuredBytes(_ n: Int) -> [UInt8] {
        (0..<n).map { i in i % 7 < 4 ? 2 : UInt8(truncatingIfNeeded: i / 13) }
    }

    static func roundTrip(_ codec: LZ4FrameCodec, _ input: [UInt8]) throws -> [UInt8] {
        let frame = try input.withUnsafeBytes { Array(try codec.compress($0)) }
        var output = [UInt8](repeating: 0x5A, count: input.count)
        try frame.withUnsafeBytes { f in try output.withUnsafeMutableBytes { try codec.decompress(f, into: $0) } }
        return output
    }

    @Test("every size 0...70 round-trips, random and structured, with one reused codec")
    func smallSizes() throws {
        let codec = try LZ4FrameCodec()
        for n in 0...70 {
            let random = Self.randomBytes(n, seed: UInt64(n))
            #expect(try Self.roundTrip(codec, random) == random, "random, size \(n)")
            let structured = Self.structuredBytes(n)
            #expect(try Self.roundTrip(codec, structured) == structured, "structured, size \(n)")
        }
    }

    @Test("large sizes round-trip across block boundaries", arguments: [65_535, 65_536, 262_145, 1_000_003, 5_000_000])
    func largeSizes(n: Int) throws {
        for blockSize in [LZ4FrameCodec.Options.BlockSize.max64KB, .max4MB] {
            let codec = try LZ4FrameCodec(options: .init(blockSize: blockSize))
            let random = Self.randomBytes(n, seed: 99)
            #expect(try Self.roundTrip(codec, random) == random)
            let structured = Self.structuredBytes(n)
            #expect(try Self.roundTrip(codec, structured) == structured)
        }
    }

    @Test("the internal output buffer stops growing once it fits the largest input")
    func buffersAreReused() throws {
        let codec = try LZ4FrameCodec()
        let input = Self.randomBytes(100_000, seed: 1)
        _ = try Self.roundTrip(codec, input)
        let pointer = try input.withUnsafeBytes { try codec.compress($0).baseAddress }
        for _ in 0..<10 {
            let again = try input.withUnsafeBytes { try codec.compress(UnsafeRawBufferPointer(rebasing: $0[0..<50_000])).baseAddress }
            #expect(again == pointer)
        }
    }

    @Test("a destination of the wrong size is refused, and never written past")
    func wrongDestinationSize() throws {
        let codec = try LZ4FrameCodec()
        let input = Self.structuredBytes(1000)
        let frame = try input.withUnsafeBytes { Array(try codec.compress($0)) }
        // One byte smaller, inside a larger guarded allocation: the guard bytes must survive.
        var guarded = [UInt8](repeating: 0xEE, count: 1000 + 64)
        let error = #expect(throws: LZ4FrameError.self) {
            try frame.withUnsafeBytes { f in
                try guarded.withUnsafeMutableBytes { try codec.decompress(f, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<999])) }
            }
        }
        #expect(error == .contentSizeMismatch(expected: 999, found: 1000))
        #expect(guarded[999...].allSatisfy { $0 == 0xEE })
        var larger = [UInt8](repeating: 0, count: 1001)
        #expect(throws: LZ4FrameError.contentSizeMismatch(expected: 1001, found: 1000)) {
            try frame.withUnsafeBytes { f in try larger.withUnsafeMutableBytes { try codec.decompress(f, into: $0) } }
        }
        // And the codec is usable after errors.
        #expect(try Self.roundTrip(codec, input) == input)
    }

    @Test("every flipped byte of a frame is detected")
    func flippedBytes() throws {
        let codec = try LZ4FrameCodec()
        let input = Self.structuredBytes(3000) + Self.randomBytes(3000, seed: 5)
        let frame = try input.withUnsafeBytes { Array(try codec.compress($0)) }
        var output = [UInt8](repeating: 0, count: input.count)
        for position in frame.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var bad = frame
                bad[position] ^= mask
                #expect(throws: LZ4FrameError.self, "byte \(position) ^ \(mask)") {
                    try bad.withUnsafeBytes { f in try output.withUnsafeMutableBytes { try codec.decompress(f, into: $0) } }
                }
            }
        }
    }

    @Test("truncated frames and trailing bytes are detected")
    func truncatedFrames() throws {
        let codec = try LZ4FrameCodec()
        let input = Self.randomBytes(5000, seed: 3)
        let frame = try input.withUnsafeBytes { Array(try codec.compress($0)) }
        var output = [UInt8](repeating: 0, count: input.count)
        for length in [0, 1, 6, 7, 10, 18, 19, 100, frame.count / 2, frame.count - 5, frame.count - 1] {
            let cut = Array(frame[0..<length])
            #expect(throws: LZ4FrameError.self, "length \(length)") {
                try cut.withUnsafeBytes { f in try output.withUnsafeMutableBytes { try codec.decompress(f, into: $0) } }
            }
        }
        let longer = frame + [0]
        #expect(throws: LZ4FrameError.trailingBytes(1)) {
            try longer.withUnsafeBytes { f in try output.withUnsafeMutableBytes { try codec.decompress(f, into: $0) } }
        }
    }

    @Test("a frame written with other options is refused")
    func otherOptions() throws {
        let writer = try LZ4FrameCodec(options: .init(blockSize: .max64KB))
        let reader = try LZ4FrameCodec(options: .init(blockSize: .max4MB))
        let input = Self.structuredBytes(500)
        let frame = try input.withUnsafeBytes { Array(try writer.compress($0)) }
        var output = [UInt8](repeating: 0, count: input.count)
        #expect(throws: LZ4FrameError.unexpectedFrameParameters) {
            try frame.withUnsafeBytes { f in try output.withUnsafeMutableBytes { try reader.decompress(f, into: $0) } }
        }
    }

    @Test("compressing into a too-small destination throws instead of cutting the frame")
    func compressDestinationTooSmall() throws {
        let codec = try LZ4FrameCodec()
        let input = Self.randomBytes(100, seed: 1)
        var small = [UInt8](repeating: 0, count: 50)
        #expect(throws: LZ4FrameError.self) {
            try input.withUnsafeBytes { i in try small.withUnsafeMutableBytes { try codec.compress(i, into: $0) } }
        }
    }
}

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("standard check value and sensitivity to every single-byte change")
    func checkValue() {
        let digits = Array("123456789".utf8)
        #expect(digits.withUnsafeBytes { _CRC32C.checksum($0) } == 0xE306_9283)
        #expect([UInt8]().withUnsafeBytes { _CRC32C.checksum($0) } == 0)
        let reference = digits.withUnsafeBytes { _CRC32C.checksum($0) }
        for i in digits.indices {
            var changed = digits
            changed[i] ^= 0x10
            #expect(changed.withUnsafeBytes { _CRC32C.checksum($0) } != reference)
        }
    }
}
