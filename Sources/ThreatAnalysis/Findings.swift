import Foundation
import ThreatModel

/// Turns environment statistics into findings by running every check of `Checks.all`. Pure: no
/// I/O, so every rule is tested without a server. Every finding says what to look at next and the
/// command that shows it.
public enum FindingAnalyzer {
    /// All findings for all environments, worst first, then by environment order, then by id.
    public static func analyze(_ environments: [EnvironmentReport], window: TimeWindow) -> [Finding] {
        var out: [(Int, Finding)] = []
        for (i, env) in environments.enumerated() {
            for f in findings(for: env, window: window) { out.append((i, f)) }
        }
        return out.sorted { a, b in
            if a.1.severity != b.1.severity { return a.1.severity > b.1.severity }
            if a.0 != b.0 { return a.0 < b.0 }
            if a.1.id != b.1.id { return a.1.id < b.1.id }
            return (a.1.subject ?? "") < (b.1.subject ?? "")
        }.map(\.1)
    }

    /// The findings of every check for one environment, check by check in `Checks.all` order.
    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        Checks.run(Checks.all, env, window: window)
    }

    /// A ratio finding: warning at or above `warning`, critical at or above `critical`; below the
    /// volume guard it is capped at info, because a ratio over a handful of events is noise.
    static func ratioFinding(id: String, env: String, ratio: Double, threshold: RatioThreshold, volume: Int, minVolume: Int,
                             noun: String, title: String, guidance: String) -> Finding? {
        var severity: Severity
        var t: Double
        if ratio >= threshold.critical {
            severity = .critical
            t = threshold.critical
        } else if ratio >= threshold.warning {
            severity = .warning
            t = threshold.warning
        } else {
            return nil
        }
        var text = guidance
        if volume < minVolume {
            severity = .info
            // `noun` is a plural ("requests", "flows"): "Only 1 flow", "Only 3 flows".
            let counted = CoverageText.plural(volume, String(noun.dropLast()), noun)
            text = "Only \(counted) in the window (below the guard of \(minVolume)), so the ratio is noisy. " + guidance
        }
        return Finding(id: id, severity: severity, environment: env, title: title, value: ratio, threshold: t, guidance: text)
    }

    static func kubectlResource(_ kind: PolicyKind?) -> String {
        switch kind {
        case .ciliumNetworkPolicy: "ciliumnetworkpolicy"
        case .ciliumClusterwideNetworkPolicy: "ciliumclusterwidenetworkpolicy"
        default: "networkpolicy"
        }
    }
}
