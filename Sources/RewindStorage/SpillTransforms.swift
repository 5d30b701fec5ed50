/// Byte shuffling: the k-th byte of every element stored together, for element widths 1, 2, 4, 8.
///
/// Why: in an array of doubles the sign, exponent and high mantissa bytes change slowly while the
/// low mantissa bytes look random. Interleaved, LZ4 sees noise; shuffled, the slow bytes form long
/// runs it compresses well. Layout of the output for n elements of width w:
/// `out[b * n + i] == in[i * w + b]` (all byte 0s, then all byte 1s, ...).
/// ``unshuffle(_:into:elementWidth:)`` is its exact inverse. Width 1 is a plain copy.
///
/// ```swift
/// ByteShuffle.shuffle(UnsafeRawBufferPointer(partials), into: scratch, elementWidth: 8)
/// ```
///
/// Cost: one pass over the bytes; source and destination must not overlap.
public enum ByteShuffle {
    /// Shuffles `source` into `destination`. Precondition: equal sizes, a multiple of `elementWidth`,
    /// and `elementWidth` one of 1, 2, 4, 8.
    public static func shuffle(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementWidth: Int
    ) {
        check(source.count, destination.count, elementWidth)
        guard source.count > 0 else { return }
        let src = source.baseAddress!, dst = destination.baseAddress!
        let n = source.count / elementWidth
        // A literal width per case lets the compiler unroll the byte loop.
        switch elementWidth {
        case 1: dst.copyMemory(from: src, byteCount: n)
        case 2: shuffle(src, dst, n, UInt16.self)
        case 4: shuffle(src, dst, n, UInt32.self)
        default: shuffle(src, dst, n, UInt64.self)
        }
    }

    /// Restores the element-major layout: the exact inverse of ``shuffle(_:into:elementWidth:)``.
    public static func unshuffle(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementWidth: Int
    ) {
        check(source.count, destination.count, elementWidth)
        guard source.count > 0 else { return }
        let src = source.baseAddress!, dst = destination.baseAddress!
        let n = source.count / elementWidth
        switch elementWidth {
        case 1: dst.copyMemory(from: src, byteCount: n)
        case 2: unshuffle(src, dst, n, UInt16.self)
        case 4:
            let done = unshuffleBlocksOf4(src, dst, n)
            unshuffle(src, dst, n, UInt32.self, from: done)
        default:
            let done = unshuffleBlocksOf8(src, dst, n)
            unshuffle(src, dst, n, UInt64.self, from: done)
        }
    }

