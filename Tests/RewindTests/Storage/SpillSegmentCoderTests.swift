#if canImport(Glibc)
import Glibc
#endif
import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Spill segment files")
struct SpillSegmentCoderTests {
    /// Writes `tape` as segment `segment` to a fresh directory and hands everything to `body`.
    static func withWrittenTape(
        _ tape: SpillSyntheticTape, segment: Int = 3, io: SpillIO = .system,
        _ body: (SpillDirectory, SpillSegmentCoder, String) throws -> Void
    ) throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        let directory = try SpillDirectory(parent: parent.path, io: io)
        defer { try? directory.remove() }
        let coder = try SpillSegmentCoder(directory: directory)
        _ = try tape.withColumns { try coder.write(segment: segment, columns: $0, named: "segment") }
        try body(directory, coder, directory.filePath("segment"))
    }

    static func readTape(_ coder: SpillSegmentCoder, like tape: SpillSyntheticTape, segment: Int = 3) throws -> SpillSyntheticTape {
        try SpillSyntheticTape.readBack(like: tape) { try coder.read(segment: segment, named: "segment", into: $0) }
    }

    @Test("tape segments round-trip bit for bit", arguments: [0, 1, 2, 7, 64, 5000])
    func tapeRoundTrip(statements: Int) throws {
        let tape = SpillSyntheticTape(statements: statements, firstIdentifier: 1 + UInt32(statements), seed: UInt64(statements))
        try Self.withWrittenTape(tape) { _, coder, _ throws in
            #expect(try Self.readTape(coder, like: tape).bitwiseEqual(tape))
        }
    }

    @Test("other column mixes round-trip: one column, every width and transform, eight columns")
    func columnMixes() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        let directory = try SpillDirectory(parent: parent.path)
        defer { try? directory.remove() }
        let coder = try SpillSegmentCoder(directory: directory)
        var rng = SeededGenerator(seed: 11)

        // A state snapshot alone, shuffled.
        let snapshot = (0..<1234).map { sin(Double($0) * 0.01) }
        _ = try snapshot.withUnsafeBufferPointer { s in
            try coder.write(segment: 0, columns: [SpillColumn(kind: .stateSnapshot, elements: s, transform: .byteShuffle)], named: "a")
        }
        var snapshotBack = [Double](repeating: 0, count: snapshot.count)
        try snapshotBack.withUnsafeMutableBufferPointer { s in
            try coder.read(segment: 0, named: "a", into: [SpillColumnDestination(kind: .stateSnapshot, elements: s, transform: .byteShuffle)])
        }
        #expect(snapshotBack == snapshot)

        // Eight columns of every width, with and without shuffle, some empty.
        let widths = [1, 2, 4, 8, 8, 4, 2, 1]
        let counts = [0, 17, 300, 1, 999, 0, 64, 5]
        let columns: [[UInt8]] = zip(widths, counts).map { w, n in (0..<w * n).map { _ in UInt8(truncatingIfNeeded: rng.next() % 7) } }
        let kinds = (0..<8).map { SpillColumnKind(rawValue: UInt8(128 + $0)) }
        func transform(_ i: Int) -> SpillTransform { i % 2 == 0 ? .byteShuffle : .none }
        _ = try spillWithRawColumns(columns) { raw in
            try coder.write(segment: 9, columns: raw.indices.map {
                SpillColumn(kind: kinds[$0], elementWidth: widths[$0], bytes: raw[$0], transform: transform($0))
            }, named: "b")
        }
        var back = columns.map { [UInt8](repeating: 0xCC, count: $0.count) }
        try spillWithMutableRawColumns(&back) { raw in
            try coder.read(segment: 9, named: "b", into: raw.indices.map {
                SpillColumnDestination(kind: kinds[$0], elementWidth: widths[$0], bytes: raw[$0], transform: transform($0))
            })
        }
        #expect(back == columns)
    }

    @Test("the summary reports raw and compressed sizes that match the file")
    func summary() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        let directory = try SpillDirectory(parent: parent.path)
        defer { try? directory.remove() }
        let coder = try SpillSegmentCoder(directory: directory)
        let tape = SpillSyntheticTape(statements: 2000, firstIdentifier: 1, seed: 2)
        let summary = try tape.withColumns { try coder.write(segment: 1, columns: $0, named: "s") }
        #expect(summary.rawByteCount == tape.counts.count + 4 * tape.identifiers.count + 8 * tape.partials.count)
        #expect(summary.fileByteCount == spillReadFile(directory.filePath("s")).count)
        #expect(summary.fileByteCount == summary.compressedByteCount + _SpillSegmentHeader.byteCount(columnCount: 3))
    }

    @Test("a changed byte anywhere in the file (header, column table, payload) is an error")
    func flippedBytes() throws {
        let tape = SpillSyntheticTape(statements: 300, firstIdentifier: 77, seed: 4)
        try Self.withWrittenTape(tape) { _, coder, path throws in
            let original = spillReadFile(path)
            let headerCount = _SpillSegmentHeader.byteCount(columnCount: 3)
            #expect(original.count > headerCount + 100)
            for position in original.indices {
                for mask: UInt8 in [0x01, 0xFF] {
                    var bad = original
                    bad[position] ^= mask
                    // One byte rewritten in place: truncating and rewriting the file each time is
                    // 100 times slower on this machine's overlay filesystem.
                    spillPatchByte(path, at: position, to: bad[position])
                    defer { spillPatchByte(path, at: position, to: original[position]) }
                    let error = #expect(throws: SpillError.self, "byte \(position) ^ \(mask)") {
                        _ = try Self.readTape(coder, like: tape)
                    }
                    if position < 8 { #expect(error == .badMagic(path: path)) }
                    if (8..<10).contains(position) {
                        #expect(error == .unsupportedVersion(path: path, found: Int(bad[8]) | Int(bad[9]) << 8, supported: _SpillSegmentHeader.version))
                    }
                    if (16..<headerCount).contains(position) { #expect(error == .headerChecksumMismatch(path: path)) }
                }
            }
            spillOverwriteFile(path, with: original)
            #expect(try Self.readTape(coder, like: tape).bitwiseEqual(tape))
        }
    }

    @Test("a truncated or extended file is an error")
    func truncatedFiles() throws {
        let tape = SpillSyntheticTape(statements: 300, firstIdentifier: 1, seed: 8)
        try Self.withWrittenTape(tape) { _, coder, path throws in
            let original = spillReadFile(path)
            let headerCount = _SpillSegmentHeader.byteCount(columnCount: 3)
            for length in [0, 1, 8, 23, 24, 25, headerCount - 1, headerCount, headerCount + 1,
                           original.count / 2, original.count - 4, original.count - 1] {
                spillOverwriteFile(path, with: Array(original[0..<length]))
                let error = #expect(throws: SpillError.self, "length \(length)") { _ = try Self.readTape(coder, like: tape) }
                guard case .truncated(let p, _, let actual) = error else {
                    Issue.record("length \(length): \(String(describing: error)) is not .truncated")
                    continue
                }
                #expect(p == path)
                #expect(actual == length)
            }
            spillOverwriteFile(path, with: original + [0, 0, 0])
            #expect(throws: SpillError.unexpectedFileSize(path: path, expected: original.count, actual: original.count + 3)) {
                _ = try Self.readTape(coder, like: tape)
            }
        }
    }

    @Test("a missing file, a wrong segment and wrong destinations are errors naming the path")
    func wrongExpectations() throws {
        let tape = SpillSyntheticTape(statements: 50, firstIdentifier: 1, seed: 1)
        try Self.withWrittenTape(tape, segment: 3) { directory, coder, path throws in
            #expect(throws: SpillError.unexpectedSegment(path: path, expected: 4, found: 3)) {
                _ = try Self.readTape(coder, like: tape, segment: 4)
            }
            var shorter = tape
            shorter.partials.removeLast()
            shorter.identifiers.removeLast()
            let error = #expect(throws: SpillError.self) { _ = try Self.readTape(coder, like: shorter) }
            guard case .columnMismatch(path, 3, 1, _)? = error else {
                Issue.record("\(String(describing: error)) is not a column mismatch on column 1")
                return
            }
            var single = [UInt8](repeating: 0, count: tape.counts.count)
            #expect(throws: SpillError.self) {
                try single.withUnsafeMutableBufferPointer {
                    try coder.read(segment: 3, named: "segment", into: [SpillColumnDestination(kind: .argumentCounts, elements: $0)])
                }
            }
            unlink(path)
            #expect(throws: SpillError.io(errno: ENOENT, operation: "open", path: path)) { _ = try Self.readTape(coder, like: tape) }
            _ = directory
        }
    }

    @Test("short reads, short writes and EINTR are retried transparently")
    func shortTransfers() throws {
        var io = SpillIO.system
        let realRead = io.read, realWrite = io.write
        let calls = SpillCallCounter()
        io.read = { fd, buffer in
            if calls.next() % 5 == 0 { return .failure(.init(rawValue: EINTR)) }
            return realRead(fd, UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(7)))
        }
        io.write = { fd, bytes in
            if calls.next() % 5 == 0 { return .failure(.init(rawValue: EINTR)) }
            return realWrite(fd, UnsafeRawBufferPointer(rebasing: bytes.prefix(100)))
        }
        let tape = SpillSyntheticTape(statements: 700, firstIdentifier: 1, seed: 12)
        try Self.withWrittenTape(tape, io: io) { _, coder, _ throws in
            #expect(try Self.readTape(coder, like: tape).bitwiseEqual(tape))
        }
        #expect(calls.current > 20)
    }

    @Test("ENOSPC, EACCES and a write that makes no progress fail the write and leave no file",
          arguments: [ENOSPC, EACCES, EIO, 0])
    func failingWrite(errno injected: Int32) throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        var io = SpillIO.system
        let realWrite = io.write
        let calls = SpillCallCounter()
        io.write = { fd, bytes in
            // Let the first chunk through, so the file exists with partial contents when it fails.
            if calls.next() == 1 { return realWrite(fd, UnsafeRawBufferPointer(rebasing: bytes.prefix(10))) }
            return injected == 0 ? .success(0) : .failure(.init(rawValue: injected))
        }
        let directory = try SpillDirectory(parent: parent.path, io: io)
        let coder = try SpillSegmentCoder(directory: directory)
        let tape = SpillSyntheticTape(statements: 100, firstIdentifier: 1, seed: 1)
        let error = #expect(throws: SpillError.self) {
            try tape.withColumns { _ = try coder.write(segment: 0, columns: $0, named: "x") }
        }
        let path = directory.filePath("x")
        switch injected {
        case ENOSPC: #expect(error == .diskFull(path: path))
        case EACCES: #expect(error == .permissionDenied(path: path))
        case EIO: #expect(error == .io(errno: EIO, operation: "write", path: path))
        default:
            guard case .io(EIO, _, path)? = error else { Issue.record("\(String(describing: error))"); return }
        }
        #expect(directory.fileNames.isEmpty)
        #expect(spillListDirectory(directory.path).isEmpty)
        try directory.remove()
        #expect(parent.entries.isEmpty)
    }

    @Test("a failing open names the file and maps EACCES (works as root too)")
    func failingOpen() throws {
        let parent = SpillTestParent()
        defer { parent.cleanUp() }
        var io = SpillIO.system
        io.open = { _, _, _ in .failure(.init(rawValue: EACCES)) }
        let directory = try SpillDirectory(parent: parent.path, io: io)
        defer { try? directory.remove() }
        let coder = try SpillSegmentCoder(directory: directory)
        let tape = SpillSyntheticTape(statements: 10, firstIdentifier: 1, seed: 1)
        #expect(throws: SpillError.permissionDenied(path: directory.filePath("x"))) {
            try tape.withColumns { _ = try coder.write(segment: 0, columns: $0, named: "x") }
        }
    }
}

func spillWithRawColumns<R>(_ columns: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
    func go(_ i: Int, _ acc: [UnsafeRawBufferPointer]) throws -> R {
        if i == columns.count { return try body(acc) }
        return try columns[i].withUnsafeBytes { try go(i + 1, acc + [$0]) }
    }
    return try go(0, [])
}

func spillWithMutableRawColumns<R>(_ columns: inout [[UInt8]], _ body: ([UnsafeMutableRawBufferPointer]) throws -> R) rethrows -> R {
    // Copy out, run, copy back: simple and safe for a test.
    let pointers = columns.map { column -> UnsafeMutableRawBufferPointer in
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: column.count, alignment: 16)
        p.copyBytes(from: column)
        return p
    }
    defer { pointers.forEach { $0.deallocate() } }
    let result = try body(pointers)
    columns = pointers.map { Array($0) }
    return result
}
