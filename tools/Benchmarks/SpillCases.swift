// Compression of real tapes (issue 4): every bundled model is recorded whole on a tape that
// spills chunks of 2^16 statements (the driver's default for `--strategy spill`), the chunks
// are read back from their spill files into memory, and then each column of every chunk is
// transformed and LZ4-compressed again, single-threaded, with each transform the library has
// (`ByteShuffle`, `IdentifierDelta` against each argument's own statement identifier, none),
// through the library's own `LZ4FrameCodec`; whole segments also go through
// `SpillSegmentCoder` into files in /tmp (page cache). Each configuration runs in its own
// child process, like the other cases.
//
//   swift run -c release rewind-benchmark spill                 # the Markdown table
//   swift run -c release rewind-benchmark spill-heat2d-256x20   # one configuration, one JSON line
import Foundation
import Rewind
import RewindModels

/// One column (or whole segments) of one tape under one transform.
struct SpillRow: Codable {
    /// "argument counts", "identifiers", "partials", or "segment files".
    var column: String
    var transform: String
    /// Whether this is what the tape wrote when it spilled (read from the files' headers).
    var current: Bool
    var rawBytes: Int
    /// LZ4 frames (block checksums included); for segment files, the whole files (headers too).
    var compressedBytes: Int
    /// Transform + LZ4 (segment files: + `write`), median of 3.
    var encodeSeconds: Double
    /// LZ4 + inverse transform (segment files: `read` + every check first), median of 3.
    var decodeSeconds: Double
}

struct SpillCaseResult: Codable {
    var name: String
    var description: String
    /// Statements, identifier entries and partials in the spilled chunks measured (the chunk
    /// still being recorded at the end never spills and is left out).
    var statements: Int
    var identifiers: Int
    var partials: Int
    var chunks: Int
    var tapeStatements: Int
    /// What the `SpillStore` itself reported while the tape recorded and spilled (current transforms).
    var storeRawBytes: Int
    var storeCompressedBytes: Int
    var rows: [SpillRow]
}

/// The columns of one spilled chunk, read back exactly.
final class SpilledChunk {
    let firstIdentifier: UInt32
    let counts: UnsafeMutableBufferPointer<UInt8>
    let identifiers: UnsafeMutableBufferPointer<UInt32>
    let partials: UnsafeMutableBufferPointer<Double>

    init(firstIdentifier: UInt32, statements: Int, identifiers: Int, partials: Int) {
        self.firstIdentifier = firstIdentifier
        counts = .allocate(capacity: statements)
        self.identifiers = .allocate(capacity: identifiers)
        self.partials = .allocate(capacity: partials)
    }

    deinit {
        counts.deallocate()
        identifiers.deallocate()
        partials.deallocate()
    }
}

/// The base of `SpillTransform.deltaFromBase` for a tape chunk: each identifier entry gets the
/// identifier of the statement it belongs to (an external statement has one entry, its index).
@inline(__always)
func fillStatementIdentifiers(_ base: UnsafeMutableBufferPointer<UInt32>, counts: UnsafeBufferPointer<UInt8>, first: UInt32) {
    var k = 0
    var id = first
    for c in counts {
        let n = c == 255 ? 1 : Int(c)
        for _ in 0..<n { base[k] = id; k &+= 1 }
        id &+= 1
    }
    precondition(k == base.count, "argument counts and identifier column disagree")
}

/// Column table of a spill segment file, as docs in `SpillSegmentCoder` describe it (format 2).
func spillFileColumns(_ path: String) -> [(kind: UInt8, width: Int, transform: UInt8, count: Int)] {
    guard let data = FileManager.default.contents(atPath: path), data.count >= 24,
          data.prefix(8).elementsEqual(Array("RWNDSPL1".utf8))
    else { fatalError("\(path) is not a spill segment") }
    let bytes = [UInt8](data.prefix(24 + 32 * 8))
    func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[o + $1]) << (8 * $1) } }
    let version = Int(bytes[8]) | Int(bytes[9]) << 8
    precondition(version == 2, "spill format \(version); this benchmark reads format 2")
    let columns = Int(bytes[10]) | Int(bytes[11]) << 8
    return (0..<columns).map { i in
        let o = 24 + 32 * i
        return (bytes[o], Int(bytes[o + 1]), bytes[o + 2], u64(o + 8))
    }
}

