/// A few values passed to or returned from a local function or a stencil kernel, held inline
/// (no heap allocation).
///
/// The values are eight separate stored properties rather than an array: once a local
/// function is inlined, each becomes a register (or disappears when unused), whereas an
/// inline array of wide `Dual` values would be copied through memory at every call.
/// Invariant: `0 <= count <= LocalValues.capacity`.
///
/// ```swift
/// let x = LocalValues<Double>(count: 3) { [1.0, 2.0, 3.0][$0] }
/// x[2]   // 3.0
/// ```
@frozen
public struct LocalValues<Element: ExpressibleByIntegerLiteral> {
    /// The most values a `LocalValues` holds, and so the widest local Jacobian Rewind
    /// preaccumulates with SIMD lanes.
    public static var capacity: Int { 8 }

    @usableFromInline package var e0: Element = 0, e1: Element = 0, e2: Element = 0, e3: Element = 0
    @usableFromInline package var e4: Element = 0, e5: Element = 0, e6: Element = 0, e7: Element = 0
    /// Values held (at most `capacity`).
    public let count: Int

    /// `count` values, the i-th being `element(i)`.
    ///
    /// - Precondition: `0 <= count <= LocalValues.capacity`.
    @inlinable @inline(__always)
    public init(count: Int, _ element: (Int) -> Element) {
        precondition(count >= 0 && count <= 8, "LocalValues holds at most 8 values")
        self.count = count
        for i in 0..<count { self[i] = element(i) }
    }

    /// The values of a short array.
    ///
    /// - Precondition: `array.count <= LocalValues.capacity`.
    @inlinable
    public init(_ array: [Element]) {
        self.init(count: array.count) { array[$0] }
    }

    /// The `i`-th value, `0 <= i < count`.
    @inlinable
    public subscript(i: Int) -> Element {
        @inline(__always) get {
            precondition(i >= 0 && i < count, "index \(i) outside 0..<\(count)")
            switch i {
            case 0: return e0
            case 1: return e1
            case 2: return e2
            case 3: return e3
            case 4: return e4
            case 5: return e5
            case 6: return e6
            default: return e7
            }
        }
        @inline(__always) set {
            precondition(i >= 0 && i < count, "index \(i) outside 0..<\(count)")
            switch i {
            case 0: e0 = newValue
            case 1: e1 = newValue
            case 2: e2 = newValue
            case 3: e3 = newValue
            case 4: e4 = newValue
            case 5: e5 = newValue
            case 6: e6 = newValue
            default: e7 = newValue
            }
        }
    }
}
