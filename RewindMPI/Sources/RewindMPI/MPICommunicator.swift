import CMPI
import Rewind
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of an MPI job: who this process is, its neighbours on the periodic ring, and the
/// few collective operations Rewind's distributed runs need.
///
/// `MPICommunicator.world` initializes MPI the first time it is used (`MPI_Init`);
/// `finalize()` ends it. Every operation below is collective over the communicator's ranks:
/// each rank calls it, in the same order, or the job deadlocks. Point-to-point traffic goes
/// through `MPI_Sendrecv` (each rank sends and receives in one call, so a ring of exchanges
/// cannot deadlock), reductions whose order matters gather every rank's value and add them in
/// rank order on every rank, so the result is the same bits on every rank and in every run.
///
/// It is the `TimeSteppingGroup` of a distributed run: `TimeSteppingOptions.group`.
public final class MPICommunicator: TimeSteppingGroup {
    /// The communicator (`MPI_COMM_WORLD` for `world`).
    let handle: MPI_Comm
    /// This process's rank, `0..<size`.
    public let rank: Int
    /// Ranks in the communicator.
    public let size: Int
    /// Whether communication is kept on this rank (inside `sampling(_:)`): a halo exchange
    /// then wraps around the rank's own part, a sum is the rank's own value.
    public private(set) var isSampling = false
    /// The halo traffic this rank has sent so far (`HaloExchange`), forward and in reverse
    /// sweeps; the sample's exchanges send nothing and count nothing.
    public var haloTraffic = HaloTraffic()

    /// All the job's ranks (`MPI_COMM_WORLD`), MPI initialized on first use.
    public static let world: MPICommunicator = {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 { MPI_Init(nil, nil) }
        return MPICommunicator(rewind_mpi_comm_world())
    }()

    init(_ handle: MPI_Comm) {
        self.handle = handle
        var rank: Int32 = 0
        var size: Int32 = 0
        MPI_Comm_rank(handle, &rank)
        MPI_Comm_size(handle, &size)
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// The rank before this one on the periodic ring.
    public var left: Int { (rank + size - 1) % size }
    /// The rank after this one on the periodic ring.
    public var right: Int { (rank + 1) % size }

    /// Ends MPI (`MPI_Finalize`); no communication may follow.
    public static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Prints `message` on standard error, prefixed with the rank, and ends every rank of the
    /// job with `code` (`MPI_Abort`): the exit for a failure that the other ranks cannot learn
    /// of in a collective call.
    ///
    /// This rank's spill directories are removed first: `MPI_Abort` ends the process without
    /// unwinding, so nothing else would. (The other ranks, ended by mpirun with SIGTERM, remove
    /// theirs in the program's signal handler.)
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        fputs("rewind-mpi: rank \(rank): \(message)\n", stderr)
        fflush(stderr)
        SpillDirectory.removeLiveDirectories()
        MPI_Abort(handle, code)
        exit(code)
    }

    /// Waits for every rank (`MPI_Barrier`).
    public func barrier() { check(MPI_Barrier(handle), "MPI_Barrier") }

    // MARK: Point to point

    /// Sends `send` to `destination` and receives as many values from `source` into `receive`,
    /// in one call (`MPI_Sendrecv`). Within `sampling(_:)` it is not called.
    public func sendReceive(
        _ send: UnsafeBufferPointer<Double>, to destination: Int, into receive: UnsafeMutableBufferPointer<Double>,
        from source: Int, tag: Int32
    ) {
        precondition(send.count == receive.count, "a halo sends and receives as many values")
        guard send.count > 0 else { return }
        check(
            MPI_Sendrecv(
                send.baseAddress, Int32(send.count), rewind_mpi_double(), Int32(destination), tag,
                receive.baseAddress, Int32(receive.count), rewind_mpi_double(), Int32(source), tag, handle,
                rewind_mpi_status_ignore()),
            "MPI_Sendrecv")
    }

    // MARK: Collectives

    /// Every rank's `values`, rank after rank (`MPI_Allgather`; every rank passes as many).
    public func allGather(_ values: [Double]) -> [Double] {
        var gathered = [Double](repeating: 0, count: values.count * size)
        guard !values.isEmpty else { return gathered }
        values.withUnsafeBufferPointer { send in
            gathered.withUnsafeMutableBufferPointer { receive in
                check(
                    MPI_Allgather(
                        send.baseAddress, Int32(send.count), rewind_mpi_double(), receive.baseAddress,
                        Int32(send.count), rewind_mpi_double(), handle),
                    "MPI_Allgather")
            }
        }
        return gathered
    }

    /// The sum over the ranks of `values`, elementwise, added in rank order from 0.0 on every
    /// rank: the same bits on every rank and in every run, whatever MPI's reduction algorithm.
    public func orderedSum(_ values: [Double]) -> [Double] {
        let gathered = allGather(values)
        return (0..<values.count).map { k in
            var sum = 0.0
            for r in 0..<size { sum += gathered[r * values.count + k] }
            return sum
        }
    }

