import Foundation
import ThreatModel

/// GitLab's rule for the flows: the share of dropped flows against the environment's thresholds.
public enum DroppedRatioCheck: Check {
    public static let description = CheckDescription(
        id: "flows.dropped_ratio", name: "DroppedFlowRatio",
        shortDescription: "Dropped network flows over the threshold",
        fullDescription: "The share of flows that Cilium dropped (hubble_flows_processed_total, verdict DROPPED) in the environment's namespace is at or above the warning (or critical) threshold. Below the volume guard (min_flows) the finding is capped at info.",
        help: "Examine the Cilium logs: list the drops with `hubble observe --namespace NAMESPACE --verdict DROPPED` (or `cilium monitor --type drop` on the node). Drops with reason POLICY_DENIED are traffic a network policy refused: confirm it is unwanted, or widen the policy.",
        section: "flows", defaultSeverity: .warning, severities: [.info, .warning, .critical])

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let flows = env.flows.value else { return [] }
        return FindingAnalyzer.ratioFinding(
            id: id, env: env.name, ratio: flows.counts.droppedRatio, threshold: env.thresholds.droppedRatio,
            volume: flows.counts.total, minVolume: env.thresholds.minFlows, noun: "flows",
            title: "Dropped flows at \(Percent.whole(flows.counts.droppedRatio)) of traffic",
            guidance: """
            Examine the Cilium logs: list the drops with `hubble observe --namespace \(env.namespace) --verdict DROPPED \
            --since \(context.since)` (or `cilium monitor --type drop` on the node). Drops with reason POLICY_DENIED are traffic \
            a network policy refused: confirm it is unwanted, or widen the policy with `threat-report policy explain`.
            """).map { [$0] } ?? []
    }
}

/// A burst: a peak dropped rate at least `FlowFindings.burstFactor` times the window's median,
/// and at least `FlowFindings.burstMinimumRate` per second.
public enum DropBurstCheck: Check {
    public static let description = CheckDescription(
        id: "flows.drop_burst", name: "DropBurst",
        shortDescription: "A burst of dropped flows",
        fullDescription: "The peak dropped-flow rate of one interval is far above the window's median rate (a scan, a broken client or a policy change at that time). The value is a rate in flows per second.",
        help: "See who was dropped around the peak: `hubble observe --namespace NAMESPACE --verdict DROPPED --since WINDOW -o compact | sort | uniq -c | sort -rn | head`.",
        section: "flows", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let flows = env.flows.value else { return [] }
        let rates = flows.droppedRate.map(\.value).filter(\.isFinite).sorted()
        guard let peak = rates.last else { return [] }
        let median = rates[rates.count / 2]
        guard peak >= FlowFindings.burstMinimumRate, peak >= FlowFindings.burstFactor * max(median, 0.001) else { return [] }
        let at = flows.droppedRate.first { $0.value == peak }.map { RFC3339.format($0.time) } ?? "?"
        return [Finding(
            id: id, severity: .warning, environment: env.name,
            title: "Dropped flows burst to \(NumberText2.rate(peak))/s at \(at)",
            value: peak, threshold: FlowFindings.burstFactor * median,
            guidance: """
            The dropped rate peaked at \(NumberText2.rate(peak)) flows/s against a median of \(NumberText2.rate(median))/s. \
            See who was dropped around that time: `hubble observe --namespace \(env.namespace) --verdict DROPPED \
            --since \(context.since) -o compact | sort | uniq -c | sort -rn | head` (a scan or a new client hitting a \
            default-deny policy looks like this).
            """, unit: .perSecond)]
    }
}

/// POLICY_DENIED makes up `FlowFindings.policyDeniedShare` of the drops, where drops matter (the
/// dropped ratio is at its warning level): it explains them.
public enum PolicyDeniedDominantCheck: Check {
    public static let description = CheckDescription(
        id: "flows.policy_denied_dominant", name: "PolicyDeniedDominant",
        shortDescription: "Most drops are network-policy denials",
        fullDescription: "POLICY_DENIED is the dominant drop reason: policies, not the network, are refusing the traffic.",
        help: "Check that the refused traffic is unwanted with `hubble observe --verdict DROPPED --type policy-verdict`; if it is wanted, widen the policy shown in the Policies section.",
        section: "flows", defaultSeverity: .info)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let flows = env.flows.value else { return [] }
        let totalDrops = flows.topDropReasons.reduce(0) { $0 + $1.count }
        guard let denied = flows.topDropReasons.first(where: { $0.key == "POLICY_DENIED" }), totalDrops >= env.thresholds.minFlows,
              flows.counts.droppedRatio >= env.thresholds.droppedRatio.warning,
              Double(denied.count) >= FlowFindings.policyDeniedShare * Double(totalDrops) else { return [] }
        return [Finding(
            id: id, severity: .info, environment: env.name,
            title: "Network policy denied \(Percent.whole(Double(denied.count) / Double(totalDrops))) of the drops",
            value: Double(denied.count) / Double(totalDrops), threshold: FlowFindings.policyDeniedShare,
            guidance: """
            Policies are doing the dropping, not the network. Check that the refused traffic is unwanted: \
            `hubble observe --namespace \(env.namespace) --verdict DROPPED --type policy-verdict --since \(context.since)`; \
            if it is wanted, the policy that should allow it is explained in the Policies section.
            """)]
    }
}

