#if canImport(Glibc)
import Glibc
#endif

extension Double {
    /// The value as C's `printf` spells it with `format`, a format of one double conversion
    /// (`"%.3f"`, `"% .6e"`).
    ///
    /// Why not Foundation's `String(format:)`: this module imports only FoundationEssentials,
    /// since importing Foundation links ICU and its tables into every executable that uses the
    /// command line (82 MB for `rewind`), which costs each process time before `main`
    /// (docs/PERFORMANCE.md, "Whole process and first run").
    func printf(_ format: String) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        while true {
            let needed = withVaList([self]) { vsnprintf(&buffer, buffer.count, format, $0) }
            guard needed >= buffer.count else { break }
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        }
        return String(cString: buffer)
    }
}
