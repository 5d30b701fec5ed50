// swift-tools-version: 6.1
// The libFuzzer target for Rewind's spill-segment reader. A separate package so that the main
// package's `swift build` never links it without -sanitize=fuzzer. See docs/RELIABILITY.md:
//
//   cd Stress/Fuzz
//   swift build -c release -Xswiftc -enable-testing -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product SpillFuzz
//   mkdir -p corpus && SPILLFUZZ_SEEDS=corpus .build/release/SpillFuzz -runs=0
//   .build/release/SpillFuzz corpus -runs=1000000
import PackageDescription

let package = Package(
    name: "SpillFuzz",
    dependencies: [.package(name: "Rewind", path: "../..")],
    targets: [
        .executableTarget(name: "SpillFuzz", dependencies: [.product(name: "Rewind", package: "Rewind")]),
    ],
    swiftLanguageModes: [.v5]
)