func transformName(ofTag tag: UInt8) -> String { ["none", "byteShuffle", "deltaFromBase"][Int(tag)] }

/// Records `steps` of `model` whole on a spilling tape, then reads every spilled chunk back.
func recordSpilledChunks<M: Model>(
    _ model: M, parameters: [Double], steps: Int, statementsPerChunk: Int
) throws -> (chunks: [SpilledChunk], tapeStatements: Int, statistics: SpillStatistics, transforms: [UInt8]) {
    let directory = try SpillDirectory(parent: "/tmp", prefix: "rewind-bench-spill")
    defer { try? directory.remove() }
    let store = try SpillStore(directory: directory)
    let tape = Tape()
    tape.enableSpilling(to: store, statementsPerChunk: statementsPerChunk)
    let x0 = model.initialState()
    tape.record {
        let inputs = tape.registerInputs(x0 + parameters)
        let run = model.run(initialState: Array(inputs[0..<x0.count]), parameters: Array(inputs[x0.count...]), steps: steps)
        blackHole(run.objective)
    }
    try store.waitForPendingWrites()
    if let error = tape.spillError { throw error }
    let segments = store.segments
    precondition(segments == Array(0..<segments.count), "spilled chunks are not contiguous")

    let coder = try SpillSegmentCoder(directory: directory)
    var chunks: [SpilledChunk] = []
    var first: UInt32 = 1   // a fresh tape's first statement defines identifier 1
    var transforms: [UInt8] = []
    for k in segments {
        let name = store.fileName(forSegment: k)
        let columns = spillFileColumns(directory.filePath(name))
        precondition(columns.map(\.kind) == [1, 2, 3], "a tape segment holds counts, identifiers, partials")
        transforms = columns.map(\.transform)
        let chunk = SpilledChunk(firstIdentifier: first, statements: columns[0].count, identifiers: columns[1].count,
                                 partials: columns[2].count)
        func transform(_ tag: UInt8) -> SpillTransform {
            switch tag {
            case 0: return .none
            case 1: return .byteShuffle
            default:
                // The counts column is restored before this closure runs.
                return .deltaFromBase { base in
                    fillStatementIdentifiers(base, counts: UnsafeBufferPointer(chunk.counts), first: chunk.firstIdentifier)
                }
            }
        }
        try coder.read(segment: k, named: name, into: [
            SpillColumnDestination(kind: .argumentCounts, elements: chunk.counts, transform: transform(columns[0].transform)),
            SpillColumnDestination(kind: .argumentIdentifiers, elements: chunk.identifiers, transform: transform(columns[1].transform)),
            SpillColumnDestination(kind: .partialDerivatives, elements: chunk.partials, transform: transform(columns[2].transform)),
        ])
        chunks.append(chunk)
        first &+= UInt32(columns[0].count)
    }
    let statistics = store.statistics
    let tapeStatements = tape.statistics.statementCount
    tape.disableSpilling()
    return (chunks, tapeStatements, statistics, transforms)
}

/// The transforms `SpillTransform` offers, and one it does not: delta coding followed by a
/// 4-byte shuffle (`IdentifierDelta` then `ByteShuffle`, both public), measured to see whether
/// combining them would pay.
enum ColumnTransform: String {
    case none, byteShuffle, deltaFromBase
    case deltaThenShuffle = "deltaFromBase + byteShuffle (not a SpillTransform)"
}

