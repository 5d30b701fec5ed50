// RewindReference: the simplest correct reverse mode, written to be read.
//
// Rewind's own tape (Sources/Rewind/Tape/) is built for speed: raw-memory columns in arena
// chunks, identifiers instead of objects, partials computed by shared rules. All of that can
// hide a bug. This module does the same job with none of it — a Wengert list of Swift objects,
// textbook derivative formulas written out again here, one loop for the sweep — so that the
// tests can differentiate the same random programs with both and demand the same numbers.
//
// Nothing here is fast, and nothing here is shared with Rewind: an oracle that reused Rewind's
// rules or tape would agree with Rewind's mistakes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Wengert list: the record of a computation as a sequence of assignments
/// `vᵢ = φᵢ(vⱼ, vₖ, …)`, each kept with its local partial derivatives `∂φᵢ/∂vⱼ`.
///
/// Reverse mode needs nothing more. Evaluating the program fills the list in order; the
/// chain rule, read backwards, says the adjoint `v̄ⱼ = ∂y/∂vⱼ` of every variable is the sum,
/// over the entries that used it, of that entry's adjoint times the local partial. Entries are
/// appended in evaluation order, so walking the list from the end sees every entry after all
/// the entries that used it — its adjoint is complete when we reach it.
///
/// ```swift
/// let tape = ReferenceTape()
/// let x = tape.input(2.0)
/// let y = x * ReferenceVariable.sin(x)
/// tape.gradient(of: y, withRespectTo: [x])   // [sin 2 + 2 cos 2]
/// ```
public final class ReferenceTape {
    /// One assignment of the list: which earlier entries it read and the partial derivative of
    /// its result with respect to each. Inputs and constants read nothing.
    ///
    /// A class, not a struct, only to keep the teaching picture of "a node that points at its
    /// parents"; the list owns the nodes and the indices say where each one sits.
    final class Entry {
        let parents: [Int]
        let partials: [Double]
        init(parents: [Int], partials: [Double]) {
            self.parents = parents
            self.partials = partials
        }
    }

    /// Every assignment, in the order the program executed them.
    private(set) var entries: [Entry] = []

    /// An empty list; variables recorded on it belong to it alone.
    public init() {}

    /// The number of recorded assignments, inputs and constants included.
    public var count: Int { entries.count }

    /// A new independent variable: something the caller wants derivatives with respect to.
    public func input(_ value: Double) -> ReferenceVariable {
        append(value, parents: [])
    }

    /// A constant. It is recorded like an input (an entry without parents), but no one asks
    /// for its adjoint, so it simply absorbs whatever flows into it.
    public func constant(_ value: Double) -> ReferenceVariable {
        append(value, parents: [])
    }

    /// Records `value = φ(parents)` with the given partials; the one way entries are made.
    func append(_ value: Double, parents: [(ReferenceVariable, Double)]) -> ReferenceVariable {
        for (p, _) in parents {
            precondition(p.tape === self, "a variable from another tape")
        }
        entries.append(Entry(parents: parents.map(\.0.index), partials: parents.map(\.1)))
        return ReferenceVariable(value: value, index: entries.count - 1, tape: self)
    }

    /// The gradient of `output` with respect to `inputs`, by one backward walk of the list.
    public func gradient(of output: ReferenceVariable, withRespectTo inputs: [ReferenceVariable]) -> [Double] {
        let adjoints = sweep(from: output) { $0 }
        return inputs.map { adjoints[$0.index] }
    }

    /// The same sweep with every partial replaced by its absolute value: `Σ over paths of
    /// |∏ partials|`. It bounds how much rounding in the partials can move each gradient entry
    /// (a few ulps per partial times this sum), which is the honest tolerance when comparing
    /// two correct engines on a program whose paths cancel.
    public func absoluteGradient(of output: ReferenceVariable, withRespectTo inputs: [ReferenceVariable]) -> [Double] {
        let adjoints = sweep(from: output) { $0.magnitude }
        return inputs.map { adjoints[$0.index] }
    }

