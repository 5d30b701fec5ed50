import CLZ4

/// An LZ4 frame compressor and decompressor with reusable contexts, producing self-checking frames.
///
/// Every frame it writes carries the content size and a checksum (xxh32) of each compressed block.
/// No content checksum: the block checksums already cover every byte that comes from disk, and
/// decompressing verified blocks is deterministic and bounds-checked; a second xxh32 pass over
/// the decompressed bytes (three times as many) took a third of the spilled reverse sweep. Decompression is into a caller-provided buffer of exactly
/// the expected size and never writes past it; a frame whose parameters, size or checksums disagree
/// throws ``LZ4FrameError``. The compression and decompression contexts and the internal output
/// buffer are kept between calls, so compressing many segments allocates only when a larger
/// segment than any before arrives (amortised growth).
///
/// Not thread-safe: use one codec per thread or queue.
///
/// ```swift
/// let codec = try LZ4FrameCodec()
/// let frame = try codec.compress(UnsafeRawBufferPointer(source))   // valid until the next compress
/// try codec.decompress(frame, into: UnsafeMutableRawBufferPointer(destination))
/// ```
///
/// Cost: LZ4 fast mode, typically 0.5–1 GB/s compressing and several GB/s decompressing, plus
/// xxh32 of the compressed blocks.
public final class LZ4FrameCodec {
    /// The frame parameters a codec writes and insists on reading back.
    public struct Options: Hashable, Sendable {
        /// The largest LZ4 block: bigger blocks compress a little better and need bigger internal buffers.
        public enum BlockSize: Hashable, Sendable {
            case max64KB, max256KB, max1MB, max4MB

            var id: LZ4F_blockSizeID_t {
                switch self {
                case .max64KB: return LZ4F_max64KB
                case .max256KB: return LZ4F_max256KB
                case .max1MB: return LZ4F_max1MB
                case .max4MB: return LZ4F_max4MB
                }
            }
        }

        public var blockSize: BlockSize
        /// 0 is LZ4's fast mode; negative values are faster and compress less; 3...12 use LZ4-HC.
        public var compressionLevel: Int32

        public init(blockSize: BlockSize = .max256KB, compressionLevel: Int32 = 0) {
            self.blockSize = blockSize
            self.compressionLevel = compressionLevel
        }
    }

    public let options: Options
    private let compressionContext: OpaquePointer
    private let decompressionContext: OpaquePointer
    private let output = _SpillByteBuffer()