/// One column of every chunk, transformed and compressed with `LZ4FrameCodec`, then
/// decompressed and restored; checks the round trip bitwise.
func measureColumn(
    _ chunks: [SpilledChunk], column: Int, transform: ColumnTransform, repetitions: Int
) throws -> (compressed: Int, raw: Int, encode: Double, decode: Double) {
    let width = [1, 4, 8][column]
    func source(_ c: SpilledChunk) -> UnsafeRawBufferPointer {
        switch column {
        case 0: return UnsafeRawBufferPointer(c.counts)
        case 1: return UnsafeRawBufferPointer(c.identifiers)
        default: return UnsafeRawBufferPointer(c.partials)
        }
    }
    let codec = try LZ4FrameCodec()
    let largest = max(chunks.map { source($0).count }.max() ?? 0, 8)
    let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: largest, alignment: 64)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: largest, alignment: 64)
    let base = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: largest / 4 + 1)
    let deltas = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: largest / 4 + 1)
    let frames = chunks.map { c in
        UnsafeMutableRawBufferPointer.allocate(byteCount: codec.maximumFrameByteCount(contentByteCount: source(c).count), alignment: 16)
    }
    defer {
        staging.deallocate(); output.deallocate(); base.deallocate(); deltas.deallocate()
        for f in frames { f.deallocate() }
    }
    var lengths = [Int](repeating: 0, count: chunks.count)

    func encode() throws {
        for (i, c) in chunks.enumerated() {
            let src = source(c)
            let n = src.count
            let stage = UnsafeMutableRawBufferPointer(rebasing: staging[0..<n])
            switch transform {
            case .none:
                if n > 0 { stage.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
            case .byteShuffle:
                ByteShuffle.shuffle(src, into: stage, elementWidth: width)
            case .deltaFromBase:
                let b = UnsafeMutableBufferPointer(rebasing: base[0..<n / 4])
                fillStatementIdentifiers(b, counts: UnsafeBufferPointer(c.counts), first: c.firstIdentifier)
                IdentifierDelta.encode(UnsafeBufferPointer(c.identifiers), base: UnsafeBufferPointer(b),
                                       into: stage.bindMemory(to: UInt32.self))
            case .deltaThenShuffle:
                let b = UnsafeMutableBufferPointer(rebasing: base[0..<n / 4])
                let d = UnsafeMutableBufferPointer(rebasing: deltas[0..<n / 4])
                fillStatementIdentifiers(b, counts: UnsafeBufferPointer(c.counts), first: c.firstIdentifier)
                IdentifierDelta.encode(UnsafeBufferPointer(c.identifiers), base: UnsafeBufferPointer(b), into: d)
                ByteShuffle.shuffle(UnsafeRawBufferPointer(d), into: stage, elementWidth: 4)
            }
            lengths[i] = try codec.compress(UnsafeRawBufferPointer(stage), into: frames[i])
        }
    }
    func decode(verify: Bool) throws {
        for (i, c) in chunks.enumerated() {
            let n = source(c).count
            let stage = UnsafeMutableRawBufferPointer(rebasing: staging[0..<n])
            let out = UnsafeMutableRawBufferPointer(rebasing: output[0..<n])
            try codec.decompress(UnsafeRawBufferPointer(rebasing: frames[i][0..<lengths[i]]), into: stage)
            switch transform {
            case .none:
                if n > 0 { out.baseAddress!.copyMemory(from: stage.baseAddress!, byteCount: n) }
            case .byteShuffle:
                ByteShuffle.unshuffle(UnsafeRawBufferPointer(stage), into: out, elementWidth: width)
            case .deltaFromBase:
                let b = UnsafeMutableBufferPointer(rebasing: base[0..<n / 4])
                fillStatementIdentifiers(b, counts: UnsafeBufferPointer(c.counts), first: c.firstIdentifier)
                IdentifierDelta.decode(UnsafeBufferPointer(stage.bindMemory(to: UInt32.self)), base: UnsafeBufferPointer(b),
                                       into: out.bindMemory(to: UInt32.self))
            case .deltaThenShuffle:
                let b = UnsafeMutableBufferPointer(rebasing: base[0..<n / 4])
                let d = UnsafeMutableBufferPointer(rebasing: deltas[0..<n / 4])
                ByteShuffle.unshuffle(UnsafeRawBufferPointer(stage), into: UnsafeMutableRawBufferPointer(d), elementWidth: 4)
                fillStatementIdentifiers(b, counts: UnsafeBufferPointer(c.counts), first: c.firstIdentifier)
                IdentifierDelta.decode(UnsafeBufferPointer(d), base: UnsafeBufferPointer(b), into: out.bindMemory(to: UInt32.self))
            }
            if verify {
                precondition(n == 0 || memcmp(out.baseAddress!, source(c).baseAddress!, n) == 0,
                             "column \(column) with \(transform) did not round-trip")
            }
        }
    }
    var encodes: [Double] = []
    var decodes: [Double] = []
    for _ in 0..<repetitions {
        var start = now()
        try encode()
        encodes.append(now() - start)
        start = now()
        try decode(verify: false)
        decodes.append(now() - start)
    }
    try decode(verify: true)
    return (lengths.reduce(0, +), chunks.reduce(0) { $0 + source($1).count }, median(encodes), median(decodes))
}

