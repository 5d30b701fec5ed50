import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Buffered output to stdout for JSON too large to build as one string: a gradient of 4 Mi
/// values is ~80 MB of text, which as a Foundation object plus its encoded `Data` plus a
/// `String` cost more than the run's own budget. The writer holds 64 KiB at a time.
///
/// Numbers are spelled exactly as `JSONOutput` (Foundation's `JSONEncoder`) spells them, so a
/// streamed object is byte for byte the one the encoder would have produced.
struct JSONStream {
    private var buffer: [UInt8] = []
    private let capacity = 1 << 16
    private(set) var failed = false

    init() { buffer.reserveCapacity(capacity) }

    /// A number as `JSONEncoder` writes it: the shortest digits that round-trip (Swift's
    /// `description`) without a trailing `.0`; non-finite values as the strings `JSONOutput`
    /// configures.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { flush() }
    }

    /// `[v0,v1,…]`, number by number.
    mutating func writeArray(_ values: [Double]) {
        write("[")
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            guard value.isFinite else {
                write(JSONStream.number(value))
                continue
            }
            // The bytes of `description` without a trailing ".0", copied straight into the
            // buffer: `number(_:)` without its String edits, the hot path of 4 Mi numbers.
            var text = value.description
            text.withUTF8 { bytes in
                var count = bytes.count
                if count >= 2 && bytes[count - 2] == UInt8(ascii: ".") && bytes[count - 1] == UInt8(ascii: "0") {
                    count -= 2
                }
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<count]))
            }
            if buffer.count >= capacity { flush() }
        }
        write("]")
    }

    /// Hands the buffer to stdout; remembers a failed write (a full disk, a closed pipe).
    mutating func flush() {
        guard !buffer.isEmpty else { return }
        let count = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, stdout) }
        if count != buffer.count { failed = true }
        buffer.removeAll(keepingCapacity: true)
    }
}

extension JSONOutput {
    /// Writes `skeleton` to stdout as `encode` would, followed by a newline, with the value of
    /// `key` — an empty array in `skeleton` — written by `body` in its place, piece by piece.
    /// Returns false when stdout could not be written.
    static func stream<T: Encodable>(
        _ skeleton: T, replacingEmptyArrayAt key: String, with body: (inout JSONStream) -> Void
    ) throws -> Bool {
        var stream = JSONStream()
        try write(skeleton, replacingEmptyArrayAt: key, into: &stream, with: body)
        stream.write("\n")
        stream.flush()
        return !stream.failed
    }

    /// Writes `skeleton` into `stream` as `encode` would, with `body` writing the value of
    /// `key` in place of the empty array the skeleton holds there. `"<key>":[]` must occur
    /// exactly once in the skeleton's encoding (a precondition: the keys and their neighbours
    /// are the CLI's own).
    static func write<T: Encodable>(
        _ skeleton: T, replacingEmptyArrayAt key: String, into stream: inout JSONStream,
        with body: (inout JSONStream) -> Void
    ) throws {
        let text = try encode(skeleton)
        let marker = "\"\(key)\":[]"
        let parts = text.components(separatedBy: marker)
        precondition(parts.count == 2, "\(marker) occurs \(parts.count - 1) times in the JSON skeleton")
        stream.write(parts[0])
        stream.write("\"\(key)\":")
        body(&stream)
        stream.write(parts[1])
    }
}
