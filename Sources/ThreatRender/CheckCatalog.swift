import ThreatModel

/// The checks the analysis runs, described once for the CI formats: SARIF rules, JUnit test case
/// names, Code Quality check names. A finding id that is not in the catalog (a newer check) still
/// gets a rule, described from its findings.
public struct Check: Sendable, Equatable {
    /// The finding id, e.g. `waf.anomalous_ratio`.
    public var id: String
    /// A PascalCase name (SARIF `rule.name`).
    public var name: String
    public var shortDescription: String
    public var fullDescription: String
    /// What to do about it, in the style of the findings' guidance.
    public var help: String
    /// The report section the check reads (`waf`, `flows`, `policies`): its status decides whether
    /// the check ran.
    public var section: String
    /// The level a finding usually has (SARIF `defaultConfiguration.level`).
    public var defaultSeverity: Severity
}

public enum CheckCatalog {
    public static let known: [Check] = [
        Check(id: "waf.anomalous_ratio", name: "AnomalousRequestRatio",
              shortDescription: "Anomalous WAF requests over the threshold",
              fullDescription: "The share of requests that ModSecurity with the OWASP Core Rule Set scored as anomalous is at or above the warning (or critical) threshold for the environment. Below the volume guard (min_requests) the finding is capped at info.",
              help: "Examine the WAF logs: find the rules and clients behind the spike in the report's WAF section, then read the ModSecurity audit entries (the audit log, or on ingress-nginx `kubectl -n NAMESPACE logs -l app=nginx-ingress -c modsecurity-log`). If the matches are attacks, block the sources or switch the engine to blocking (SecRuleEngine On); if they are false positives, add a rule exclusion.",
              section: "waf", defaultSeverity: .warning),
        Check(id: "flows.dropped_ratio", name: "DroppedFlowRatio",
              shortDescription: "Dropped network flows over the threshold",
              fullDescription: "The share of flows that Cilium dropped (hubble_flows_processed_total, verdict DROPPED) in the environment's namespace is at or above the warning (or critical) threshold. Below the volume guard (min_flows) the finding is capped at info.",
              help: "Examine the Cilium logs: list the drops with `hubble observe --namespace NAMESPACE --verdict DROPPED` (or `cilium monitor --type drop` on the node). Drops with reason POLICY_DENIED are traffic a network policy refused: confirm it is unwanted, or widen the policy.",
              section: "flows", defaultSeverity: .warning),
        Check(id: "waf.high_severity_categories", name: "HighSeverityAttacks",
              shortDescription: "Remote code execution, SQL injection or file-access attacks reached the WAF",
              fullDescription: "Requests matched OWASP CRS rules of the high-severity families: RCE (932), SQL injection (942), local and remote file inclusion (930, 931), PHP (933) and Java (944) attacks. A warning when the largest family reaches the anomalous-ratio warning share on enough volume, otherwise info (the background of probes every public site gets).",
              help: "Check what the application answered to those requests (status codes in the audit log); a 200 to an injection attempt needs a closer look at the application. The report's top rules and URIs show where to start, e.g. `jq -c 'select(.transaction.request.uri | startswith(\"/login\")) | .transaction.response.http_code' modsec_audit.log | sort | uniq -c`.",
              section: "waf", defaultSeverity: .info),
        Check(id: "waf.blocking_disabled", name: "WAFBlockingDisabled",
              shortDescription: "The WAF only detects: critical attacks were let through",
              fullDescription: "ModSecurity ran with SecRuleEngine DetectionOnly while requests with critical-severity matches were seen, so they reached the application.",
              help: "Once the rules that fire on legitimate traffic have exclusions, set `SecRuleEngine On` (ingress-nginx: the modsecurity-snippet in the controller's ConfigMap) and watch the blocked count in the next report.",
              section: "waf", defaultSeverity: .info),
        Check(id: "waf.attack_burst", name: "WAFAttackBurst",
              shortDescription: "One client sent most of the anomalous requests",
              fullDescription: "A single client address sent at least thresholds.attack_burst_share (default 50 %) of the anomalous requests, and at least thresholds.attack_burst_min_requests (default 20) of them.",
              help: "See what it tried in the audit log, and if it is an attacker or an unwanted scanner, deny it at the ingress with the `nginx.ingress.kubernetes.io/denylist-source-range` annotation. A private or loopback address is usually one's own test or a proxy whose real-IP setting is missing (the finding says so).",
              section: "waf", defaultSeverity: .warning),
        Check(id: "waf.crs_unconfigured", name: "CRSWithoutConfiguration",
              shortDescription: "The OWASP CRS runs without its configuration and denies every request",
              fullDescription: "Audit entries matched CRS rule 901001, which fires when crs-setup.conf was not loaded and denies the request with status 500. These entries are a broken deployment, not attacks.",
              help: "Copy crs-setup.conf.example to crs-setup.conf, include it before the CRS rules (`Include /etc/modsecurity/crs/crs-setup.conf`), reload the server, and check that `grep -c 901001 modsec_audit.log` stops growing.",
              section: "waf", defaultSeverity: .critical),
        Check(id: "waf.anomalous_ratio_rising", name: "AnomalousRequestRatioRising",
              shortDescription: "The anomalous-request ratio rose against the previous window",
              fullDescription: "The anomalous ratio is at or above the warning threshold and at least twice what it was in the window of equal length just before (--compare previous).",
              help: "Compare the top rules and clients with the previous window (`threat-report report --compare none --to START`), then read the audit entries of the new ones.",
              section: "waf", defaultSeverity: .warning),
        Check(id: "waf.new_top_clients", name: "NewTopClients",
              shortDescription: "New addresses among the top clients of anomalous requests",
              fullDescription: "Client addresses in this window's top clients of anomalous requests that were not among the previous window's.",
              help: "See what each new address tried: `jq -c 'select(.transaction.client_ip == \"ADDRESS\") | .transaction.request.uri' modsec_audit.log | head`, and deny it at the ingress if it is hostile.",
              section: "waf", defaultSeverity: .info),
        Check(id: "flows.dropped_ratio_rising", name: "DroppedFlowRatioRising",
              shortDescription: "The dropped-flow ratio rose against the previous window",
              fullDescription: "The dropped ratio is at or above the warning threshold and at least twice what it was in the window of equal length just before (--compare previous).",
              help: "List the new drops with `hubble observe --namespace NAMESPACE --verdict DROPPED`, and check whether a policy deployed in between explains them (`threat-report policy list`).",
              section: "flows", defaultSeverity: .warning),
        Check(id: "flows.drop_burst", name: "DropBurst",
              shortDescription: "A burst of dropped flows",
              fullDescription: "The peak dropped-flow rate of one interval is far above the window's median rate (a scan, a broken client or a policy change at that time). The value is a rate in flows per second.",
              help: "See who was dropped around the peak: `hubble observe --namespace NAMESPACE --verdict DROPPED --since WINDOW -o compact | sort | uniq -c | sort -rn | head`.",
              section: "flows", defaultSeverity: .warning),
        Check(id: "flows.policy_denied_dominant", name: "PolicyDeniedDominant",
              shortDescription: "Most drops are network-policy denials",
              fullDescription: "POLICY_DENIED is the dominant drop reason: policies, not the network, are refusing the traffic.",
              help: "Check that the refused traffic is unwanted with `hubble observe --verdict DROPPED --type policy-verdict`; if it is wanted, widen the policy shown in the Policies section.",
              section: "flows", defaultSeverity: .info),
        Check(id: "flows.no_metrics", name: "NoFlowMetrics",
              shortDescription: "Policies are enforced but no flow metrics arrive",
              fullDescription: "The namespace has enforced network policies, but Prometheus has no hubble_flows_processed_total series for it, so drops cannot be measured.",
              help: "Enable Hubble metrics with namespace context (the Cilium Helm values GitLab used), then check that the series exist with a `curl` to Prometheus' /api/v1/series.",
              section: "flows", defaultSeverity: .warning),
        Check(id: "flows.policy_audit_mode", name: "PolicyAuditMode",
              shortDescription: "Policy audit mode is on: policies do not enforce",
              fullDescription: "Hubble reported AUDIT verdicts for the namespace: flows a network policy would have dropped were let through because Cilium runs in policy audit mode (for the whole agent or for the endpoint). The value is the number of such flows.",
              help: "List them with `hubble observe --namespace NAMESPACE --verdict AUDIT`, allow the wanted ones, then disable audit mode: Helm value `policyAuditMode=false` or `policy-audit-mode: \"false\"` in the cilium-config ConfigMap, or `cilium endpoint config ID PolicyAuditMode=Disabled`.",
              section: "flows", defaultSeverity: .warning),
        Check(id: "policies.invalid", name: "InvalidNetworkPolicy",
              shortDescription: "A deployed network policy is not valid",
              fullDescription: "A CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy manifest does not parse or does not fit the policy schema, so it is not enforced as intended.",
              help: "Fix the manifest at the location shown, then check it with `kubectl apply --dry-run=server -f FILE`.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.disabled", name: "DisabledNetworkPolicy",
              shortDescription: "A deployed network policy is not enforced",
              fullDescription: "The policy's endpoint selector carries GitLab's network-policy.gitlab.com/disabled_by label, so it selects no pods and enforces nothing.",
              help: "Review it with `threat-report policy explain`, then enable it with `threat-report policy enable FILE --apply` or remove the label with `kubectl edit`.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.none", name: "NoNetworkPolicy",
              shortDescription: "A namespace with traffic has no enforced network policy",
              fullDescription: "The environment's namespace had flow traffic in the window, and no valid, enabled network policy selects its pods, so every pod accepts and sends any traffic.",
              help: "Start from GitLab's predefined policies (`threat-report policy predefined --namespace NAMESPACE`), or write one for your pods: `threat-report policy new --name web-ingress --namespace NAMESPACE --endpoint app=web --allow-from-labels app=frontend --ports 80/tcp --apply --dry-run=server`, then without --dry-run.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.world_ingress", name: "WorldIngressNetworkPolicy",
              shortDescription: "An enforced network policy admits inbound traffic from outside the cluster",
              fullDescription: "An allow rule of an enforced policy admits traffic from the `world` or `all` entity, from 0.0.0.0/0 or ::/0, or from any peer at all. Warning when it admits every port, info when it is limited to some ports.",
              help: "If only the ingress controller or some pods should reach the pods, allow them by labels instead: `threat-report policy new --name NAME --namespace NAMESPACE --allow-from-labels app.kubernetes.io/name=ingress-nginx --ports 80/tcp`, and check it with `threat-report policy explain FILE`.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.egress_open", name: "OpenEgress",
              shortDescription: "No network policy restricts outbound traffic",
              fullDescription: "No valid, enabled policy in the namespace puts its pods into default-deny for egress, so any pod may connect anywhere.",
              help: "GitLab's predefined drop-outbound policy denies all outbound traffic (`threat-report policy predefined drop-outbound --namespace NAMESPACE --enabled`); allow what the pods need with `threat-report policy new --name web-egress --namespace NAMESPACE --endpoint app=web --allow-to-fqdn api.example.com --ports 443/tcp`.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.unsupported_in_rule_mode", name: "PolicyOutsideRuleMode",
              shortDescription: "Network policies can be edited only as YAML in GitLab's policy editor",
              fullDescription: "Policies use constructs GitLab's policy editor rule mode cannot show (deny rules, L7 rules, CIDR sets with except, services, matchExpressions, the NetworkPolicy kind…); they work, but must be reviewed as YAML. One finding per environment lists them; the value is their number.",
              help: "Review what it does with `threat-report policy explain FILE` and keep editing it as YAML.",
              section: "policies", defaultSeverity: .info),
        Check(id: "policies.duplicate_name", name: "DuplicatePolicyName",
              shortDescription: "Two manifests define the same policy name in one namespace",
              fullDescription: "Two or more manifests of the policy source define the same kind and name in the same namespace. Kubernetes keeps one object per name, so only the manifest applied last is in force; the others describe policies that do not exist. The value is the number of manifests.",
              help: "Rename one of them or merge their rules, then check what is deployed with `kubectl -n NAMESPACE get networkpolicy NAME -o yaml` (or `ciliumnetworkpolicy`).",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.removed_since_last_run", name: "PolicyRemovedSinceLastRun",
              shortDescription: "A network policy was removed since the last run",
              fullDescription: "A policy listed in the previous report in the output folder is not in this run's policy set (matched by kind, namespace and name). Warning when it was enforced then, info when it was already disabled or invalid.",
              help: "If the removal was not intended, restore the manifest from version control or from the previous report's policies.items[].manifest, check it with `threat-report policy explain FILE`, apply it with `kubectl apply --dry-run=server -f FILE` and then without --dry-run, and find who deleted it in the API server's audit log.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.disabled_since_last_run", name: "PolicyDisabledSinceLastRun",
              shortDescription: "A network policy enforced in the last run is no longer enforced",
              fullDescription: "A policy that was valid and enabled in the previous report in the output folder now carries GitLab's network-policy.gitlab.com/disabled_by label, or its manifest is no longer valid, so it does not protect its pods.",
              help: "If that was not intended, enable it again with `threat-report policy enable FILE --apply --dry-run=server` and then without --dry-run, or fix the manifest the policies.invalid finding names.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "policies.uncovered_workload", name: "UncoveredWorkload",
              shortDescription: "A workload received connections and no network policy selects it for ingress",
              fullDescription: "A workload of the namespace, seen in the flow files with its labels, received new connections in the window, and no valid, enabled policy selects it for ingress while other policies are enforced in the namespace, so it accepts traffic from anywhere. The value is the number of connections it received.",
              help: "Write a policy that allows only its clients: `threat-report policy new --name NAME --namespace NAMESPACE --endpoint app=WORKLOAD --allow-from-labels app=CLIENT --ports PORT/tcp --disabled`, review it with `threat-report policy explain FILE`, then enable it.",
              section: "policies", defaultSeverity: .warning),
        Check(id: "input.unreadable", name: "InputUnreadable",
              shortDescription: "A configured source read input and could use none of it",
              fullDescription: "A WAF, flow or policy source was given input that was not empty (lines, documents, series or objects) and understood no record of it, so its section does not describe that input. The report is partial (exit 3) whatever --fail-on says. See docs/data-quality.md.",
              help: "Read the first skipped places in the coverage line under the section's heading and in the evidence appendix, then fix the input or its format setting, e.g. look at the first lines with `head -n 3 /var/log/nginx/access.log` and compare them with the formats in docs/waf.md; run `threat-report report --verbose` to see every skip reason.",
              section: "input", defaultSeverity: .critical),
        Check(id: "input.partially_read", name: "InputPartiallyRead",
              shortDescription: "A source skipped or could not attribute part of its input",
              fullDescription: "More than thresholds.max_skipped_share (default 1%) of an input's records were skipped (unreadable lines, broken documents, non-finite samples) or belonged to no environment, so the figures leave them out. See docs/data-quality.md.",
              help: "Look at the skip reasons and first places in the coverage line under the section's heading (e.g. `sed -n 12p FILE` for FILE:12); fix the input, or raise `thresholds.max_skipped_share` if the loss is expected.",
              section: "input", defaultSeverity: .warning),
        Check(id: "input.no_denominator", name: "RatioWithoutDenominator",
              shortDescription: "A ratio has records above the line and none below it",
              fullDescription: "The WAF logged anomalous requests while no request was counted (no access log configured, or none of its lines in the window and of the environment), so the anomalous ratio is n/a rather than 0%.",
              help: "Configure the access log beside the audit log (`access_log:` under `waf: files:`), or check that the ingress access logs reach Elasticsearch.",
              section: "input", defaultSeverity: .warning),
    ]

