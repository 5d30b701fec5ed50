import Dispatch

/// Spills segments to a ``SpillDirectory`` in the background and reads them back, typically in
/// reverse order, with the next segment prefetched while the caller works on the current one.
///
/// Writing: ``write(segment:columns:)`` copies the columns into a staging buffer, applying their
/// transforms (the caller may reuse its memory as soon as it returns), and hands compression and
/// the `write` to a serial background queue. At most `maximumWritesInFlight` staging buffers exist;
/// when all are in flight, `write` waits, so memory stays bounded whatever the caller's speed.
///
/// Reading: ``read(segment:into:)`` waits for the segment (already prefetched, or read now), starts
/// prefetching `segment - 1` (read, verify, decompress) into the other of two read buffers, then
/// undoes the transforms into the caller's destinations: the I/O queue decompresses the next
/// segment while the caller restores and works on this one. (With one read buffer the prefetch
/// could only start after the restore, and the queue sat idle through it: the spilled reverse
/// sweep of heat2d 512²×40 went from 1.96× to … the in-memory one with the second buffer.) Every check of
/// ``SpillSegmentCoder`` applies. Reads are ordered after earlier writes of the same segment.
///
/// Errors: a failure on the background queue is kept and thrown by the next call on the store
/// (write, read, prefetch, removeSegment or waitForPendingWrites); it is never dropped. After an
/// error the run should be abandoned: later writes are skipped.
///
/// ```swift
/// let store = try SpillStore(directory: try SpillDirectory())
/// for k in 0..<segments { try store.write(segment: k, columns: columns(of: k)) }
/// for k in (0..<segments).reversed() { try store.read(segment: k, into: destinations(for: k)); sweep(k) }
/// print(store.statistics)
/// ```
///
/// Not thread-safe: call it from one thread (or serially). Memory: (`maximumWritesInFlight` + 2)
/// staging buffers of the largest segment, plus one compressed image and one input buffer.
public final class SpillStore {
    /// How a store buffers, compresses and prefetches.
    public struct Configuration: Sendable {
        /// Staging buffers that may wait for or be in compression and `write` at once (at least 1).
        public var maximumWritesInFlight: Int
        public var codecOptions: LZ4FrameCodec.Options
        /// `fsync` each file (off: spill files never outlive the process).
        public var synchronizesWrites: Bool
        /// After reading segment k, read k-1 in the background when it was written.
        public var prefetchesPreviousSegment: Bool
        /// Delete a segment's file once it has been read (a tape is read once, in reverse).
        public var removesSegmentsAfterReading: Bool

        public init(maximumWritesInFlight: Int = 2, codecOptions: LZ4FrameCodec.Options = .init(),
                    synchronizesWrites: Bool = false, prefetchesPreviousSegment: Bool = true,
                    removesSegmentsAfterReading: Bool = false) {
            precondition(maximumWritesInFlight >= 1, "a spill store needs at least one write buffer")
            self.maximumWritesInFlight = maximumWritesInFlight
            self.codecOptions = codecOptions
            self.synchronizesWrites = synchronizesWrites
            self.prefetchesPreviousSegment = prefetchesPreviousSegment
            self.removesSegmentsAfterReading = removesSegmentsAfterReading
        }
    }

    public let directory: SpillDirectory
    public let configuration: Configuration

    private let queue = DispatchQueue(label: "rewind.spill.io", qos: .userInitiated)
    /// Only used on `queue`.
    private let coder: SpillSegmentCoder

    // Shared between the caller and `queue`, under `lock`.
    private let lock = _SpillLock()
    private var pendingError: Error?
    private var stats = SpillStatistics()
    private var freeStaging: [_SpillByteBuffer] = []
    private var allStaging: [_SpillByteBuffer] = []
    private let writeSlots: DispatchSemaphore

