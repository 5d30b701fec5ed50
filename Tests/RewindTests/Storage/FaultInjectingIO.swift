#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

/// The real system calls with one fault injected at a chosen moment: the seam behind the fault
/// matrix (`SpillFaultMatrixTests`, docs/RELIABILITY.md).
///
/// A run is first made with `.counting` to learn how many operations of each kind it makes;
/// then each fault is injected at the first, middle and last operation of its kind. Faults on
/// reads act on a whole file: when the chosen file is opened, its bytes are read for real,
/// damaged (a byte flipped, cut to half, an older copy of the same name, another file's copy),
/// and the reads of that descriptor are served from the damaged bytes.
final class FaultInjectingIO: @unchecked Sendable {
    enum Fault: String, CaseIterable, Sendable {
        /// Count operations only.
        case counting
        /// A byte in the middle of the file read back is flipped.
        case flipByte = "byte flip"
        /// The file read back is cut to half its length.
        case truncate = "truncation"
        /// The file read back is another spill file of the run (its latest copy).
        case swap
        /// The file read back is an older, intact copy of the same name.
        case replay = "replay of an older copy"
        /// A read fails with EIO.
        case readError = "EIO on read"
        /// Every read returns at most half of what was asked (and EINTR first): must still work.
        case shortReads = "short reads and EINTR"
        /// A write fails with ENOSPC.
        case diskFull = "ENOSPC"
        /// Every write writes at most half of what was given (and EINTR first): must still work.
        case shortWrites = "short writes and EINTR"
        /// Creating a file fails with EEXIST (a file or symlink planted at the name).
        case fileExists = "EEXIST"
        /// The private directory is removed (for real) just before a file is created in it.
        case directoryRemoved = "directory removed"

        /// The kind of operation whose index `Moment` picks.
        var operation: Operation {
            switch self {
            case .counting, .shortReads, .shortWrites: return .none
            case .flipByte, .truncate, .readError: return .fileRead
            case .swap, .replay: return .replayableRead
            case .diskFull: return .write
            case .fileExists, .directoryRemoved: return .create
            }
        }
    }

    enum Operation { case none, fileRead, replayableRead, write, create }

    enum Moment: String, CaseIterable, Sendable { case first, middle, last }

    struct Counts: Equatable {
        var fileReads = 0
        /// Files opened for reading when an older copy of the same name exists (replay) — the
        /// same reads a swap can strike.
        var replayableReads = 0
        var writes = 0
        var creates = 0

        func count(of operation: Operation) -> Int {
            switch operation {
            case .none: return 0
            case .fileRead: return fileReads
            case .replayableRead: return replayableReads
            case .write: return writes
            case .create: return creates
            }
        }
    }

    let fault: Fault
    /// The index, among operations of the fault's kind, at which it strikes.
    let target: Int
    private let lock = NSLock()
    private(set) var counts = Counts()
    /// Whether the fault struck (a run may make fewer operations than the dry run did).
    private(set) var injected = false
    private var pathOfDescriptor: [Int32: String] = [:]
    private var writing: [Int32: [UInt8]] = [:]
    /// Every complete copy written under each path, oldest first.
    private var copies: [String: [[UInt8]]] = [:]
    /// Reads of a damaged file are served from here.
    private var served: [Int32: (bytes: [UInt8], offset: Int)] = [:]
    private var interrupted: Set<Int32> = []

    init(fault: Fault, target: Int = 0) {
        self.fault = fault
        self.target = target
    }

    /// The index of `moment` among `count` operations.
    static func index(of moment: Moment, among count: Int) -> Int {
        switch moment {
        case .first: return 0
        case .middle: return count / 2
        case .last: return max(0, count - 1)
        }
    }

    var io: SpillIO {
        let real = SpillIO.system
        return SpillIO(
            open: { [self] path, flags, mode in open(path, flags, mode, real) },
            read: { [self] fd, buffer in read(fd, buffer, real) },
            write: { [self] fd, bytes in write(fd, bytes, real) },
            fsync: real.fsync,
            close: { [self] fd in
                lock.withLock {
                    if let path = pathOfDescriptor.removeValue(forKey: fd), let bytes = writing.removeValue(forKey: fd) {
                        copies[path, default: []].append(bytes)
                    }
                    served[fd] = nil
                    interrupted.remove(fd)
                }
                return real.close(fd)
            },
            unlink: real.unlink, makeUniqueDirectory: real.makeUniqueDirectory, removeDirectory: real.removeDirectory)
    }

