/// What a spilled column holds. Recorded in the file so a reader can check it asked for the right thing.
///
/// The four tape and snapshot kinds are predefined with raw values below 128; other layers may
/// define their own kinds with raw values from 128 up, which predefined kinds will never use.
///
/// ```swift
/// extension SpillColumnKind { static let adjointVector = SpillColumnKind(rawValue: 130) }
/// ```
public struct SpillColumnKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Per statement, the number of arguments (`UInt8`).
    public static let argumentCounts = SpillColumnKind(rawValue: 1)
    /// Per argument, the argument's identifier (`UInt32`).
    public static let argumentIdentifiers = SpillColumnKind(rawValue: 2)
    /// Per argument, the local partial derivative (`Double`).
    public static let partialDerivatives = SpillColumnKind(rawValue: 3)
    /// A state snapshot (`Double`s).
    public static let stateSnapshot = SpillColumnKind(rawValue: 4)

    public var description: String {
        switch self {
        case .argumentCounts: return "argumentCounts"
        case .argumentIdentifiers: return "argumentIdentifiers"
        case .partialDerivatives: return "partialDerivatives"
        case .stateSnapshot: return "stateSnapshot"
        default: return "kind\(rawValue)"
        }
    }
}

/// The reversible rewrite applied to a column before compression, and undone after decompression.
///
/// - ``none``: bytes as they are (argument counts: already small and repetitive).
/// - ``byteShuffle``: ``ByteShuffle`` with the column's element width (doubles).
/// - ``deltaFromBase(_:)``: ``IdentifierDelta`` against a base the closure writes into the buffer it
///   is given (exactly one `UInt32` per element). The closure is called once per write and once per
///   read of the column, on the caller's thread, after every earlier column of the same call has
///   been written to (on reads) its destination, so the base may be computed from those columns:
///   the argument-count column gives each argument's statement identifier.
///
/// ```swift
/// .deltaFromBase { base in fillStatementIdentifiers(base, counts: counts, first: firstID) }
/// ```
public enum SpillTransform {
    case none
    case byteShuffle
    case deltaFromBase((_ base: UnsafeMutableBufferPointer<UInt32>) -> Void)

    /// The on-disk tag.
    var tag: UInt8 {
        switch self {
        case .none: return 0
        case .byteShuffle: return 1
        case .deltaFromBase: return 2
        }
    }

    static func name(ofTag tag: UInt8) -> String {
        switch tag {
        case 0: return "none"
        case 1: return "byteShuffle"
        case 2: return "deltaFromBase"
        default: return "unknown(\(tag))"
        }
    }
}

/// One column of a segment to spill: borrowed bytes, how wide an element is, and the transform.
///
/// Invariant (checked): `elementWidth` is 1, 2, 4 or 8, `bytes.count` is a multiple of it, and
/// ``SpillTransform/deltaFromBase(_:)`` is only used with width 4. The bytes are only read during
/// the call that receives the column; the store copies them before returning.
///
/// ```swift
/// partials.withUnsafeBufferPointer { p in
///     try store.write(segment: k, columns: [SpillColumn(kind: .partialDerivatives, elements: p, transform: .byteShuffle)])
/// }
/// ```
public struct SpillColumn {
    public var kind: SpillColumnKind
    public var elementWidth: Int
    public var bytes: UnsafeRawBufferPointer
    public var transform: SpillTransform

    public init(kind: SpillColumnKind, elementWidth: Int, bytes: UnsafeRawBufferPointer, transform: SpillTransform = .none) {
        _spillCheckColumn(elementWidth: elementWidth, byteCount: bytes.count, transform: transform)
        self.kind = kind
        self.elementWidth = elementWidth
        self.bytes = bytes
        self.transform = transform
    }

    /// A column over a typed buffer; the element width is the type's stride.
    public init<T>(kind: SpillColumnKind, elements: UnsafeBufferPointer<T>, transform: SpillTransform = .none) {
        self.init(kind: kind, elementWidth: MemoryLayout<T>.stride, bytes: UnsafeRawBufferPointer(elements),
                  transform: transform)
    }

    public var elementCount: Int { bytes.count / elementWidth }
}

/// Where one column of a segment being read goes, and what the caller expects it to be.
///
/// Reading checks kind, element width, element count and transform against the file and throws
/// ``SpillError/columnMismatch(path:segment:column:detail:)`` on any difference; it writes exactly
/// `bytes.count` bytes, never more.
public struct SpillColumnDestination {
    public var kind: SpillColumnKind
    public var elementWidth: Int
    public var bytes: UnsafeMutableRawBufferPointer
    public var transform: SpillTransform

    public init(kind: SpillColumnKind, elementWidth: Int, bytes: UnsafeMutableRawBufferPointer,
                transform: SpillTransform = .none) {
        _spillCheckColumn(elementWidth: elementWidth, byteCount: bytes.count, transform: transform)
        self.kind = kind
        self.elementWidth = elementWidth
        self.bytes = bytes
        self.transform = transform
    }

    public init<T>(kind: SpillColumnKind, elements: UnsafeMutableBufferPointer<T>, transform: SpillTransform = .none) {
        self.init(kind: kind, elementWidth: MemoryLayout<T>.stride, bytes: UnsafeMutableRawBufferPointer(elements),
                  transform: transform)
    }

    public var elementCount: Int { bytes.count / elementWidth }
}

@inline(__always)
func _spillCheckColumn(elementWidth: Int, byteCount: Int, transform: SpillTransform) {
    precondition(elementWidth == 1 || elementWidth == 2 || elementWidth == 4 || elementWidth == 8,
                 "a spill column's element width must be 1, 2, 4 or 8")
    precondition(byteCount % elementWidth == 0, "a spill column's byte count must be a multiple of its element width")
    if case .deltaFromBase = transform {
        precondition(elementWidth == 4, "deltaFromBase applies to UInt32 identifier columns")
    }
}
