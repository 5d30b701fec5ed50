import Foundation
import Testing

/// docs/your-own-simulation.md quotes code that CI compiles and runs: each Swift block after a
/// `<!-- quote: PATH -->` line must appear, line for line, in the file at PATH (from the
/// repository's root). A guide whose code drifted from the examples would teach code that no
/// longer compiles.
@Suite("Guide code")
struct GuideCodeTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (path, block) for every quoted block of the guide.
    static func quotes() throws -> [(path: String, block: String)] {
        let guide = try String(contentsOf: root.appendingPathComponent("docs/your-own-simulation.md"), encoding: .utf8)
        var quotes: [(String, String)] = []
        var pending: String?
        var block: [Substring]?
        for line in guide.split(separator: "\n", omittingEmptySubsequences: false) {
            if var lines = block {
                if line.hasPrefix("```") {
                    if let path = pending { quotes.append((path, lines.joined(separator: "\n"))) }
                    pending = nil
                    block = nil
                } else {
                    lines.append(line)
                    block = lines
                }
            } else if line.hasPrefix("<!-- quote: "), line.hasSuffix(" -->") {
                pending = String(line.dropFirst("<!-- quote: ".count).dropLast(" -->".count))
            } else if line.hasPrefix("```swift") {
                block = []
            }
        }
        return quotes
    }

    @Test func everyQuotedBlockIsInItsFile() throws {
        let quotes = try Self.quotes()
        #expect(quotes.count >= 6, "the guide quotes its examples; found \(quotes.count) quoted blocks")
        for (path, block) in quotes {
            let file = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            #expect(file.contains(block), "docs/your-own-simulation.md quotes \(path), which no longer contains:\n\(block)")
        }
    }
}
