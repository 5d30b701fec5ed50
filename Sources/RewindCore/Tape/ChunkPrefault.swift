#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The tape's next arena chunk, allocated and its pages touched on another thread while the
/// recording fills the current one.
///
/// A fresh page costs the kernel 2–3 µs (it is cleared on first touch: `ProcessMemory`,
/// `tools/fresh-page-cost`), so a store-all recording that keeps hundreds of megabytes spent
/// most of its time in page faults on the recording thread. Touched ahead on a second core, the
/// faults overlap the recording. The chunk is exactly the one the arena would allocate next;
/// `take()` waits for the thread if it has not finished, which costs no more than faulting the
/// pages in place.
///
/// Each column is touched only as far as the chunk before it was filled: a stencil's tape fills
/// the statements and partials but hardly the identifiers, and touching columns that stay empty
/// would make memory resident that the recording never uses (it doubled store-all's peak).
final class _PrefaultedChunk {
    let statementCapacity: Int
    let argumentCapacity: Int
    private var chunk: _TapeChunk?
    private var job: _BackgroundJob?

    /// Fractions of each column to touch: statements, identifiers, partials.
    private let fill: (statements: Double, identifiers: Double, partials: Double)

    init(statementCapacity: Int, argumentCapacity: Int, fill: (statements: Double, identifiers: Double, partials: Double)) {
        self.statementCapacity = statementCapacity
        self.argumentCapacity = argumentCapacity
        self.fill = fill
        // The job holds this object until `take()` lets it go: the thread never outlives it.
        job = _BackgroundJob { self.prepare() }
    }

    /// Bytes the chunk reserves.
    var reservedByteCount: Int {
        statementCapacity * MemoryLayout<UInt8>.stride
            + argumentCapacity * (MemoryLayout<UInt32>.stride + MemoryLayout<Double>.stride)
    }

    private func prepare() {
        let chunk = _TapeChunk(statementCapacity: statementCapacity, argumentCapacity: argumentCapacity)
        func bytes(_ fraction: Double, of total: Int) -> Int { Int(Double(total) * min(max(fraction, 0), 1)) }
        Self.touch(UnsafeMutableRawPointer(chunk.argumentCounts), bytes: bytes(fill.statements, of: statementCapacity))
        Self.touch(
            UnsafeMutableRawPointer(chunk.identifiers),
            bytes: bytes(fill.identifiers, of: argumentCapacity * MemoryLayout<UInt32>.stride))
        Self.touch(
            UnsafeMutableRawPointer(chunk.partials), bytes: bytes(fill.partials, of: argumentCapacity * MemoryLayout<Double>.stride))
        self.chunk = chunk
    }

    /// Writes one byte per page, which makes the kernel map and clear it.
    private static func touch(_ start: UnsafeMutableRawPointer, bytes: Int) {
        var offset = 0
        while offset < bytes {
            start.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            offset += 4096
        }
    }

    /// The prepared chunk, once the thread has finished (joining it orders its writes before ours).
    func take() -> _TapeChunk {
        job?.wait()
        job = nil
        return chunk!
    }
}
