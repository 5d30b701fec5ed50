import ArgumentParser
import Rewind

/// `--memory-budget`: parsed by the engine's `MemoryBudget(parsing:)`, whose errors already
/// say what is wrong and what to write instead.
extension MemoryBudget: ExpressibleByArgument {
    public init?(argument: String) {
        do {
            try self.init(parsing: argument)
        } catch {
            ArgumentRefusal.record("\(error)")
            return nil
        }
    }

    /// The budget as it could be typed back (`1GiB`), unlike `description` (`1.0 GiB`).
    public var defaultValueDescription: String {
        for (unit, shift) in [("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)]
        where bytes > 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}
