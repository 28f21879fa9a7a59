import Foundation
import ThreatModel

/// `policies.uncovered_workload` (docs/policies.md, "Policy coverage"): a workload of the namespace
/// received new connections in the window, or runs (the Kubernetes pod list lists it, with 0 when
/// it received nothing), and no valid, enabled policy selects it for ingress, so
/// it accepts traffic from anywhere (default allow). Warning; one finding per workload, the ten
/// with most traffic, then one summary for the rest. Left out when the namespace has no enforced
/// policy at all (`policies.none` says so once), and for workloads whose flows carried no labels
/// (no selector can be matched: the coverage table says "unknown").
public enum PolicyCoverageFindings {
    static let perWorkload = 10

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        guard let rows = WorkloadCoverage.rows(env), let set = env.policies.value,
              set.items.contains(where: { $0.valid && $0.enabled }) else { return [] }
        let open = rows.filter(\.isOpen).sorted { $0.workload.received.total > $1.workload.received.total }
        var out: [Finding] = open.prefix(perWorkload).map { row in
            let w = row.workload, r = w.received
            let selector = ["app.kubernetes.io/name", "app", "k8s-app"].lazy.compactMap { k in w.labels[k].map { "\(k)=\($0)" } }.first
                ?? w.labels.filter { !WorkloadLabels.perPod.contains($0.key) }.sorted { $0.key < $1.key }.first.map { "\($0.key)=\($0.value)" }
                ?? "app=\(w.name)"
            let seen = row.source == .flows ? "" : " (seen in the \(row.source.text))"
            // The least-privilege policy this report suggests for the workload, when its flows gave one.
            let suggested = env.flows.value?.suggestions?.items.first { $0.workloads.contains(w.name) }?.file
            let traffic = row.trafficKnown
                ? "received \(PolicyFindings.grouped(r.total)) new connections in the window (\(PolicyFindings.grouped(r.forwarded)) forwarded, "
                    + "\(PolicyFindings.grouped(r.dropped)) dropped)"
                : "runs in the namespace (its traffic is not known: no flow file gives workloads)"
            return Finding(
                id: UncoveredWorkloadCheck.id, severity: .warning, environment: env.name,
                title: row.trafficKnown
                    ? "Workload \(w.name) received \(PolicyFindings.grouped(r.total)) connections and no policy selects it for ingress"
                    : "Workload \(w.name) runs and no policy selects it for ingress",
                value: Double(r.total),
                guidance: """
                \(w.name) in \(w.namespace)\(seen) (labels \(WorkloadLabels.shown(w.labels))) \
                \(traffic), and no valid, enabled policy selects it for ingress, so it accepts \
                traffic from anywhere. \(suggested.map { Self.nextStep(suggested: $0) } ?? Self.nextStep(workload: w.name, namespace: w.namespace, selector: selector))
                """, subject: w.name, unit: .count)
        }
        if open.count > perWorkload {
            let rest = open.dropFirst(perWorkload)
            out.append(Finding(
                id: UncoveredWorkloadCheck.id, severity: .warning, environment: env.name,
                title: rest.allSatisfy({ $0.workload.received.total > 0 })
                    ? "\(rest.count) more workloads in \(env.namespace) received connections and no policy selects them for ingress"
                    : "\(rest.count) more workloads in \(env.namespace) with no policy selecting them for ingress",
                value: Double(rest.count),
                guidance: """
                Also without an ingress policy: \(rest.prefix(20).map(\.workload.name).joined(separator: ", "))\(rest.count > 20 ? ", …" : ""). \
                The coverage table of the report lists each with its traffic; write policies for them with \
                `threat-report policy new --endpoint LABELS --allow-from-labels … --disabled`.
                """, unit: .count))
        }
        return out
    }

    /// What to do when the report suggests a policy for the workload: review, enable, apply.
    static func nextStep(suggested file: String) -> String {
        "This report suggests a least-privilege policy from the traffic it received, deployed disabled, in the "
            + "report's folder: `\(file)`. Review it with `threat-report policy explain \(file)`, enable it with "
            + "`threat-report policy enable \(file) --apply --dry-run=server` (checked by the API server, not stored), "
            + "then again without `--dry-run`."
    }

    /// What to do without a suggestion: write a policy for its clients.
    static func nextStep(workload: String, namespace: String, selector: String) -> String {
        "Allow only its clients, e.g. `threat-report policy new --name \(workload)-ingress --namespace \(namespace) "
            + "--endpoint \(selector) --allow-from-labels app=CLIENT --ports PORT/tcp --disabled`, review it with "
            + "`threat-report policy explain FILE`, then enable it."
    }
}
