import Foundation
import ThreatModel

/// The "Policy coverage" table of an environment (HTML, Markdown, PDF): each workload seen in the
/// flow files or the Kubernetes pod list, where it was seen, the policies that select it for ingress and egress, or "none (default allow)", and
/// the traffic it received. Strings are sanitised here.
enum PolicyCoverageView {
    struct Row: Sendable, Equatable {
        var workload: String
        var labels: String
        var ingress: String
        var egress: String
        var received: String
        /// A workload no policy selects for ingress, while it received traffic or runs (pod list).
        var open: Bool
        /// `flows`, `pod list`, `flows and pod list`.
        var seen: String = "flows"
    }

    /// The most rows shown (report.json has them all).
    static let maxRows = 200

    static func policies(_ names: [String], known: Bool) -> String {
        guard known else { return "unknown (no labels in the flows)" }
        return names.isEmpty ? "none (default allow)" : names.map { Sanitize.text($0, max: 120) }.joined(separator: ", ")
    }

    static func rows(_ env: EnvironmentReport) -> [Row]? {
        guard let rows = WorkloadCoverage.rows(env) else { return nil }
        return rows.prefix(maxRows).map { r in
            let w = r.workload
            return Row(workload: Sanitize.text(w.name, max: 120),
                       labels: Sanitize.text(WorkloadLabels.shown(w.labels), max: 300),
                       ingress: policies(r.ingress, known: r.labelsKnown), egress: policies(r.egress, known: r.labelsKnown),
                       received: !r.trafficKnown ? "not known (the flows give no workloads)"
                           : w.received.dropped > 0 ? "\(NumberText.grouped(w.received.total)) (\(NumberText.grouped(w.received.dropped)) dropped)"
                           : NumberText.grouped(w.received.total),
                       open: r.isOpen, seen: r.source.text)
        }
    }

    /// The template values (HTML, Markdown): the stored property names are the template keys.
    struct Section: Sendable {
        let rows: [RowView]
        let has_rows: Bool
        let summary: String
        let more: String?
    }

    struct RowView: Sendable {
        let workload: String
        let labels: String
        let ingress: String
        let egress: String
        let received: String
        let tone: String
        let seen: String
    }

    /// `workloads from …` → `Workloads from …`.
    static func sentence(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    static func section(_ env: EnvironmentReport) -> Section? {
        let podList = env.policies.value?.podList
        guard let all = WorkloadCoverage.rows(env), let rows = rows(env) else {
            // Neither source gave workloads, but the pod list was asked for: say what became of it.
            guard let podList, env.policies.value != nil else { return nil }
            return Section(rows: [], has_rows: false, summary: Sanitize.text(sentence(podList.statement) + ".", max: 800), more: nil)
        }
        let open = all.filter(\.isOpen).count
        let summary: String
        if let podList {
            let count = { (s: WorkloadSource) in all.filter { $0.source == s }.count }
            summary = "\(CoverageText.plural(all.count, "workload")) (\(count(.flows)) seen in the flows only, \(count(.podList)) in the pod list only, "
                + "\(count(.both)) in both); \(open) with no policy selecting them for ingress. "
                + Sanitize.text(sentence(podList.statement), max: 600) + "."
        } else {
            summary = all.isEmpty ? "The flow files name no workload of this namespace."
                : "\(CoverageText.plural(all.count, "workload")) seen in the flows; \(open) received connections with no policy selecting them for ingress."
        }
        return Section(
            rows: rows.map { RowView(workload: $0.workload, labels: $0.labels, ingress: $0.ingress, egress: $0.egress,
                                     received: $0.received, tone: $0.open ? "warning" : "ok", seen: $0.seen) },
            has_rows: !rows.isEmpty,
            summary: summary,
            more: all.count > rows.count ? "… and \(all.count - rows.count) more workloads: see report.json." : nil)
    }
}
