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


/// A synthetic tape segment shaped like the real one: per statement an argument count, per
/// argument an identifier close below the statement's own and a partial from a small set of values
/// (stencil coefficients) mixed with smooth varying ones.
struct SpillSyntheticTape: Equatable {
    var firstIdentifier: UInt32
    var counts: [UInt8]
    var identifiers: [UInt32]
    var partials: [Double]

    init(statements: Int, firstIdentifier: UInt32, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        self.firstIdentifier = firstIdentifier
        counts = []
        identifiers = []
        partials = []
        let pattern: [UInt8] = [2, 2, 1, 2, 3, 0, 2]
        let offsets: [UInt32] = [1, 2, 64, 65]
        let coefficients = [1.0, -1.0, 0.5, -2.0, 0.012_5]
        for i in 0..<statements {
            let statement = firstIdentifier &+ UInt32(i)
            let count = pattern[(i + Int(rng.next() % 2)) % pattern.count]
            counts.append(count)
            for j in 0..<Int(count) {
                identifiers.append(rng.next() % 16 == 0 ? 0 : statement &- offsets[(i + j) % offsets.count])
                partials.append(rng.next() % 4 == 0 ? cos(Double(i) * 0.001) : coefficients[(i + j) % coefficients.count])
            }
        }
    }

    /// Each argument's statement identifier: the base of the identifier delta.
    static func fillBase(_ base: UnsafeMutableBufferPointer<UInt32>, counts: UnsafeBufferPointer<UInt8>, first: UInt32) {
        var k = 0
        for (i, count) in counts.enumerated() {
            for _ in 0..<Int(count) {
                base[k] = first &+ UInt32(i)
                k += 1
            }
        }
        precondition(k == base.count, "counts and identifiers disagree")
    }

    /// Calls `body` with the three columns as a writer would pass them.
    func withColumns<R>(_ body: ([SpillColumn]) throws -> R) rethrows -> R {
        try counts.withUnsafeBufferPointer { c in
            try identifiers.withUnsafeBufferPointer { ids in
                try partials.withUnsafeBufferPointer { p in
                    let first = firstIdentifier
                    return try body([
                        SpillColumn(kind: .argumentCounts, elements: c),
                        SpillColumn(kind: .argumentIdentifiers, elements: ids,
                                    transform: .deltaFromBase { base in Self.fillBase(base, counts: c, first: first) }),
                        SpillColumn(kind: .partialDerivatives, elements: p, transform: .byteShuffle),
                    ])
                }
            }
        }
    }

    /// An empty tape of the same shape, and destinations over it that rebuild the delta base from
    /// the count column once it has been read (destinations are filled in order).
    static func readBack(like tape: SpillSyntheticTape, _ body: ([SpillColumnDestination]) throws -> Void) rethrows -> SpillSyntheticTape {
        var out = tape
        out.counts = Array(repeating: 0xAA, count: tape.counts.count)
        out.identifiers = Array(repeating: 0xDEAD_BEEF, count: tape.identifiers.count)
        out.partials = Array(repeating: .nan, count: tape.partials.count)
        let first = tape.firstIdentifier
        try out.counts.withUnsafeMutableBufferPointer { c in
            try out.identifiers.withUnsafeMutableBufferPointer { ids in
                try out.partials.withUnsafeMutableBufferPointer { p in
                    let counts = UnsafeBufferPointer(c)
                    try body([
                        SpillColumnDestination(kind: .argumentCounts, elements: c),
                        SpillColumnDestination(kind: .argumentIdentifiers, elements: ids,
                                               transform: .deltaFromBase { base in fillBase(base, counts: counts, first: first) }),
                        SpillColumnDestination(kind: .partialDerivatives, elements: p, transform: .byteShuffle),
                    ])
                }
            }
        }
        return out
    }

    /// Bitwise equality (NaN-safe).
    func bitwiseEqual(_ other: SpillSyntheticTape) -> Bool {
        counts == other.counts && identifiers == other.identifiers
            && partials.map(\.bitPattern) == other.partials.map(\.bitPattern)
    }
}

/// A fresh, empty directory under /tmp for one test; removed (with contents) by `cleanUp()`.
struct SpillTestParent {
    let path: String

    init() {
        var template = Array("/tmp/rewind-storage-tests.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "cannot create a test directory under /tmp")
        path = String(cString: template)
    }

    /// The names in the directory (not recursive).
    var entries: [String] { spillListDirectory(path) }

    func cleanUp() {
        spillRemoveTree(path)
    }
}

func spillListDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = _SpillOwnerLock.name(of: entry)
        // The owner file is the directory's own, not a spill file (see SpillDirectory).
        if name != "." && name != ".." && name != SpillDirectory.ownerFileName { names.append(name) }
    }
    return names.sorted()
}

func spillRemoveTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        chmod(path, 0o700)
        for name in spillListDirectory(path) { spillRemoveTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

func spillPathExists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

func spillReadFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

/// Replaces a file's contents behind the spill layer's back (mode and name kept).
func spillOverwriteFile(_ path: String, with bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_TRUNC)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    precondition(n == bytes.count)
}

/// Changes one byte of a file in place.
func spillPatchByte(_ path: String, at offset: Int, to value: UInt8) {
    let fd = open(path, O_WRONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var byte = value
    precondition(pwrite(fd, &byte, 1, off_t(offset)) == 1)
}

/// A thread-safe counter for mocks.
final class SpillCallCounter: @unchecked Sendable {
    private let lock = _SpillLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
    var current: Int { lock.withLock { value } }
}