/// Whole segments through `SpillSegmentCoder`: files in a private directory under /tmp, written
/// and read back (page cache), with the given identifier and partial transforms.
func measureSegments(
    _ chunks: [SpilledChunk], identifiers: ColumnTransform, partials: ColumnTransform, repetitions: Int
) throws -> (fileBytes: Int, raw: Int, write: Double, read: Double) {
    let directory = try SpillDirectory(parent: "/tmp", prefix: "rewind-bench-segments")
    defer { try? directory.remove() }
    let coder = try SpillSegmentCoder(directory: directory)
    let largestStatements = max(chunks.map(\.counts.count).max() ?? 0, 1)
    let largestIdentifiers = max(chunks.map(\.identifiers.count).max() ?? 0, 1)
    let largestPartials = max(chunks.map(\.partials.count).max() ?? 0, 1)
    let counts = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: largestStatements)
    let ids = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: largestIdentifiers)
    let ps = UnsafeMutableBufferPointer<Double>.allocate(capacity: largestPartials)
    defer { counts.deallocate(); ids.deallocate(); ps.deallocate() }

    func spillTransform(_ t: ColumnTransform, counts: UnsafeBufferPointer<UInt8>, first: UInt32) -> SpillTransform {
        switch t {
        case .none: return .none
        case .byteShuffle: return .byteShuffle
        case .deltaFromBase: return .deltaFromBase { fillStatementIdentifiers($0, counts: counts, first: first) }
        case .deltaThenShuffle: fatalError("not a SpillTransform")
        }
    }
    var fileBytes = 0
    func write() throws {
        fileBytes = 0
        for (k, c) in chunks.enumerated() {
            let summary = try coder.write(segment: k, columns: [
                SpillColumn(kind: .argumentCounts, elements: UnsafeBufferPointer(c.counts)),
                SpillColumn(kind: .argumentIdentifiers, elements: UnsafeBufferPointer(c.identifiers),
                            transform: spillTransform(identifiers, counts: UnsafeBufferPointer(c.counts), first: c.firstIdentifier)),
                SpillColumn(kind: .partialDerivatives, elements: UnsafeBufferPointer(c.partials),
                            transform: spillTransform(partials, counts: UnsafeBufferPointer(c.counts), first: c.firstIdentifier)),
            ], named: "segment-\(k)")
            fileBytes += summary.fileByteCount
        }
    }
    func read(verify: Bool) throws {
        for (k, c) in chunks.enumerated() {
            let outCounts = UnsafeMutableBufferPointer(rebasing: counts[0..<c.counts.count])
            let outIds = UnsafeMutableBufferPointer(rebasing: ids[0..<c.identifiers.count])
            let outPartials = UnsafeMutableBufferPointer(rebasing: ps[0..<c.partials.count])
            // The identifiers' base comes from the counts just restored, as a sweep would do it.
            let restoredCounts = UnsafeBufferPointer(outCounts)
            try coder.read(segment: k, named: "segment-\(k)", into: [
                SpillColumnDestination(kind: .argumentCounts, elements: outCounts),
                SpillColumnDestination(kind: .argumentIdentifiers, elements: outIds,
                                       transform: spillTransform(identifiers, counts: restoredCounts, first: c.firstIdentifier)),
                SpillColumnDestination(kind: .partialDerivatives, elements: outPartials,
                                       transform: spillTransform(partials, counts: restoredCounts, first: c.firstIdentifier)),
            ])
            if verify {
                precondition(outCounts.elementsEqual(c.counts) && outIds.elementsEqual(c.identifiers)
                                 && zip(outPartials, c.partials).allSatisfy { $0.bitPattern == $1.bitPattern },
                             "segment \(k) did not round-trip")
            }
        }
    }
    var writes: [Double] = []
    var reads: [Double] = []
    for _ in 0..<repetitions {
        for name in directory.fileNames { try directory.removeFile(named: name) }
        var start = now()
        try write()
        writes.append(now() - start)
        start = now()
        try read(verify: false)
        reads.append(now() - start)
    }
    try read(verify: true)
    let raw = chunks.reduce(0) { $0 + $1.counts.count + 4 * $1.identifiers.count + 8 * $1.partials.count }
    return (fileBytes, raw, median(writes), median(reads))
}