    /// The known checks, then any other finding id of the report in order of first appearance.
    public static func checks(for report: Report) -> [Check] {
        var out = known
        for f in report.findings where !out.contains(where: { $0.id == f.id }) {
            let section = String(f.id.split(separator: ".").first ?? "")
            let words = f.id.split(separator: ".").dropFirst().joined(separator: " ").replacingOccurrences(of: "_", with: " ")
            let area = ["waf": "WAF", "flows": "Network flows", "policies": "Network policies"][section] ?? section
            let short = Sanitize.text("\(area): \(words)", max: 200)
            out.append(Check(
                id: f.id, name: pascalCase(f.id), shortDescription: short,
                fullDescription: short + ". Each result's message gives the environment, the figures and what to do.",
                help: Sanitize.text(f.guidance, max: 1200), section: section, defaultSeverity: f.severity))
        }
        return out
    }

    /// `waf.anomalous_ratio` → `WafAnomalousRatio`.
    static func pascalCase(_ id: String) -> String {
        id.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The section status that decides whether `check` ran for `env`: nil for sections this version
    /// does not know (the check is then treated as having run).
    public static func status(of check: Check, in env: EnvironmentReport) -> (status: SectionStatus, error: String?)? {
        switch check.section {
        case "waf": (env.waf.status, env.waf.error)
        case "flows": (env.flows.status, env.flows.error)
        case "policies": (env.policies.status, env.policies.error)
        // The input checks read every section: they ran when any source answered.
        case "input": [env.waf.status, env.flows.status, env.policies.status].contains { $0 == .ok || $0 == .partial }
            ? (.ok, nil) : (.notConfigured, "no source answered for this environment")
        default: nil
        }
    }
}

/// A finding's value and threshold as people read them: ratios and shares (numbers within 0...1)
/// as whole percents, as GitLab showed them; rates (`unit: per_second`) as "249.3/s"; anything else
/// (a count) as a plain number.
public enum FindingFigures {
    /// `17% (threshold 5%)`, `249.3/s (threshold 3.05/s)`, or nil when the finding has no value.
    public static func text(_ f: Finding) -> String? {
        guard let v = f.value else { return nil }
        let ratio = f.unit == .ratio && (0...1).contains(v) && (f.threshold.map { (0...1).contains($0) } ?? true)
        func show(_ x: Double) -> String {
            if f.unit == .perSecond { return f.unit.format(x) }
            if ratio { return Percent.whole(x) }
            if x == x.rounded(), abs(x) < 1e15 { return NumberText.grouped(Int(x)) }
            var s = NumberText.fixed(x, abs(x) >= 100 ? 1 : 2)
            while s.contains("."), s.hasSuffix("0") { s.removeLast() }
            return s.hasSuffix(".") ? String(s.dropLast()) : s
        }
        return f.threshold.map { "\(show(v)) (threshold \(show($0)))" } ?? show(v)
    }
}