    /// 8-byte elements, eight at a time: one 8-byte load from each byte plane, an 8×8 byte
    /// transpose in registers, eight stores — instead of 64 single-byte loads from 8 distant
    /// planes. Returns how many elements it did (a multiple of 8).
    @inline(__always)
    private static func unshuffleBlocksOf8(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int {
        #if _endian(little)
        let blocks = n / 8
        for block in 0..<blocks {
            let i = block &* 8
            var r = (
                src.loadUnaligned(fromByteOffset: i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: n &+ i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: 2 &* n &+ i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: 3 &* n &+ i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: 4 &* n &+ i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: 5 &* n &+ i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: 6 &* n &+ i, as: UInt64.self),
                src.loadUnaligned(fromByteOffset: 7 &* n &+ i, as: UInt64.self))
            transpose8x8(&r)
            let out = dst + i &* 8
            out.storeBytes(of: r.0, toByteOffset: 0, as: UInt64.self)
            out.storeBytes(of: r.1, toByteOffset: 8, as: UInt64.self)
            out.storeBytes(of: r.2, toByteOffset: 16, as: UInt64.self)
            out.storeBytes(of: r.3, toByteOffset: 24, as: UInt64.self)
            out.storeBytes(of: r.4, toByteOffset: 32, as: UInt64.self)
            out.storeBytes(of: r.5, toByteOffset: 40, as: UInt64.self)
            out.storeBytes(of: r.6, toByteOffset: 48, as: UInt64.self)
            out.storeBytes(of: r.7, toByteOffset: 56, as: UInt64.self)
        }
        return blocks &* 8
        #else
        return 0
        #endif
    }

    /// 4-byte elements (identifiers), four at a time: one 4-byte load from each byte plane, a
    /// 4×4 byte transpose in registers, four stores. Returns how many elements it did (a
    /// multiple of 4). Measured on the models' tapes (`rewind-benchmark spill`): identifiers
    /// decoded at 0.8–1.1 GB/s byte by byte.
    @inline(__always)
    private static func unshuffleBlocksOf4(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ n: Int) -> Int {
        #if _endian(little)
        @inline(__always) func swap(_ a: inout UInt32, _ b: inout UInt32, _ shift: UInt32, _ mask: UInt32) {
            let t = ((a >> shift) ^ b) & mask
            b ^= t
            a ^= t << shift
        }
        let blocks = n / 4
        for block in 0..<blocks {
            let i = block &* 4
            var r0 = src.loadUnaligned(fromByteOffset: i, as: UInt32.self)
            var r1 = src.loadUnaligned(fromByteOffset: n &+ i, as: UInt32.self)
            var r2 = src.loadUnaligned(fromByteOffset: 2 &* n &+ i, as: UInt32.self)
            var r3 = src.loadUnaligned(fromByteOffset: 3 &* n &+ i, as: UInt32.self)
            swap(&r0, &r1, 8, 0x00FF_00FF)
            swap(&r2, &r3, 8, 0x00FF_00FF)
            swap(&r0, &r2, 16, 0x0000_FFFF)
            swap(&r1, &r3, 16, 0x0000_FFFF)
            let out = dst + i &* 4
            out.storeBytes(of: r0, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: r1, toByteOffset: 4, as: UInt32.self)
            out.storeBytes(of: r2, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: r3, toByteOffset: 12, as: UInt32.self)
        }
        return blocks &* 4
        #else
        return 0
        #endif
    }

    /// Transposes an 8×8 matrix of bytes held as eight little-endian words (word b, byte k ↔
    /// word k, byte b), by swapping 1-, 2- and 4-byte blocks between word pairs.
    @inline(__always)
    private static func transpose8x8(
        _ r: inout (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    ) {
        @inline(__always) func swap(_ a: inout UInt64, _ b: inout UInt64, _ shift: UInt64, _ mask: UInt64) {
            let t = ((a >> shift) ^ b) & mask
            b ^= t
            a ^= t << shift
        }
        swap(&r.0, &r.1, 8, 0x00FF_00FF_00FF_00FF)
        swap(&r.2, &r.3, 8, 0x00FF_00FF_00FF_00FF)
        swap(&r.4, &r.5, 8, 0x00FF_00FF_00FF_00FF)
        swap(&r.6, &r.7, 8, 0x00FF_00FF_00FF_00FF)
        swap(&r.0, &r.2, 16, 0x0000_FFFF_0000_FFFF)
        swap(&r.1, &r.3, 16, 0x0000_FFFF_0000_FFFF)
        swap(&r.4, &r.6, 16, 0x0000_FFFF_0000_FFFF)
        swap(&r.5, &r.7, 16, 0x0000_FFFF_0000_FFFF)
        swap(&r.0, &r.4, 32, 0x0000_0000_FFFF_FFFF)
        swap(&r.1, &r.5, 32, 0x0000_0000_FFFF_FFFF)
        swap(&r.2, &r.6, 32, 0x0000_0000_FFFF_FFFF)
        swap(&r.3, &r.7, 32, 0x0000_0000_FFFF_FFFF)
    }

    @inline(__always)
    private static func check(_ sourceCount: Int, _ destinationCount: Int, _ width: Int) {
        precondition(width == 1 || width == 2 || width == 4 || width == 8, "element width must be 1, 2, 4 or 8")
        precondition(sourceCount == destinationCount, "shuffle needs equal source and destination sizes")
        precondition(sourceCount % width == 0, "byte count must be a multiple of the element width")
    }

    // Elements are read whole (one unaligned load) and split with shifts, so the byte order of the
    // output is the little-endian memory order on every platform Rewind runs on.
    @inline(__always)
    private static func shuffle<T: FixedWidthInteger & UnsignedInteger>(
        _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ n: Int, _: T.Type
    ) {
        let width = MemoryLayout<T>.size
        let out = dst.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n {
            let v = T(littleEndian: src.loadUnaligned(fromByteOffset: i &* width, as: T.self))
            for b in 0..<width {
                out[b &* n &+ i] = UInt8(truncatingIfNeeded: v >> (b &* 8))
            }
        }
    }

    @inline(__always)
    private static func unshuffle<T: FixedWidthInteger & UnsignedInteger>(
        _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ n: Int, _: T.Type, from first: Int = 0
    ) {
        let width = MemoryLayout<T>.size
        let input = src.assumingMemoryBound(to: UInt8.self)
        for i in first..<n {
            var v: T = 0
            for b in 0..<width {
                v |= T(input[b &* n &+ i]) << (b &* 8)
            }
            dst.storeBytes(of: v.littleEndian, toByteOffset: i &* width, as: T.self)
        }
    }
}

/// Delta coding of `UInt32` identifiers against a caller-given base: `stored[k] = base[k] &- id[k]`.
///
/// Why: on a Jacobian tape an argument's identifier is close below the identifier of the statement
/// that uses it (`i - 1`, `i - 2`, `i - n` for a stencil), so with `base[k]` = the statement's own
/// identifier the stored values are a few small, repeating numbers that LZ4 compresses to almost
/// nothing. Arithmetic wraps, so every input round-trips, including identifier 0 (passive) and
/// identifiers above the base. The same formula inverts it: `id[k] = base[k] &- stored[k]`.
///
/// ```swift
/// IdentifierDelta.encode(ids, base: statementIDs, into: stored)
/// IdentifierDelta.decode(stored, base: statementIDs, into: ids)   // ids restored exactly
/// ```
///
/// Cost: one pass. `source` and `destination` may be the same buffer (in place).
public enum IdentifierDelta {
    /// Writes `base[k] &- identifiers[k]` into `stored[k]`. Precondition: the three counts are equal.
    public static func encode(
        _ identifiers: UnsafeBufferPointer<UInt32>, base: UnsafeBufferPointer<UInt32>,
        into stored: UnsafeMutableBufferPointer<UInt32>
    ) {
        apply(identifiers, base, stored)
    }

    /// Writes `base[k] &- stored[k]` into `identifiers[k]`: the exact inverse of ``encode(_:base:into:)``.
    public static func decode(
        _ stored: UnsafeBufferPointer<UInt32>, base: UnsafeBufferPointer<UInt32>,
        into identifiers: UnsafeMutableBufferPointer<UInt32>
    ) {
        apply(stored, base, identifiers)
    }

    @inline(__always)
    private static func apply(
        _ x: UnsafeBufferPointer<UInt32>, _ base: UnsafeBufferPointer<UInt32>, _ out: UnsafeMutableBufferPointer<UInt32>
    ) {
        precondition(x.count == base.count && x.count == out.count, "delta coding needs equal counts")
        guard let xs = x.baseAddress, let bs = base.baseAddress, let os = out.baseAddress else { return }
        for k in 0..<x.count { os[k] = bs[k] &- xs[k] }
    }
}
