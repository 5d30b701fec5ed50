import Testing

/// The help of `rewind` and of each subcommand, compared with the committed text in
/// `Golden/` (see `GoldenFile`): a changed option, default or wording shows up in review as a
/// change to the golden file.
@Suite struct HelpTextTests {
    /// ArgumentParser wraps help to the terminal width; a fixed width makes the text the same
    /// on every machine.
    static let terminal = ["COLUMNS": "80", "LINES": "24"]

    @Test(arguments: [
        ([], "rewind-help.txt"),
        (["models"], "models-help.txt"),
        (["gradient"], "gradient-help.txt"),
        (["schedule"], "schedule-help.txt"),
        (["jacobian"], "jacobian-help.txt"),
        (["check"], "check-help.txt"),
    ])
    func helpMatchesTheGoldenFile(command: [String], golden: String) throws {
        let result = try rewind(command + ["--help"], environment: Self.terminal)
        #expect(result.status == 0, "\(command): status \(result.status), \(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        try GoldenFile(golden).check(result.stdout)
    }

    /// A user's executable (`RewindCommand.main(models:)`) says its own name and lists its
    /// own models where `rewind` lists the bundled ones.
    @Test(arguments: [([], "examples-help.txt"), (["gradient"], "examples-gradient-help.txt")])
    func theExamplesHelpNamesItsModels(command: [String], golden: String) throws {
        let result = try runExecutable("rewind-examples", command + ["--help"], environment: Self.terminal)
        #expect(result.status == 0, "\(command): status \(result.status), \(result.stderr)")
        try GoldenFile(golden).check(result.stdout)
    }

    @Test func aLineDiffMarksWhatChanged() {
        let diff = LineDiff(expected: "a\nb\nc", actual: "a\nx\nc\nd").text
        #expect(diff == "  a\n- b\n+ x\n  c\n+ d")
    }
}
