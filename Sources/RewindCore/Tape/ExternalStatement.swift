/// A statement whose reverse rule is code rather than a list of partials.
///
/// External statements are how a computation enters the tape in a form cheaper than its
/// elementary operations: a preaccumulated stencil sweep, or a user's hand-written adjoint
/// (a linear solve, a halo exchange). Each occupies one marker statement, immediately followed
/// by `outputCount` leaf statements that define its outputs. A reverse sweep reaches the
/// outputs first (they have no arguments), then the marker, at which point every use of the
/// outputs has been swept and their adjoints are complete.
@usableFromInline
package protocol _ExternalStatement: AnyObject {
    /// Partials this statement keeps in the tape's partial column.
    var partialCount: Int { get }
    /// Bytes it holds outside the tape's columns.
    var byteCount: Int { get }
    /// Adds the contributions of the outputs' adjoints to the inputs' adjoints.
    ///
    /// - Parameters:
    ///   - firstOutput: identifier of the first output; outputs are consecutive.
    ///   - partials: this statement's `partialCount` partials.
    ///   - adjoints: the sweep's adjoint vector, indexed by identifier.
    func reverse(firstOutput: UInt32, partials: UnsafePointer<Double>, adjoints: UnsafeMutablePointer<Double>)
}

extension Tape {
    /// Appends the marker of an external statement whose data are `partialCount` partials
    /// written by `fill`, and returns the identifier of its first output. The caller then
    /// pushes the output leaves.
    ///
    /// The partials start at zero unless `fillsEveryPartial` says that `fill` writes each one
    /// (a stencil's megabytes of partials a step need not be zeroed first).
    @usableFromInline
    package func _pushExternal(
        _ statement: _ExternalStatement, fillsEveryPartial: Bool = false, fill: (UnsafeMutablePointer<Double>) -> Void
    ) -> UInt32 {
        let partialCount = max(statement.partialCount, 1)
        let index = UInt32(externals.count)
        externals.append(statement)
        let r = _recorder
        r.pointee._reserve(arguments: partialCount, operation: "external")
        r.pointee.argumentCounts[r.pointee.statementCount] = _StatementCode.external
        r.pointee.identifiers[r.pointee.identifierCount] = index
        let partials = r.pointee.partials + r.pointee.partialCount
        if !fillsEveryPartial || statement.partialCount == 0 {
            partials.initialize(repeating: 0, count: partialCount)
        }
        fill(partials)
        r.pointee.identifierCount &+= 1
        r.pointee.partialCount &+= partialCount
        let marker = r.pointee._finish(0)
        return marker.identifier &+ 1
    }
}
