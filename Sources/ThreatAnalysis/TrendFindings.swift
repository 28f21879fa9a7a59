import Foundation
import ThreatModel

/// The anomalous ratio rose against the previous window (`TrendFindings.rising`).
public enum AnomalousRatioRisingCheck: Check {
    public static let description = CheckDescription(
        id: "waf.anomalous_ratio_rising", name: "AnomalousRequestRatioRising",
        shortDescription: "The anomalous-request ratio rose against the previous window",
        fullDescription: "The anomalous ratio is at or above the warning threshold and at least twice what it was in the window of equal length just before (--compare previous).",
        help: "Compare the top rules and clients with the previous window (`threat-report report --compare none --to START`), then read the audit entries of the new ones.",
        section: "waf", defaultSeverity: .warning, severities: [.info, .warning])

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment, window = context.window, since = context.since
        guard let previous = env.previous, let d = env.deltas?.waf else { return [] }
        let was = WindowText.human(previous.window)
        return TrendFindings.rising(
            id: id, env: env.name, current: d.anomalousRatio, previous: d.previousAnomalousRatio,
            warning: env.thresholds.anomalousRatio.warning, volume: d.requests, minVolume: env.thresholds.minRequests, noun: "requests",
            title: "Anomalous requests rose to \(Percent.whole(d.anomalousRatio)) of traffic (previous \(was): \(Percent.whole(d.previousAnomalousRatio)))",
            guidance: """
            Find what is new: compare the top rules and clients of the WAF section with the previous window \
            (`threat-report report --window \(since) --to \(RFC3339.format(window.from)) --compare none`), \
            then read the audit entries of the new ones\(env.waf.value.flatMap { WAFCommands($0).kubectlLogs(since: since) }
                .map { ", e.g. \($0)" } ?? "").
            """).map { [$0] } ?? []
    }
}

/// The dropped ratio rose against the previous window (`TrendFindings.rising`).
public enum DroppedRatioRisingCheck: Check {
    public static let description = CheckDescription(
        id: "flows.dropped_ratio_rising", name: "DroppedFlowRatioRising",
        shortDescription: "The dropped-flow ratio rose against the previous window",
        fullDescription: "The dropped ratio is at or above the warning threshold and at least twice what it was in the window of equal length just before (--compare previous).",
        help: "List the new drops with `hubble observe --namespace NAMESPACE --verdict DROPPED`, and check whether a policy deployed in between explains them (`threat-report policy list`).",
        section: "flows", defaultSeverity: .warning, severities: [.info, .warning])

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let previous = env.previous, let d = env.deltas?.flows else { return [] }
        let was = WindowText.human(previous.window)
        return TrendFindings.rising(
            id: id, env: env.name, current: d.droppedRatio, previous: d.previousDroppedRatio,
            warning: env.thresholds.droppedRatio.warning, volume: d.flows, minVolume: env.thresholds.minFlows, noun: "flows",
            title: "Dropped flows rose to \(Percent.whole(d.droppedRatio)) of traffic (previous \(was): \(Percent.whole(d.previousDroppedRatio)))",
            guidance: """
            Find what changed: list the new drops with `hubble observe --namespace \(env.namespace) --verdict DROPPED \
            --since \(context.since) -o compact | head` and compare the drop reasons and pairs with the previous window. A policy \
            deployed in between shows in `threat-report policy list`; a POLICY_DENIED surge after it is the policy at work.
            """).map { [$0] } ?? []
    }
}

/// Addresses in this window's top clients of anomalous requests that were not in the previous
/// window's.
public enum NewTopClientsCheck: Check {
    public static let description = CheckDescription(
        id: "waf.new_top_clients", name: "NewTopClients",
        shortDescription: "New addresses among the top clients of anomalous requests",
        fullDescription: "Client addresses in this window's top clients of anomalous requests that were not among the previous window's.",
        help: "See what each new address tried: `jq -c 'select(.transaction.client_ip == \"ADDRESS\") | .transaction.request.uri' modsec_audit.log | head`, and deny it at the ingress if it is hostile.",
        section: "waf", defaultSeverity: .info)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let previous = env.previous, let d = env.deltas?.waf, !d.newTopClients.isEmpty,
              previous.waf.map({ !$0.topClients.isEmpty }) == true else { return [] }
        let was = WindowText.human(previous.window)
        let shown = d.newTopClients.prefix(5).map { String($0.prefix(64)) }
        let ip = d.newTopClients[0].allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } ? d.newTopClients[0] : "CLIENT_IP"
        // The log the source read (audit JSON, native, or error lines), as the other WAF checks name it.
        let command = env.waf.value.map { WAFCommands($0).byClient(ip) }
            ?? "jq -c 'select(.transaction.client_ip == \"\(ip)\") | {t: .transaction.time_stamp, uri: .transaction.request.uri, code: .transaction.response.http_code}' modsec_audit.log | head"
        return [Finding(
            id: id, severity: .info, environment: env.name,
            title: "\(d.newTopClients.count) client(s) new in the top list: \(shown.joined(separator: ", "))",
            guidance: """
            These addresses were not among the previous \(was)' top clients of anomalous requests. See what one tried: \
            `\(command)`.
            """,
            subject: d.newTopClients.joined(separator: ","))]
    }
}

/// Findings from the comparison with the previous window (`--compare previous`).
///
/// The rising rule, for the anomalous-request ratio and the dropped-flow ratio alike: a `warning`
/// when the current ratio is at or above its own warning threshold AND at least `risingFactor`
/// times the previous window's ratio (a previous ratio of 0 counts as risen). Below the volume guard
/// (`min_requests` / `min_flows`, in the current window) it is capped at `info`. The finding's
/// `value` is the current ratio and its `threshold` the level it crossed: the larger of the warning
/// threshold and `risingFactor` × the previous ratio.
public enum TrendFindings {
    public static let risingFactor = 2.0

    public static let checks: [any Check.Type] = [
        AnomalousRatioRisingCheck.self, DroppedRatioRisingCheck.self, NewTopClientsCheck.self,
    ]

    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        Checks.run(checks, env, window: window)
    }

    static func rising(id: String, env: String, current: Double, previous: Double, warning: Double, volume: Int, minVolume: Int,
                       noun: String, title: String, guidance: String) -> Finding? {
        guard current >= warning, current >= risingFactor * previous, current > 0 else { return nil }
        var severity = Severity.warning
        var text = guidance
        if volume < minVolume {
            severity = .info
            text = "Only \(CoverageText.plural(volume, String(noun.dropLast()), noun)) in the window (below the guard of \(minVolume)), so the ratio is noisy. " + guidance
        }
        return Finding(id: id, severity: severity, environment: env, title: title, value: current,
                       threshold: max(warning, risingFactor * previous), guidance: text)
    }
}
