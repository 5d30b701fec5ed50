import CMPI

extension MPICommunicator {
    /// Every rank's `values`, rank after rank, on `root` (an empty array elsewhere); the counts
    /// may differ between ranks (`MPI_Gatherv`, after an `MPI_Allgather` of the counts).
    public func gather(_ values: [Double], to root: Int = 0) -> [Double] {
        let counts = allGather([Double(values.count)]).map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) where r < size { displacements[r] = displacements[r - 1] + counts[r - 1] }
        let total = counts.reduce(0) { $0 + Int($1) }
        var gathered = [Double](repeating: 0, count: rank == root ? total : 0)
        values.withUnsafeBufferPointer { send in
            gathered.withUnsafeMutableBufferPointer { receive in
                counts.withUnsafeBufferPointer { counts in
                    displacements.withUnsafeBufferPointer { displacements in
                        check(
                            MPI_Gatherv(
                                send.baseAddress, Int32(send.count), rewind_mpi_double(), receive.baseAddress,
                                counts.baseAddress, displacements.baseAddress, rewind_mpi_double(), Int32(root), handle),
                            "MPI_Gatherv")
                    }
                }
            }
        }
        return gathered
    }
}
