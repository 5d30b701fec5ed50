/// The bodies each body interacts with, for a pair sum over a neighbour list instead of all
/// pairs: body i's sources are `sources[offsets[i] ..< offsets[i + 1]]`, in the order their
/// contributions are added (compressed sparse rows).
///
/// Invariants: `offsets` starts at 0, never decreases and ends at `sources.count`; every source
/// is a body index other than its target. Lists built with a cutoff need not be symmetric.
///
/// ```swift
/// // Three bodies on a line, each seeing its neighbours only.
/// let list = NeighbourList([[1], [0, 2], [1]])
/// list.sources(of: 1)   // [0, 2]
/// ```
public struct NeighbourList: Hashable, Sendable {
    /// Where each body's sources start in `sources`; `bodyCount + 1` entries.
    ///
    /// ```swift
    /// NeighbourList([[1], [0, 2], [1]]).offsets   // [0, 1, 3, 4]
    /// ```
    public let offsets: [Int]
    /// Every body's sources, body after body.
    ///
    /// ```swift
    /// NeighbourList([[1], [0, 2], [1]]).sources   // [1, 0, 2, 1]
    /// ```
    public let sources: [Int]

    /// A list in compressed sparse rows.
    ///
    /// - Precondition: the invariants above.
    ///
    /// ```swift
    /// let list = NeighbourList(offsets: [0, 1, 3, 4], sources: [1, 0, 2, 1])
    /// ```
    public init(offsets: [Int], sources: [Int]) {
        precondition(offsets.first == 0 && offsets.last == sources.count, "offsets run from 0 to sources.count")
        let n = offsets.count - 1
        for i in 0..<n {
            precondition(offsets[i] <= offsets[i + 1], "offsets never decrease")
            for q in offsets[i]..<offsets[i + 1] {
                precondition(
                    sources[q] >= 0 && sources[q] < n && sources[q] != i,
                    "body \(i)'s source \(sources[q]) is not another of the \(n) bodies")
            }
        }
        self.offsets = offsets
        self.sources = sources
    }

    /// The list whose body i has the sources `neighbours[i]`, in that order.
    ///
    /// ```swift
    /// NeighbourList([[1, 2], [0], []]).bodyCount   // 3
    /// ```
    public init(_ neighbours: [[Int]]) {
        var offsets = [0]
        offsets.reserveCapacity(neighbours.count + 1)
        for list in neighbours { offsets.append(offsets.last! + list.count) }
        self.init(offsets: offsets, sources: neighbours.flatMap { $0 })
    }

    /// Bodies the list covers.
    ///
    /// ```swift
    /// NeighbourList([[1], [0]]).bodyCount   // 2
    /// ```
    public var bodyCount: Int { offsets.count - 1 }

    /// The sources of body `i`, in summation order.
    ///
    /// ```swift
    /// NeighbourList([[2, 1], [], [0]]).sources(of: 0)   // [2, 1]
    /// ```
    public func sources(of i: Int) -> ArraySlice<Int> { sources[offsets[i]..<offsets[i + 1]] }
}

extension SimulationScalar {
    /// The default: `sumInteractionsElementary(_:bodies:neighbours:parameters:into:)`.
    ///
    /// ```swift
    /// Double.sumInteractions(SoftGravity(), bodies: xy, neighbours: list, parameters: p, into: &force)
    /// ```
    @inlinable
    public static func sumInteractions<K: PairInteraction>(
        _ kernel: K, bodies: [Self], neighbours: NeighbourList, parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        sumInteractionsElementary(kernel, bodies: bodies, neighbours: neighbours, parameters: parameters, into: &output)
    }

    /// Sums `kernel` over a neighbour list on this scalar type: `output[i·outputCount + k] =
    /// Σ_{j in neighbours.sources(of: i)} kernel(body i, body j, parameters)[k]`, each sum
    /// starting from 0 and adding the sources in list order. The elementary recording on
    /// `Tracked`.
    ///
    /// ```swift
    /// Tracked.sumInteractionsElementary(SoftGravity(), bodies: xy, neighbours: list, parameters: p, into: &force)
    /// ```
    ///
    /// - Parameters:
    ///   - kernel: The pair contribution.
    ///   - bodies: `neighbours.bodyCount × kernel.width` values, body-major.
    ///   - neighbours: Which sources each body sums.
    ///   - parameters: Shared by every pair.
    ///   - output: Receives `neighbours.bodyCount × kernel.outputCount` values, body-major.
    /// - Complexity: one kernel call per listed pair.
    @inlinable
    public static func sumInteractionsElementary<K: PairInteraction>(
        _ kernel: K, bodies: [Self], neighbours: NeighbourList, parameters: LocalValues<Self>, into output: inout [Self]
    ) {
        let width = kernel.width
        let outputs = kernel.outputCount
        let n = kernel._bodyCount(components: bodies.count, outputs: output.count)
        precondition(n == neighbours.bodyCount, "a neighbour list of \(neighbours.bodyCount) bodies for \(n) bodies")
        bodies.withUnsafeBufferPointer { b in
            output.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    let target = LocalValues<Self>(count: width) { b[i &* width &+ $0] }
                    var sum = LocalValues<Self>(count: outputs) { _ in 0 }
                    for q in neighbours.offsets[i]..<neighbours.offsets[i + 1] {
                        let j = neighbours.sources[q]
                        let f = kernel(target, LocalValues<Self>(count: width) { b[j &* width &+ $0] }, parameters)
                        for k in 0..<outputs { sum[k] = sum[k] + f[k] }
                    }
                    for k in 0..<outputs { out[i &* outputs &+ k] = sum[k] }
                }
            }
        }
    }
}
