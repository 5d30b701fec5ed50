// The MPI tests: run under mpirun, every rank checks its part and the job exits non-zero when
// any rank found a failure (tools/test runs `-np 2` and `-np 4`).
//
//   mpirun --allow-run-as-root --oversubscribe -np 4 .build/debug/rewind-mpi-tests
//   mpirun ... rewind-mpi-tests --abort-on-rank 1    (a rank that ends the job: non-zero, no hang)
import Rewind
import RewindModels
import RewindMPI
import RewindMPIModels
#if canImport(Glibc)
import Glibc
#endif

let world = MPICommunicator.world
let arguments = CommandLine.arguments
if let flag = arguments.firstIndex(of: "--abort-on-rank"), flag + 1 < arguments.count, let failing = Int(arguments[flag + 1]) {
    // A rank that fails outside any collective step ends the whole job with its message.
    if world.rank == failing % world.size { world.abort("failing on purpose (--abort-on-rank)") }
    world.barrier()
    MPICommunicator.finalize()
    exit(0)
}

var failures = 0
func expect(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition {
        failures += 1
        print("rank \(world.rank) of \(world.size): FAIL \(what())")
    }
}
func say(_ text: String) {
    if world.rank == 0 { print(text) }
}

/// The distributed gradient's relative distance from the single process's, as docs/mpi.md
/// states it: the largest difference over the largest magnitude.
let tolerance = 1e-14
func relativeDistance(_ a: [Double], _ b: [Double]) -> Double {
    let scale = b.map(abs).max() ?? 0
    let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale == 0 ? difference : difference / scale
}

let spillParent = "/tmp/rewind-mpi-tests-\(getpid())"
mkdir(spillParent, 0o700)

/// A distributed model and its single-process original.
struct ModelCase {
    let label: String
    let steps: Int
    let parameters: [Double]
    /// The single process's gradient (store-all).
    let reference: GradientResult
    /// This rank's part of the whole state.
    let range: Range<Int>
    /// The distributed gradient under the given options.
    let run: (TimeSteppingOptions) throws -> GradientResult

    static func burgers(n: Int, steps: Int) throws -> ModelCase {
        let single = Burgers(n: n)
        let model = DistributedBurgers(n: n, communicator: world)
        return ModelCase(
            label: "burgers n=\(n) steps=\(steps)", steps: steps, parameters: [0.01],
            reference: try TimeStepping.gradient(
                of: single, initialState: single.initialState(), parameters: [0.01], steps: steps,
                options: TimeSteppingOptions(strategy: .storeAll)),
            range: model.range
        ) { options in
            try DistributedTimeStepping.gradient(
                of: model, initialState: model.initialState(), parameters: [0.01], steps: steps, options: options,
                communicator: world)
        }
    }

    static func heat2d(m: Int, steps: Int) throws -> ModelCase {
        let single = Heat2D(m: m)
        let model = DistributedHeat2D(m: m, communicator: world)
        return ModelCase(
            label: "heat2d m=\(m) steps=\(steps)", steps: steps, parameters: [1.0],
            reference: try TimeStepping.gradient(
                of: single, initialState: single.initialState(), parameters: [1.0], steps: steps,
                options: TimeSteppingOptions(strategy: .storeAll)),
            range: model.range
        ) { options in
            try DistributedTimeStepping.gradient(
                of: model, initialState: model.initialState(), parameters: [1.0], steps: steps, options: options,
                communicator: world)
        }
    }
}

