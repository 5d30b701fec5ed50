/// A few values passed to or returned from a local function or a stencil kernel, held inline
/// (no heap allocation).
///
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

    @usableFromInline var _elements: InlineArray<8, Element>
    public let count: Int

    @inlinable @inline(__always)
    public init(count: Int, _ element: (Int) -> Element) {
        precondition(count >= 0 && count <= 8, "LocalValues holds at most 8 values")
        _elements = InlineArray(repeating: 0)
        self.count = count
        for i in 0..<count { _elements[i] = element(i) }
    }

    @inlinable
    public init(_ array: [Element]) {
        self.init(count: array.count) { array[$0] }
    }

    @inlinable
    public subscript(i: Int) -> Element {
        @inline(__always) get {
            precondition(i >= 0 && i < count, "index \(i) outside 0..<\(count)")
            return _elements[i]
        }
        @inline(__always) set {
            precondition(i >= 0 && i < count, "index \(i) outside 0..<\(count)")
            _elements[i] = newValue
        }
    }
}
