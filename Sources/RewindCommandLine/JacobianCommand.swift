import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Rewind
import RewindModels

struct JacobianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jacobian",
        abstract: "The Jacobian of a model's final state with respect to its initial state and parameters.",
        discussion: """
            One reverse sweep per row, all rows reversed together so that each step is taped once; \
            the sweeps run on --threads threads. The result is bitwise the same for every thread count.
            """)

    @OptionGroup var selection: ModelSelection

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Final-state rows: comma-separated indices, ranges a-b, or state names (x, u[17]); default all.",
        valueName: "LIST"))
    var rows: String?

    @Option(parsing: .unconditional, help: "How the rows are reversed (jacobian has no disk tier).")
    var strategy: JacobianStrategyName = .auto

    @Option(parsing: .unconditional, help: "How seeds share a sweep (results are the same).")
    var sweep: SweepMode = .auto

    @OptionGroup var limits: RunLimitOptions
    @OptionGroup var output: OutputOptions

    mutating func validate() throws {
        if let rows {
            let model = try selection.make().model
            _ = try JacobianCommand.parseRows(rows, of: model)
        }
    }

    func run() throws {
        let (model, parameters, steps) = try selection.make()
        let rowRanges = try rows.map { try JacobianCommand.parseRows($0, of: model) }
        // Before the initial state and the row list exist: the rows' carried adjoints
        // alone can exceed any budget (every row of heat2d 4096² is 4.5 PB).
        try TimeStepping.checkJacobianBudget(
            limits.memoryBudget, stateCount: model.stateCount, parameterCount: model.parameterCount,
            rows: rowRanges.map(JacobianCommand.rowCount) ?? model.stateCount)
        let rowIndices = rowRanges.map(JacobianCommand.expand)
        let progress = ProgressBar(label: "\(selection.model) jacobian")
        let options = limits.timeSteppingOptions(strategy: strategy.checkpointStrategy, progress: progress.update)
        let parallel = ParallelOptions(threads: limits.threads, sweepMode: sweep)
        let result: JacobianResult
        do {
            defer { progress.finish() }
            result = try runJacobian(
                model, parameters: parameters, steps: steps, rows: rowIndices, options: options, parallel: parallel)
        }
        let jacobian = JacobianOutput(model: model, steps: steps, result: result)
        if output.json {
            try jacobian.streamJSON()
        } else {
            print(jacobian.text())
        }
        if let warning = NonFiniteWarning.jacobian(result.jacobian) { fputs("warning: \(warning)\n", stderr) }
    }

    /// Rows from `0,2,5-7,x,u[17]`: indices, inclusive ranges, or names as `Model.stateName`
    /// spells them. Names are tried first, so a name containing `-` or digits still works.
    ///
    /// The rows come back as ranges, so that their count can be checked against the budget
    /// before a list of a billion indices is built (`rowCount`, `expand`).
    static func parseRows(_ text: String, of model: any Model) throws -> [ClosedRange<Int>] {
        let n = model.stateCount
        var rows: [ClosedRange<Int>] = []
        for item in JacobianCommand.splitList(text) {
            let item = item.trimmingWhitespace()
            if let index = stateIndex(named: item, of: model) {
                rows.append(index...index)
            } else if let index = Int(item) {
                guard (0..<n).contains(index) else {
                    throw ValidationError("--rows: \(index) is not a state index (0 to \(n - 1))")
                }
                rows.append(index...index)
            } else if let dash = item.firstIndex(of: "-"), let low = Int(item[..<dash]),
                let high = Int(item[item.index(after: dash)...])
            {
                guard low <= high, low >= 0, high < n else {
                    throw ValidationError(
                        "--rows: \(CommandLineChecks.shortened(item)) is not a range of state indices (0 to \(n - 1))")
                }
                rows.append(low...high)
            } else {
                throw ValidationError(
                    "--rows: '\(CommandLineChecks.shortened(item))' is neither a state index, a range a-b nor a state name "
                        + "(such as \(model.stateName(0)))")
            }
        }
        guard !rows.isEmpty else { throw ValidationError("--rows needs at least one row") }
        return rows
    }

    /// How many rows the ranges hold (saturating: a repeated huge range cannot overflow).
    static func rowCount(_ ranges: [ClosedRange<Int>]) -> Int {
        ranges.reduce(0) { total, range in
            let (sum, overflow) = total.addingReportingOverflow(range.count)
            return overflow ? .max : sum
        }
    }

    static func expand(_ ranges: [ClosedRange<Int>]) -> [Int] { ranges.flatMap { Array($0) } }

    /// The index whose `Model.stateName` is `name`, found from the digits in the name
    /// (`u[17]` → 17, `u[3,4]` → 3·m + 4) and confirmed by spelling that index's name, so no
    /// table of every name is built (heat2d 32768² has a billion); small states are searched.
    static func stateIndex(named name: String, of model: any Model) -> Int? {
        let n = model.stateCount
        if n <= 64 { return (0..<n).first { model.stateName($0) == name } }
        let numbers = name.split(whereSeparator: { !$0.isASCII || !$0.isNumber }).compactMap { Int($0) }
        var candidates = numbers
        if numbers.count == 2, let m = model.size {
            let (product, overflow) = numbers[0].multipliedReportingOverflow(by: m)
            if !overflow { candidates.append(product &+ numbers[1]) }
        }
        return candidates.first { (0..<n).contains($0) && model.stateName($0) == name }
    }

    /// Splits on commas that are not inside brackets, so `u[3,4]` (heat2d) stays one item.
    static func splitList(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1
            case "]": depth -= 1
            case "," where depth == 0:
                items.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        items.append(current)
        return items.filter { !$0.isEmpty }
    }
}

