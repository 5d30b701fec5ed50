import Testing

/// Typed option values are refused where they are parsed, in the CLI's words (one line naming
/// the option and what it accepts, not ArgumentParser's generic text); rules between options
/// are refused afterwards, by the command's `validate()`.
@Suite("Typed option values") struct TypedArgumentTests {
    @Test(arguments: [
        (["gradient", "lorenz", "--strategy", "magic"],
         "Error: --strategy must be auto, store-all, revolve, online, two-level or spill (got 'magic')"),
        (["jacobian", "lorenz", "--strategy", "spill"], "Error: --strategy must be auto, store-all, revolve or online (got 'spill')"),
        (["jacobian", "lorenz", "--sweep", "simd16"], "Error: --sweep must be auto, scalar, simd4 or simd8 (got 'simd16')"),
        (["gradient", "lorenz", "--snapshots", "0"], "Error: --snapshots must be auto or a whole number of at least 1 (got '0')"),
        (["gradient", "lorenz", "--steps-per-block", "many"],
         "Error: --steps-per-block must be auto or a whole number of at least 1 (got 'many')"),
        (["gradient", "lorenz", "--memory-budget", "lots"],
         "Error: 'lots' is not a memory size; write a number of bytes with an optional unit, for example 64MiB, 4MB or 1GiB"),
        (["gradient", "lorenz", "--strategy", "store-all", "--snapshots", "3"],
         "Error: --snapshots does not apply to --strategy store-all"),
        (["gradient", "lorenz", "--strategy", "two-level", "--steps-per-block", "4"],
         "Error: --steps-per-block applies to --strategy auto, revolve or online only (got 'two-level')"),
    ])
    func aRefusedValueIsOneLineNamingTheOption(arguments: [String], line: String) throws {
        let result = try rewind(arguments)
        #expect(result.status == 64, "\(arguments): status \(result.status)")
        #expect(result.stderr == line + "\n")
        #expect(result.stdout.isEmpty)
    }

    @Test func typedValuesReachTheRun() throws {
        let result = try rewind(
            "gradient", "lorenz", "--steps", "40", "--strategy", "revolve", "--snapshots", "3",
            "--steps-per-block", "2", "--memory-budget", "512KiB", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require(result.json?["run"] as? [String: Any])
        #expect(run["strategy"] as? String == "revolve")
        #expect(run["snapshotsInMemory"] as? Int == 3)
        #expect(run["stepsPerBlock"] as? Int == 2)
    }
}
