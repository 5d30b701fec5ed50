/// Tangent lanes for a stencil kernel's parameters only: the neighbours are seeded as always
/// (`StencilNeighbourhood`, lane `j` for neighbour `j`), but below `firstLane` a lane is no lane
/// at all, so their tangents are zero and the kernel's products with them fold away. The
/// parameters are seeded from `firstLane` on.
///
/// Why a type and not a flag: the neighbours' seeds must stay constants the compiler sees in
/// every specialisation of the stencil's evaluation (`_StencilRows.evaluate`), and two
/// specialisations that differ only in a flag's value were merged by the optimiser into one
/// that tests it at every neighbour (Burgers 4096's run 29.6 → 34.8 ms, docs/PERFORMANCE.md). Used for kernels affine
/// in their neighbours, whose neighbour partials are the same at every point
/// (`_AffineStencilStatement`). Each parameter lane goes through the operations it would among
/// all the lanes, so its partials are the same bits.
@frozen @usableFromInline
package struct _ParameterLanes<P: _PairableDirections>: TangentDirections {
    @usableFromInline package var lanes: P

    @inlinable @inline(__always)
    package init(_ lanes: P) { self.lanes = lanes }

    /// The lane of the first parameter; neighbours' lanes (fewer than 17) fall below it.
    @inlinable package static var firstLane: Int { 1 << 20 }

    @inlinable package static var laneCount: Int { P.laneCount }
    @inlinable package static var zero: Self { Self(.zero) }
    @inlinable @inline(__always)
    package static func unit(_ lane: Int) -> Self { lane >= firstLane ? Self(.unit(lane - firstLane)) : .zero }
    @inlinable package subscript(lane lane: Int) -> Double { lanes[lane: lane] }
    @inlinable @inline(__always)
    package static func + (a: Self, b: Self) -> Self { Self(a.lanes + b.lanes) }
    @inlinable @inline(__always)
    package static func - (a: Self, b: Self) -> Self { Self(a.lanes - b.lanes) }
    @inlinable @inline(__always)
    package static prefix func - (a: Self) -> Self { Self(-a.lanes) }
    @inlinable @inline(__always)
    package static func * (a: Double, b: Self) -> Self { Self(a * b.lanes) }
    @inlinable
    package static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self { Self(P._strongZeroProduct(a, b.lanes)) }
}

extension _ParameterLanes: _PairableDirections {
    @usableFromInline package typealias _Pair = _ParameterPairLanes<P>
    @inlinable package static func _firstParameterLane(neighbourCount: Int) -> Int { firstLane }
    @inlinable package static func _keptLanes(neighbourCount: Int, parameterCount: Int) -> Int { parameterCount }
}

/// `_ParameterLanes` of two points (`_PointPair`).
@frozen @usableFromInline
package struct _ParameterPairLanes<P: _PairableDirections>: _PairLanes {
    @usableFromInline package typealias Single = _ParameterLanes<P>
    @usableFromInline package var lanes: P._Pair

    @inlinable @inline(__always)
    package init(lanes: P._Pair) { self.lanes = lanes }

    @inlinable package static var zero: Self { Self(lanes: .zero) }
    @inlinable @inline(__always)
    package static func unit(_ lane: Int) -> Self {
        lane >= Single.firstLane ? Self(lanes: .unit(lane - Single.firstLane)) : .zero
    }
    @inlinable @inline(__always)
    package static func + (a: Self, b: Self) -> Self { Self(lanes: a.lanes + b.lanes) }
    @inlinable @inline(__always)
    package static func - (a: Self, b: Self) -> Self { Self(lanes: a.lanes - b.lanes) }
    @inlinable @inline(__always)
    package static prefix func - (a: Self) -> Self { Self(lanes: -a.lanes) }
    @inlinable @inline(__always)
    package static func scaled(_ factors: SIMD2<Double>, _ b: Self) -> Self { Self(lanes: P._Pair.scaled(factors, b.lanes)) }
    @inlinable @inline(__always)
    package init(_ first: Single, _ second: Single) { self.init(lanes: P._Pair(first.lanes, second.lanes)) }
    @inlinable @inline(__always)
    package func point(_ p: Int) -> Single { Single(lanes.point(p)) }
    @inlinable @inline(__always)
    package func lanePair(_ j: Int) -> SIMD2<Double> { lanes.lanePair(j) }
}
