import Foundation
import ThreatModel

/// Flow findings beyond GitLab's dropped ratio: bursts, policy-denied drops, missing metrics.
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

    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        var out: [Finding] = []
        let since = WindowText.since(window)
        if let flows = env.flows.value {
            let rates = flows.droppedRate.map(\.value).filter(\.isFinite).sorted()
            if let peak = rates.last, !rates.isEmpty {
                let median = rates[rates.count / 2]
                if peak >= burstMinimumRate, peak >= burstFactor * max(median, 0.001) {
                    let at = flows.droppedRate.first { $0.value == peak }.map { RFC3339.format($0.time) } ?? "?"
                    out.append(Finding(
                        id: "flows.drop_burst", severity: .warning, environment: env.name,
                        title: "Dropped flows burst to \(NumberText2.rate(peak))/s at \(at)",
                        value: peak, threshold: burstFactor * median,
                        guidance: """
                        The dropped rate peaked at \(NumberText2.rate(peak)) flows/s against a median of \(NumberText2.rate(median))/s. \
                        See who was dropped around that time: `hubble observe --namespace \(env.namespace) --verdict DROPPED \
                        --since \(since) -o compact | sort | uniq -c | sort -rn | head` (a scan or a new client hitting a \
                        default-deny policy looks like this).
                        """, unit: .perSecond))
                }
            }
            let totalDrops = flows.topDropReasons.reduce(0) { $0 + $1.count }
            // Only where drops matter (the dropped ratio is at its warning level): it explains them.
            if let denied = flows.topDropReasons.first(where: { $0.key == "POLICY_DENIED" }), totalDrops >= env.thresholds.minFlows,
               flows.counts.droppedRatio >= env.thresholds.droppedRatio.warning,
               Double(denied.count) >= policyDeniedShare * Double(totalDrops) {
                out.append(Finding(
                    id: "flows.policy_denied_dominant", severity: .info, environment: env.name,
                    title: "Network policy denied \(Percent.whole(Double(denied.count) / Double(totalDrops))) of the drops",
                    value: Double(denied.count) / Double(totalDrops), threshold: policyDeniedShare,
                    guidance: """
                    Policies are doing the dropping, not the network. Check that the refused traffic is unwanted: \
                    `hubble observe --namespace \(env.namespace) --verdict DROPPED --type policy-verdict --since \(since)`; \
                    if it is wanted, the policy that should allow it is explained in the Policies section.
                    """))
            }
            if let audit = auditFinding(env, flows, since: since) { out.append(audit) }
            let noData = flows.counts.total == 0 && flows.forwardedRate.allSatisfy { $0.value == 0 || !$0.value.isFinite }
            if noData, let policies = env.policies.value, policies.items.contains(where: { $0.valid && $0.enabled }) {
                out.append(Finding(
                    id: "flows.no_metrics", severity: .warning, environment: env.name,
                    title: "Policies are deployed but there are no flow metrics for \(env.namespace)",
                    guidance: """
                    Hubble metrics are probably not enabled with namespace context, so drops cannot be measured. Set the \
                    Cilium Helm value \(helmValues) (GitLab's setting) and check with \
                    `curl -s PROMETHEUS/api/v1/series --data-urlencode 'match[]=hubble_flows_processed_total{destination="\(env.namespace)"}'`.
                    """))
            }
        }
        return out
    }
}

extension FlowFindings {
    /// AUDIT flows: policy audit mode let through traffic a policy would have dropped, so the
    /// policies of this namespace do not enforce.
    static func auditFinding(_ env: EnvironmentReport, _ flows: FlowStatistics, since: String) -> Finding? {
        let n = flows.counts.audit
        guard n > 0 else { return nil }
        let pairs = flows.topAuditPairs.prefix(3).map { "\($0.key) (\($0.count))" }
        var seen = pairs.isEmpty ? "" : " Most seen: \(pairs.joined(separator: "; "))."
        let policies = flows.topAuditPolicies.prefix(3).map { "\($0.key) (\($0.count))" }
        if !policies.isEmpty { seen += " The policies that would drop them: \(policies.joined(separator: "; "))." }
        return Finding(
            id: "flows.policy_audit_mode", severity: .warning, environment: env.name,
            title: "\(PolicyFindings.grouped(n)) flow\(n == 1 ? "" : "s") in \(env.namespace) would have been dropped: policy audit mode is on, policies do not enforce",
            value: Double(n),
            guidance: """
            Hubble reported AUDIT verdicts: Cilium's policy audit mode lets through traffic that a policy denies.\(seen) \
            Check that nothing wanted is among them (`hubble observe --namespace \(env.namespace) --verdict AUDIT --since \(since)`), \
            allow what is wanted, then turn audit mode off: Helm value `policyAuditMode=false` or `policy-audit-mode: "false"` \
            in the cilium-config ConfigMap (restart the agents), or per endpoint `cilium endpoint config ID PolicyAuditMode=Disabled`.
            """, unit: .count)
    }
}

enum NumberText2 {
    static func rate(_ d: Double) -> String {
        d >= 100 ? String(format: "%.0f", d) : d >= 1 ? String(format: "%.1f", d) : String(format: "%.3f", d)
    }
}