/// Checks one configuration against the single process and returns the rank's result.
@discardableResult
func check(_ model: ModelCase, strategy: CheckpointStrategy, stepsPerBlock: Int? = nil, spill: Bool = false)
    throws -> GradientResult
{
    var options = TimeSteppingOptions(strategy: strategy, memoryBudget: .mebibytes(64))
    options.stepsPerBlock = stepsPerBlock
    if spill { options.spillDirectory = spillParent }
    let result = try model.run(options)
    let reference = model.reference
    let label = "\(model.label) \(strategy)\(stepsPerBlock.map { " blocks of \($0)" } ?? "")"
    expect(result.objective == reference.objective, "\(label): objective \(result.objective) != \(reference.objective)")
    let stateDistance = relativeDistance(result.initialStateGradient, Array(reference.initialStateGradient[model.range]))
    let parameterDistance = relativeDistance(result.parameterGradient, reference.parameterGradient)
    expect(stateDistance <= tolerance, "\(label): dJ/du0 relative distance \(stateDistance)")
    expect(parameterDistance <= tolerance, "\(label): dJ/dp relative distance \(parameterDistance)")
    let worst = world.maximum([stateDistance, parameterDistance])
    let report = result.report
    let plan = [Double(report.forwardSteps), Double(report.snapshotsInMemory), Double(report.snapshotsOnDisk), Double(report.stepsPerBlock)]
    expect(world.maximum(plan) == world.maximum(plan.map { -$0 }).map { -$0 }, "\(label): the ranks ran different plans")
    say(
        "  \(label): J bitwise, dJ/du0 within \(worst[0]), dJ/dp within \(worst[1]); \(report.strategy), "
            + "\(report.snapshotsInMemory)+\(report.snapshotsOnDisk) snapshots, blocks of \(report.stepsPerBlock), "
            + "\(report.forwardSteps) advances")
    return result
}

let clock = ContinuousClock()
let started = clock.now
say("rewind-mpi-tests on \(world.size) rank(s)")
do {
    // Every strategy gives the same bits on one decomposition, and stays within the tolerance
    // of the single process.
    // Burgers' initial state is odd about x = 0 and x = π, and so are the solution and the
    // adjoint: an even split on 2 ranks cuts the ring exactly there, where the adjoints that
    // cross the cut are zero, so that case alone would not see a halo adjoint dropped (checked
    // by breaking it: n = 67, heat2d and the exchange test above fail, n = 64 on 2 ranks does not).
    let cases = [
        try ModelCase.burgers(n: 64, steps: 40), try ModelCase.burgers(n: 67, steps: 25),
        try ModelCase.heat2d(m: 16, steps: 20), try ModelCase.heat2d(m: 18, steps: 12),
    ]
    for model in cases {
        let storeAll = try check(model, strategy: .storeAll)
        let others = [
            try check(model, strategy: .revolve(snapshots: 3)),
            try check(model, strategy: .revolve(snapshots: 2), stepsPerBlock: 4),
            try check(model, strategy: .online(snapshots: 3)),
            try check(model, strategy: .spill, spill: true),
            try check(model, strategy: .twoLevel(memorySnapshots: 2, diskSnapshots: 2), spill: true),
            try check(model, strategy: .auto),
        ]
        for other in others {
            expect(other.initialStateGradient == storeAll.initialStateGradient, "\(model.label): a strategy's dJ/du0 differs from store-all's")
            expect(other.parameterGradient == storeAll.parameterGradient, "\(model.label): a strategy's dJ/dp differs from store-all's")
        }
    }
} catch {
    // A failure here is the test's: end the job rather than leave peers in a collective step.
    world.abort("unexpected error: \(error)")
}

