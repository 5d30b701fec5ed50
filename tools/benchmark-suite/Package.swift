// swift-tools-version: 6.1
// Rewind's benchmarks on ordo-one/benchmark (issue #14 item 6). A package of its own so that the
// root package (and its CI) does not depend on the benchmark library, its plugins and its malloc
// interposer; it depends on the root package by path. See README.md here.
//
//   cd tools/benchmark-suite && swift package benchmark            # every suite (builds release)
import PackageDescription

let benchmarkTarget = { (name: String) -> Target in
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "Benchmark", package: "benchmark"),
            .product(name: "Rewind", package: "Rewind"),
            .product(name: "RewindModels", package: "Rewind"),
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "RewindBenchmarks",
    dependencies: [
        // Named, so that the identity does not follow the checkout's folder name (wt-bench, main, …).
        .package(name: "Rewind", path: "../.."),
        // The malloc interposer gives the `mallocCountTotal` metric. Naming the traits leaves out
        // the default `RuntimeInterposer`: on Linux with Swift 6.3 it serves only ARC metrics
        // (retain/release counts), which these suites don't use, and its package
        // (swift-runtime-interposer) is not among the machine's offline packages. The run then
        // prints "skipping LD_PRELOAD of …libSwiftRuntimeInterposerSwift.so (not built)": harmless.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        benchmarkTarget("StoreAll"),
        benchmarkTarget("Checkpointed"),
    ],
    swiftLanguageModes: [.v5]
)
