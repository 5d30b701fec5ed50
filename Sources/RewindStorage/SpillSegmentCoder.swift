#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes and reads spill segment files: a checksummed header, then one LZ4 frame per column.
///
/// File format, version 3 (all integers little-endian; version 1 had LZ4 content checksums,
/// version 2 no write identity):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `RWNDSPL1` |
/// | 8 | 2 | format version (3) |
/// | 10 | 2 | column count c, 1...8 |
/// | 12 | 4 | reserved, 0 |
/// | 16 | 8 | segment index |
/// | 24 | 8 | writer identity: a random number drawn by each coder |
/// | 32 | 8 | write sequence number: 1, 2, 3, … for each file the coder writes |
/// | 40 | 32·c | column table: kind u8, element width u8, transform u8, reserved u8 + u32 (0), element count u64, raw byte count u64, compressed byte count u64 |
/// | 40+32c | 4 | CRC-32C of bytes 0..<40+32c |
/// | 44+32c | Σ compressed | the columns' LZ4 frames, in table order |
///
/// Each frame carries its content size and block checksums (``LZ4FrameCodec``).
///
/// Why a write identity: checksums prove a file is intact, not that it is the *latest* file of
/// its name. A segment is rewritten many times in a run (a step tape's chunk k at every step, a
/// snapshot slot at every store), so an older copy put back in place — or a file from another
/// run — would pass every checksum and give a wrong gradient. The coder remembers the sequence
/// number of the last file it wrote under each name and accepts only that file, from itself.
///
/// Reading checks, and throws a ``SpillError`` naming the path for the first that fails: the
/// file is long enough, magic, version, column count, header CRC, reserved fields, the segment
/// index the caller expects, the writer identity and sequence number (``SpillError/replayedFile(path:expectedWrite:foundWrite:)``),
/// every column's kind, width, count and transform against the caller's
/// destinations, compressed sizes plausible, the file's exact length, then each frame's header,
/// size and checksums while decompressing. The transform is undone into the caller's memory only
/// after its column decoded cleanly, and nothing is ever written outside a destination.
///
/// ```swift
/// let coder = try SpillSegmentCoder(directory: directory)
/// try coder.write(segment: 7, columns: [counts, ids, partials], named: "segment-7")
/// try coder.read(segment: 7, named: "segment-7", into: [countsOut, idsOut, partialsOut])
/// ```
///
/// Not thread-safe (it owns one codec and reusable buffers); ``SpillStore`` runs one on its I/O queue.
/// Cost: one copy and transform pass, LZ4, one `write` per segment; reads: two `read`s for the
/// header, one for the payload, LZ4, one restoring pass.
public final class SpillSegmentCoder {
    public let directory: SpillDirectory
    public let codec: LZ4FrameCodec
    /// Whether each file is `fsync`ed before it counts as written. Off by default: spill files do not
    /// outlive the process, so durability across a crash buys nothing.
    public var synchronizesWrites: Bool

    /// Drawn once per coder; every file it writes carries it (see the format above).
    let writerIdentity = UInt64.random(in: 1...UInt64.max)
    private var lastSequence: UInt64 = 0
    /// The sequence number of the last file written under each name: the only one accepted.
    private var sequenceOfFile: [String: UInt64] = [:]

    // Reused between calls; they grow to the largest segment seen and stay.
    private let image = _SpillByteBuffer()
    private let input = _SpillByteBuffer()
    private let staging = _SpillByteBuffer()
    private let scratch = _SpillByteBuffer()

    public init(directory: SpillDirectory, codecOptions: LZ4FrameCodec.Options = .init(),
                synchronizesWrites: Bool = false) throws {
        self.directory = directory
        self.codec = try LZ4FrameCodec(options: codecOptions)
        self.synchronizesWrites = synchronizesWrites
    }

    /// The bytes this coder holds in reusable buffers, for memory-budget accounting.
    public var bufferedByteCount: Int { image.capacity + input.capacity + staging.capacity + scratch.capacity }

