import Foundation
import ThreatModel

/// Turns environment statistics into findings. Pure: no I/O, so every rule is tested without a
/// server. Every finding says what to look at next and the command that shows it.
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

    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        var out: [Finding] = []
        let since = WindowText.since(window)
        if let waf = env.waf.value, let f = ratioFinding(
            id: "waf.anomalous_ratio", env: env.name, ratio: waf.anomalousRatio, threshold: env.thresholds.anomalousRatio,
            volume: waf.totalRequests, minVolume: env.thresholds.minRequests, noun: "requests",
            title: "Anomalous requests at \(Percent.whole(waf.anomalousRatio)) of traffic",
            guidance: """
            Examine the WAF logs: find the rules and clients behind the spike in the WAF section, then read the \
            ModSecurity audit entries, e.g. `\(WAFCommands(waf).ruleIDs)`\
            \(WAFCommands(waf).kubectlLogs(since: since).map { " (the log: \($0))" } ?? ""). If the matches are attacks, block the sources or switch the engine to blocking (SecRuleEngine On); if they \
            are false positives, add a rule exclusion.
            """) {
            out.append(f)
        }
        if let flows = env.flows.value, let f = ratioFinding(
            id: "flows.dropped_ratio", env: env.name, ratio: flows.counts.droppedRatio, threshold: env.thresholds.droppedRatio,
            volume: flows.counts.total, minVolume: env.thresholds.minFlows, noun: "flows",
            title: "Dropped flows at \(Percent.whole(flows.counts.droppedRatio)) of traffic",
            guidance: """
            Examine the Cilium logs: list the drops with `hubble observe --namespace \(env.namespace) --verdict DROPPED \
            --since \(since)` (or `cilium monitor --type drop` on the node). Drops with reason POLICY_DENIED are traffic \
            a network policy refused: confirm it is unwanted, or widen the policy with `threat-report policy explain`.
            """) {
            out.append(f)
        }
        out += WAFFindings.findings(for: env, window: window)
        out += FlowFindings.findings(for: env, window: window)
        out += PolicyFindings.findings(for: env)
        out += PolicyDriftFindings.findings(for: env)
        out += PolicyCoverageFindings.findings(for: env)
        out += TrendFindings.findings(for: env, window: window)
        out += InputFindings.findings(for: env)
        return out
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
