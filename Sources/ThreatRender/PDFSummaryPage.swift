import Foundation
import ThreatCharts
import ThreatModel

/// The summary page of `report.pdf`: title and window, finding counts, the environments, the
/// sources that failed, and the start of the findings list.
extension PDFReport {
    // MARK: Summary

    func summaryPage() {
        startPage()
        var y = summaryHeader()
        y = findingCountTiles(y: y)
        y = environmentsTable(y: y)
        y = failedSources(y: y)
        summaryFindings(y: y)
    }

    /// The title, the window and the status. Returns the y below them.
    func summaryHeader() -> Double {
        var y = PDFStyle.top + 14
        for line in doc.wrap([TextRun(Sanitize.text(report.title, max: 120))], maxWidth: contentWidth, PDFStyle.h1).prefix(2) {
            doc.draw(line, x: left, y: y, PDFStyle.h1)
            y += 25
        }
        y = paragraph([TextRun("Window \(time(report.window.from)) – \(time(report.window.to)) (\(WindowText.human(report.window)), \(report.window.interval.rawValue) buckets)")],
                      x: left, y: y, width: contentWidth, PDFStyle.body)
        y = paragraph([TextRun("Generated \(time(report.generatedAt)) by \(ToolInfo.name) \(report.toolVersion). Report status: \(PDFReport.statusText(report)).")],
                      x: left, y: y, width: contentWidth, PDFStyle.small)
        y += 14
        return y
    }

    /// The finding counts as three tiles, worst first.
    func findingCountTiles(y top: Double) -> Double {
        var y = top
        let gap = 10.0, tileW = (contentWidth - 2 * gap) / 3
        for (i, s) in Severity.allCases.reversed().enumerated() {
            let x = left + Double(i) * (tileW + gap)
            let n = report.findings.filter { $0.severity == s }.count
            doc.fillRect(x: x, y: y, width: tileW, height: 46, PDFStyle.tint)
            doc.fillRect(x: x, y: y, width: 4, height: 46, PDFStyle.color(s))
            doc.text("\(n)", x: x + 14, y: y + 30, TextStyle(size: 22, bold: true, color: n > 0 ? PDFStyle.color(s) : RGB(hex: 0x5E5E5E)))
            doc.text(s.rawValue.capitalized + (n == 1 ? " finding" : " findings"), x: x + 52, y: y + 27, PDFStyle.body)
        }
        y += 46 + 26
        return y
    }

    /// One line per environment (as many as fit), with its status badge.
    func environmentsTable(y top: Double) -> Double {
        var y = top
        y = heading("Environments", y: y)
        var rows: [[String]] = []
        var colors: [RGB] = []
        for env in report.environments {
            let worst = report.worstSeverity(for: env.name)
            rows.append([
                Sanitize.text(env.name, max: 80),
                report.isPartial(env) ? "PARTIAL" : (worst?.rawValue.uppercased() ?? "OK"),
                env.waf.value.map { NumberText.grouped($0.totalRequests) } ?? "–",
                env.waf.value.map(RatioText.anomalous) ?? "–",
                env.flows.value.map { NumberText.grouped($0.counts.total) } ?? "–",
                env.flows.value.map { RatioText.dropped($0.counts) } ?? "–",
                env.policies.value.map { "\($0.items.filter { $0.valid && $0.enabled }.count) of \($0.items.count)" } ?? "–",
                "\(report.findings(for: env.name).count)",
            ])
            colors.append(report.isPartial(env) ? PDFStyle.partial : PDFStyle.color(worst))
        }
        let maxRows = max(1, Int((bottomLimit - y - 200) / 16))
        let shown = Array(rows.prefix(maxRows))
        y = table(header: ["Environment", "Status", "Requests", "Anomalous", "Flows", "Dropped", "Enforced", "Findings"],
                  rows: shown, widths: [0.19, 0.13, 0.12, 0.11, 0.13, 0.10, 0.11, 0.11], y: y,
                  rightAligned: [2, 3, 4, 5, 6, 7], badgeColumn: 1, badgeColors: colors)
        if rows.count > shown.count {
            doc.text("… and \(rows.count - shown.count) more environments, each on its own page.", x: left, y: y + 13, PDFStyle.small)
            y += 16
        }
        y += 22
        return y
    }

    /// The sources that failed or read nothing usable.
    func failedSources(y top: Double) -> Double {
        var y = top
        var failed = report.environments.flatMap { e -> [String] in
            let sections: [(String, SectionStatus, String?)] = [("waf", e.waf.status, e.waf.error), ("flows", e.flows.status, e.flows.error),
                                                                ("policies", e.policies.status, e.policies.error)]
            return sections.filter { $0.1 == .unavailable || $0.1 == .partial }.map {
                "\(Sanitize.text(e.name, max: 60))/\($0.0) \($0.1 == .partial ? "possibly incomplete" : "unavailable"): \(Sanitize.text($0.2 ?? "", max: 300))"
            }
        }
        failed += report.findings.filter { $0.id == InputCheck.unreadable }.map { f in
            "\(Sanitize.text(f.environment, max: 60))/\(Sanitize.text(f.subject ?? "", max: 80)): \(Sanitize.text(f.title, max: 200))"
        }
        if !failed.isEmpty, y < bottomLimit - 80 {
            y = heading("Sources that failed", y: y)
            for f in failed.prefix(6) where y < bottomLimit - 60 {
                y = paragraph([TextRun(f)], x: left, y: y, width: contentWidth, PDFStyle.body) + 3
            }
            y += 12
        }
        return y
    }

    /// The start of the findings list, as much as fits on the summary page.
    func summaryFindings(y top: Double) {
        var y = top
        guard y < bottomLimit - 60 else { return }
        y = heading("Findings, worst first", y: y)
        if report.findings.isEmpty {
            doc.text("No findings in this window.", x: left, y: y, PDFStyle.body)
            return
        }
        let room = max(0, Int((bottomLimit - y - 14) / 15))
        for f in report.findings.prefix(room) {
            let w = badge(f.severity.rawValue.uppercased(), x: left, y: y, color: PDFStyle.color(f.severity))
            doc.text("\(Sanitize.text(f.environment, max: 60)): \(Sanitize.text(f.title, max: 200))", x: left + w + 8, y: y,
                     PDFStyle.body, maxWidth: contentWidth - w - 8)
            y += 15
        }
        let rest = report.findings.count - min(room, report.findings.count)
        doc.text(rest > 0 ? "… and \(rest) more. Details and guidance on the next pages." : "Details and guidance on the next pages.",
                 x: left, y: y + 2, PDFStyle.small)
    }
}