    /// Transforms, compresses and writes `columns` as segment `segment` to a new file `name`.
    ///
    /// The file is created exclusively; on any failure it is removed again, so a failed write leaves
    /// nothing behind. Returns the sizes written.
    @discardableResult
    public func write(segment: Int, columns: [SpillColumn], named name: String) throws -> SpillSegmentSummary {
        let layout = _SpillSegmentLayout(columns: columns)
        staging.reserve(layout.stagingByteCount)
        for (i, column) in columns.enumerated() {
            _spillStage(column, into: staging.bytes(layout.offsets[i]..<layout.offsets[i] + column.bytes.count),
                        scratch: scratch)
        }
        return try writeStaged(segment: segment, layout: layout, staging: staging, named: name).summary
    }

    /// Reads segment `segment` from file `name` into `destinations`, verifying everything on the way.
    public func read(segment: Int, named name: String, into destinations: [SpillColumnDestination]) throws {
        let layout = _SpillSegmentLayout(destinations: destinations)
        staging.reserve(layout.stagingByteCount)
        _ = try readStaged(segment: segment, layout: layout, staging: staging, named: name)
        try _spillRestore(segment: segment, layout: layout, staging: staging, into: destinations,
                          path: directory.filePath(name), scratch: scratch)
    }

    // MARK: Pipeline pieces shared with SpillStore

    struct WriteResult {
        var summary: SpillSegmentSummary
        var secondsCompressing: Double
        var secondsWriting: Double
    }

    /// Compresses the already transformed columns in `staging` and writes the file.
    func writeStaged(segment: Int, layout: _SpillSegmentLayout, staging: _SpillByteBuffer, named name: String)
        throws -> WriteResult
    {
        let path = directory.filePath(name)
        let started = _spillNow()
        let headerCount = _SpillSegmentHeader.byteCount(columnCount: layout.records.count)
        var capacity = headerCount
        for record in layout.records { capacity += codec.maximumFrameByteCount(contentByteCount: record.rawByteCount) }
        image.reserve(capacity)

        var records = layout.records
        var offset = headerCount
        for i in records.indices {
            let source = UnsafeRawBufferPointer(staging.bytes(layout.offsets[i]..<layout.offsets[i] + records[i].rawByteCount))
            do {
                let n = try codec.compress(source, into: image.bytes(offset..<capacity))
                records[i].compressedByteCount = n
                offset += n
            } catch {
                throw SpillError.compressionFailed(path: path, detail: error.description)
            }
        }
        lastSequence += 1
        let identity = _SpillWriteIdentity(writer: writerIdentity, sequence: lastSequence)
        sequenceOfFile[name] = nil   // the old file is replaced; until the new one is whole, neither counts
        _SpillSegmentHeader.encode(
            segment: segment, identity: identity, records: records, into: image.bytes(0..<headerCount))
        let compressed = _spillNow() - started

        let fd = try directory.createFile(named: name)
        do {
            try directory.io.writeAll(fd, UnsafeRawBufferPointer(image.bytes(0..<offset)), path: path)
            if synchronizesWrites, case .failure(let e) = directory.io.fsync(fd) {
                throw SpillError.from(e, operation: "fsync", path: path)
            }
        } catch {
            _ = directory.io.close(fd)
            try? directory.removeFile(named: name)
            throw error
        }
        // close can report a deferred write error (NFS, quota): the file is not trustworthy then.
        if case .failure(let e) = directory.io.close(fd) {
            try? directory.removeFile(named: name)
            throw SpillError.from(e, operation: "close", path: path)
        }
        sequenceOfFile[name] = identity.sequence
        let summary = SpillSegmentSummary(
            segment: segment, fileByteCount: offset,
            columns: records.map { SpillColumnSummary(kind: SpillColumnKind(rawValue: $0.kind),
                                                      rawByteCount: $0.rawByteCount,
                                                      compressedByteCount: $0.compressedByteCount) })
        return WriteResult(summary: summary, secondsCompressing: compressed,
                           secondsWriting: _spillNow() - started - compressed)
    }

    struct ReadResult {
        var fileByteCount: Int
        var secondsReading: Double
        var secondsDecompressing: Double
    }

