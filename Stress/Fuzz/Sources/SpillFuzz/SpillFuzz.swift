// libFuzzer entry point for SpillSegmentCoder.read: arbitrary bytes as a spill segment file.
//
// Input: byte 0 picks the columns the reader asks for (3 layouts); bit 0 of byte 1 asks the
// harness to recompute the header CRC-32C so that mutations get past the checksum into the
// column table and the LZ4 frames; the rest is the file. The file is served from memory by a
// SpillIO that never touches the disk. Any crash, sanitizer report, or a read that succeeds but
// wrote outside its destinations is a bug; a thrown SpillError is the expected outcome.
import Foundation
import Rewind
// The harness drives the segment coder, columns and `SpillIO` directly, which are `package`
// (storage internals are not public API); `-enable-testing` in the build command below makes
// them reachable here.
@testable import RewindStorage
#if canImport(Glibc)
import Glibc
#endif

// MARK: - In-memory files

final class MemoryFiles: @unchecked Sendable {
    let lock = NSLock()
    var files: [String: [UInt8]] = [:]
    var open: [Int32: (path: String, offset: Int)] = [:]
    var nextFD: Int32 = 100

    func io() -> SpillIO {
        SpillIO(
            open: { path, flags, _ in
                self.lock.lock(); defer { self.lock.unlock() }
                if flags & O_CREAT != 0 { self.files[path] = [] } else if self.files[path] == nil { return .failure(.init(rawValue: ENOENT)) }
                self.nextFD += 1
                self.open[self.nextFD] = (path, 0)
                return .success(self.nextFD)
            },
            read: { fd, buffer in
                self.lock.lock(); defer { self.lock.unlock() }
                guard let (path, offset) = self.open[fd], let file = self.files[path] else { return .failure(.init(rawValue: EBADF)) }
                let n = max(0, min(buffer.count, file.count - offset))
                if n > 0 { file.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) } }
                self.open[fd] = (path, offset + n)
                return .success(n)
            },
            write: { fd, bytes in
                self.lock.lock(); defer { self.lock.unlock() }
                guard let (path, offset) = self.open[fd] else { return .failure(.init(rawValue: EBADF)) }
                self.files[path, default: []].append(contentsOf: bytes)
                self.open[fd] = (path, offset + bytes.count)
                return .success(bytes.count)
            },
            fsync: { _ in .success(()) },
            close: { fd in
                self.lock.lock(); defer { self.lock.unlock() }
                self.open[fd] = nil
                return .success(())
            },
            unlink: { path in
                self.lock.lock(); defer { self.lock.unlock() }
                self.files[path] = nil
                return .success(())
            },
            makeUniqueDirectory: { template in .success(template.replacingOccurrences(of: "XXXXXX", with: "fuzz00")) },
            removeDirectory: { _ in .success(()) })
    }
}

// MARK: - Layouts the reader asks for

let elementCounts = [64, 50, 1000]
let segmentIndex = 7

/// Runs `body` with the destinations of `layout` over `storage` (and sentinels around it).
func withDestinations<R>(_ layout: Int, _ body: ([SpillColumnDestination]) throws -> R) rethrows -> R {
    let n = elementCounts[layout]
    switch layout {
    case 0:
        var state = [Double](repeating: 0, count: n)
        return try state.withUnsafeMutableBufferPointer {
            try body([SpillColumnDestination(kind: .stateSnapshot, elements: $0, transform: .byteShuffle)])
        }
    case 1:
        var counts = [UInt8](repeating: 0, count: n)
        var ids = [UInt32](repeating: 0, count: n)
        var partials = [Double](repeating: 0, count: n)
        return try counts.withUnsafeMutableBufferPointer { c in
            try ids.withUnsafeMutableBufferPointer { i in
                try partials.withUnsafeMutableBufferPointer { p in
                    try body([
                        SpillColumnDestination(kind: .argumentCounts, elements: c),
                        SpillColumnDestination(kind: .argumentIdentifiers, elements: i,
                                               transform: .deltaFromBase { base in for k in base.indices { base[k] = UInt32(k * 3) } }),
                        SpillColumnDestination(kind: .partialDerivatives, elements: p, transform: .byteShuffle),
                    ])
                }
            }
        }
    default:
        var state = [Double](repeating: 0, count: n)
        return try state.withUnsafeMutableBufferPointer {
            try body([SpillColumnDestination(kind: .stateSnapshot, elements: $0)])
        }
    }
}

