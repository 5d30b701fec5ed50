// swift-tools-version: 6.1
import PackageDescription

let numerics = Target.Dependency.product(name: "RealModule", package: "swift-numerics")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
// `_checkInvariants()` of the tape and the schedules is compiled in debug builds only: tests and
// `swift build` run the checks, release builds carry none of their code (docs/design-decisions.md).
let checksInvariants: [SwiftSetting] = [.define("REWIND_CHECK_INVARIANTS", .when(configuration: .debug))]

let package = Package(
    name: "Rewind",
    // MARK: - Products
    products: [
        .library(name: "Rewind", targets: ["Rewind"]),
        .library(name: "RewindModels", targets: ["RewindModels"]),
        .library(name: "RewindReference", targets: ["RewindReference"]),
        // The command line for any list of models: a user's executable calls
        // `RewindCommand.main(models:)` (docs/cli.md, "Your own model on the command line").
        .library(name: "RewindCommandLine", targets: ["RewindCommandLine"]),
        .executable(name: "rewind", targets: ["rewind"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Documentation only (`swift package generate-documentation`, tools/docs); no target depends on it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: - Engine
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .target(name: "CRewindSupport"),
        // The module graph (docs/architecture.md); each arrow is a dependency below, and no
        // module may import one above it:
        //   Rewind (umbrella) → RewindVerification → RewindTimeStepping
        //   RewindTimeStepping → RewindParallel, RewindStorage, RewindSchedules, RewindCore
        //   RewindParallel → RewindCore;  RewindStorage → RewindCore, CLZ4
        //   RewindSchedules → (nothing);  RewindCore → CRewindSupport, RealModule
        .target(name: "RewindCore", dependencies: ["CRewindSupport", numerics], swiftSettings: checksInvariants),
        .target(name: "RewindSchedules", swiftSettings: checksInvariants),
        .target(
            name: "RewindStorage", dependencies: ["RewindCore", "CLZ4", "CRewindSupport"], swiftSettings: checksInvariants),
        .target(name: "RewindParallel", dependencies: ["RewindCore"], swiftSettings: checksInvariants),
        .target(
            name: "RewindTimeStepping",
            dependencies: ["RewindCore", "RewindSchedules", "RewindStorage", "RewindParallel", "CRewindSupport"],
            swiftSettings: checksInvariants
        ),
        .target(
            name: "RewindVerification", dependencies: ["RewindCore", "RewindTimeStepping"], swiftSettings: checksInvariants),
        .target(
            name: "Rewind",
            dependencies: [
                "RewindCore", "RewindSchedules", "RewindStorage", "RewindParallel", "RewindTimeStepping",
                "RewindVerification", numerics,
            ]
        ),
        .target(
            name: "RewindModels",
            dependencies: ["Rewind", numerics]
        ),
        // A minimal reverse mode written to teach, used by the tests as an oracle.
        .target(name: "RewindReference", path: "Sources/RewindReference"),

        // MARK: - Command line
        // The commands, their flags and output; a model reaches the engine through `Model`'s
        // specialised entry points, so the library knows no model type.
        .target(
            name: "RewindCommandLine",
            dependencies: ["Rewind", "RewindModels", argumentParser]
        ),
        // `rewind`: the command line with the bundled models (one line of main.swift).
        .executableTarget(
            name: "rewind",
            dependencies: ["RewindCommandLine", "RewindModels"]
        ),

        // MARK: - Examples
        // Models that are not bundled, on the command line of their own executable
        // (examples/README.md); tools/test runs it once, the CLI tests run its commands.
        .executableTarget(
            name: "rewind-examples",
            dependencies: ["RewindCommandLine"],
            path: "examples/rewind-examples"
        ),

        // MARK: - Benchmarks (tools/, release builds only; see docs/PERFORMANCE.md)
        .target(name: "CMallocCounter", path: "tools/MallocCounter"),
        .executableTarget(
            name: "rewind-benchmark",
            dependencies: ["Rewind", "RewindModels", "CMallocCounter"],
            path: "tools/Benchmarks"
        ),

        // MARK: - Stress
        // Long and hostile runs of the release `rewind` binary (tools/stress, docs/RELIABILITY.md).
        // Stress/Fuzz is a separate package (libFuzzer build), not part of this target.
        .executableTarget(
            name: "rewind-stress",
            path: "Stress",
            exclude: ["Fuzz"]
        ),

        // MARK: - Tests
        // The define lets the invariant tests use `_invariantViolations()`, which exists only with it.
        .testTarget(
            name: "RewindTests", dependencies: ["Rewind", "RewindReference", numerics], swiftSettings: checksInvariants),
        .testTarget(name: "RewindModelsTests", dependencies: ["RewindModels", "Rewind"]),
        .testTarget(
            name: "RewindCLITests", dependencies: ["rewind", "rewind-examples", "RewindCommandLine"], exclude: ["Golden"]),
    ],
    // Swift 5 mode: the engine shares raw tape memory across Dispatch workers on purpose
    // (each worker owns disjoint adjoint storage); see docs/how-it-works.md, section 10.
    swiftLanguageModes: [.v5]
)
