#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, drawn only when stderr is a terminal so that scripts
/// and `--json` consumers never see it.
final class ProgressBar {
    private let enabled: Bool
    private let label: String
    private var lastPercent = -1
    private var drawn = false

    /// `enabled` by default exactly when stderr is a terminal.
    init(enabled: Bool = isatty(2) != 0, label: String) {
        self.enabled = enabled
        self.label = label
    }

    func update(_ fraction: Double) {
        guard enabled else { return }
        let percent = Int((min(max(fraction, 0), 1) * 100).rounded(.down))
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        fputs("\r\(label) [\(bar)] \(percent)%", stderr)
        drawn = true
    }

    func finish() {
        guard enabled, drawn else { return }
        fputs("\r\u{1B}[2K", stderr)
    }
}