    /// Reads and verifies file `name`, and decompresses each column (still transformed) into
    /// `staging` at `layout.offsets`.
    func readStaged(segment: Int, layout: _SpillSegmentLayout, staging: _SpillByteBuffer, named name: String)
        throws -> ReadResult
    {
        let path = directory.filePath(name)
        let started = _spillNow()
        let fd = try directory.openFile(named: name)
        defer { _ = directory.io.close(fd) }
        let io = directory.io

        // Fixed part: magic, version, column count.
        let fixed = _SpillSegmentHeader.fixedByteCount
        input.reserve(_SpillSegmentHeader.byteCount(columnCount: _SpillSegmentHeader.maximumColumnCount))
        let got = try io.readFully(fd, input.bytes(0..<fixed), path: path)
        guard got == fixed else { throw SpillError.truncated(path: path, expected: fixed, actual: got) }
        let columnCount = try _SpillSegmentHeader.parseFixed(UnsafeRawBufferPointer(input.bytes(0..<fixed)), path: path)
        let headerCount = _SpillSegmentHeader.byteCount(columnCount: columnCount)
        let rest = try io.readFully(fd, input.bytes(fixed..<headerCount), path: path)
        guard rest == headerCount - fixed else {
            throw SpillError.truncated(path: path, expected: headerCount, actual: fixed + rest)
        }
        let header = try _SpillSegmentHeader.parse(
            UnsafeRawBufferPointer(input.bytes(0..<headerCount)), columnCount: columnCount, path: path)

        guard header.segment == segment else {
            throw SpillError.unexpectedSegment(path: path, expected: segment, found: header.segment)
        }
        guard let expectedSequence = sequenceOfFile[name] else {
            throw SpillError.segmentNotWritten(segment: segment, directory: directory.path)
        }
        guard header.identity == _SpillWriteIdentity(writer: writerIdentity, sequence: expectedSequence) else {
            throw SpillError.replayedFile(
                path: path, expectedWrite: Int(expectedSequence),
                foundWrite: header.identity.writer == writerIdentity ? Int(truncatingIfNeeded: header.identity.sequence) : nil)
        }
        try layout.check(against: header.records, segment: segment, path: path)
        var payloadCount = 0
        for (i, record) in header.records.enumerated() {
            let bound = codec.maximumFrameByteCount(contentByteCount: record.rawByteCount)
            guard record.compressedByteCount >= 7, record.compressedByteCount <= bound else {
                throw SpillError.corruptHeader(
                    path: path, detail: "column \(i) claims \(record.compressedByteCount) compressed bytes "
                        + "for \(record.rawByteCount) raw bytes (at most \(bound) possible)")
            }
            payloadCount += record.compressedByteCount
        }

        // One byte more than expected: reading it proves the file is longer than its header says.
        let expectedFile = headerCount + payloadCount
        input.reserve(headerCount + payloadCount + 1)
        let payload = try io.readFully(fd, input.bytes(headerCount..<expectedFile + 1), path: path)
        if payload < payloadCount {
            throw SpillError.truncated(path: path, expected: expectedFile, actual: headerCount + payload)
        }
        if payload > payloadCount {
            var info = stat()
            let actual = fstat(fd, &info) == 0 ? Int(info.st_size) : expectedFile + 1
            throw SpillError.unexpectedFileSize(path: path, expected: expectedFile, actual: actual)
        }
        let read = _spillNow() - started

        var offset = headerCount
        for (i, record) in header.records.enumerated() {
            let frame = UnsafeRawBufferPointer(input.bytes(offset..<offset + record.compressedByteCount))
            let destination = staging.bytes(layout.offsets[i]..<layout.offsets[i] + record.rawByteCount)
            do {
                try codec.decompress(frame, into: destination)
            } catch .checksumMismatch {
                throw SpillError.checksumMismatch(path: path, segment: segment, column: i)
            } catch {
                throw SpillError.corruptFrame(path: path, segment: segment, column: i, detail: error.description)
            }
            offset += record.compressedByteCount
        }
        return ReadResult(fileByteCount: expectedFile, secondsReading: read,
                          secondsDecompressing: _spillNow() - started - read)
    }
}