    /// The reverse sweep: seed `ȳ = 1`, then for each entry from the last to the first, pass
    /// its adjoint to its parents weighted by the partials. `+=`, because a variable used twice
    /// receives a contribution from each use — forgetting that is the classic reverse-mode bug.
    private func sweep(from output: ReferenceVariable, _ weight: (Double) -> Double) -> [Double] {
        precondition(output.tape === self, "the output belongs to another tape")
        var adjoints = [Double](repeating: 0, count: entries.count)
        adjoints[output.index] = 1
        for i in stride(from: output.index, through: 0, by: -1) {
            let adjoint = adjoints[i]
            let entry = entries[i]
            // Nothing to pass on: each contribution would be ±0. But 0·∞ is NaN, so an entry
            // with an infinite or NaN partial is swept anyway and its NaN reaches the inputs —
            // skipping it would return a finite gradient IEEE arithmetic says is undefined.
            if adjoint == 0 && entry.partials.allSatisfy(\.isFinite) { continue }
            for (parent, partial) in zip(entry.parents, entry.partials) {
                adjoints[parent] += adjoint * weight(partial)
            }
        }
        return adjoints
    }
}

extension ReferenceTape: CustomStringConvertible {
    /// The list, one entry a line: `v2 = φ(v0, v1)   ∂/∂v0 = 3, ∂/∂v1 = 2` (inputs and constants
    /// read nothing). `print(tape)` after running a program shows what reverse mode will sweep.
    public var description: String {
        entries.indices.map { i in
            let reads = zip(entries[i].parents, entries[i].partials).map { "∂/∂v\($0) = \($1)" }
            return reads.isEmpty ? "v\(i) input or constant" : "v\(i) = φ(\(entries[i].parents.map { "v\($0)" }.joined(separator: ", ")))   " + reads.joined(separator: ", ")
        }.joined(separator: "\n")
    }
}

/// A value computed on a `ReferenceTape`: the number, and where on the list it was assigned.
///
/// Every operation computes its result in plain `Double`, writes down its local partials
/// (the textbook formula, stated beside each one) and appends one entry.
public struct ReferenceVariable {
    /// The number itself, computed in plain `Double` exactly as the program would without AD.
    public let value: Double
    let index: Int
    let tape: ReferenceTape

    /// Records `value` with the given (variable, partial) pairs on the operands' tape.
    static func record(_ value: Double, _ parents: [(ReferenceVariable, Double)]) -> ReferenceVariable {
        parents[0].0.tape.append(value, parents: parents)
    }

    /// A constant on the same tape as `self`, for mixing variables with plain numbers.
    func lift(_ c: Double) -> ReferenceVariable { tape.constant(c) }
}

// MARK: - Arithmetic: the four rules everything else is built from.

extension ReferenceVariable {
    /// d(a + b) = da + db
    public static func + (a: ReferenceVariable, b: ReferenceVariable) -> ReferenceVariable {
        record(a.value + b.value, [(a, 1), (b, 1)])
    }
    /// d(a − b) = da − db
    public static func - (a: ReferenceVariable, b: ReferenceVariable) -> ReferenceVariable {
        record(a.value - b.value, [(a, 1), (b, -1)])
    }
    /// d(a·b) = b da + a db
    public static func * (a: ReferenceVariable, b: ReferenceVariable) -> ReferenceVariable {
        record(a.value * b.value, [(a, b.value), (b, a.value)])
    }
    /// d(a/b) = da/b − a db/b²
    public static func / (a: ReferenceVariable, b: ReferenceVariable) -> ReferenceVariable {
        record(a.value / b.value, [(a, 1 / b.value), (b, -a.value / (b.value * b.value))])
    }
    /// d(−a) = −da
    public static prefix func - (a: ReferenceVariable) -> ReferenceVariable {
        record(-a.value, [(a, -1)])
    }

    /// With a plain number on one side (`x + 1`, `2 * x`, `1 / x`) the number is recorded as a
    /// constant entry and the rule above applies; `c - a`, `c * a`, `c / a` likewise.
    public static func + (a: ReferenceVariable, c: Double) -> ReferenceVariable { a + a.lift(c) }
    /// `a − c`: see `+`.
    public static func - (a: ReferenceVariable, c: Double) -> ReferenceVariable { a - a.lift(c) }
    /// `c − a`: see `+`.
    public static func - (c: Double, a: ReferenceVariable) -> ReferenceVariable { a.lift(c) - a }
    /// `c · a`: see `+`.
    public static func * (c: Double, a: ReferenceVariable) -> ReferenceVariable { a.lift(c) * a }
    /// `a / c`: see `+`.
    public static func / (a: ReferenceVariable, c: Double) -> ReferenceVariable { a / a.lift(c) }
    /// `c / a`: see `+`.
    public static func / (c: Double, a: ReferenceVariable) -> ReferenceVariable { a.lift(c) / a }
}

