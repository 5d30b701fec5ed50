import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The one JSON encoder of the CLI: stable key order, and non-finite numbers (a chaotic
/// gradient can overflow) spelled as the strings "NaN", "Infinity", "-Infinity".
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