/// The sizes of one written segment, as returned by ``SpillSegmentCoder/write(segment:columns:named:)``.
///
/// ```swift
/// let summary = try coder.write(segment: k, columns: columns, named: name)
/// print(summary.columns.map(\.compressionRatio))
/// ```
public struct SpillSegmentSummary: Hashable, Sendable {
    public var segment: Int
    /// The whole file: header and frames.
    public var fileByteCount: Int
    public var columns: [SpillColumnSummary]

    public var rawByteCount: Int { columns.reduce(0) { $0 + $1.rawByteCount } }
    public var compressedByteCount: Int { columns.reduce(0) { $0 + $1.compressedByteCount } }
}

/// The sizes of one written column.
public struct SpillColumnSummary: Hashable, Sendable {
    public var kind: SpillColumnKind
    public var rawByteCount: Int
    /// The LZ4 frame, checksums included.
    public var compressedByteCount: Int
    /// raw / compressed; 0 for an empty column.
    public var compressionRatio: Double {
        compressedByteCount == 0 || rawByteCount == 0 ? 0 : Double(rawByteCount) / Double(compressedByteCount)
    }
}

// MARK: - Layout, header, staging

/// One column-table entry.
struct _SpillColumnRecord: Equatable {
    var kind: UInt8
    var elementWidth: UInt8
    var transform: UInt8
    var elementCount: Int
    var compressedByteCount: Int = 0
    var rawByteCount: Int { elementCount * Int(elementWidth) }
}

/// The columns of a segment as the writer staged them or the reader expects them, and where each
/// sits in a staging buffer (64-byte aligned offsets).
struct _SpillSegmentLayout {
    var records: [_SpillColumnRecord]
    var offsets: [Int]
    var stagingByteCount: Int

    init(records: [_SpillColumnRecord]) {
        precondition((1..._SpillSegmentHeader.maximumColumnCount).contains(records.count),
                     "a spill segment has 1 to \(_SpillSegmentHeader.maximumColumnCount) columns")
        self.records = records
        var offsets: [Int] = []
        var end = 0
        for record in records {
            offsets.append(end)
            end = _spillAlignUp(end + record.rawByteCount)
        }
        self.offsets = offsets
        stagingByteCount = end
    }

    init(columns: [SpillColumn]) {
        self.init(records: columns.map {
            _SpillColumnRecord(kind: $0.kind.rawValue, elementWidth: UInt8($0.elementWidth),
                               transform: $0.transform.tag, elementCount: $0.elementCount)
        })
    }

    init(destinations: [SpillColumnDestination]) {
        self.init(records: destinations.map {
            _SpillColumnRecord(kind: $0.kind.rawValue, elementWidth: UInt8($0.elementWidth),
                               transform: $0.transform.tag, elementCount: $0.elementCount)
        })
    }

    /// Throws `columnMismatch` for the first column of `found` that differs from this layout.
    func check(against found: [_SpillColumnRecord], segment: Int, path: String) throws {
        guard found.count == records.count else {
            throw SpillError.columnMismatch(path: path, segment: segment, column: min(found.count, records.count),
                                            detail: "\(found.count) columns where \(records.count) are expected")
        }
        for (i, (have, want)) in zip(found, records).enumerated() {
            var differences: [String] = []
            if have.kind != want.kind {
                differences.append("kind \(SpillColumnKind(rawValue: have.kind)) where \(SpillColumnKind(rawValue: want.kind)) is expected")
            }
            if have.elementWidth != want.elementWidth {
                differences.append("element width \(have.elementWidth) where \(want.elementWidth) is expected")
            }
            if have.elementCount != want.elementCount {
                differences.append("\(have.elementCount) elements where \(want.elementCount) are expected")
            }
            if have.transform != want.transform {
                differences.append("transform \(SpillTransform.name(ofTag: have.transform)) where "
                                   + "\(SpillTransform.name(ofTag: want.transform)) is expected")
            }
            if !differences.isEmpty {
                throw SpillError.columnMismatch(path: path, segment: segment, column: i,
                                                detail: differences.joined(separator: ", "))
            }
        }
    }
}