    private func strikes(_ operation: Operation, index: Int) -> Bool {
        guard fault.operation == operation, index == target, !injected else { return false }
        injected = true
        return true
    }

    private func open(_ path: String, _ flags: Int32, _ mode: mode_t, _ real: SpillIO) -> Result<Int32, SpillIO.Errno> {
        let creating = flags & O_CREAT != 0
        var damaged: [UInt8]?
        var failsReads = false
        let failure: SpillIO.Errno? = lock.withLock {
            if creating {
                defer { counts.creates += 1 }
                if strikes(.create, index: counts.creates) {
                    if fault == .fileExists { return SpillIO.Errno(rawValue: EEXIST) }
                    Self.removeDirectoryForReal((path as NSString).deletingLastPathComponent)
                }
                return nil
            }
            let older = (copies[path]?.count ?? 0) >= 2
            if older { counts.replayableReads += 1 }
            defer { counts.fileReads += 1 }
            if strikes(.fileRead, index: counts.fileReads) {
                var bytes = copies[path]?.last ?? []
                switch fault {
                case .flipByte: bytes[bytes.count / 2] ^= 0x10
                case .truncate: bytes.removeLast(bytes.count - bytes.count / 2)
                default:
                    failsReads = true   // every read of this descriptor fails
                    return nil
                }
                damaged = bytes
            } else if older, strikes(.replayableRead, index: counts.replayableReads - 1) {
                switch fault {
                case .replay: damaged = copies[path]![copies[path]!.count - 2]
                default:
                    let other = copies.keys.sorted().first { $0 != path }
                    damaged = other.flatMap { copies[$0]?.last } ?? copies[path]![0]
                }
            }
            return nil
        }
        if let failure { return .failure(failure) }
        let result = real.open(path, flags, mode)
        if case .success(let fd) = result {
            lock.withLock {
                if creating {
                    pathOfDescriptor[fd] = path
                    writing[fd] = []
                } else {
                    if let damaged { served[fd] = (damaged, 0) }
                    if failsReads { served[fd] = ([], -1) }
                }
            }
        }
        return result
    }

    private func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ real: SpillIO) -> Result<Int, SpillIO.Errno> {
        let replacement: Result<Int, SpillIO.Errno>? = lock.withLock {
            if let (bytes, offset) = served[fd] {
                if offset < 0 { return .failure(SpillIO.Errno(rawValue: EIO)) }
                let n = min(buffer.count, bytes.count - offset)
                bytes.withUnsafeBytes { source in
                    if n > 0 { buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n) }
                }
                served[fd] = (bytes, offset + n)
                return .success(n)
            }
            if fault == .shortReads {
                if interrupted.insert(fd).inserted { return .failure(SpillIO.Errno(rawValue: EINTR)) }
            }
            return nil
        }
        if let replacement { return replacement }
        if fault == .shortReads && buffer.count > 1 {
            return real.read(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[0..<buffer.count / 2]))
        }
        return real.read(fd, buffer)
    }

    private func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ real: SpillIO) -> Result<Int, SpillIO.Errno> {
        let failure: SpillIO.Errno? = lock.withLock {
            defer { counts.writes += 1 }
            if strikes(.write, index: counts.writes) { return SpillIO.Errno(rawValue: ENOSPC) }
            if fault == .shortWrites, interrupted.insert(fd).inserted { return SpillIO.Errno(rawValue: EINTR) }
            return nil
        }
        if let failure { return .failure(failure) }
        let part = fault == .shortWrites && bytes.count > 1 ? UnsafeRawBufferPointer(rebasing: bytes[0..<bytes.count / 2]) : bytes
        let result = real.write(fd, part)
        if case .success(let n) = result {
            lock.withLock { writing[fd]?.append(contentsOf: part[0..<n]) }
        }
        return result
    }

    /// What `rm -rf` of the private directory by another process does.
    private static func removeDirectoryForReal(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
