/// The tangent part of a `Dual` number: one direction (`Double`) or several at once, one per
/// SIMD lane.
///
/// Carrying k directions in SIMD lanes computes k Jacobian–vector products in one
/// evaluation; that is how Rewind preaccumulates the local Jacobian of a small function (a
/// stencil point-update, an RK4 step) before recording it as a single statement.
public protocol TangentDirections {
    /// Directions carried.
    static var laneCount: Int { get }
    /// The tangent of a constant: 0 in every lane.
    static var zero: Self { get }
    /// The tangent that is 1 in `lane` and 0 elsewhere.
    static func unit(_ lane: Int) -> Self
    /// The derivative along direction `lane`.
    subscript(lane lane: Int) -> Double { get }
    /// Lane-wise sum.
    static func + (a: Self, b: Self) -> Self
    /// Lane-wise difference.
    static func - (a: Self, b: Self) -> Self
    /// Lane-wise negation.
    static prefix func - (a: Self) -> Self
    /// Every lane scaled by the same partial `a`.
    static func * (a: Double, b: Self) -> Self
    /// `a · b`, except that lanes where `b` is 0 stay 0 even when `a` is infinite: a direction
    /// that does not move the input does not move the output (the tangent-mode strong zero).
    static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self
}

extension Double: TangentDirections {
    /// One direction.
    @inlinable public static var laneCount: Int { 1 }
    /// 1 for lane 0.
    @inlinable public static func unit(_ lane: Int) -> Double { lane == 0 ? 1 : 0 }
    /// The one derivative.
    @inlinable public subscript(lane lane: Int) -> Double { self }
    /// `a · b`, with 0 in the lanes where `b` is 0.
    @inlinable public static func _strongZeroProduct(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a * b }
}

extension SIMD2: TangentDirections where Scalar == Double {
    /// 2 directions, one per lane.
    @inlinable public static var laneCount: Int { 2 }
    /// 1 in `lane`, 0 in the others.
    @inlinable public static func unit(_ lane: Int) -> Self { var u = Self.zero; u[lane] = 1; return u }
    /// The derivative along direction `lane`.
    @inlinable public subscript(lane lane: Int) -> Double { self[lane] }
    /// `a · b`, with 0 in the lanes where `b` is 0.
    @inlinable public static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self {
        (a * b).replacing(with: 0, where: b .== 0)
    }
}

extension SIMD4: TangentDirections where Scalar == Double {
    /// 4 directions, one per lane.
    @inlinable public static var laneCount: Int { 4 }
    /// 1 in `lane`, 0 in the others.
    @inlinable public static func unit(_ lane: Int) -> Self { var u = Self.zero; u[lane] = 1; return u }
    /// The derivative along direction `lane`.
    @inlinable public subscript(lane lane: Int) -> Double { self[lane] }
    /// `a · b`, with 0 in the lanes where `b` is 0.
    @inlinable public static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self {
        (a * b).replacing(with: 0, where: b .== 0)
    }
}

extension SIMD8: TangentDirections where Scalar == Double {
    /// 8 directions, one per lane.
    @inlinable public static var laneCount: Int { 8 }
    /// 1 in `lane`, 0 in the others.
    @inlinable public static func unit(_ lane: Int) -> Self { var u = Self.zero; u[lane] = 1; return u }
    /// The derivative along direction `lane`.
    @inlinable public subscript(lane lane: Int) -> Double { self[lane] }
    /// `a · b`, with 0 in the lanes where `b` is 0.
    @inlinable public static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self {
        (a * b).replacing(with: 0, where: b .== 0)
    }
}

extension SIMD16: TangentDirections where Scalar == Double {
    /// 16 directions, one per lane: a multi-field stencil point reads more than 8 values (two
    /// fields at five points and two parameters are 12 lanes).
    ///
    /// ```swift
    /// let x = Dual<SIMD16<Double>>(2.0, tangent: .unit(11))
    /// (x * x).tangent[lane: 11]   // 4
    /// SIMD16<Double>.laneCount    // 16
    /// ```
    @inlinable public static var laneCount: Int { 16 }
    /// 1 in `lane`, 0 in the others.
    ///
    /// ```swift
    /// SIMD16<Double>.unit(3)[3]   // 1, every other lane 0
    /// ```
    @inlinable public static func unit(_ lane: Int) -> Self { var u = Self.zero; u[lane] = 1; return u }
    /// The derivative along direction `lane`.
    ///
    /// ```swift
    /// Dual<SIMD16<Double>>(3.0, tangent: .unit(12)).tangent[lane: 12]   // 1
    /// ```
    @inlinable public subscript(lane lane: Int) -> Double { self[lane] }
    /// `a · b`, with 0 in the lanes where `b` is 0.
    ///
    /// ```swift
    /// SIMD16<Double>._strongZeroProduct(.infinity, .unit(0))[1]   // 0, not NaN
    /// ```
    @inlinable public static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self {
        (a * b).replacing(with: 0, where: b .== 0)
    }
}

/// Directions in two SIMD vectors side by side (lanes consecutive in memory), for lane counts
/// between the SIMD widths: no idle lanes to carry through every operation.
///
/// - `_Lanes12` (`SIMD8` + `SIMD4`): a two-field five-point kernel with two parameters, or a
///   two-field flux over five points, without the four idle lanes of a `SIMD16`: a quarter less
///   tangent arithmetic.
/// - `_Lanes6` (`SIMD4` + `SIMD2`): a five-point 2-D stencil with one parameter (heat2d)
///   without the two idle lanes of a `SIMD8`: on SSE2 three registers instead of four.
@frozen @usableFromInline
package struct _LanePair<Low: TangentDirections & SIMD, High: TangentDirections & SIMD>: TangentDirections
where Low.Scalar == Double, High.Scalar == Double {
    @usableFromInline package var low: Low
    @usableFromInline package var high: High

    @inlinable @inline(__always)
    package init(_ low: Low, _ high: High) {
        self.low = low
        self.high = high
    }

    @inlinable package static var laneCount: Int { Low.laneCount + High.laneCount }
    @inlinable package static var zero: Self { Self(Low.zero, High.zero) }
    @inlinable package static func unit(_ lane: Int) -> Self {
        lane < Low.laneCount ? Self(Low.unit(lane), High.zero) : Self(Low.zero, High.unit(lane - Low.laneCount))
    }
    @inlinable package subscript(lane lane: Int) -> Double {
        lane < Low.laneCount ? low[lane: lane] : high[lane: lane - Low.laneCount]
    }
    @inlinable @inline(__always)
    package static func + (a: Self, b: Self) -> Self { Self(a.low + b.low, a.high + b.high) }
    @inlinable @inline(__always)
    package static func - (a: Self, b: Self) -> Self { Self(a.low - b.low, a.high - b.high) }
    @inlinable @inline(__always)
    package static prefix func - (a: Self) -> Self { Self(-a.low, -a.high) }
    @inlinable @inline(__always)
    package static func * (a: Double, b: Self) -> Self { Self(a * b.low, a * b.high) }
    @inlinable
    package static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self {
        Self(Low._strongZeroProduct(a, b.low), High._strongZeroProduct(a, b.high))
    }
}

/// Twelve lanes: `SIMD8` + `SIMD4` (`_LanePair`).
@usableFromInline package typealias _Lanes12 = _LanePair<SIMD8<Double>, SIMD4<Double>>
/// Six lanes: `SIMD4` + `SIMD2` (`_LanePair`).
@usableFromInline package typealias _Lanes6 = _LanePair<SIMD4<Double>, SIMD2<Double>>
