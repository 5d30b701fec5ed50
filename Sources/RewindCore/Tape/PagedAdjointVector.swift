import CRewindSupport

/// Adjoints kept in pages allocated on first write and released once the sweep has passed
/// them: memory in proportion to the adjoints alive at once, not to the tape's length.
///
/// Why: a dense `AdjointVector` holds one `Double` per identifier of the recording. For an
/// elementary recording of a large state (heat2d on 1024² points, about 20 statements a
/// point) that is 160 MB for one step, more than the budget even when the tape itself spills
/// to disk. Tools with index reuse (ADOL-C, CoDiPack's reuse tapes) recycle the identifiers of
/// dead values while recording; Rewind's identifiers stay linear (they are what makes the tape
/// struct-of-arrays and the stencil sweeps a shifted copy), and the sweep recycles memory
/// instead: a statement's arguments were all recorded before it, so once the sweep is below
/// identifier `F` no adjoint at or above `F` is read again, and their pages can go.
///
/// What stays alive: the pages of the identifiers the caller keeps (the inputs, whose adjoints
/// are the result), and the pages the current chunk's statements read and write — for a
/// time step, its own intermediates and the inputs it reads.
///
/// Seeds, and contributions to pages below the chunk being swept, wait in a compact list
/// until their page is first touched: a step's outputs are spread over its whole identifier
/// range (one every eight statements in an elementary stencil), and the objective adds to all
/// of them; writing them into pages at once would allocate every page. A page is created with
/// what waits for it already added, in the order it came — the order of a dense sweep, so the
/// same bits.
public final class PagedAdjointVector {
    /// 2^14 doubles (128 KiB) a page: large enough that the page table and the lookups are
    /// cheap, small enough that a chunk's span of live adjoints wastes little.
    @usableFromInline package static let pageShift = 14
    @usableFromInline package static let pageSize = 1 << pageShift

    @usableFromInline @exclusivity(unchecked) package var pages: UnsafeMutablePointer<UnsafeMutablePointer<Double>?>
    @usableFromInline @exclusivity(unchecked) package var pageCount = 0
    /// Identifiers below this are never released (the caller reads them after the sweep).
    @usableFromInline @exclusivity(unchecked) package var keptBelow = 0
    /// Additions waiting for their page, by page, in the order they came.
    @usableFromInline package var pending: [Int: [(offset: Int, value: Double)]] = [:]
    /// The page of the lowest identifier the sweep is in; additions below it (and above the
    /// kept pages) wait instead of allocating.
    @usableFromInline package var sweepFloorPage = Int.max
    /// Pages allocated now, and at most at once since `prepare`.
    public private(set) var livePages = 0
    /// The most pages allocated at once since `prepare`: the sweep's real adjoint memory.
    public private(set) var peakLivePages = 0

    /// Hands the heap memory of the sweep's waiting lists back to the system: they are many
    /// small arrays, which the allocator would otherwise keep resident after the sweep.
    public func returnFreedMemory() {
        pending = [:]
        rewind_trim_heap()
    }

    /// An empty paged adjoint vector; `prepare(for:keepingBelow:)` sizes it for a tape.
    public init() {
        pages = .allocate(capacity: 1)
        pages.initialize(to: nil)
        pageCount = 1
    }

    deinit {
        keptBelow = 0
        releasePages(from: 0)
        pages.deallocate()
    }

    /// Makes room for every identifier of `tape`, all adjoints zero, and keeps the identifiers
    /// below `keepingBelow` until the next `prepare`.
    public func prepare(for tape: Tape, keepingBelow: Int) {
        prepare(identifierCount: tape.identifierCount, keepingBelow: keepingBelow)
    }

    /// Makes room for identifiers `0 ..< identifierCount`, all adjoints zero, and keeps those below
    /// `keepingBelow` (the ones the caller reads after the sweep) until the next `prepare`.
    public func prepare(identifierCount: Int, keepingBelow: Int) {
        // Everything goes, the kept pages of the last sweep too.
        keptBelow = 0
        releasePages(from: 0)
        let needed = (identifierCount + Self.pageSize - 1) >> Self.pageShift + 1
        if needed > pageCount {
            pages.deallocate()
            pages = .allocate(capacity: needed)
            pageCount = needed
        }
        pages.initialize(repeating: nil, count: pageCount)
        keptBelow = keepingBelow
        peakLivePages = livePages
        pending.removeAll()
        sweepFloorPage = Int.max
    }