func measureSpill<M: Model>(
    _ name: String, _ description: String, _ model: M, parameters: [Double]? = nil, steps: Int, repetitions: Int = 3
) -> SpillCaseResult {
    let recorded = try! recordSpilledChunks(
        model, parameters: parameters ?? M.defaultParameters, steps: steps, statementsPerChunk: 1 << 16)
    let chunks = recorded.chunks
    let current = recorded.transforms.map { ColumnTransform(rawValue: transformName(ofTag: $0))! }
    var rows: [SpillRow] = []
    let columns: [(String, [ColumnTransform])] = [
        ("argument counts", [.none]),
        ("identifiers", [.none, .byteShuffle, .deltaFromBase, .deltaThenShuffle]),
        ("partials", [.none, .byteShuffle]),
    ]
    for (column, (label, transforms)) in columns.enumerated() {
        for transform in transforms {
            let m = try! measureColumn(chunks, column: column, transform: transform, repetitions: repetitions)
            rows.append(SpillRow(
                column: label, transform: transform.rawValue, current: transform == current[column],
                rawBytes: m.raw, compressedBytes: m.compressed, encodeSeconds: m.encode, decodeSeconds: m.decode))
        }
    }
    // Whole segments: what the tape writes now, the identifier alternative, and the smallest
    // column of each kind that `SpillTransform` offers today.
    func smallest(_ column: String) -> ColumnTransform {
        // The current choice first: it stays on a tie (`min` keeps the first of equal elements).
        let candidates = rows.filter { $0.column == column && $0.transform != ColumnTransform.deltaThenShuffle.rawValue }
            .sorted { $0.current && !$1.current }
        return ColumnTransform(rawValue: candidates.min { $0.compressedBytes < $1.compressedBytes }!.transform)!
    }
    var combinations: [(ColumnTransform, ColumnTransform)] = [(current[1], current[2])]
    combinations.append((current[1] == .deltaFromBase ? .byteShuffle : .deltaFromBase, current[2]))
    let best = (smallest("identifiers"), smallest("partials"))
    if !combinations.contains(where: { $0 == best }) { combinations.append(best) }
    for (ids, partials) in combinations {
        let m = try! measureSegments(chunks, identifiers: ids, partials: partials, repetitions: repetitions)
        rows.append(SpillRow(
            column: "segment files", transform: "ids \(ids.rawValue), partials \(partials.rawValue)",
            current: ids == current[1] && partials == current[2],
            rawBytes: m.raw, compressedBytes: m.fileBytes, encodeSeconds: m.write, decodeSeconds: m.read))
    }
    // The store's own figures while recording must match the same choice measured here.
    let mine = rows.filter { $0.current && $0.column != "segment files" }.reduce(0) { $0 + $1.compressedBytes }
    if mine != recorded.statistics.compressedBytesWritten {
        FileHandle.standardError.write(
            "\(name): store compressed \(recorded.statistics.compressedBytesWritten) bytes, the benchmark \(mine)\n".data(using: .utf8)!)
    }
    return SpillCaseResult(
        name: name, description: description,
        statements: chunks.reduce(0) { $0 + $1.counts.count }, identifiers: chunks.reduce(0) { $0 + $1.identifiers.count },
        partials: chunks.reduce(0) { $0 + $1.partials.count }, chunks: chunks.count, tapeStatements: recorded.tapeStatements,
        storeRawBytes: recorded.statistics.rawBytesWritten, storeCompressedBytes: recorded.statistics.compressedBytesWritten,
        rows: rows)
}

