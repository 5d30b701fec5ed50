import RealModule

/// A real number whose operations are recorded on the thread's active tape.
///
/// `Tracked` holds only a value and the identifier of the statement that defined it; it is
/// a plain struct of trivial fields, so arithmetic on it never allocates or retains. A
/// tracked value with identifier 0 is a constant: operations on constants record nothing.
/// The `tag` stamps the recording the value belongs to; debug builds use it to catch values
/// that outlived a reset or come from another tape.
///
/// ```swift
/// let tape = Tape()
/// let y = tape.record { () -> Tracked in
///     let x = tape.registerInput(0.5)
///     return x * x + Tracked.sin(x)
/// }
/// ```
@frozen
public struct Tracked {
    /// The value, exactly as the same computation on `Double` gives it.
    public let value: Double
    /// The statement that defined this value, or 0 for a constant.
    public let identifier: UInt32
    @usableFromInline package let tag: UInt32

    @inlinable @inline(__always)
    init(_value: Double, identifier: UInt32, tag: UInt32) {
        self.value = _value
        self.identifier = identifier
        self.tag = tag
    }

    /// A constant: derivatives with respect to it are not taken.
    @inlinable @inline(__always)
    public init(_ constant: Double) {
        self.init(_value: constant, identifier: 0, tag: 0)
    }

    /// The same place on the tape with `value` as its value: for a benchmark that feeds a
    /// recording values it computed beforehand (`rewind-benchmark lorenz-step`).
    @inlinable @inline(__always)
    package func _replacingValue(_ value: Double) -> Tracked { Tracked(_value: value, identifier: identifier, tag: tag) }

    /// Whether this value is a constant (depends on no recorded input).
    @inlinable public var isConstant: Bool { identifier == 0 }

    // MARK: Recording

    @inlinable @inline(__always)
    static func _unary(
        _ x: Tracked, _ value: Double, _ partial: Double, _ operation: StaticString
    ) -> Tracked {
        if x.identifier == 0 { return Tracked(value) }
        return _Recorder.current(for: x.tag).pointee.push(value, x.identifier, partial, operation: operation)
    }

    @inlinable @inline(__always)
    static func _unary(_ x: Tracked, _ rule: LocalDerivative, _ operation: StaticString) -> Tracked {
        _unary(x, rule.value, rule.derivative, operation)
    }

    @inlinable @inline(__always)
    static func _binary(
        _ x: Tracked, _ px: Double, _ y: Tracked, _ py: Double, _ value: Double, _ operation: StaticString
    ) -> Tracked {
        if x.identifier == 0 { return _unary(y, value, py, operation) }
        if y.identifier == 0 { return _unary(x, value, px, operation) }
        assert(x.tag == y.tag, _staleValueMessage)
        // x ∘ x: one argument with the summed partial is smaller and sweeps faster.
        if x.identifier == y.identifier { return _unary(x, value, px + py, operation) }
        return _Recorder.current(for: x.tag).pointee.push(
            value, x.identifier, px, y.identifier, py, operation: operation)
    }

    @inlinable @inline(__always)
    static func _binary(_ x: Tracked, _ y: Tracked, _ rule: LocalPartials, _ operation: StaticString) -> Tracked {
        _binary(x, rule.first, y, rule.second, rule.value, operation)
    }
}

// MARK: - Arithmetic

extension Tracked {
    /// The sum; records partials 1 and 1.
    @inlinable @inline(__always)
    public static func + (a: Tracked, b: Tracked) -> Tracked { _binary(a, 1, b, 1, a.value + b.value, "+") }
    /// The difference; records partials 1 and −1.
    @inlinable @inline(__always)
    public static func - (a: Tracked, b: Tracked) -> Tracked { _binary(a, 1, b, -1, a.value - b.value, "-") }
    /// The product; records partials `b` and `a` (the values at recording time, which is why the
    /// tape stores partials rather than the operation: the sweep needs no values).
    @inlinable @inline(__always)
    public static func * (a: Tracked, b: Tracked) -> Tracked { _binary(a, b.value, b, a.value, a.value * b.value, "*") }
    /// The quotient q = a/b; records partials `1/b` and `−q/b`.
    @inlinable @inline(__always)
    public static func / (a: Tracked, b: Tracked) -> Tracked {
        let q = a.value / b.value
        if _slowPath(a.identifier == b.identifier && a.identifier != 0) { return _quotientOfItself(a, q) }
        return _binary(a, 1 / b.value, b, -q / b.value, q, "/")
    }

    /// `x / x`: the derivative is exactly 0 wherever the quotient is defined. The summed
    /// partial `1/x − (x/x)/x` would cancel only where `1/x` does not overflow: at
    /// `x = 1e-320` it is `∞ − ∞ = NaN`. So the partial is 0, or NaN where the quotient is
    /// (x = 0, ±∞, NaN), and check mode warns only there.
    @inlinable
    static func _quotientOfItself(_ x: Tracked, _ q: Double) -> Tracked {
        if _slowPath(q.isNaN), let r = _Recorder.active, r.pointee.checking {
            r.pointee.tape.takeUnretainedValue()._warn(
                "a value divided by itself at \(x.value) (statement \(x.identifier)): the quotient is NaN; "
                    + "x/x is 1 wherever it is defined, write 1 instead")
        }
        return _unary(x, q, q.isNaN ? .nan : 0, "/")
    }
    /// The negation; records partial −1.
    @inlinable @inline(__always)
    public static prefix func - (a: Tracked) -> Tracked { _unary(a, -a.value, -1, "negate") }