    // Caller-side state. `readStaging` and `prefetchResult` are handed to `queue` by a prefetch and
    // handed back by `prefetchDone`; at most one prefetch is in flight.
    private var layouts: [Int: _SpillSegmentLayout] = [:]
    /// Two read buffers: a prefetch fills one while the caller restores from the other.
    private let readBuffers = [_SpillByteBuffer(), _SpillByteBuffer()]
    /// The read buffer the in-flight or latest prefetch writes into.
    private var prefetchBuffer = 0
    private let stageScratch = _SpillByteBuffer()
    private let restoreScratch = _SpillByteBuffer()
    private var prefetching: Int?
    private let prefetchDone = DispatchSemaphore(value: 0)
    private var prefetchResult: Result<Void, Error> = .success(())

    public init(directory: SpillDirectory, configuration: Configuration = .init()) throws {
        self.directory = directory
        self.configuration = configuration
        coder = try SpillSegmentCoder(directory: directory, codecOptions: configuration.codecOptions,
                                      synchronizesWrites: configuration.synchronizesWrites)
        writeSlots = DispatchSemaphore(value: configuration.maximumWritesInFlight)
    }

    /// The file name of segment `segment` in the directory.
    public func fileName(forSegment segment: Int) -> String { "segment-\(segment).rwspill" }

    /// A snapshot of the counters (background work is included once it has finished).
    public var statistics: SpillStatistics { lock.withLock { stats } }

    /// The segments written and not removed, ascending.
    public var segments: [Int] { layouts.keys.sorted() }

    /// Stages `columns` and schedules segment `segment` to be compressed and written.
    ///
    /// Returns once the columns are copied; waits first if all write buffers are in flight.
    /// Writing a segment again replaces it. Throws an error left by earlier background work.
    public func write(segment: Int, columns: [SpillColumn]) throws {
        precondition(segment >= 0, "segment indices are non-negative")
        try throwPendingError()
        let layout = _SpillSegmentLayout(columns: columns)
        if prefetching == segment { discardPrefetch() }   // its contents are about to be stale

        let waitStarted = _spillNow()
        writeSlots.wait()
        let waited = _spillNow() - waitStarted
        let buffer: _SpillByteBuffer = lock.withLock {
            if let free = freeStaging.popLast() { return free }
            let created = _SpillByteBuffer()
            allStaging.append(created)
            return created
        }
        let stageStarted = _spillNow()
        buffer.reserve(layout.stagingByteCount)
        for (i, column) in columns.enumerated() {
            _spillStage(column, into: buffer.bytes(layout.offsets[i]..<layout.offsets[i] + column.bytes.count),
                        scratch: stageScratch)
        }
        let staged = _spillNow() - stageStarted
        lock.withLock {
            stats.secondsWaitingForWrites += waited
            stats.secondsStaging += staged
        }
        let replacing = layouts[segment] != nil
        layouts[segment] = layout
        let name = fileName(forSegment: segment)

        queue.async { [self] in
            defer {
                lock.withLock { freeStaging.append(buffer) }
                writeSlots.signal()
            }
            guard lock.withLock({ pendingError == nil }) else { return }
            do {
                if replacing { try directory.removeFile(named: name) }
                let result = try coder.writeStaged(segment: segment, layout: layout, staging: buffer, named: name)
                lock.withLock {
                    stats.record(result.summary)
                    stats.secondsCompressing += result.secondsCompressing
                    stats.secondsWriting += result.secondsWriting
                }
            } catch {
                keep(error)
            }
        }
    }

