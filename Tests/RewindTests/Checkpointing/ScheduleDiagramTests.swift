import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Rewind
@testable import RewindCore
@testable import RewindParallel
@testable import RewindSchedules
@testable import RewindStorage
@testable import RewindTimeStepping
@testable import RewindVerification

@Suite("Schedule diagram") struct ScheduleDiagramTests {
    @Test func revolvePictureIsWellFormedSVG() throws {
        let schedule = RevolveSchedule(steps: 50, snapshots: 4)
        let svg = ScheduleDiagram.svg(for: schedule)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("50 steps, 4 snapshots, 144 advances"))
        let document = try XMLDocument(xmlString: svg, options: [])
        #expect(document.rootElement()?.name == "svg")
        // One line per advance and per reverse, one dot per store.
        let actions = Array(schedule)
        let lines = svg.components(separatedBy: "<line").count - 1
        let advances = actions.filter { $0.advanceCount > 0 }.count
        #expect(lines == advances + 50 + 2)   // + the two axes
        #expect(svg.components(separatedBy: "class=\"rev\"").count - 1 == 50)
        #expect(!svg.contains("only the first"))
    }

    @Test func hugeScheduleIsCappedAndSaysSo() throws {
        let svg = ScheduleDiagram.svg(for: RevolveSchedule(steps: 1_000_000, snapshots: 5), maxActions: 2_000)
        #expect(svg.contains("only the first 2000 actions are drawn"))
        #expect(svg.utf8.count < 400_000)
        _ = try XMLDocument(xmlString: svg, options: [])
    }

    @Test func twoLevelAndTitleEscaping() throws {
        let schedule = TwoLevelSchedule(steps: 20, memorySlots: 2, diskSlots: 3, costs: TwoLevelCosts(wd: 0.5, rd: 0.5))
        let svg = ScheduleDiagram.svg(of: schedule, steps: 20, title: "H-Revolve <2 & 3>")
        #expect(svg.contains("H-Revolve &lt;2 &amp; 3&gt;"))
        #expect(svg.contains("<rect x="))   // disk stores are squares
        _ = try XMLDocument(xmlString: svg, options: [])
    }
}