    /// The sum `((t₀ + t₁) + …)` of every rank's `terms`, rank after rank, left to right from
    /// 0.0: exactly the serial sum of the concatenated terms. Each rank continues the running
    /// sum of the ranks before it (a chain of `size` messages), then the last rank broadcasts it.
    public func serialSum(_ terms: [Double]) -> Double {
        var sum = [0.0]
        if rank > 0 {
            sum.withUnsafeMutableBufferPointer { buffer in
                check(
                    MPI_Recv(buffer.baseAddress, 1, rewind_mpi_double(), Int32(rank - 1), 7, handle,
                        rewind_mpi_status_ignore()), "MPI_Recv")
            }
        }
        for term in terms { sum[0] = sum[0] + term }
        if rank < size - 1 {
            sum.withUnsafeBufferPointer { buffer in
                check(MPI_Send(buffer.baseAddress, 1, rewind_mpi_double(), Int32(rank + 1), 7, handle), "MPI_Send")
            }
        }
        return broadcast(sum, from: size - 1)[0]
    }

    /// The elementwise maximum over the ranks (`MPI_Allreduce` with `MPI_MAX`).
    public func maximum(_ values: [Double]) -> [Double] {
        var result = values
        guard !values.isEmpty else { return result }
        values.withUnsafeBufferPointer { send in
            result.withUnsafeMutableBufferPointer { receive in
                check(
                    MPI_Allreduce(
                        send.baseAddress, receive.baseAddress, Int32(send.count), rewind_mpi_double(),
                        rewind_mpi_max(), handle),
                    "MPI_Allreduce")
            }
        }
        return result
    }

    /// Rank 0's `values` on every rank, whose count may differ between ranks (`MPI_Bcast`
    /// of the count, then of the values).
    public func broadcast(_ values: [Double]) -> [Double] {
        var count = [Double(values.count)]
        count = broadcast(count, from: 0)
        var result = rank == 0 ? values : [Double](repeating: 0, count: Int(count[0]))
        result = broadcast(result, from: 0)
        return result
    }

    /// `root`'s `values` on every rank; every rank passes as many (`MPI_Bcast`).
    public func broadcast(_ values: [Double], from root: Int) -> [Double] {
        var result = values
        guard !values.isEmpty else { return result }
        result.withUnsafeMutableBufferPointer { buffer in
            check(
                MPI_Bcast(buffer.baseAddress, Int32(buffer.count), rewind_mpi_double(), Int32(root), handle), "MPI_Bcast")
        }
        return result
    }

    /// `root`'s text on every rank (its UTF-8 bytes broadcast, at most 4 KiB).
    public func broadcast(_ text: String, from root: Int) -> String {
        var bytes = [CChar](repeating: 0, count: 4096)
        if rank == root {
            let utf8 = Array(text.utf8.prefix(4095))
            for (k, byte) in utf8.enumerated() { bytes[k] = CChar(bitPattern: byte) }
        }
        bytes.withUnsafeMutableBufferPointer { buffer in
            check(MPI_Bcast(buffer.baseAddress, 4096, rewind_mpi_char(), Int32(root), handle), "MPI_Bcast")
        }
        return bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    // MARK: TimeSteppingGroup

    /// Runs `body` with communication kept on this rank (`isSampling`): what the planner's
    /// timed sample needs, since it repeats the step a number of times its clock decides.
    public func sampling<Result>(_ body: () throws -> Result) rethrows -> Result {
        let wasSampling = isSampling
        isSampling = true
        defer { isSampling = wasSampling }
        return try body()
    }

    /// How a rank's failure is put into words for the other ranks (`agree(failure:)`): the
    /// error's own description unless set. A command line sets it to say its flags, as it does
    /// for its own errors:
    ///
    /// ```swift
    /// MPICommunicator.world.describesFailure = { ErrorMessages.message(for: $0) ?? "\($0)" }
    /// ```
    public var describesFailure: (Error) -> String = { "\($0)" }

    /// Returns when no rank failed; otherwise throws on every rank: its own error where it has
    /// one, `MPIError.rankFailed` with the lowest failed rank's message (`describesFailure`)
    /// elsewhere.
    public func agree(failure: Error?) throws {
        // The lowest failed rank, through a maximum of negated ranks (−size: none failed).
        let flag = failure == nil ? -Double(size) : -Double(rank)
        let lowest = -Int(maximum([flag])[0])
        guard lowest < size else { return }
        let message = broadcast(failure.map(describesFailure) ?? "", from: lowest)
        if let failure { throw failure }
        throw MPIError.rankFailed(rank: lowest, message: message)
    }

    func check(_ code: Int32, _ function: String) {
        // MPI's default error handler aborts the job before a failed call returns; this
        // catches a communicator set to return errors instead.
        if code != rewind_mpi_success() { abort("\(function) failed with MPI error \(code)") }
    }
}

/// Bytes and messages a rank's halo exchanges sent.
public struct HaloTraffic: Hashable, Sendable {
    /// Bytes of values sent by forward exchanges (recorded steps and advances alike).
    public var forwardBytes = 0
    /// Bytes of adjoints sent by the exchanges' reverse sweeps.
    public var reverseBytes = 0
    /// Forward exchanges (each two `MPI_Sendrecv`s).
    public var forwardExchanges = 0
    /// Reverse exchanges (each two `MPI_Sendrecv`s).
    public var reverseExchanges = 0
    public init() {}
}

/// A failure of a distributed run, as the ranks that did not fail see it.
public enum MPIError: Error, CustomStringConvertible, Equatable {
    /// Another rank failed before a collective step; its message.
    case rankFailed(rank: Int, message: String)

    public var description: String {
        switch self {
        case .rankFailed(let rank, let message): return "rank \(rank) failed: \(message)"
        }
    }
}
