import Foundation
import Testing

import Rewind

// The tutorial (Sources/Rewind/Rewind.docc/Tutorials) shows the Pendulum-*.swift files of this
// folder. DocC can only show files inside the catalog, so the catalog's Resources folder holds
// copies; these tests run the code the reader sees and keep the copies equal to it.
@Suite("Tutorial code")
struct TutorialCodeTests {
    static let tutorialFiles = [
        "Pendulum-01-Energy.swift", "Pendulum-02-Model.swift", "Pendulum-03-Gradient.swift",
        "Pendulum-04-Check.swift",
    ]

    @Test(arguments: tutorialFiles)
    func theCatalogShowsTheCompiledCode(_ name: String) throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let compiled = try String(contentsOf: here.appendingPathComponent(name), encoding: .utf8)
        let shown = try String(
            contentsOf: root.appendingPathComponent("Sources/Rewind/Rewind.docc/Resources/\(name)"), encoding: .utf8)
        #expect(
            shown == compiled,
            "Sources/Rewind/Rewind.docc/Resources/\(name) differs from Tests/RewindTests/Tutorial/\(name); copy the test's file over it")
    }

    @Test func theEnergyGradientIsTheHandDerivedOne() {
        let (theta, omega, g) = (0.3, -0.4, 9.81)
        let expected = [g * Double.sin(theta), omega, 1 - Double.cos(theta)]
        let byGradient = energyGradient(theta: theta, omega: omega, g: g)
        let byTape = energyGradientOnATape(theta: theta, omega: omega, g: g)
        for i in 0..<3 {
            #expect(abs(byGradient[i] - expected[i]) <= 1e-15 * max(1, abs(expected[i])))
        }
        #expect(byTape == byGradient)
    }

    @Test func everyStrategyGivesTheSameBits() throws {
        let steps = 20_000
        let storeAll = try pendulumGradientStoringAll(steps: steps)
        let revolve = try pendulumGradientWithRevolve(steps: steps)
        let budgeted = try pendulumGradient(steps: steps, budget: .mebibytes(1))
        for result in [revolve, budgeted] {
            #expect(result.objective == storeAll.objective)
            #expect(result.initialStateGradient == storeAll.initialStateGradient)
            #expect(result.parameterGradient == storeAll.parameterGradient)
        }
        // The pendulum loses energy to damping: more damping, less energy left.
        #expect(storeAll.parameterGradient[1] < 0)
    }

    @Test func revolveCountsItsAdvancesWithoutRunning() {
        #expect(revolveAdvances(steps: 1000, snapshots: 10) == 3636)
    }

    @Test func theGradientPassesTheDerivativeCheck() throws {
        let report = try checkPendulumGradient(steps: 1000)
        #expect(report.passed, "\(report.failures)")
    }
}
