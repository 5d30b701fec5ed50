import Foundation
import Testing

/// The reference CSVs of `shared/reference`, found relative to this file.
///
/// The repository is cloned with `shared/` beside it (`<clone>/../shared/reference`), so the
/// helper walks up from `#filePath` and checks both `dir/shared/reference` and
/// `dir/../shared/reference` at every level. A missing file is a test failure, never a skip.
enum ReferenceData {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        let searchedFrom: String
        var description: String {
            "reference file \(name).csv not found: looked for shared/reference/\(name).csv and "
                + "../shared/reference/\(name).csv in every directory above \(searchedFrom)"
        }
    }

    static func path(of name: String, filePath: String = #filePath) throws -> String {
        let fm = FileManager.default
        var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while true {
            for candidate in [
                dir.appendingPathComponent("shared/reference/\(name).csv"),
                dir.deletingLastPathComponent().appendingPathComponent("shared/reference/\(name).csv"),
            ] where fm.fileExists(atPath: candidate.path) {
                return candidate.standardizedFileURL.path
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw Missing(name: name, searchedFrom: filePath)
    }

    /// The rows of `<name>.csv` as dictionaries keyed by the header's column names.
    static func rows(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path(of: name), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { return [] }
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var row: [String: String] = [:]
            for (i, key) in header.enumerated() { row[key] = i < fields.count ? fields[i] : "" }
            return row
        }
    }

    /// Rows loaded for a parameterized test; a load failure becomes one recorded issue and an
    /// empty list would fail the caller's count check, so nothing is skipped silently.
    static func load(_ name: String) -> [[String: String]] {
        do { return try rows(name) } catch {
            Issue.record("\(error)")
            return []
        }
    }
}

@Suite("Reference data") struct ReferenceDataTests {
    @Test func filesAreFoundAndComplete() throws {
        #expect(try ReferenceData.rows("revolve_optimal").count == 108)
        #expect(try ReferenceData.rows("online_checkpointing").count == 68)
        #expect(try ReferenceData.rows("multistage_optimal").count == 117)
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ReferenceData.Missing.self) { try ReferenceData.path(of: "no_such_reference_file") }
    }
}