func elementary<M: Model>(_ model: M) -> M {
    var m = model
    m.elementary = true
    return m
}

let spillCases: [(String, () -> SpillCaseResult)] = [
    ("spill-lorenz-1e5", { measureSpill("spill-lorenz-1e5", "lorenz 1e5, ρ = 10", Lorenz(), parameters: [10, 10, 8.0 / 3.0], steps: 100_000) }),
    ("spill-lorenz-1e5-elementary", {
        measureSpill("spill-lorenz-1e5-elementary", "lorenz 1e5, ρ = 10, elementary", elementary(Lorenz()),
                     parameters: [10, 10, 8.0 / 3.0], steps: 100_000)
    }),
    ("spill-burgers-4096x200", { measureSpill("spill-burgers-4096x200", "burgers 4096×200", Burgers(n: 4096), steps: 200) }),
    ("spill-burgers-4096x50-elementary", {
        measureSpill("spill-burgers-4096x50-elementary", "burgers 4096×50, elementary", elementary(Burgers(n: 4096)), steps: 50)
    }),
    ("spill-heat2d-256x20", { measureSpill("spill-heat2d-256x20", "heat2d 256²×20", Heat2D(m: 256), steps: 20) }),
    ("spill-heat2d-256x5-elementary", {
        measureSpill("spill-heat2d-256x5-elementary", "heat2d 256²×5, elementary", elementary(Heat2D(m: 256)), steps: 5)
    }),
]

/// The spill table: one line per tape, column and transform. Speeds of columns under 1 MB
/// (per-frame overhead, not throughput) are left out.
func printSpillTable() {
    print("| tape | column | transform | raw MB | LZ4 MB | ratio | size vs current | B/stmt | B/partial | encode MB/s | decode MB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, _) in spillCases {
        let started = now()
        guard let r = runChild(name, as: SpillCaseResult.self) else { print("| \(name) | failed |"); continue }
        let tape = "\(r.description): \(r.statements) stmt, "
            + String(format: "%.2f partials/stmt, %.1f B/stmt raw", Double(r.partials) / Double(r.statements),
                     Double(r.storeRawBytes) / Double(r.statements))
        for (i, row) in r.rows.enumerated() {
            let reference = r.rows.first { $0.column == row.column && $0.current }?.compressedBytes ?? row.compressedBytes
            let speeds = row.rawBytes < 1_000_000 ? "– | –"
                : String(format: "%.0f | %.0f", Double(row.rawBytes) / row.encodeSeconds / 1e6,
                         Double(row.rawBytes) / row.decodeSeconds / 1e6)
            print(
                "| \(i == 0 ? tape : "") | \(row.column) | \(row.transform)\(row.current ? " (current)" : "") | "
                    + String(format: "%.2f | %.2f | %.2f× | %.2f× | %.2f | %.2f | ",
                             Double(row.rawBytes) / 1e6, Double(row.compressedBytes) / 1e6,
                             Double(row.rawBytes) / Double(row.compressedBytes),
                             Double(row.compressedBytes) / Double(reference),
                             Double(row.compressedBytes) / Double(r.statements),
                             Double(row.compressedBytes) / Double(r.partials))
                    + speeds + " |")
        }
        FileHandle.standardError.write("\(name): \(String(format: "%.1f", now() - started)) s\n".data(using: .utf8)!)
    }
}
