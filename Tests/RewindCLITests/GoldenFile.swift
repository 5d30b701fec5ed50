import Foundation
import Testing

/// A committed file holding the output a test expects, under `Golden/` beside this file.
///
/// Compared as text; a mismatch is reported with a line diff, so the test log shows what
/// changed. With `REWIND_UPDATE_GOLDEN=1` in the environment the file is rewritten with the
/// actual output instead (review the change with `git diff` before committing it).
struct GoldenFile {
    /// The environment variable that turns comparing into rewriting.
    static let updateVariable = "REWIND_UPDATE_GOLDEN"

    let url: URL

    /// The golden file `name` in `Tests/RewindCLITests/Golden/`, found from this source file's
    /// path, so that no resource bundle is needed.
    init(_ name: String, directory: String = #filePath) {
        url = URL(fileURLWithPath: directory).deletingLastPathComponent()
            .appendingPathComponent("Golden").appendingPathComponent(name)
    }

    static var updating: Bool { ProcessInfo.processInfo.environment[updateVariable] == "1" }

    /// Records an issue unless `actual` is the file's text (or rewrites the file when updating).
    func check(_ actual: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if Self.updating {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record(
                "no golden file at \(url.path); run the tests with \(Self.updateVariable)=1 to write it",
                sourceLocation: sourceLocation)
            return
        }
        guard actual != expected else { return }
        Issue.record(
            """
            output differs from \(url.lastPathComponent) (- golden, + actual); \
            if the change is intended, rerun with \(Self.updateVariable)=1:
            \(LineDiff(expected: expected, actual: actual).text)
            """,
            sourceLocation: sourceLocation)
    }
}

/// A line diff of two texts: the lines only in the expected text marked `-`, those only in
/// the actual text `+`, common lines ` ` (from a longest common subsequence of lines; the
/// texts compared here are a few dozen lines, so the quadratic table is small).
struct LineDiff {
    let text: String

    init(expected: String, actual: String) {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
        // common[i][j]: the length of the longest common subsequence of old[i...] and new[j...].
        var common = Array(repeating: Array(repeating: 0, count: new.count + 1), count: old.count + 1)
        for i in stride(from: old.count - 1, through: 0, by: -1) {
            for j in stride(from: new.count - 1, through: 0, by: -1) {
                common[i][j] = old[i] == new[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var lines: [String] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count && j < new.count && old[i] == new[j] {
                lines.append("  " + old[i])
                i += 1
                j += 1
            } else if i < old.count && (j == new.count || common[i + 1][j] >= common[i][j + 1]) {
                lines.append("- " + old[i])
                i += 1
            } else {
                lines.append("+ " + new[j])
                j += 1
            }
        }
        text = lines.joined(separator: "\n")
    }
}
