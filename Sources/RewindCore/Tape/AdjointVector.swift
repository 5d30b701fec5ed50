/// The adjoints of a reverse sweep: one `Double` per identifier of a recording.
///
/// An adjoint vector is reused across sweeps and recordings so that its memory is touched
/// once; `prepare(for:)` grows it when needed and zeroes the entries the tape uses. Entry 0
/// belongs to constants and soaks up contributions to them.
///
/// ```swift
/// let adjoints = AdjointVector()
/// adjoints.prepare(for: tape)
/// adjoints[y] = 1
/// tape.reverse(adjoints)
/// let dydx = adjoints[x]
/// ```
public final class AdjointVector {
    @usableFromInline @exclusivity(unchecked) package var storage: UnsafeMutablePointer<Double>
    /// Entries allocated.
    @exclusivity(unchecked) public private(set) var capacity: Int
    /// Entries in use since the last `prepare(for:)`.
    @exclusivity(unchecked) public private(set) var count: Int

    /// An adjoint vector with room for `capacity` identifiers; `prepare(for:)` grows it as needed,
    /// so the capacity is only a hint.
    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        storage = .allocate(capacity: self.capacity)
        storage.initialize(repeating: 0, count: self.capacity)
        count = 1
    }

    deinit { storage.deallocate() }

    /// Gives the storage back but for one entry; `prepare(for:)` grows it again as far as the
    /// next recording needs (after a trial recording larger than the ones that follow).
    @usableFromInline
    package func release() {
        storage.deallocate()
        capacity = 1
        storage = .allocate(capacity: 1)
        storage.initialize(to: 0)
        count = 1
    }

    /// Makes room for every identifier of `tape` and sets all adjoints to zero.
    public func prepare(for tape: Tape) {
        prepare(identifierCount: tape.identifierCount)
    }

    /// Makes room for identifiers `0 ..< identifierCount` and sets their adjoints to zero.
    public func prepare(identifierCount: Int) {
        if identifierCount > capacity {
            storage.deallocate()
            capacity = identifierCount
            storage = .allocate(capacity: capacity)
        }
        count = identifierCount
        storage.initialize(repeating: 0, count: identifierCount)
    }

    /// Bytes reserved.
    public var byteCount: Int { capacity * MemoryLayout<Double>.stride }

    /// The adjoint of a tracked value (0 for a constant's entry, which soaks up contributions).
    @inlinable
    public subscript(value: Tracked) -> Double {
        get { self[identifier: value.identifier] }
        set { self[identifier: value.identifier] = newValue }
    }

    /// The adjoint of the statement `identifier` (reads 0 for the constants' entry 0).
    @inlinable
    public subscript(identifier identifier: UInt32) -> Double {
        get {
            precondition(Int(identifier) < count, "identifier \(identifier) is beyond this adjoint vector; prepare it for the tape")
            return identifier == 0 ? 0 : storage[Int(identifier)]
        }
        set {
            precondition(Int(identifier) < count, "identifier \(identifier) is beyond this adjoint vector; prepare it for the tape")
            storage[Int(identifier)] = newValue
        }
    }

    /// Raw access for sweeps and parallel workers.
    public var baseAddress: UnsafeMutablePointer<Double> { storage }
}