    /// Reads segment `segment` into `destinations`, then prefetches `segment - 1`.
    ///
    /// `destinations` must describe the columns as written (kind, width, count, transform), else
    /// ``SpillError/columnMismatch(path:segment:column:detail:)``. Throws ``SpillError`` for
    /// anything wrong with the file, or an error left by earlier background work.
    public func read(segment: Int, into destinations: [SpillColumnDestination]) throws {
        try throwPendingError()
        guard let layout = layouts[segment] else {
            throw SpillError.segmentNotWritten(segment: segment, directory: directory.path)
        }
        let name = fileName(forSegment: segment)
        let path = directory.filePath(name)
        try layout.check(against: _SpillSegmentLayout(destinations: destinations).records, segment: segment, path: path)

        if prefetching != segment {
            try settlePrefetch()
            startPrefetch(segment: segment, layout: layout)
        }
        let waitStarted = _spillNow()
        prefetchDone.wait()
        prefetching = nil
        let waited = _spillNow() - waitStarted
        // A write that failed before the read (ENOSPC) is the cause; the read's "no such file"
        // only its consequence.
        try throwPendingError()
        try prefetchResult.get()
        let staging = readBuffers[prefetchBuffer]

        if configuration.removesSegmentsAfterReading { scheduleRemoval(of: segment) }
        if configuration.prefetchesPreviousSegment, let previous = layouts[segment - 1] {
            startPrefetch(segment: segment - 1, layout: previous)
        }
        let restoreStarted = _spillNow()
        try _spillRestore(segment: segment, layout: layout, staging: staging, into: destinations,
                          path: path, scratch: restoreScratch)
        let restored = _spillNow() - restoreStarted
        lock.withLock {
            stats.segmentsRead += 1
            stats.secondsWaitingForReads += waited
            stats.secondsRestoring += restored
        }
    }

    /// Starts reading `segment` in the background (for schedules that do not go strictly backwards).
    public func prefetch(segment: Int) throws {
        try throwPendingError()
        guard prefetching != segment else { return }
        guard let layout = layouts[segment] else {
            throw SpillError.segmentNotWritten(segment: segment, directory: directory.path)
        }
        try settlePrefetch()
        startPrefetch(segment: segment, layout: layout)
    }

    /// Deletes segment `segment`'s file (in order after pending writes). Errors surface on the next call.
    public func removeSegment(_ segment: Int) throws {
        try throwPendingError()
        if prefetching == segment { discardPrefetch() }
        guard layouts[segment] != nil else { return }
        scheduleRemoval(of: segment)
    }

    /// Blocks until every scheduled write (and prefetch) has finished; throws a background error.
    public func waitForPendingWrites() throws {
        queue.sync {}
        try throwPendingError()
    }

    /// The bytes held in this store's buffers, for memory-budget accounting. Waits for pending I/O.
    public var bufferedByteCount: Int {
        queue.sync {
            lock.withLock { allStaging.reduce(0) { $0 + $1.capacity } }
                + readBuffers.reduce(0) { $0 + $1.capacity } + stageScratch.capacity + restoreScratch.capacity + coder.bufferedByteCount
        }
    }

    // MARK: Private

    private func keep(_ error: Error) {
        lock.withLock { if pendingError == nil { pendingError = error } }
    }

    private func throwPendingError() throws {
        if let error = lock.withLock({ pendingError }) { throw error }
    }

    private func startPrefetch(segment: Int, layout: _SpillSegmentLayout) {
        precondition(prefetching == nil, "one prefetch at a time")
        prefetching = segment
        // Into the buffer the caller is not restoring from.
        prefetchBuffer = 1 - prefetchBuffer
        let staging = readBuffers[prefetchBuffer]
        let name = fileName(forSegment: segment)
        queue.async { [self] in
            do {
                staging.reserve(layout.stagingByteCount)
                let result = try coder.readStaged(segment: segment, layout: layout, staging: staging, named: name)
                lock.withLock {
                    stats.fileBytesRead += result.fileByteCount
                    stats.secondsReading += result.secondsReading
                    stats.secondsDecompressing += result.secondsDecompressing
                }
                prefetchResult = .success(())
            } catch {
                prefetchResult = .failure(error)
            }
            prefetchDone.signal()
        }
    }

    /// Waits for an in-flight prefetch of another segment; its failure is thrown, not lost.
    private func settlePrefetch() throws {
        guard prefetching != nil else { return }
        prefetchDone.wait()
        prefetching = nil
        try throwPendingError()
        try prefetchResult.get()
    }

    /// Waits for an in-flight prefetch whose result is no longer wanted (the segment changes).
    private func discardPrefetch() {
        guard prefetching != nil else { return }
        prefetchDone.wait()
        prefetching = nil
    }

    private func scheduleRemoval(of segment: Int) {
        layouts[segment] = nil
        let name = fileName(forSegment: segment)
        queue.async { [self] in
            do { try directory.removeFile(named: name) } catch { keep(error) }
        }
    }
}