/// A valid segment file for `layout` (the seeds).
func validFile(_ layout: Int, files: MemoryFiles, coder: SpillSegmentCoder, name: String? = nil) throws -> [UInt8] {
    let n = elementCounts[layout]
    let name = name ?? "seed-\(layout)"
    try? coder.directory.removeFile(named: name)
    switch layout {
    case 0, 2:
        let state = (0..<n).map { sin(Double($0) * 0.1) }
        try state.withUnsafeBufferPointer {
            _ = try coder.write(segment: segmentIndex, columns: [
                SpillColumn(kind: .stateSnapshot, elements: $0, transform: layout == 0 ? .byteShuffle : .none)], named: name)
        }
    default:
        let counts = (0..<n).map { UInt8($0 % 4) }
        let ids = (0..<n).map { UInt32($0 * 3 - $0 % 2) }
        let partials = (0..<n).map { Double($0) * 0.5 }
        try counts.withUnsafeBufferPointer { c in
            try ids.withUnsafeBufferPointer { i in
                try partials.withUnsafeBufferPointer { p in
                    _ = try coder.write(segment: segmentIndex, columns: [
                        SpillColumn(kind: .argumentCounts, elements: c),
                        SpillColumn(kind: .argumentIdentifiers, elements: i,
                                    transform: .deltaFromBase { base in for k in base.indices { base[k] = UInt32(k * 3) } }),
                        SpillColumn(kind: .partialDerivatives, elements: p, transform: .byteShuffle),
                    ], named: name)
                }
            }
        }
    }
    files.lock.lock(); defer { files.lock.unlock() }
    return files.files[coder.directory.filePath(name)]!
}

// MARK: - CRC-32C (Castagnoli), to re-seal mutated headers

let crcTable: [UInt32] = (0..<256).map { i in
    var c = UInt32(i)
    for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    return c
}

func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}

// MARK: - libFuzzer hooks

let files = MemoryFiles()
let directory = try! SpillDirectory(parent: "/tmp", prefix: "spillfuzz", io: files.io())
let coder = try! SpillSegmentCoder(directory: directory)
let fileName = "input"
var checkedCRC = false
/// Header format v3: magic, version, count, reserved, segment (24 bytes), then the writer
/// identity and write number (16 bytes) that the coder checks against the last file it wrote
/// under the name; the column table follows.
let headerFixedBytes = 40
/// Bytes 24..<40 of the last valid "input" this coder wrote: resealing puts them in, so that
/// mutated files get past the identity check to the column table and the frames.
var inputIdentity: [UInt8] = []

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    // The harness's CRC must agree with the writer's, or re-sealing would be pointless.
    let seed = try! validFile(0, files: files, coder: coder)
    let count = Int(seed[10])
    let end = headerFixedBytes + 32 * count
    let stored = UInt32(seed[end]) | UInt32(seed[end + 1]) << 8 | UInt32(seed[end + 2]) << 16 | UInt32(seed[end + 3]) << 24
    precondition(crc32c(seed[0..<end]) == stored, "the harness's CRC-32C disagrees with the writer's")
    // The coder accepts only the last file it wrote under a name: write one under "input".
    let written = try! validFile(0, files: files, coder: coder, name: fileName)
    inputIdentity = Array(written[24..<headerFixedBytes])
    if let dir = ProcessInfo.processInfo.environment["SPILLFUZZ_SEEDS"] {
        for layout in 0..<3 {
            let file = try! validFile(layout, files: files, coder: coder)
            for flags: UInt8 in [0, 1] {
                let input = [UInt8(layout), flags] + file
                _ = FileManager.default.createFile(atPath: "\(dir)/seed-\(layout)-\(flags)", contents: Data(input))
            }
        }
        print("SpillFuzz: wrote 6 seeds to \(dir)")
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let layout = Int(data[0]) % 3
    let reseal = data[1] & 1 != 0
    var image = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    if reseal, image.count >= headerFixedBytes {
        image.replaceSubrange(24..<headerFixedBytes, with: inputIdentity)
        let count = min(8, max(1, Int(image[10]) | Int(image[11]) << 8))
        let end = headerFixedBytes + 32 * count
        if image.count >= end + 4 {
            let c = crc32c(image[0..<end])
            for k in 0..<4 { image[end + k] = UInt8(truncatingIfNeeded: c >> (8 * k)) }
        }
    }
    let path = directory.filePath(fileName)
    files.lock.lock()
    files.files[path] = image
    files.lock.unlock()
    withDestinations(layout) { destinations in
        do {
            try coder.read(segment: segmentIndex, named: fileName, into: destinations)
        } catch is SpillError {
            // Expected for almost every input: a clear error naming the file.
        } catch {
            fatalError("SpillSegmentCoder.read threw something other than a SpillError: \(error)")
        }
    }
    return 0
}

// MARK: - Entry point

// SwiftPM links an executable target with `main` aliased to `SpillFuzz_main` (--defsym), which
// would hide libFuzzer's own `main`; so the entry point hands over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("SpillFuzz_main")
public func spillFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in testOneInput(data, size) }
}