    /// Creates the compression and decompression contexts.
    ///
    /// The corresponding C functions are `LZ4F_createCompressionContext` and
    /// `LZ4F_createDecompressionContext`.
    public init(options: Options = Options()) throws(LZ4FrameError) {
        self.options = options
        var cctx: OpaquePointer?
        let c = LZ4F_createCompressionContext(&cctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(c) == 0, let cctx else {
            throw .contextCreationFailed(Self.errorName(c))
        }
        var dctx: OpaquePointer?
        let d = LZ4F_createDecompressionContext(&dctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(d) == 0, let dctx else {
            LZ4F_freeCompressionContext(cctx)
            throw .contextCreationFailed(Self.errorName(d))
        }
        compressionContext = cctx
        decompressionContext = dctx
    }

    deinit {
        LZ4F_freeCompressionContext(compressionContext)
        LZ4F_freeDecompressionContext(decompressionContext)
    }

    /// The preferences of a frame holding `byteCount` bytes: content size and block checksums.
    private func preferences(contentByteCount byteCount: Int) -> LZ4F_preferences_t {
        var preferences = LZ4F_preferences_t()   // zero: every reserved field must be 0
        preferences.frameInfo.blockSizeID = options.blockSize.id
        preferences.frameInfo.blockMode = LZ4F_blockLinked
        preferences.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum
        preferences.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        preferences.frameInfo.contentSize = UInt64(byteCount)
        preferences.compressionLevel = options.compressionLevel
        // autoFlush: each update emits its blocks, so nothing stays buffered in the context and
        // the bound below holds for begin + one update + end.
        preferences.autoFlush = 1
        return preferences
    }

    /// The most bytes a frame of `byteCount` content bytes can take.
    ///
    /// Header (`LZ4F_HEADER_SIZE_MAX`) + one `LZ4F_compressUpdate` (`LZ4F_compressBound`, which already
    /// includes the end mark and content checksum) + a second footer allowance
    /// (`LZ4F_compressBound(0)`, documented to be enough for `LZ4F_compressEnd`). A few bytes more
    /// than strictly needed, in exchange for relying only on documented guarantees.
    public func maximumFrameByteCount(contentByteCount byteCount: Int) -> Int {
        var preferences = preferences(contentByteCount: byteCount)
        return Int(LZ4F_HEADER_SIZE_MAX)
            + LZ4F_compressBound(byteCount, &preferences)
            + LZ4F_compressBound(0, &preferences)
    }

    /// Compresses `source` into one frame written to the start of `destination`; returns its length.
    ///
    /// Precondition: `destination.count >= maximumFrameByteCount(contentByteCount: source.count)`,
    /// checked, so a frame is never cut short. The corresponding C functions are
    /// `LZ4F_compressBegin`, `LZ4F_compressUpdate` and `LZ4F_compressEnd` on the reused context
    /// (the same frame `LZ4F_compressFrame` makes, without its per-call context setup).
    public func compress(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
    ) throws(LZ4FrameError) -> Int {
        let required = maximumFrameByteCount(contentByteCount: source.count)
        guard destination.count >= required, let out = destination.baseAddress else {
            throw .destinationTooSmall(required: required, available: destination.count)
        }
        var preferences = preferences(contentByteCount: source.count)
        let capacity = destination.count
        var written = LZ4F_compressBegin(compressionContext, out, capacity, &preferences)
        guard LZ4F_isError(written) == 0 else { throw .compressionFailed(Self.errorName(written)) }
        if source.count > 0 {
            let n = LZ4F_compressUpdate(
                compressionContext, out + written, capacity - written, source.baseAddress, source.count, nil)
            guard LZ4F_isError(n) == 0 else { throw .compressionFailed(Self.errorName(n)) }
            written += n
        }
        let end = LZ4F_compressEnd(compressionContext, out + written, capacity - written, nil)
        guard LZ4F_isError(end) == 0 else { throw .compressionFailed(Self.errorName(end)) }
        return written + end
    }

    /// Compresses `source` into the codec's own buffer and returns the frame.
    ///
    /// The returned bytes stay valid until the next call to this method; the buffer grows by at
    /// least half when it grows, so repeated calls stop allocating. Same C functions as
    /// ``compress(_:into:)``.
    public func compress(_ source: UnsafeRawBufferPointer) throws(LZ4FrameError) -> UnsafeRawBufferPointer {
        let bound = maximumFrameByteCount(contentByteCount: source.count)
        output.reserve(bound)
        let n = try compress(source, into: output.bytes(0..<bound))
        return UnsafeRawBufferPointer(output.bytes(0..<n))
    }

    /// Decompresses exactly one frame, which must fill `destination` exactly.
    ///
    /// Checks, in order: the frame header is complete and valid (its own header checksum), the frame
    /// was written with this codec's block size, linked blocks, both checksums and no dictionary;
    /// its content size equals `destination.count`; then every block checksum and the content
    /// checksum while decoding; finally that the frame ended exactly at the end of `frame`.
    /// `LZ4F_decompress` is given only the room left in `destination`, so nothing is written
    /// past it whatever the input. On error the destination holds unspecified bytes.
    ///
    /// The corresponding C functions are `LZ4F_getFrameInfo` and `LZ4F_decompress`
    /// (after `LZ4F_resetDecompressionContext`, so a previous failure never leaks into this frame).
    public func decompress(
        _ frame: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
    ) throws(LZ4FrameError) {
        let dctx = decompressionContext
        LZ4F_resetDecompressionContext(dctx)
        guard let source = frame.baseAddress, frame.count >= Int(LZ4F_HEADER_SIZE_MIN) else {
            throw .truncated
        }
        var info = LZ4F_frameInfo_t()
        var consumed = frame.count
        var hint = LZ4F_getFrameInfo(dctx, &info, source, &consumed)
        if LZ4F_isError(hint) != 0 {
            LZ4F_resetDecompressionContext(dctx)
            let name = Self.errorName(hint)
            throw name.contains("incomplete") || name.contains("srcSize") ? .truncated : .corrupt(name)
        }
        guard info.frameType == LZ4F_frame,
              info.blockSizeID == options.blockSize.id,
              info.blockMode == LZ4F_blockLinked,
              info.contentChecksumFlag == LZ4F_noContentChecksum,
              info.blockChecksumFlag == LZ4F_blockChecksumEnabled,
              info.dictID == 0
        else {
            LZ4F_resetDecompressionContext(dctx)
            throw .unexpectedFrameParameters
        }
        // LZ4 writes no size field for empty content (0 means "unknown"), so 0 is only right for 0.
        guard info.contentSize == UInt64(destination.count) else {
            LZ4F_resetDecompressionContext(dctx)
            throw .contentSizeMismatch(expected: destination.count, found: Int(clamping: info.contentSize))
        }

        var dummy: UInt8 = 0
        try withUnsafeMutablePointer(to: &dummy) { (dummyPointer) throws(LZ4FrameError) in
            let out = destination.baseAddress ?? UnsafeMutableRawPointer(dummyPointer)
            var produced = 0
            while hint != 0 {
                var sourceSize = frame.count - consumed
                guard sourceSize > 0 else {
                    LZ4F_resetDecompressionContext(dctx)
                    throw .truncated
                }
                var destinationSize = destination.count - produced
                var options = LZ4F_decompressOptions_t()
                // The whole content lands in one contiguous, untouched buffer: LZ4 may reference
                // earlier output directly instead of copying history into its own window.
                options.stableDst = 1
                hint = LZ4F_decompress(
                    dctx, out + produced, &destinationSize, source + consumed, &sourceSize, &options)
                if LZ4F_isError(hint) != 0 {
                    LZ4F_resetDecompressionContext(dctx)
                    let name = Self.errorName(hint)
                    throw name.lowercased().contains("checksum") ? .checksumMismatch(name) : .corrupt(name)
                }
                consumed += sourceSize
                produced += destinationSize
                if sourceSize == 0 && destinationSize == 0 && hint != 0 {
                    // No progress with input left: the frame wants to write past the destination
                    // (LZ4 checks the declared content size itself, so this is a second line of defence).
                    LZ4F_resetDecompressionContext(dctx)
                    throw .corrupt("the frame holds more than its declared \(destination.count) bytes")
                }
            }
            guard produced == destination.count else {
                throw .contentSizeMismatch(expected: destination.count, found: produced)
            }
        }
        guard consumed == frame.count else { throw .trailingBytes(frame.count - consumed) }
    }

    static func errorName(_ code: Int) -> String {
        guard let name = LZ4F_getErrorName(code) else { return "LZ4F error \(code)" }
        return String(cString: name)
    }
}

/// Why an LZ4 frame could not be made or read. ``SpillStore`` turns these into ``SpillError``s that
/// name the file, segment and column.
public enum LZ4FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    case contextCreationFailed(String)
    case destinationTooSmall(required: Int, available: Int)
    case compressionFailed(String)
    /// The frame ends before it is complete.
    case truncated
    /// A block checksum or the content checksum does not match.
    case checksumMismatch(String)
    /// The frame is malformed (LZ4's error name attached).
    case corrupt(String)
    /// The frame was written with other options: block size, block mode, missing checksums, a dictionary.
    case unexpectedFrameParameters
    case contentSizeMismatch(expected: Int, found: Int)
    /// Bytes follow the end of the frame.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .contextCreationFailed(let name): return "could not create an LZ4 context (\(name))"
        case let .destinationTooSmall(required, available):
            return "LZ4 destination holds \(available) bytes, \(required) are required"
        case .compressionFailed(let name): return "LZ4 compression failed (\(name))"
        case .truncated: return "the LZ4 frame is truncated"
        case .checksumMismatch(let name): return "LZ4 checksum mismatch (\(name))"
        case .corrupt(let name): return "corrupt LZ4 frame (\(name))"
        case .unexpectedFrameParameters:
            return "the LZ4 frame was not written by this codec (block size, mode, checksums or dictionary differ)"
        case let .contentSizeMismatch(expected, found):
            return "the LZ4 frame holds \(found) bytes, \(expected) were expected"
        case .trailingBytes(let n): return "\(n) bytes follow the LZ4 frame"
        }
    }
}
