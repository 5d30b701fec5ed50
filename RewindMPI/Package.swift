// swift-tools-version: 6.1
// RewindMPI: domain-decomposed adjoints over MPI (Open MPI), a package of its own so that the
// root package — and everyone who uses Rewind without MPI — builds without MPI installed
// (docs/mpi.md). It depends on the root package by path; tools/test builds and runs it under
// mpirun after the root's tests.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name (the clone's, which varies), so the
// manifest reads it rather than spelling it.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent
let rewind = Target.Dependency.product(name: "Rewind", package: root)
let models = Target.Dependency.product(name: "RewindModels", package: root)
let commandLine = Target.Dependency.product(name: "RewindCommandLine", package: root)

let package = Package(
    name: "RewindMPI",
    // MARK: - Products
    products: [
        .library(name: "RewindMPI", targets: ["RewindMPI"]),
        .library(name: "RewindMPIModels", targets: ["RewindMPIModels"]),
        .executable(name: "rewind-mpi", targets: ["rewind-mpi"]),
    ],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - Engine
        // Open MPI through pkg-config; shim.h turns the handles that are macros
        // (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...) into functions Swift can call.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        .target(name: "RewindMPI", dependencies: ["CMPI", rewind]),
        .target(name: "RewindMPIModels", dependencies: ["RewindMPI", rewind, models]),

        // MARK: - Command line
        // `mpirun -np 4 rewind-mpi gradient heat2d --size 2048 --steps 100 --memory-budget 64MiB --json`
        .executableTarget(
            name: "rewind-mpi",
            dependencies: [
                "RewindMPI", "RewindMPIModels", rewind, models, commandLine,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        // Run under mpirun (tools/test): `mpirun --allow-run-as-root --oversubscribe -np 4 rewind-mpi-tests`.
        .executableTarget(name: "rewind-mpi-tests", dependencies: ["RewindMPI", "RewindMPIModels", rewind, models]),
    ],
    swiftLanguageModes: [.v5]
)
