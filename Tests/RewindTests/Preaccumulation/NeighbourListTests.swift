import Foundation
import Testing

import Rewind
@testable import RewindCore
@testable import RewindStorage

/// Bodies on a jittered line, and the list of those within `cutoff` of each (ascending, or
/// descending to show that list order is summation order).
private func line(_ n: Int) -> [Double] {
    var bodies: [Double] = []
    for i in 0..<n {
        let t = Double(i)
        bodies.append(0.4 * t + 0.05 * Double.sin(t))
        bodies.append(0.1 * Double.cos(2 * t))
    }
    return bodies
}

private func cutoffList(_ bodies: [Double], cutoff: Double, descending: Bool = false) -> NeighbourList {
    let n = bodies.count / 2
    return NeighbourList((0..<n).map { i in
        let near: [Int] = (0..<n).filter { (j: Int) -> Bool in
            j != i && (bodies[2 * j] - bodies[2 * i]).magnitude <= cutoff
        }
        return descending ? near.reversed() : near
    })
}

/// Gradient of Σ wₖ·outputₖ over a neighbour list (or all pairs when `list` is nil).
private func listGradient<K: PairInteraction>(
    _ kernel: K, bodies: [Double], parameters: [Double], list: NeighbourList?, elementary: Bool, tape: Tape = Tape()
) -> (values: [Double], gradient: [Double]) {
    let n = bodies.count / kernel.width
    let w = (0..<(n * kernel.outputCount)).map { 1 + 0.3 * Double.sin(Double($0)) }
    let recorded = RecordedFunction(at: bodies + parameters, tape: tape) { x in
        let b = Array(x[0..<bodies.count])
        let p = LocalValues(count: parameters.count) { x[bodies.count + $0] }
        var out = [Tracked](repeating: Tracked(0), count: n * kernel.outputCount)
        switch (list, elementary) {
        case (nil, _): Tracked.sumInteractions(kernel, bodies: b, parameters: p, into: &out)
        case (let list?, true): Tracked.sumInteractionsElementary(kernel, bodies: b, neighbours: list, parameters: p, into: &out)
        case (let list?, false): Tracked.sumInteractions(kernel, bodies: b, neighbours: list, parameters: p, into: &out)
        }
        return out
    }
    return (recorded.value, recorded.pullback(w))
}

@Suite("Preaccumulation: pair sums over a neighbour list")
struct NeighbourListTests {
    @Test func theListKeepsEachBodysSourcesInOrder() {
        let list = NeighbourList([[2, 1], [], [0]])
        #expect(list.bodyCount == 3)
        #expect(list.offsets == [0, 2, 2, 3])
        #expect(Array(list.sources(of: 0)) == [2, 1])
        #expect(list.sources(of: 1).isEmpty)
    }

    @Test(arguments: [false, true])
    func aCutoffListMatchesElementary(descending: Bool) {
        let bodies = line(9)
        let list = cutoffList(bodies, cutoff: 1.0, descending: descending)
        let fast = listGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], list: list, elementary: false)
        let slow = listGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], list: list, elementary: true)
        var primal = [Double](repeating: 0, count: bodies.count)
        Double.sumInteractions(
            SoftGravity2D(), bodies: bodies, neighbours: list, parameters: LocalValues([0.7, 0.05]), into: &primal)
        #expect(fast.values.map(\.bitPattern) == primal.map(\.bitPattern))
        #expect(slow.values.map(\.bitPattern) == primal.map(\.bitPattern))
        let scale = slow.gradient.map(\.magnitude).max()!
        for k in fast.gradient.indices { #expect(abs(fast.gradient[k] - slow.gradient[k]) <= 1e-12 * scale, "input \(k)") }
        let declared = listGradient(
            SoftGravity2DDifferences(), bodies: bodies, parameters: [0.7, 0.05], list: list, elementary: false)
        for k in fast.gradient.indices { #expect(abs(declared.gradient[k] - slow.gradient[k]) <= 1e-12 * scale, "input \(k)") }
    }

    @Test func theFullAscendingListIsTheAllPairsSumBitForBit() {
        let bodies = line(7)
        let list = NeighbourList((0..<7).map { i in (0..<7).filter { $0 != i } })
        let listed = listGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], list: list, elementary: false)
        let allPairs = listGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], list: nil, elementary: false)
        #expect(listed.values.map(\.bitPattern) == allPairs.values.map(\.bitPattern))
        #expect(listed.gradient.map(\.bitPattern) == allPairs.gradient.map(\.bitPattern))
    }

    @Test func anEmptyListGivesZeros() {
        let bodies = line(3)
        let fast = listGradient(
            SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], list: NeighbourList([[], [], []]), elementary: false)
        #expect(fast.values == [0, 0, 0, 0, 0, 0])
        #expect(fast.gradient.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [16, 64, 4096])
    func aSpilledTapeGivesTheSameGradientBitForBit(statementsPerChunk: Int) throws {
        let bodies = line(10)
        let list = cutoffList(bodies, cutoff: 1.3)
        let reference = listGradient(SoftGravity2D(), bodies: bodies, parameters: [0.7, 0.05], list: list, elementary: false)
        let directory = try SpillDirectory()
        defer { try? directory.remove() }
        let tape = Tape()
        try tape.enableSpilling(to: directory, statementsPerChunk: statementsPerChunk)
        let w = (0..<20).map { 1 + 0.3 * Double.sin(Double($0)) }
        let (inputs, outputs) = tape.record { () -> ([Tracked], [Tracked]) in
            let x = tape.registerInputs(bodies + [0.7, 0.05])
            var out = [Tracked](repeating: Tracked(0), count: 20)
            Tracked.sumInteractions(
                SoftGravity2D(), bodies: Array(x[0..<20]), neighbours: list, parameters: LocalValues([x[20], x[21]]),
                into: &out)
            return (x, out)
        }
        let adjoints = AdjointVector()
        tape.reverse(adjoints, seeding: zip(outputs, w).map { ($0, $1) })
        #expect(tape.spillError == nil)
        #expect(outputs.map(\.value.bitPattern) == reference.values.map(\.bitPattern))
        #expect(inputs.map { adjoints[$0].bitPattern } == reference.gradient.map(\.bitPattern))
        if statementsPerChunk < 64 { #expect(tape.externals.count > 1) }
    }
}
