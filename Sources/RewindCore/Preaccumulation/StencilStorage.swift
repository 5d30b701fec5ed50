/// What a tape keeps of a recorded stencil (`applyStencil` on `Tracked`).
///
/// The kernel's partials at every point are what the reverse sweep needs. A tape can keep them
/// (computed once, while recording) or keep only the values the kernel read and compute the
/// partials again, row by row, in each sweep. The values are one number a point instead of one
/// per neighbour and parameter: 8 bytes a point instead of 32 for a 3-point stencil with one
/// parameter, 48 for a 5-point 2-D one. That is less memory to fill with fresh pages, to spill
/// and to read back, for the cost of evaluating the kernel on `Double` while recording (for the
/// outputs) as well as on `Dual` in the sweep. Both give the same partials, so the gradient is
/// bitwise the same.
///
/// ```swift
/// let tape = Tape()
/// tape.stencilStorage = .inputs   // a tape swept once, kept for a whole run
/// ```
public enum StencilStorage: Sendable, Equatable {
    /// The partials, computed while recording: best for a tape swept many times (a Jacobian's
    /// rows, several seeds), each sweep only reads them, and for one swept right after it is
    /// recorded, while it is in the cache (a checkpointed block of a gradient).
    case partials
    /// The values the kernel read (and the parameters' values): the partials are computed
    /// again in each sweep. Best for a tape swept once, and kept long or spilled.
    case inputs
}