/// Who wrote a spill file and which of its writes it is (see ``SpillSegmentCoder``).
struct _SpillWriteIdentity: Equatable {
    var writer: UInt64
    var sequence: UInt64
}

/// Encoding and decoding of the header described on ``SpillSegmentCoder``.
enum _SpillSegmentHeader {
    static let magic: [UInt8] = Array("RWNDSPL1".utf8)
    static let version = 3
    static let maximumColumnCount = 8
    static let fixedByteCount = 40
    static let recordByteCount = 32
    /// Far above any real segment, far below an overflow: a sanity limit for element counts.
    static let maximumElementCount = 1 << 48

    static func byteCount(columnCount: Int) -> Int { fixedByteCount + recordByteCount * columnCount + 4 }

    static func encode(
        segment: Int, identity: _SpillWriteIdentity, records: [_SpillColumnRecord], into bytes: UnsafeMutableRawBufferPointer
    ) {
        precondition(bytes.count == byteCount(columnCount: records.count))
        precondition(segment >= 0, "segment indices are non-negative")
        for (i, byte) in magic.enumerated() { bytes[i] = byte }
        put(UInt16(version), bytes, 8)
        put(UInt16(records.count), bytes, 10)
        put(UInt32(0), bytes, 12)
        put(UInt64(segment), bytes, 16)
        put(identity.writer, bytes, 24)
        put(identity.sequence, bytes, 32)
        for (i, record) in records.enumerated() {
            let base = fixedByteCount + i * recordByteCount
            bytes[base] = record.kind
            bytes[base + 1] = record.elementWidth
            bytes[base + 2] = record.transform
            bytes[base + 3] = 0
            put(UInt32(0), bytes, base + 4)
            put(UInt64(record.elementCount), bytes, base + 8)
            put(UInt64(record.rawByteCount), bytes, base + 16)
            put(UInt64(record.compressedByteCount), bytes, base + 24)
        }
        let end = bytes.count - 4
        put(_CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<end])), bytes, end)
    }

    /// Checks magic, version and column count; returns the column count.
    static func parseFixed(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Int {
        guard bytes.count >= fixedByteCount, bytes.prefix(8).elementsEqual(magic) else {
            throw SpillError.badMagic(path: path)
        }
        let found = Int(get(UInt16.self, bytes, 8))
        guard found == version else {
            throw SpillError.unsupportedVersion(path: path, found: found, supported: version)
        }
        let count = Int(get(UInt16.self, bytes, 10))
        guard (1...maximumColumnCount).contains(count) else {
            throw SpillError.corruptHeader(path: path, detail: "column count \(count) outside 1...\(maximumColumnCount)")
        }
        return count
    }

    /// Checks the CRC, then reserved fields and sizes; returns the segment index, the write
    /// identity and the column table.
    static func parse(_ bytes: UnsafeRawBufferPointer, columnCount: Int, path: String) throws
        -> (segment: Int, identity: _SpillWriteIdentity, records: [_SpillColumnRecord])
    {
        let end = byteCount(columnCount: columnCount) - 4
        guard _CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<end])) == get(UInt32.self, bytes, end) else {
            throw SpillError.headerChecksumMismatch(path: path)
        }
        guard get(UInt32.self, bytes, 12) == 0 else {
            throw SpillError.corruptHeader(path: path, detail: "reserved header field is not zero")
        }
        let segment = get(UInt64.self, bytes, 16)
        guard segment <= UInt64(Int.max) else {
            throw SpillError.corruptHeader(path: path, detail: "segment index \(segment) out of range")
        }
        var records: [_SpillColumnRecord] = []
        for i in 0..<columnCount {
            let base = fixedByteCount + i * recordByteCount
            let width = bytes[base + 1]
            let count = get(UInt64.self, bytes, base + 8)
            let raw = get(UInt64.self, bytes, base + 16)
            let compressed = get(UInt64.self, bytes, base + 24)
            guard bytes[base + 3] == 0, get(UInt32.self, bytes, base + 4) == 0 else {
                throw SpillError.corruptHeader(path: path, detail: "column \(i) has non-zero reserved fields")
            }
            guard [1, 2, 4, 8].contains(width), bytes[base + 2] <= 2,
                  count <= UInt64(maximumElementCount), raw == count * UInt64(width),
                  compressed <= UInt64(maximumElementCount)
            else {
                throw SpillError.corruptHeader(
                    path: path, detail: "column \(i) is inconsistent (width \(width), transform \(bytes[base + 2]), "
                        + "\(count) elements, \(raw) raw bytes, \(compressed) compressed bytes)")
            }
            records.append(_SpillColumnRecord(kind: bytes[base], elementWidth: width, transform: bytes[base + 2],
                                              elementCount: Int(count), compressedByteCount: Int(compressed)))
        }
        let identity = _SpillWriteIdentity(writer: get(UInt64.self, bytes, 24), sequence: get(UInt64.self, bytes, 32))
        return (Int(segment), identity, records)
    }

    @inline(__always)
    private static func put<T: FixedWidthInteger>(_ value: T, _ bytes: UnsafeMutableRawBufferPointer, _ offset: Int) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }

    @inline(__always)
    private static func get<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// Copies `column` into `destination`, applying its transform. `scratch` holds a delta base.
