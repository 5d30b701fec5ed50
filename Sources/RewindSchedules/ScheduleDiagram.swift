/// Renders a checkpointing schedule as a standalone SVG picture: the classic revolve staircase.
///
/// The x axis is time, measured in evaluations of the step function (an advance of k steps is
/// k units wide, a taped step one unit); the y axis is the step index. Advances are blue lines,
/// taped/reversed steps red, stores black dots (filled for memory, square for disk), restores
/// open circles. Huge schedules are cut after `maxActions` actions, and the picture says so.
///
/// ```swift
/// let svg = ScheduleDiagram.svg(for: RevolveSchedule(steps: 50, snapshots: 4))
/// try svg.write(toFile: "revolve.svg", atomically: true, encoding: .utf8)
/// ```
public enum ScheduleDiagram {
    /// The picture of a revolve schedule; the title gives steps, snapshots and advances.
    public static func svg(for schedule: RevolveSchedule, maxActions: Int = 5_000) -> String {
        svg(of: schedule, steps: schedule.steps,
            title: "revolve: \(schedule.steps) steps, \(schedule.snapshots) snapshots, \(schedule.advances) advances",
            maxActions: maxActions)
    }

    /// The picture of any action sequence over `steps` steps.
    ///
    /// Only the first `maxActions` actions are read, so an endless or enormous sequence is safe;
    /// when the sequence is longer, a note in the picture says the drawing stops there.
    public static func svg<S: Sequence>(of actions: S, steps: Int, title: String, maxActions: Int = 5_000) -> String
    where S.Element == CheckpointAction {
        precondition(steps >= 1 && maxActions >= 1)
        var drawn: [CheckpointAction] = []
        var truncated = false
        var iterator = actions.makeIterator()
        while let action = iterator.next() {
            if drawn.count == maxActions { truncated = true; break }
            drawn.append(action)
        }
        var totalTime = 0
        for action in drawn {
            switch action {
            case let .advance(from, to): totalTime += to - from
            case .reverse: totalTime += 1
            default: break
            }
        }
        totalTime = Swift.max(totalTime, 1)

        let width = 960.0, height = 560.0
        let left = 60.0, right = 20.0, top = 50.0, bottom = 50.0
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ t: Int) -> Double { left + plotW * Double(t) / Double(totalTime) }
        func y(_ step: Int) -> Double { top + plotH - plotH * Double(step) / Double(steps) }
        func f(_ v: Double) -> String { String(Int((v * 10).rounded())) .withDecimal }

        var body = ""
        var t = 0
        for action in drawn {
            switch action {
            case let .advance(from, to):
                body += "<line x1=\"\(f(x(t)))\" y1=\"\(f(y(from)))\" x2=\"\(f(x(t + to - from)))\" y2=\"\(f(y(to)))\" class=\"adv\"/>\n"
                t += to - from
            case let .reverse(step):
                body += "<line x1=\"\(f(x(t)))\" y1=\"\(f(y(step)))\" x2=\"\(f(x(t + 1)))\" y2=\"\(f(y(step + 1)))\" class=\"rev\"/>\n"
                t += 1
            case let .store(_, step, level):
                if level == .memory {
                    body += "<circle cx=\"\(f(x(t)))\" cy=\"\(f(y(step)))\" r=\"3\" class=\"store\"/>\n"
                } else {
                    body += "<rect x=\"\(f(x(t) - 3))\" y=\"\(f(y(step) - 3))\" width=\"6\" height=\"6\" class=\"store\"/>\n"
                }
            case let .restore(_, step, _):
                body += "<circle cx=\"\(f(x(t)))\" cy=\"\(f(y(step)))\" r=\"3\" class=\"restore\"/>\n"
            case .free:
                break
            }
        }
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))">
        <style>
        .adv { stroke: #1f5fbf; stroke-width: 1.2; }
        .rev { stroke: #d62728; stroke-width: 2.5; }
        .store { fill: #000000; }
        .restore { fill: none; stroke: #2ca02c; stroke-width: 1; }
        text { font-family: sans-serif; font-size: 13px; fill: #222222; }
        .axis { stroke: #444444; stroke-width: 1; }
        </style>
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
        <text x="\(Int(left))" y="24" style="font-size: 16px">\(escape(title))</text>
        <line x1="\(Int(left))" y1="\(Int(top + plotH))" x2="\(Int(left + plotW))" y2="\(Int(top + plotH))" class="axis"/>
        <line x1="\(Int(left))" y1="\(Int(top))" x2="\(Int(left))" y2="\(Int(top + plotH))" class="axis"/>
        <text x="\(Int(left + plotW / 2 - 120))" y="\(Int(height - 14))">time (evaluations of the step function)</text>
        <text x="14" y="\(Int(top + plotH / 2))" transform="rotate(-90 14 \(Int(top + plotH / 2)))">step</text>
        <text x="\(Int(left - 8))" y="\(Int(top + plotH + 4))" text-anchor="end">0</text>
        <text x="\(Int(left - 8))" y="\(Int(top + 4))" text-anchor="end">\(steps)</text>
        <text x="\(Int(left + plotW))" y="\(Int(top + plotH + 18))" text-anchor="end">\(totalTime)</text>

        """
        if truncated {
            svg += "<text x=\"\(Int(left + plotW))\" y=\"40\" text-anchor=\"end\" style=\"fill: #d62728\">"
                + "only the first \(maxActions) actions are drawn</text>\n"
        }
        svg += body
        svg += "</svg>\n"
        return svg
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}

extension String {
    // "1234" (tenths) -> "123.4"; keeps coordinates short and locale-independent.
    fileprivate var withDecimal: String {
        var digits = self
        var negative = false
        if digits.hasPrefix("-") { negative = true; digits.removeFirst() }
        while digits.count < 2 { digits = "0" + digits }
        let head = digits.dropLast()
        let tail = digits.last!
        return (negative ? "-" : "") + head + "." + String(tail)
    }
}
