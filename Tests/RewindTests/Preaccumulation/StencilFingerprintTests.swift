import Testing

@testable import RewindCore

/// The fingerprint that a stencil kept by its inputs sums over its outputs, while recording and
/// again in the sweep: a sum that stays the same while values changed would let a kernel that
/// reads changed state give a wrong finite gradient.
@Suite struct StencilFingerprintTests {
    typealias Statement = _StencilRows

    private func sum(_ values: [Double]) -> UInt64 {
        values.indices.reduce(0) { $0 &+ Statement.fingerprint(values[$1], at: $1) }
    }

    private var field: [Double] { (0..<512).map { 1.0 + 0.001 * Double.sin(0.05 * Double($0)) } }

    @Test func theTwoPointHashIsTheOneOfEachPoint() {
        let values: [Double] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 1e308, 3.25]
        for (point, pair) in zip([0, 7, 1 << 20, Int.max - 1, -3], values.indices.dropLast()) {
            let two = Statement.fingerprint(SIMD2(values[pair], values[pair + 1]), at: point)
            #expect(two[0] == Statement.fingerprint(values[pair], at: point))
            #expect(two[1] == Statement.fingerprint(values[pair + 1], at: point + 1))
        }
    }

    @Test func oneChangedValueAlwaysChangesTheSum() {
        let original = sum(field)
        for point in stride(from: 0, to: 512, by: 7) {
            for change in [Double.ulpOfOne, 1e-300, -0.5, .nan] {
                var changed = field
                changed[point] = change.isNaN ? .nan : changed[point] + changed[point] * change
                if changed[point].bitPattern == field[point].bitPattern { changed[point] = changed[point].nextUp }
                #expect(sum(changed) != original, "point \(point), change \(change)")
            }
        }
    }

    /// One unit up at one point and one down at another leave the sum of the bits unchanged,
    /// and can leave `M · Σ(bits ⊕ point)` unchanged too; the fold is what tells them apart.
    @Test func oppositeLastBitChangesDoNotCancel() {
        let original = sum(field)
        for (p, q) in [(0, 1), (10, 11), (100, 300), (511, 0), (255, 256)] {
            var changed = field
            changed[p] = changed[p].nextUp
            changed[q] = changed[q].nextDown
            #expect(sum(changed) != original, "points \(p) and \(q)")
        }
    }

    @Test func valuesSwappedBetweenPointsChangeTheSum() {
        let original = sum(field)
        for (p, q) in [(0, 1), (3, 200), (510, 511)] {
            var swapped = field
            swapped.swapAt(p, q)
            #expect(sum(swapped) != original)
        }
        // The whole field shifted by one point, as an off-by-one read would give.
        #expect(sum(Array(field[1...] + field[..<1])) != original)
    }
}
