// The umbrella: `import Rewind` is all a user needs. Each concept lives in its own module
// (docs/architecture.md); this one only re-exports them.
@_exported import RewindCore
@_exported import RewindParallel
@_exported import RewindSchedules
@_exported import RewindStorage
@_exported import RewindTimeStepping
@_exported import RewindVerification
// Simulation code written against `SimulationScalar` uses swift-numerics' protocols
// (`AlgebraicField`'s `/`, `RealFunctions`' `exp`, ...); re-exporting RealModule means
// `import Rewind` is all such code needs.
@_exported import RealModule