/// AUDIT flows: policy audit mode let through traffic a policy would have dropped, so the
/// policies of this namespace do not enforce.
public enum PolicyAuditModeCheck: Check {
    public static let description = CheckDescription(
        id: "flows.policy_audit_mode", name: "PolicyAuditMode",
        shortDescription: "Policy audit mode is on: policies do not enforce",
        fullDescription: "Hubble reported AUDIT verdicts for the namespace: flows a network policy would have dropped were let through because Cilium runs in policy audit mode (for the whole agent or for the endpoint). The value is the number of such flows.",
        help: "List them with `hubble observe --namespace NAMESPACE --verdict AUDIT`, allow the wanted ones, then disable audit mode: Helm value `policyAuditMode=false` or `policy-audit-mode: \"false\"` in the cilium-config ConfigMap, or `cilium endpoint config ID PolicyAuditMode=Disabled`.",
        section: "flows", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let flows = env.flows.value else { return [] }
        let n = flows.counts.audit
        guard n > 0 else { return [] }
        let pairs = flows.topAuditPairs.prefix(3).map { "\($0.key) (\($0.count))" }
        var seen = pairs.isEmpty ? "" : " Most seen: \(pairs.joined(separator: "; "))."
        let policies = flows.topAuditPolicies.prefix(3).map { "\($0.key) (\($0.count))" }
        if !policies.isEmpty { seen += " The policies that would drop them: \(policies.joined(separator: "; "))." }
        return [Finding(
            id: id, severity: .warning, environment: env.name,
            title: "\(PolicyFindings.grouped(n)) flow\(n == 1 ? "" : "s") in \(env.namespace) would have been dropped: policy audit mode is on, policies do not enforce",
            value: Double(n),
            guidance: """
            Hubble reported AUDIT verdicts: Cilium's policy audit mode lets through traffic that a policy denies.\(seen) \
            Check that nothing wanted is among them (`hubble observe --namespace \(env.namespace) --verdict AUDIT --since \(context.since)`), \
            allow what is wanted, then turn audit mode off: Helm value `policyAuditMode=false` or `policy-audit-mode: "false"` \
            in the cilium-config ConfigMap (restart the agents), or per endpoint `cilium endpoint config ID PolicyAuditMode=Disabled`.
            """, unit: .count)]
    }
}

/// Policies are enforced but the flow source has no metrics for the namespace.
public enum NoFlowMetricsCheck: Check {
    public static let description = CheckDescription(
        id: "flows.no_metrics", name: "NoFlowMetrics",
        shortDescription: "Policies are enforced but no flow metrics arrive",
        fullDescription: "The namespace has enforced network policies, but Prometheus has no hubble_flows_processed_total series for it, so drops cannot be measured.",
        help: "Enable Hubble metrics with namespace context (the Cilium Helm values GitLab used), then check that the series exist with a `curl` to Prometheus' /api/v1/series.",
        section: "flows", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let flows = env.flows.value else { return [] }
        let noData = flows.counts.total == 0 && flows.forwardedRate.allSatisfy { $0.value == 0 || !$0.value.isFinite }
        guard noData, let policies = env.policies.value, policies.items.contains(where: { $0.valid && $0.enabled }) else { return [] }
        return [Finding(
            id: id, severity: .warning, environment: env.name,
            title: "Policies are deployed but there are no flow metrics for \(env.namespace)",
            guidance: """
            Hubble metrics are probably not enabled with namespace context, so drops cannot be measured. Set the \
            Cilium Helm value \(FlowFindings.helmValues) (GitLab's setting) and check with \
            `curl -s PROMETHEUS/api/v1/series --data-urlencode 'match[]=hubble_flows_processed_total{destination="\(env.namespace)"}'`.
            """)]
    }
}

/// The flow checks beyond GitLab's dropped ratio: bursts, policy-denied drops, audit mode,
/// missing metrics.
public enum FlowFindings {
    /// A burst is a peak dropped rate at least this many times the window's median dropped rate.
    public static let burstFactor = 10.0
    /// …and at least this many drops per second, so a quiet namespace's 0.01 → 0.2 is not a burst.
    public static let burstMinimumRate = 1.0
    /// POLICY_DENIED is "dominant" at this share of all drops (with at least `minFlows` drops and a
    /// dropped ratio at its warning level).
    public static let policyDeniedShare = 0.8

    /// The Cilium Helm value GitLab required, so Hubble labels flows with their namespaces.
    public static let helmValues = #"hubble.metrics.enabled="{dns,drop,tcp,flow:sourceContext=namespace;destinationContext=namespace}""#

    public static let checks: [any Check.Type] = [
        DropBurstCheck.self, PolicyDeniedDominantCheck.self, PolicyAuditModeCheck.self, NoFlowMetricsCheck.self,
    ]

    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        Checks.run(checks, env, window: window)
    }
}

enum NumberText2 {
    static func rate(_ d: Double) -> String {
        d >= 100 ? String(format: "%.0f", d) : d >= 1 ? String(format: "%.1f", d) : String(format: "%.3f", d)
    }
}
