import Foundation
import ThreatModel

/// `policies.removed_since_last_run`: a policy of the previous report in the output folder is gone.
public enum PolicyRemovedSinceLastRunCheck: Check {
    public static let description = CheckDescription(
        id: "policies.removed_since_last_run", name: "PolicyRemovedSinceLastRun",
        shortDescription: "A network policy was removed since the last run",
        fullDescription: "A policy listed in the previous report in the output folder is not in this run's policy set (matched by kind, namespace and name). Warning when it was enforced then, info when it was already disabled or invalid.",
        help: "If the removal was not intended, restore the manifest from version control or from the previous report's policies.items[].manifest, check it with `threat-report policy explain FILE`, apply it with `kubectl apply --dry-run=server -f FILE` and then without --dry-run, and find who deleted it in the API server's audit log.",
        section: "policies", defaultSeverity: .warning, severities: [.info, .warning])

    public static func findings(in context: CheckContext) -> [Finding] {
        PolicyDriftFindings.findings(for: context.environment).filter { $0.id == id }
    }
}

/// `policies.disabled_since_last_run`: a policy enforced in the previous report no longer is.
public enum PolicyDisabledSinceLastRunCheck: Check {
    public static let description = CheckDescription(
        id: "policies.disabled_since_last_run", name: "PolicyDisabledSinceLastRun",
        shortDescription: "A network policy enforced in the last run is no longer enforced",
        fullDescription: "A policy that was valid and enabled in the previous report in the output folder now carries GitLab's network-policy.gitlab.com/disabled_by label, or its manifest is no longer valid, so it does not protect its pods.",
        help: "If that was not intended, enable it again with `threat-report policy enable FILE --apply --dry-run=server` and then without --dry-run, or fix the manifest the policies.invalid finding names.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        PolicyDriftFindings.findings(for: context.environment).filter { $0.id == id }
    }
}

/// `policies.uncovered_workload`: a workload seen in the flows that no policy selects for ingress.
public enum UncoveredWorkloadCheck: Check {
    public static let description = CheckDescription(
        id: "policies.uncovered_workload", name: "UncoveredWorkload",
        shortDescription: "A workload received connections and no network policy selects it for ingress",
        fullDescription: "A workload of the namespace, seen in the flow files with its labels and having received new connections in the window, or listed by the Kubernetes pod list (whatever its traffic), is selected for ingress by no valid, enabled policy while other policies are enforced in the namespace, so it accepts traffic from anywhere. The value is the number of connections it received (0 when none).",
        help: "Write a policy that allows only its clients: `threat-report policy new --name NAME --namespace NAMESPACE --endpoint app=WORKLOAD --allow-from-labels app=CLIENT --ports PORT/tcp --disabled`, review it with `threat-report policy explain FILE`, then enable it.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        PolicyCoverageFindings.findings(for: context.environment)
    }
}
