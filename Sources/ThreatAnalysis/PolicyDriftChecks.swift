import Foundation
import ThreatModel

// The drift checks of one environment (docs/policies.md, "Policy drift"). Pure: they read the
// drift the pipeline attached from the previous report in the output folder, and find nothing
// unless it was compared.

/// `policies.removed_since_last_run`: a policy of the previous report in the output folder is gone.
/// Warning when it was enforced then (the protection it gave is lost), info when it was already
/// disabled or invalid (nothing enforced was lost; the audit trail still records it).
public enum PolicyRemovedSinceLastRunCheck: Check {
    public static let description = CheckDescription(
        id: "policies.removed_since_last_run", name: "PolicyRemovedSinceLastRun",
        shortDescription: "A network policy was removed since the last run",
        fullDescription: "A policy listed in the previous report in the output folder is not in this run's policy set (matched by kind, namespace and name). Warning when it was enforced then, info when it was already disabled or invalid.",
        help: "If the removal was not intended, restore the manifest from version control or from the previous report's policies.items[].manifest, check it with `threat-report policy explain FILE`, apply it with `kubectl apply --dry-run=server -f FILE` and then without --dry-run, and find who deleted it in the API server's audit log.",
        section: "policies", defaultSeverity: .warning, severities: [.info, .warning])

    public static func findings(in context: CheckContext) -> [Finding] { findings(for: context.environment) }

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        guard let drift = env.policyDrift, drift.status == .compared else { return [] }
        let since = drift.since
        var out: [Finding] = []
        for p in drift.removed {
            let ns = p.namespace ?? env.namespace
            let lost = p.details.prefix(3).map { String($0.dropLast(" removed".count)) }
            let what = lost.isEmpty ? "" : " It had: \(lost.joined(separator: "; "))\(p.details.count > 3 ? "; …" : "")."
            out.append(Finding(
                id: PolicyRemovedSinceLastRunCheck.id, severity: p.enabled ? .warning : .info, environment: env.name,
                title: "Policy \(p.name) was removed since the last run" + (p.enabled ? "" : " (it was not enforced)"),
                guidance: """
                \(p.kind) \(p.name) in \(ns) was in the previous report\(since) and is not in this one.\(what) \
                If the removal was not intended, restore it from version control or from the previous report's \
                manifest, check it with `threat-report policy explain FILE` and apply it with \
                `kubectl apply --dry-run=server -f FILE`, then without --dry-run; find who removed it in the API \
                server's audit log (`delete` of \(FindingAnalyzer.kubectlResource(PolicyKind(rawValue: p.kind))) \(p.name)).
                """, subject: p.name))
        }
        return out
    }
}

/// `policies.disabled_since_last_run`: a policy enforced in the previous report no longer is: it is
/// disabled (GitLab's disabled_by label) or invalid, so it does not protect its pods (warning).
public enum PolicyDisabledSinceLastRunCheck: Check {
    public static let description = CheckDescription(
        id: "policies.disabled_since_last_run", name: "PolicyDisabledSinceLastRun",
        shortDescription: "A network policy enforced in the last run is no longer enforced",
        fullDescription: "A policy that was valid and enabled in the previous report in the output folder now carries GitLab's network-policy.gitlab.com/disabled_by label, or its manifest is no longer valid, so it does not protect its pods.",
        help: "If that was not intended, enable it again with `threat-report policy enable FILE --apply --dry-run=server` and then without --dry-run, or fix the manifest the policies.invalid finding names.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] { findings(for: context.environment) }

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        guard let drift = env.policyDrift, drift.status == .compared else { return [] }
        let since = drift.since
        var out: [Finding] = []
        for c in drift.enforcement where c.from == .enforced {
            let ns = c.namespace ?? env.namespace
            let why = c.to == .disabled
                ? "its selector now carries \(gitlabDisabledByLabel), so it selects no pods"
                : "its manifest is no longer valid, so it is not enforced as written"
            let fix = c.to == .disabled
                ? "If that was not intended, enable it again with `threat-report policy enable FILE --apply --dry-run=server`, then without --dry-run."
                : "Fix the manifest (the `policies.invalid` finding names the place) and check it with `threat-report policy explain FILE`."
            out.append(Finding(
                id: PolicyDisabledSinceLastRunCheck.id, severity: .warning, environment: env.name,
                title: "Policy \(c.name) was enforced in the last run and is now \(c.to.rawValue)",
                guidance: """
                \(c.kind) \(c.name) in \(ns) was enforced in the previous report\(since); \(why). \(fix) \
                Check what is deployed with `kubectl -n \(ns) get \(FindingAnalyzer.kubectlResource(PolicyKind(rawValue: c.kind))) \(c.name) -o yaml`.
                """, subject: c.name))
        }
        return out
    }
}

/// `policies.uncovered_workload`: a workload seen in the flows that no policy selects for ingress.
public enum UncoveredWorkloadCheck: Check {
    public static let description = CheckDescription(
        id: "policies.uncovered_workload", name: "UncoveredWorkload",
        shortDescription: "A workload received connections and no network policy selects it for ingress",
        fullDescription: "A workload of the namespace, seen in the flow files with its labels and having received new connections in the window, or listed by the Kubernetes pod list (whatever its traffic), is selected for ingress by no valid, enabled policy while other policies are enforced in the namespace, so it accepts traffic from anywhere. The value is the number of connections it received (0 when none).",
        help: "Review the least-privilege policy the report suggests for it from its flows (`suggested-policies/ENVIRONMENT/WORKLOAD.yaml` in the report's folder, deployed disabled) with `threat-report policy explain FILE`, then enable it with `threat-report policy enable FILE --apply --dry-run=server` and again without `--dry-run`. Without a suggestion, write a policy that allows only its clients: `threat-report policy new --name NAME --namespace NAMESPACE --endpoint app=WORKLOAD --allow-from-labels app=CLIENT --ports PORT/tcp --disabled`, review it with `threat-report policy explain FILE`, then enable it.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        PolicyCoverageFindings.findings(for: context.environment)
    }
}

extension PolicyDrift {
    /// " (report of <time>)" when the previous report says when it was made.
    var since: String { previousGeneratedAt.map { " (report of \(RFC3339.format($0)))" } ?? "" }
}
