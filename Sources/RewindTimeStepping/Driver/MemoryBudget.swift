import RewindCore
/// A memory budget in bytes, as the user states it (`64MiB`, `4MB`, `1GiB`, `123456`).
///
/// Decimal units (kB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB)
/// powers of 1024; a bare number is bytes.
///
/// ```swift
/// let budget = try MemoryBudget(parsing: "64MiB")   // 67_108_864 bytes
/// ```
public struct MemoryBudget: Hashable, Sendable, CustomStringConvertible {
    /// The budget in bytes.
    public let bytes: Int

    /// A budget of `bytes` bytes.
    ///
    /// - Precondition: `bytes >= 0`.
    public init(bytes: Int) {
        precondition(bytes >= 0, "a budget is not negative")
        self.bytes = bytes
    }

    /// A budget of `count` MiB (`count · 2²⁰` bytes).
    ///
    /// ```swift
    /// let options = TimeSteppingOptions(memoryBudget: .mebibytes(64))
    /// ```
    public static func mebibytes(_ count: Int) -> MemoryBudget { MemoryBudget(bytes: count << 20) }

    /// Reads a size as a person writes it: a number with an optional unit (`64MiB`, `4MB`, `1.5GiB`, `123456`).
    ///
    /// - Throws: `MemoryBudgetError` for text that is not a size, a negative size, or one
    ///   larger than `largestBytes`.
    public init(parsing text: String) throws {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
            ("PiB", 1_125_899_906_842_624),
            ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15), ("B", 1),
        ]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        if number.hasPrefix("-"), let value = Double(number.dropFirst()), value > 0 {
            throw MemoryBudgetError.negative(text)
        }
        guard let value = Double(number), value.isFinite, value >= 0, !number.isEmpty,
            number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
        else {
            throw MemoryBudgetError.malformed(text)
        }
        let bytes = value * scale
        guard bytes <= MemoryBudget.largestBytes else { throw MemoryBudgetError.tooLarge(text) }
        self.init(bytes: Int(bytes))
    }

    /// The budget with a binary unit, one decimal (`64.0 MiB`).
    public var description: String { MemoryBudget.format(bytes) }

    /// The largest budget `init(parsing:)` accepts: 8 EB (2^63 bytes less what `Double` cannot
    /// tell apart), about 7.1 EiB or 7275 PiB; `Int` counts the bytes.
    public static let largestBytes = 8.0e18

    /// Bytes in the largest binary unit that keeps the number readable, to one decimal.
    /// `Int.max` is what a saturated count (more bytes than `Int` holds) reads as.
    public static func format(_ bytes: Int) -> String {
        format(bytes, rounding: .toNearestOrAwayFromZero)
    }

    /// `format(bytes)` with the decimal rounded by `rounding`: `.up` gives a figure that a
    /// budget of that size is sure to cover.
    public static func format(_ bytes: Int, rounding: FloatingPointRoundingRule) -> String {
        if bytes == .max { return "more than 8 EiB" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded(rounding) / 10
        return "\(rounded) \(units[unit])"
    }

    /// `format(bytes)`, with the exact count added (`4.0 MiB (4194000 bytes)`) when `format`
    /// would print `other` the same way: two sizes a message compares must not read as equal.
    public static func format(_ bytes: Int, distinctFrom other: Int) -> String {
        let text = format(bytes)
        guard bytes != other, bytes != .max, text == format(other), !text.hasSuffix(" B") else { return text }
        return "\(text) (\(bytes) bytes)"
    }
}

/// Why a text is not a memory budget (`MemoryBudget.init(parsing:)`).
public enum MemoryBudgetError: Error, CustomStringConvertible, Equatable {
    /// Not a number with an optional unit.
    case malformed(String)
    /// A negative size (`-1KiB`).
    case negative(String)
    /// More bytes than a budget can hold (`MemoryBudget.largestBytes`).
    case tooLarge(String)

    /// What is wrong with the text, and how to write a size.
    public var description: String {
        switch self {
        case .malformed(let text):
            return "'\(Self.shortened(text))' is not a memory size; write a number of bytes with an optional unit, "
                + "for example 64MiB, 4MB or 1GiB"
        case .negative(let text):
            return "a memory budget cannot be negative (got '\(Self.shortened(text))'); "
                + "write a size such as 64MiB"
        case .tooLarge(let text):
            return "'\(Self.shortened(text))' is more than the largest memory budget, 8 EB "
                + "(\(MemoryBudget.format(Int(MemoryBudget.largestBytes)))); write a smaller size such as 1PiB"
        }
    }

    /// At most 60 characters of what the user wrote.
    static func shortened(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(57)) + "…"
    }
}
