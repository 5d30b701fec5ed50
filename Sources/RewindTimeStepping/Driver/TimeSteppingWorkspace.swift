import RewindCore
/// The tape and adjoint vector a run records into, kept between runs.
///
/// Passing the same workspace to successive gradients lets them reuse memory that is already
/// mapped: only the first run pays the page faults of touching new tape memory.
///
/// ```swift
/// let workspace = TimeSteppingWorkspace()
/// for nu in [0.01, 0.02] {
///     _ = try TimeStepping.gradient(of: model, initialState: u0, parameters: [nu], steps: 1000,
///                                   options: TimeSteppingOptions(workspace: workspace))
/// }
/// ```
public final class TimeSteppingWorkspace {
    /// The tape every recording of the runs goes to (reset, not reallocated, between them).
    public let tape: Tape
    /// The adjoint vector the sweeps accumulate into.
    public let adjoints: AdjointVector

    /// A workspace over `tape` and `adjoints` (new ones by default).
    public init(tape: Tape = Tape(), adjoints: AdjointVector = AdjointVector()) {
        self.tape = tape
        self.adjoints = adjoints
    }

    /// Sets the tape up for a gradient, whose every recording is swept once: stencils keep the
    /// values they read rather than their partials (`StencilStorage.inputs`), a third to a sixth
    /// of the memory a step's tape needs, so more steps fit the budget and fewer fresh pages are
    /// touched; the sweep computes the partials again, the same bits. The sample and store-all
    /// record so; a checkpointed plan switches to partials where they fit
    /// (`PlannedRun.keepingStencilPartials`). Jacobians and ensembles sweep each recording once
    /// per seed and keep the partials.
    @usableFromInline
    package func recordsForOneSweep() {
        tape.stencilStorage = .inputs
    }
}
