import Foundation
import ThreatCharts
import ThreatModel

/// The policy audit page of an environment in report.pdf: the changes since the last run (policy
/// drift) and which policy selects each workload seen (coverage). One page per environment that
/// has either; what does not fit is in report.html and report.json.
extension PDFReport {
    /// The environments that get a policy page, in report order.
    var policyPageIndexes: [Int] {
        report.environments.indices.filter { report.environments[$0].policyDrift != nil || WorkloadCoverage.rows(report.environments[$0]) != nil }
    }

    func policyPage(_ env: EnvironmentReport) {
        startPage()
        var y = PDFStyle.top + 10
        doc.text("Policy audit: \(Sanitize.text(env.name, max: 80))", x: left, y: y, TextStyle(size: 16, bold: true), maxWidth: contentWidth)
        y += 18
        doc.text("Namespace \(Sanitize.text(env.namespace, max: 80))", x: left, y: y, PDFStyle.small, maxWidth: contentWidth)
        y += 14
        if let rows = PolicyCoverageView.rows(env) { y = coverageBlock(env, rows, y: y) }
        if let d = env.policyDrift, y < bottomLimit - 80 { y = driftBlock(d, y: y) }
    }

    func coverageBlock(_ env: EnvironmentReport, _ rows: [PolicyCoverageView.Row], y top: Double) -> Double {
        var y = heading("Policy coverage", y: top + 6)
        let summary = PolicyCoverageView.section(env)?.summary ?? ""
        y = paragraph([TextRun(summary)], x: left, y: y, width: contentWidth, PDFStyle.body, maxLines: 4) + 4
        guard !rows.isEmpty else { return y }
        // Leave room for the drift block below: at most half the page.
        let limit = min(bottomLimit - 40, y + (bottomLimit - y) / 2)
        let cells = rows.map { [$0.seen == "flows" ? $0.workload : "\($0.workload) (\($0.seen))", $0.ingress, $0.egress, $0.received] }
        let drawn: Int
        (y, drawn) = wrappedTable(header: ["Workload", "Ingress policies", "Egress policies", "Received"], rows: cells,
                                  widths: [0.22, 0.30, 0.30, 0.18], y: y, wrap: [0, 1, 2, 3], until: limit, lastRoom: 16)
        if drawn < rows.count {
            doc.text("… and \(rows.count - drawn) more workloads: see report.html or report.json.", x: left, y: y + 13, PDFStyle.small)
            y += 16
        }
        return y + 8
    }

    func driftBlock(_ d: PolicyDrift, y top: Double) -> Double {
        var y = heading("Policy changes since the last run", y: top + 6)
        y = paragraph([TextRun(PolicyDriftView.summary(d, time: time))], x: left, y: y, width: contentWidth, PDFStyle.body, maxLines: 3) + 4
        if let note = d.note, d.status != .noPreviousReport {
            y = paragraph([TextRun(Sanitize.text(note, max: 800))], x: left, y: y, width: contentWidth, PDFStyle.small, maxLines: 4) + 4
        }
        let rows = PolicyDriftView.rows(d)
        guard !rows.isEmpty else { return y }
        // One table row per differing line (the first carries the policy), so no line is cut.
        var cells: [[String]] = []
        for r in rows {
            let lines = r.details.isEmpty ? [""] : r.details
            for (i, line) in lines.enumerated() {
                cells.append(i == 0 ? [r.name, r.change, r.kind, line] : ["", "", "", line])
            }
        }
        let limit = bottomLimit - 40
        let drawn: Int
        (y, drawn) = wrappedTable(header: ["Name", "Change", "Kind", "What differs"], rows: cells, widths: [0.22, 0.12, 0.24, 0.42],
                                  y: y, wrap: [0, 1, 2, 3], until: limit, lastRoom: 16)
        if drawn < cells.count {
            doc.text("… and \(cells.count - drawn) more lines: see report.html or report.json.", x: left, y: y + 13, PDFStyle.small)
            y += 16
        }
        return y + 8
    }
}