func _spillStage(_ column: SpillColumn, into destination: UnsafeMutableRawBufferPointer, scratch: _SpillByteBuffer) {
    switch column.transform {
    case .none:
        if column.bytes.count > 0 { destination.baseAddress!.copyMemory(from: column.bytes.baseAddress!, byteCount: column.bytes.count) }
    case .byteShuffle:
        ByteShuffle.shuffle(column.bytes, into: destination, elementWidth: column.elementWidth)
    case .deltaFromBase(let fillBase):
        let n = column.elementCount
        scratch.reserve(n * 4)
        let base = scratch.bytes(0..<n * 4).bindMemory(to: UInt32.self)
        fillBase(base)
        // The caller's column may be unaligned raw memory: go through a typed view only when aligned.
        if n > 0, Int(bitPattern: column.bytes.baseAddress!) % MemoryLayout<UInt32>.alignment == 0 {
            IdentifierDelta.encode(column.bytes.bindMemory(to: UInt32.self), base: UnsafeBufferPointer(base),
                                   into: destination.bindMemory(to: UInt32.self))
        } else {
            let out = destination.bindMemory(to: UInt32.self)
            for k in 0..<n { out[k] = base[k] &- column.bytes.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self) }
        }
    }
}

/// Copies the staged columns into `destinations`, undoing each transform. Checks the layout first.
func _spillRestore(segment: Int, layout: _SpillSegmentLayout, staging: _SpillByteBuffer,
                   into destinations: [SpillColumnDestination], path: String, scratch: _SpillByteBuffer) throws {
    try layout.check(against: _SpillSegmentLayout(destinations: destinations).records, segment: segment, path: path)
    for (i, destination) in destinations.enumerated() {
        let source = UnsafeRawBufferPointer(staging.bytes(layout.offsets[i]..<layout.offsets[i] + destination.bytes.count))
        switch destination.transform {
        case .none:
            if source.count > 0 { destination.bytes.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: source.count) }
        case .byteShuffle:
            ByteShuffle.unshuffle(source, into: destination.bytes, elementWidth: destination.elementWidth)
        case .deltaFromBase(let fillBase):
            let n = destination.elementCount
            scratch.reserve(n * 4)
            let base = scratch.bytes(0..<n * 4).bindMemory(to: UInt32.self)
            fillBase(base)
            let stored = source.bindMemory(to: UInt32.self)   // staging offsets are 64-byte aligned
            if n > 0, Int(bitPattern: destination.bytes.baseAddress!) % MemoryLayout<UInt32>.alignment == 0 {
                IdentifierDelta.decode(stored, base: UnsafeBufferPointer(base),
                                       into: destination.bytes.bindMemory(to: UInt32.self))
            } else {
                for k in 0..<n { destination.bytes.storeBytes(of: base[k] &- stored[k], toByteOffset: 4 * k, as: UInt32.self) }
            }
        }
    }
}
