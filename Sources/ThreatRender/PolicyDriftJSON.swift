import Foundation
import ThreatModel

// The policy drift in report.json: `policies.drift` of each environment, and the fingerprint kept
// on each policy item so that the next run can compare (docs/design.md, docs/policies.md).
extension ReportJSON {
    /// `{"digest": "…", "rules": ["ingress from app=frontend port 8080/TCP", …], "total": N}`; null when not computed.
    static func fingerprint(_ f: PolicyFingerprint?) -> JSONValue {
        guard let f else { return .null }
        return .object([("digest", .string(f.digest)), ("rules", .array(f.lines.map { .string($0) })), ("total", n(f.total))])
    }

    static func drift(_ d: PolicyDrift?) -> JSONValue {
        guard let d else { return .null }
        func entry(_ e: PolicyDriftEntry) -> JSONValue {
            .object([("kind", .string(e.kind)), ("name", .string(e.name)), ("namespace", opt(e.namespace)),
                     ("enabled", .bool(e.enabled)), ("details", .array(e.details.map { .string($0) })),
                     ("details_complete", .bool(e.detailsComplete))])
        }
        return .object([
            ("status", .string(d.status.rawValue)), ("note", opt(d.note)),
            ("previous_generated_at", d.previousGeneratedAt.map(t) ?? .null), ("previous_sha256", opt(d.previousSHA256)),
            ("added", .array(d.added.map(entry))), ("removed", .array(d.removed.map(entry))), ("changed", .array(d.changed.map(entry))),
            ("enforcement", .array(d.enforcement.map { c in .object([
                ("kind", .string(c.kind)), ("name", .string(c.name)), ("namespace", opt(c.namespace)),
                ("from", .string(c.from.rawValue)), ("to", .string(c.to.rawValue)),
            ]) })),
            ("unchanged", n(d.unchanged)),
        ])
    }

    /// A section object with more keys at its end.
    static func appending(_ value: JSONValue, _ pairs: [(String, JSONValue)]) -> JSONValue {
        guard case let .object(o) = value else { return value }
        return .object(o + pairs)
    }
}

extension ReportJSON {
    /// `policies.workload_coverage`: per workload seen in the flow files or the pod list (`source`),
    /// the enforced policies that select it for ingress and for egress, and its traffic (null when
    /// no flow file gave workloads); null when neither gave workloads or the policies
    /// were not read (docs/policies.md, "Policy coverage").
    static func workloadCoverage(_ env: EnvironmentReport) -> JSONValue {
        guard let rows = WorkloadCoverage.rows(env) else { return .null }
        func counts(_ c: FlowCounts, _ known: Bool) -> JSONValue {
            guard known else { return .null }
            return .object([("total", n(c.total)), ("forwarded", n(c.forwarded)), ("dropped", n(c.dropped)), ("verdicts", verdicts(c))])
        }
        return .array(rows.map { r in .object([
            ("workload", .string(r.workload.name)), ("namespace", .string(r.workload.namespace)),
            ("labels", .object(r.workload.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("labels_known", .bool(r.labelsKnown)),
            ("ingress_policies", .array(r.ingress.map { .string($0) })), ("egress_policies", .array(r.egress.map { .string($0) })),
            ("received", counts(r.workload.received, r.trafficKnown)), ("sent", counts(r.workload.sent, r.trafficKnown)),
            ("source", .string(r.source.rawValue)),
        ]) })
    }

    /// `policies.pod_list`: what the Kubernetes pod list gave coverage, or why it was not read;
    /// null when it was not asked for (another policy source, or `pods: false`).
    static func podList(_ env: EnvironmentReport) -> JSONValue {
        guard let p = env.policies.value?.podList else { return .null }
        return .object([
            ("status", .string(p.notRead == nil ? "read" : "not_read")), ("statement", .string(p.statement)), ("reason", opt(p.notRead)),
            ("pods", n(p.pods)), ("finished_pods", n(p.finished)), ("unreadable_items", n(p.unreadable)),
            ("workloads", .array(p.workloads.map { w in .object([
                ("name", .string(w.name)), ("labels", .object(w.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ("pods", n(w.pods)),
            ]) })),
        ])
    }
}
