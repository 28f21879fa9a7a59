import Foundation
import ThreatModel

/// The "Policy coverage" table of an environment (HTML, Markdown, PDF): each workload seen in the
/// flow files, the policies that select it for ingress and egress, or "none (default allow)", and
/// the traffic it received. Strings are sanitised here.
enum PolicyCoverageView {
    struct Row: Sendable, Equatable {
        var workload: String
        var labels: String
        var ingress: String
        var egress: String
        var received: String
        /// A workload no policy selects for ingress, while it received traffic.
        var open: Bool
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
                       labels: Sanitize.text(w.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "), max: 300),
                       ingress: policies(r.ingress, known: r.labelsKnown), egress: policies(r.egress, known: r.labelsKnown),
                       received: w.received.dropped > 0 ? "\(NumberText.grouped(w.received.total)) (\(NumberText.grouped(w.received.dropped)) dropped)"
                           : NumberText.grouped(w.received.total),
                       open: r.labelsKnown && r.ingress.isEmpty && w.received.total > 0)
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
    }

    static func section(_ env: EnvironmentReport) -> Section? {
        guard let all = WorkloadCoverage.rows(env), let rows = rows(env) else { return nil }
        let open = all.filter { $0.labelsKnown && $0.ingress.isEmpty && $0.workload.received.total > 0 }.count
        return Section(
            rows: rows.map { RowView(workload: $0.workload, labels: $0.labels, ingress: $0.ingress, egress: $0.egress,
                                     received: $0.received, tone: $0.open ? "warning" : "ok") },
            has_rows: !rows.isEmpty,
            summary: all.isEmpty ? "The flow files name no workload of this namespace."
                : "\(CoverageText.plural(all.count, "workload")) seen in the flows; \(open) received connections with no policy selecting them for ingress.",
            more: all.count > rows.count ? "… and \(all.count - rows.count) more workloads: see report.json." : nil)
    }
}
