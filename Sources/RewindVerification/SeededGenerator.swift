import RewindCore
import RewindTimeStepping
/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA
/// 2014): small and seedable, so a check's random directions are the same on every run and a
/// failure can be reproduced from its seed. The one seeded generator of the package: checks,
/// property tests and benchmarks all use it.
///
/// ```swift
/// var generator = SeededGenerator(seed: 42)
/// let direction = (0..<n).map { _ in Double.random(in: -1...1, using: &generator) }
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The generator's whole state: a copy continues the same sequence.
    public var state: UInt64
    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