    /// Adds `value` to the adjoint of `identifier` before the sweep (a seed), without
    /// allocating its page yet.
    public func seed(_ identifier: UInt32, _ value: Double) {
        let identifier = Int(identifier)
        precondition(identifier >> Self.pageShift < pageCount, "identifier beyond the prepared tape")
        if let page = pages[identifier >> Self.pageShift] {
            page[identifier & (Self.pageSize - 1)] += value
        } else {
            pending[identifier >> Self.pageShift, default: []].append((identifier & (Self.pageSize - 1), value))
        }
    }

    /// Bytes of the pages alive at most at once since `prepare`, and of the page table.
    public var peakByteCount: Int { peakLivePages * Self.pageSize * 8 + pageCount * 8 }

    /// The adjoint of identifier `identifier` (0 where nothing was written).
    @inlinable
    public subscript(identifier: UInt32) -> Double {
        get {
            precondition(Int(identifier) >> Self.pageShift < pageCount, "identifier beyond the prepared tape")
            return value(at: Int(identifier))
        }
        set {
            precondition(Int(identifier) >> Self.pageShift < pageCount, "identifier beyond the prepared tape")
            page(for: Int(identifier))[Int(identifier) & (Self.pageSize - 1)] = newValue
        }
    }

    @inlinable @inline(__always)
    package func value(at identifier: Int) -> Double {
        guard let page = pages[identifier >> Self.pageShift] else { return _untouchedValue(at: identifier) }
        return page[identifier & (Self.pageSize - 1)]
    }

    @inlinable @inline(__always)
    package func add(_ contribution: Double, at identifier: Int) {
        guard let page = pages[identifier >> Self.pageShift] else {
            _addToUntouchedPage(contribution, at: identifier)
            return
        }
        page[identifier & (Self.pageSize - 1)] += contribution
    }

    @inlinable @inline(__always)
    func page(for identifier: Int) -> UnsafeMutablePointer<Double> {
        if let page = pages[identifier >> Self.pageShift] { return page }
        return _allocatePage(identifier >> Self.pageShift)
    }

    /// Zero, unless additions wait for this page (then it is created with them).
    @usableFromInline
    package func _untouchedValue(at identifier: Int) -> Double {
        guard pending[identifier >> Self.pageShift] != nil else { return 0 }
        return _allocatePage(identifier >> Self.pageShift)[identifier & (Self.pageSize - 1)]
    }

    @usableFromInline
    package func _addToUntouchedPage(_ contribution: Double, at identifier: Int) {
        let index = identifier >> Self.pageShift
        if index < sweepFloorPage && index > keptBelow >> Self.pageShift {
            pending[index, default: []].append((identifier & (Self.pageSize - 1), contribution))
        } else {
            _allocatePage(index)[identifier & (Self.pageSize - 1)] += contribution
        }
    }

    @usableFromInline
    package func _allocatePage(_ index: Int) -> UnsafeMutablePointer<Double> {
        let page = UnsafeMutablePointer<Double>.allocate(capacity: Self.pageSize)
        page.initialize(repeating: 0, count: Self.pageSize)
        pages[index] = page
        if let waiting = pending.removeValue(forKey: index) {
            for (offset, value) in waiting { page[offset] += value }
        }
        livePages += 1
        peakLivePages = max(peakLivePages, livePages)
        return page
    }

    /// Frees the pages that hold only identifiers at or above `identifier` and at or above
    /// the kept ones: the sweep is below them, so they are never read again.
    func releasePages(from identifier: Int) {
        let firstIdentifier = max(identifier, keptBelow)
        var index = (firstIdentifier + Self.pageSize - 1) >> Self.pageShift
        // What still waits for those pages is never read (statements without arguments).
        for key in pending.keys where key >= index { pending[key] = nil }
        while index < pageCount {
            if let page = pages[index] {
                page.deallocate()
                pages[index] = nil
                livePages -= 1
            }
            index += 1
        }
    }
}