/// The Jacobian through the model's specialised `_jacobian` (see `runGradient`).
func runJacobian(
    _ model: any Model, parameters: [Double], steps: Int, rows: [Int]?, options: TimeSteppingOptions,
    parallel: ParallelOptions
) throws -> JacobianResult {
    try model._jacobian(
        initialState: model.initialState(), parameters: parameters, steps: steps, rows: rows, options: options,
        parallel: parallel)
}

/// The JSON object of `rewind jacobian --json` (the CLI contract's fields, plus a few).
struct JacobianOutput: Encodable {
    struct Run: Encodable {
        var threads: Int
        var seconds: Double
        var sweepMode: String
        var strategy: String
        var tapedSteps: Int
        var forwardSteps: Int
        var snapshotsInMemory: Int
        var peakTapeBytes: Int
        var peakResidentBytes: Int
    }
    var model: String
    var steps: Int
    var size: Int
    var rowNames: [String]
    var columnNames: [String]
    var jacobian: [[Double]]
    var run: Run

    init(model: any Model, steps: Int, result: JacobianResult) {
        self.model = type(of: model).name
        self.steps = steps
        size = model.size ?? model.stateCount
        rowNames = result.rows.map { model.stateName($0) }
        columnNames =
            (0..<model.stateCount).map { JacobianOutput.initialName(model.stateName($0)) }
            + type(of: model).parameterNames
        jacobian = result.jacobian
        let r = result.report
        run = Run(
            threads: result.threads, seconds: r.runSeconds, sweepMode: result.sweepMode.rawValue, strategy: r.strategy.rawValue,
            tapedSteps: r.tapedSteps, forwardSteps: r.forwardSteps, snapshotsInMemory: r.snapshotsInMemory,
            peakTapeBytes: r.peakTapeBytes, peakResidentBytes: r.peakResidentBytes)
    }

    /// Prints the JSON object on stdout as `JSONOutput.encode` would, with the matrix
    /// streamed row by row, number by number (every row of heat2d 64² is 16 Mi numbers, about
    /// 350 MB of text as one string).
    func streamJSON() throws {
        var skeleton = self
        skeleton.jacobian = []
        let matrix = jacobian
        let written = try JSONOutput.stream(skeleton, replacingEmptyArrayAt: "jacobian") { stream in
            stream.write("[")
            for (index, row) in matrix.enumerated() {
                if index > 0 { stream.write(",") }
                stream.writeArray(row)
            }
            stream.write("]")
        }
        guard written else {
            throw CommandFailure("cannot write the JSON output to stdout: \(String(cString: strerror(errno)))")
        }
    }

    /// The name of an initial-state component: `x` → `x0`, `u[17]` → `u0[17]`, `u[3,4]` → `u0[3,4]`.
    static func initialName(_ stateName: String) -> String {
        guard let bracket = stateName.firstIndex(of: "[") else { return stateName + "0" }
        return String(stateName[..<bracket]) + "0" + String(stateName[bracket...])
    }

    /// The readable form printed without --json: the whole matrix when it is small.
    func text() -> String {
        var lines = ["\(model): \(steps) steps, d final state / d (initial state, parameters), "
            + "\(rowNames.count)×\(columnNames.count)"]
        let shownColumns = min(columnNames.count, 8)
        let shownRows = min(rowNames.count, 12)
        let header = columnNames.prefix(shownColumns).map { $0.padding(14) }.joined()
        lines.append("".padding(10) + header + (shownColumns < columnNames.count ? " …" : ""))
        for r in 0..<shownRows {
            let values = jacobian[r].prefix(shownColumns).map { $0.printf("% .6e").padding(14) }.joined()
            lines.append(rowNames[r].padding(10) + values)
        }
        if shownRows < rowNames.count { lines.append("… \(rowNames.count - shownRows) more rows (use --json)") }
        lines.append(
            "run: \(run.strategy), \(run.tapedSteps) taped steps, \(run.forwardSteps) advances; "
                + "\(run.threads) thread(s), \(run.sweepMode) sweeps; \(run.seconds.printf("%.3f")) s")
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// The string without leading and trailing white space (Foundation's `trimmingCharacters`
    /// is not in FoundationEssentials; see `Double.printf`).
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
