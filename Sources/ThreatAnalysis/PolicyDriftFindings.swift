import Foundation
import ThreatModel

/// The drift checks of one environment (docs/policies.md, "Policy drift"). Pure: they read the
/// drift the pipeline attached from the previous report in the output folder.
///
/// - `policies.removed_since_last_run`: a policy of the previous report is gone. Warning when it
///   was enforced then (the protection it gave is lost), info when it was already disabled or
///   invalid (nothing enforced was lost, the audit trail still records it).
/// - `policies.disabled_since_last_run`: a policy enforced in the previous report is now disabled
///   (GitLab's disabled_by label) or invalid, so it no longer protects its pods (warning).
public enum PolicyDriftFindings {
    public static var removed: String { PolicyRemovedSinceLastRunCheck.id }
    public static var disabled: String { PolicyDisabledSinceLastRunCheck.id }

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        guard let drift = env.policyDrift, drift.status == .compared else { return [] }
        let since = drift.previousGeneratedAt.map { " (report of \(RFC3339.format($0)))" } ?? ""
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