    /// Adds `b` to `a`. `a` then names a new statement: tracked values are never updated in place
    /// on the tape, which is what lets the sweep run backwards.
    @inlinable public static func += (a: inout Tracked, b: Tracked) { a = a + b }
    /// Subtracts `b` from `a` (`a = a - b`).
    @inlinable public static func -= (a: inout Tracked, b: Tracked) { a = a - b }
    /// Multiplies `a` by `b` (`a = a * b`).
    @inlinable public static func *= (a: inout Tracked, b: Tracked) { a = a * b }
    /// Divides `a` by `b` (`a = a / b`).
    @inlinable public static func /= (a: inout Tracked, b: Tracked) { a = a / b }

    /// a·b + c with one rounding; partials b, a and 1.
    @inlinable
    public static func fma(_ a: Tracked, _ b: Tracked, _ c: Tracked) -> Tracked {
        let value = c.value.addingProduct(a.value, b.value)
        return _nary(value, count: 3, operation: "fma") { j in
            switch j {
            case 0: return (a, b.value)
            case 1: return (b, a.value)
            default: return (c, 1)
            }
        }
    }

    /// Records one statement with `count` arguments given by `argument(j)`, writing straight
    /// into the tape's columns; constant arguments are left out, and a statement of
    /// constants records nothing.
    @inlinable @inline(__always)
    static func _nary(
        _ value: Double, count: Int, operation: StaticString = "local Jacobian", _ argument: (Int) -> (Tracked, Double)
    ) -> Tracked {
        precondition(count <= Int(_StatementCode.maximumArguments), "a statement takes at most 253 arguments")
        var tag: UInt32 = 0
        for j in 0..<count {
            let x = argument(j).0
            if x.identifier != 0 {
                tag = x.tag
                break
            }
        }
        // Tag 0 is never handed to a recording: every argument is a constant.
        if tag == 0 { return Tracked(value) }
        let r = _Recorder.current(for: tag)
        r.pointee._reserve(arguments: count, operation: operation)
        let identifiers = r.pointee.identifiers + r.pointee.identifierCount
        let partials = r.pointee.partials + r.pointee.partialCount
        var stored = 0
        for j in 0..<count {
            let (x, partial) = argument(j)
            if x.identifier == 0 { continue }
            assert(x.tag == tag, _staleValueMessage)
            identifiers[stored] = x.identifier
            partials[stored] = partial
            stored &+= 1
        }
        r.pointee.argumentCounts[r.pointee.statementCount] = UInt8(truncatingIfNeeded: stored)
        r.pointee.identifierCount &+= stored
        r.pointee.partialCount &+= stored
        return r.pointee._finish(value)
    }
}

// MARK: - Standard protocols

extension Tracked {
    /// Whether `values[k]` has identifier `first + k` for every k: the outputs of a stencil or a
    /// step's registered leaves, whose adjoints are then one contiguous run. Branch-free, so the
    /// compiler vectorises the scan. With `destination`, the values are copied there on the
    /// same pass (a stencil's recording reads its input array once, not twice).
    @inlinable @inline(__always)
    package static func _identifiersAreConsecutive(
        _ values: UnsafeBufferPointer<Tracked>, from first: UInt32,
        copyingValuesInto destination: UnsafeMutablePointer<Double>? = nil
    ) -> Bool {
        var mismatch: UInt32 = 0
        var expected = first
        if let destination {
            for k in values.indices {
                destination[k] = values[k].value
                mismatch |= values[k].identifier ^ expected
                expected &+= 1
            }
        } else {
            for k in values.indices {
                mismatch |= values[k].identifier ^ expected
                expected &+= 1
            }
        }
        return mismatch == 0
    }
}

extension Tracked: Comparable {
    /// Compares values; which statement defined them does not matter.
    @inlinable public static func == (a: Tracked, b: Tracked) -> Bool { a.value == b.value }
    /// Orders by value only: a branch on tracked values is taken at recording time, and the tape
    /// holds the derivative of the side taken.
    @inlinable public static func < (a: Tracked, b: Tracked) -> Bool { a.value < b.value }
}

extension Tracked: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// A constant from a literal, so that `0.5 * x` and `x + 1` read as in `Double` code.
    @inlinable public init(floatLiteral value: Double) { self.init(value) }
    /// A constant from an integer literal.
    @inlinable public init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension Tracked: CustomStringConvertible {
    /// The value, and the statement that defined it unless it is a constant.
    public var description: String {
        identifier == 0 ? "\(value)" : "\(value) (statement \(identifier))"
    }
}

extension Tracked: AlgebraicField {
    /// `magnitude` is itself tracked, so that `abs` is differentiated.
    public typealias Magnitude = Tracked

    /// The constant 0 (records nothing).
    @inlinable public static var zero: Tracked { Tracked(0) }

    /// The constant equal to `source`, or `nil` when a `Double` cannot hold it exactly.
    @inlinable public init?<T: BinaryInteger>(exactly source: T) {
        guard let value = Double(exactly: source) else { return nil }
        self.init(value)
    }

    /// |x|, with subgradient 0 at 0.
    @inlinable public var magnitude: Tracked { Tracked._unary(self, ElementaryRules.abs(value), "abs") }

    /// 1/x, or `nil` at 0.
    @inlinable public var reciprocal: Tracked? {
        value == 0 ? nil : 1.0 / self
    }
}
