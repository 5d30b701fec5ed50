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
    /// 16 directions, one per lane.
    @inlinable public static var laneCount: Int { 16 }
    /// 1 in `lane`, 0 in the others.
    @inlinable public static func unit(_ lane: Int) -> Self { var u = Self.zero; u[lane] = 1; return u }
    /// The derivative along direction `lane`.
    @inlinable public subscript(lane lane: Int) -> Double { self[lane] }
    /// `a · b`, with 0 in the lanes where `b` is 0.
    @inlinable public static func _strongZeroProduct(_ a: Double, _ b: Self) -> Self {
        (a * b).replacing(with: 0, where: b .== 0)
    }
}