// MARK: - Elementary functions, each with its derivative from a table of derivatives.

extension ReferenceVariable {
    /// sin′ = cos
    public static func sin(_ x: ReferenceVariable) -> ReferenceVariable { record(libm_sin(x.value), [(x, libm_cos(x.value))]) }
    /// cos′ = −sin
    public static func cos(_ x: ReferenceVariable) -> ReferenceVariable { record(libm_cos(x.value), [(x, -libm_sin(x.value))]) }
    /// tan′ = 1/cos²
    public static func tan(_ x: ReferenceVariable) -> ReferenceVariable {
        let c = libm_cos(x.value)
        return record(libm_tan(x.value), [(x, 1 / (c * c))])
    }
    /// exp′ = exp
    public static func exp(_ x: ReferenceVariable) -> ReferenceVariable {
        let e = libm_exp(x.value)
        return record(e, [(x, e)])
    }
    /// log′(x) = 1/x
    public static func log(_ x: ReferenceVariable) -> ReferenceVariable { record(libm_log(x.value), [(x, 1 / x.value)]) }
    /// sqrt′(x) = 1/(2√x)
    public static func sqrt(_ x: ReferenceVariable) -> ReferenceVariable {
        let s = x.value.squareRoot()
        return record(s, [(x, 1 / (2 * s))])
    }
    /// tanh′ = 1/cosh² (sech², computed from cosh rather than as 1 − tanh², an independent form)
    public static func tanh(_ x: ReferenceVariable) -> ReferenceVariable {
        let c = libm_cosh(x.value)
        return record(libm_tanh(x.value), [(x, 1 / (c * c))])
    }
    /// atan′(x) = 1/(1 + x²)
    public static func atan(_ x: ReferenceVariable) -> ReferenceVariable {
        record(libm_atan(x.value), [(x, 1 / (1 + x.value * x.value))])
    }
    /// ∂(xʸ)/∂x = y xʸ⁻¹, ∂(xʸ)/∂y = xʸ log x   (for x > 0)
    public static func pow(_ x: ReferenceVariable, _ y: ReferenceVariable) -> ReferenceVariable {
        let v = libm_pow(x.value, y.value)
        return record(v, [(x, y.value * libm_pow(x.value, y.value - 1)), (y, v * libm_log(x.value))])
    }
    /// ∂atan2(y, x)/∂y = x/(x² + y²), ∂atan2(y, x)/∂x = −y/(x² + y²)
    public static func atan2(y: ReferenceVariable, x: ReferenceVariable) -> ReferenceVariable {
        let r2 = x.value * x.value + y.value * y.value
        return record(libm_atan2(y.value, x.value), [(y, x.value / r2), (x, -y.value / r2)])
    }
    /// ∂hypot(x, y)/∂x = x/hypot, ∂/∂y = y/hypot
    public static func hypot(_ x: ReferenceVariable, _ y: ReferenceVariable) -> ReferenceVariable {
        let h = libm_hypot(x.value, y.value)
        return record(h, [(x, x.value / h), (y, y.value / h)])
    }
}

// The C library's functions under names that cannot collide with the static methods above
// (inside `extension ReferenceVariable`, a bare `sin(_:)` would mean `ReferenceVariable.sin`).
// Rewind evaluates values through the same libm, so the two engines' values agree bit for bit
// and any difference in gradients comes from the derivatives alone.
@inline(__always) func libm_sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func libm_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func libm_tan(_ x: Double) -> Double { tan(x) }
@inline(__always) func libm_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func libm_log(_ x: Double) -> Double { log(x) }
@inline(__always) func libm_cosh(_ x: Double) -> Double { cosh(x) }
@inline(__always) func libm_tanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) func libm_atan(_ x: Double) -> Double { atan(x) }
@inline(__always) func libm_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func libm_atan2(_ y: Double, _ x: Double) -> Double { atan2(y, x) }
@inline(__always) func libm_hypot(_ x: Double, _ y: Double) -> Double { hypot(x, y) }