// The exchange itself: forward it copies the neighbours' edges into the ghosts; its adjoint
// (through a recorded `f = Σᵣ Σⱼ wⱼ·extendedⱼ`) is the transpose, every ghost's weight added to
// the cell it copies, on its owner. Small integers: every sum is exact, so `==`.
for width in [1, 2, 3] {
    let halo = HaloExchange(communicator: world, width: width)
    let n = 5
    func owned(_ rank: Int) -> [Double] { (0..<n).map { Double(rank * 10 + $0) } }
    func weight(_ rank: Int, _ j: Int) -> Double { Double(1 + rank * 100 + j) }
    let (left, right) = (world.left, world.right)
    let extended = halo.extended(owned(world.rank))
    expect(
        extended == owned(left).suffix(width) + owned(world.rank) + owned(right).prefix(width),
        "width \(width): the extended part is \(extended)")
    let g = Rewind.gradient(at: owned(world.rank)) { x in
        let e = halo.extended(x)
        var local = Tracked(0)
        for j in e.indices { local = local + weight(world.rank, j) * e[j] }
        return world.sum(local)
    }
    let expected = (0..<n).map { k -> Double in
        var sum = weight(world.rank, width + k)
        if k >= n - width { sum += weight(right, k - (n - width)) }
        if k < width { sum += weight(left, width + n + k) }
        return sum
    }
    expect(g == expected, "width \(width): the exchange's adjoint \(g) is not its transpose \(expected)")
}
if failures == 0 {
    say("  halo exchanges of width 1, 2, 3: ghosts are the neighbours' edges, the adjoint is the transpose")
}

// Failures: a rank with a bad input, and a rank with a budget too small, stop every rank with a
// message, and the ranks can run again afterwards (no message left unmatched).
do {
    let model = DistributedBurgers(n: 64, communicator: world)
    let failing = world.size - 1
    var state = model.initialState()
    if world.rank == failing { state.removeLast() }
    do {
        _ = try DistributedTimeStepping.gradient(
            of: model, initialState: state, parameters: [0.01], steps: 10, communicator: world)
        expect(false, "a bad input on rank \(failing) did not fail")
    } catch let error as TimeSteppingError {
        expect(world.rank == failing, "rank \(world.rank) threw its own error for rank \(failing)'s input: \(error)")
    } catch let error as MPIError {
        expect(world.rank != failing, "rank \(failing) threw \(error) instead of its own error")
        expect(error.description.contains("initial state"), "the message does not name the input: \(error)")
    }
    say("  a bad input on rank \(failing): every rank stopped with the message")

    // The failed rank's words are what `describesFailure` makes of its error (a command line
    // says flags there): the other ranks receive exactly that.
    if world.size > 1 {
        world.describesFailure = { "in the caller's words: \($0)" }
        defer { world.describesFailure = { "\($0)" } }
        do {
            _ = try DistributedTimeStepping.gradient(
                of: model, initialState: state, parameters: [0.01], steps: 10, communicator: world)
        } catch let error as MPIError {
            expect(
                error.description.contains("in the caller's words: ") && error.description.contains("initial state"),
                "rank \(world.rank) got \(error), not the failed rank's own description")
        } catch {
            expect(world.rank == failing, "rank \(world.rank) threw \(error)")
        }
        say("  the other ranks receive the failure in describesFailure's words")
    }

    var options = TimeSteppingOptions(memoryBudget: .mebibytes(64))
    if world.rank == failing { options.memoryBudget = MemoryBudget(bytes: 1024) }
    do {
        _ = try DistributedTimeStepping.gradient(
            of: model, initialState: model.initialState(), parameters: [0.01], steps: 10, options: options,
            communicator: world)
        expect(false, "a budget of 1 KiB on rank \(failing) did not fail")
    } catch let error as TimeSteppingError {
        expect(error.description.lowercased().contains("budget"), "the refusal does not name the budget: \(error)")
    }
    say("  a budget of 1 KiB on rank \(failing): every rank refused it (the plan is made for the smallest budget)")
    try check(try ModelCase.burgers(n: 64, steps: 10), strategy: .revolve(snapshots: 2))
} catch {
    world.abort("unexpected error: \(error)")
}

rmdir(spillParent)
let totalFailures = Int(world.orderedSum([Double(failures)])[0])
say("rewind-mpi-tests on \(world.size) rank(s): \(totalFailures == 0 ? "passed" : "\(totalFailures) failure(s)") in \(started.duration(to: clock.now))")
MPICommunicator.finalize()
exit(totalFailures == 0 ? 0 : 1)
