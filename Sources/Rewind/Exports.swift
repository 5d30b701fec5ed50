// Simulation code written against `SimulationScalar` uses swift-numerics' protocols
// (`AlgebraicField`'s `/`, `RealFunctions`' `exp`, ...); re-exporting RealModule means
// `import Rewind` is all such code needs.
@_exported import RealModule
