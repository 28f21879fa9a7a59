import Foundation
import ThreatCharts
import ThreatModel

/// The three kinds of page of `report.pdf`: summary, findings, environment.
extension PDFReport {
    // MARK: Findings

    /// One finding laid out: its wrapped lines, measured.
    struct FindingBlock {
        var finding: Finding
        var title: [[TextRun]]
        var meta: String
        var guidance: [[TextRun]]
        var height: Double
    }

    static let badgeWidth = 62.0

    func paginateFindings() -> [[FindingBlock]] {
        let textX = Self.badgeWidth + 8
        let blocks = report.findings.map { f -> FindingBlock in
            let title = doc.wrap([TextRun(Sanitize.text(f.title, max: 200))], maxWidth: contentWidth - textX, PDFStyle.strong)
            var meta = "\(Sanitize.text(f.environment, max: 80))"
            if let env = report.environments.first(where: { $0.name == f.environment }) { meta += " · namespace \(Sanitize.text(env.namespace, max: 80))" }
            if let figures = FindingFigures.text(f) { meta += " · \(figures)" }
            if let s = f.subject { meta += " · \(Sanitize.text(s, max: 120))" }
            let guidance = doc.wrap(TextRun.parse(backticked: Sanitize.text(f.guidance, max: 1200)), maxWidth: contentWidth - textX, PDFStyle.body)
            let h = Double(title.count) * 14 + 14 + 14 + Double(guidance.count) * 12.8 + 18
            return FindingBlock(finding: f, title: title, meta: meta, guidance: guidance, height: h)
        }
        var pages: [[FindingBlock]] = []
        var current: [FindingBlock] = []
        var used = 0.0
        let firstRoom = bottomLimit - PDFStyle.top - 34, room = bottomLimit - PDFStyle.top
        for b in blocks {
            let limit = pages.isEmpty ? firstRoom : room
            if used + b.height > limit, !current.isEmpty {
                pages.append(current)
                current = []
                used = 0
            }
            current.append(b)
            used += b.height
        }
        if !current.isEmpty { pages.append(current) }
        return pages
    }

    func findingsPage(_ blocks: [FindingBlock], first: Bool) {
        startPage()
        var y = PDFStyle.top
        if first {
            y = heading("Findings, worst first", y: y + 4) + 8
        }
        let textX = left + Self.badgeWidth + 8
        for b in blocks {
            badge(b.finding.severity.rawValue.uppercased(), x: left, y: y + 1, color: PDFStyle.color(b.finding.severity))
            for line in b.title {
                doc.draw(line, x: textX, y: y + 1, PDFStyle.strong)
                y += 14
            }
            doc.text(b.meta, x: textX, y: y + 1, PDFStyle.small, maxWidth: contentWidth - Self.badgeWidth - 8)
            y += 14
            doc.text("What to do next", x: textX, y: y + 1, PDFStyle.label)
            y += 14
            for line in b.guidance {
                doc.draw(line, x: textX, y: y, PDFStyle.body)
                y += 12.8
            }
            y += 4
            doc.line(x0: left, y0: y, x1: left + contentWidth, y1: y, PDFStyle.rule, lineWidth: 0.5)
            y += 14
        }
    }

    // MARK: Environment

    func environmentPage(_ env: EnvironmentReport, index: Int) {
        startPage()
        var y = environmentHeader(env)
        y = figurePanels(env, y: y)
        y = environmentNotes(env, y: y)
        y = charts(index: index, y: y, policyRows: env.policies.value?.items.count ?? 0) + 8
        policyTable(env, y: y)
    }

    /// The environment's name, status badge, namespace, hosts and finding count. Returns the y below.
    func environmentHeader(_ env: EnvironmentReport) -> Double {
        var y = PDFStyle.top + 8
        let worst = report.worstSeverity(for: env.name)
        let partial = report.isPartial(env)
        let status = partial ? "PARTIAL" : (worst?.rawValue.uppercased() ?? "OK")
        let bw = badgeWidth(status)
        badge(status, x: left + contentWidth - bw, y: y - 3, color: partial ? PDFStyle.partial : PDFStyle.color(worst))
        doc.text("Environment: \(Sanitize.text(env.name, max: 80))", x: left, y: y, TextStyle(size: 16, bold: true), maxWidth: contentWidth - bw - 12)
        y += 16
        var sub = "Namespace \(Sanitize.text(env.namespace, max: 80))"
        if !env.hosts.isEmpty { sub += " · hosts \(env.hosts.map { Sanitize.text($0, max: 120) }.joined(separator: ", "))" }
        sub += " · " + CoverageText.plural(report.findings(for: env.name).count, "finding")
        doc.text(sub, x: left, y: y, PDFStyle.small, maxWidth: contentWidth)
        y += 16
        return y
    }

    /// Three figure panels: WAF, flows, policies (or why a section has no figures).
    func figurePanels(_ env: EnvironmentReport, y top: Double) -> Double {
        var y = top
        let gap = 10.0, panelW = (contentWidth - 2 * gap) / 3, panelH = 62.0
        let panels: [(String, [(String, String)], String?)] = [
            ("WAF", env.waf.value.map { w in [("Requests", NumberText.grouped(w.totalRequests)),
                                             ("Anomalous (\(RatioText.anomalous(w)))", NumberText.grouped(w.anomalousRequests))] } ?? [],
             sectionNote(env.waf.status, env.waf.error, notConfigured: "Web application firewall not detected")),
            ("Flows", env.flows.value.map { f in [("Flows", NumberText.grouped(f.counts.total)),
                                                 ("Dropped (\(RatioText.dropped(f.counts)))", NumberText.grouped(f.counts.dropped))] } ?? [],
             sectionNote(env.flows.status, env.flows.error, notConfigured: "No flow source configured")),
            ("Policies", env.policies.value.map { p in [("Enforced", "\(p.items.filter { $0.valid && $0.enabled }.count) of \(p.items.count)"),
                                                       ("Invalid / disabled", "\(p.items.filter { !$0.valid }.count) / \(p.items.filter { $0.valid && !$0.enabled }.count)")] } ?? [],
             sectionNote(env.policies.status, env.policies.error, notConfigured: "No policy source configured")),
        ]
        for (i, panel) in panels.enumerated() {
            let x = left + Double(i) * (panelW + gap)
            doc.fillRect(x: x, y: y, width: panelW, height: panelH, PDFStyle.tint)
            doc.text(panel.0.uppercased(), x: x + 8, y: y + 13, PDFStyle.label)
            if let note = panel.2 {
                paragraph([TextRun(note)], x: x + 8, y: y + 28, width: panelW - 16, PDFStyle.small, maxLines: 3)
            } else {
                for (k, figure) in panel.1.enumerated() {
                    let fy = y + 29 + Double(k) * 17
                    let valueStyle = TextStyle(size: 10, bold: true)
                    let valueW = min(doc.width(figure.1, valueStyle), panelW * 0.6)
                    doc.text(figure.0, x: x + 8, y: fy, PDFStyle.small, maxWidth: panelW - 16 - valueW - 6)
                    doc.text(figure.1, x: x + panelW - 8, y: fy, valueStyle, align: .right, maxWidth: panelW * 0.6)
                }
            }
        }
        y += panelH + 14
        return y
    }

    /// The flow verdicts and denying policies, the caveats of failed sources, and what each source
    /// read (docs/data-quality.md).
    func environmentNotes(_ env: EnvironmentReport, y top: Double) -> Double {
        var y = top
        if let f = env.flows.value, f.counts.total > 0 {
            var line = "Flow verdicts: " + f.counts.byVerdict.filter { $0.count > 0 }
                .map { "\(NumberText.grouped($0.count)) \($0.verdict)" }.joined(separator: " · ")
            if !f.topDenyingPolicies.isEmpty {
                line += ". Denying policies: " + f.topDenyingPolicies.prefix(3)
                    .map { "\(Sanitize.text($0.key, max: 120)) (\(NumberText.grouped($0.count)))" }.joined(separator: ", ")
            }
            y = paragraph([TextRun(line)], x: left, y: y, width: contentWidth, PDFStyle.small, maxLines: 3) + 4
        }
        let caveats: [(String, SectionStatus, String?)] = [("WAF", env.waf.status, env.waf.error), ("Flows", env.flows.status, env.flows.error),
                                                           ("Policies", env.policies.status, env.policies.error)]
        for c in caveats where c.1 == .partial || c.1 == .unavailable {
            let what = c.1 == .partial ? "figures may be incomplete" : "source unavailable"
            y = paragraph([TextRun("\(c.0) \(what): \(Sanitize.text(c.2 ?? "", max: 600))")], x: left, y: y, width: contentWidth, PDFStyle.small,
                          maxLines: 4) + 4
        }

        // What each source read (docs/data-quality.md).
        for (name, coverage) in [("WAF", env.waf.coverage), ("Flows", env.flows.coverage), ("Policies", env.policies.coverage)] {
            guard let coverage else { continue }
            y = paragraph([TextRun("\(name) read: " + Sanitize.text(CoverageText.line(coverage), max: 600))], x: left, y: y,
                          width: contentWidth, PDFStyle.small, maxLines: 3) + 2
        }
        y += 4
        return y
    }

    /// The network policies, as many as fit.
    func policyTable(_ env: EnvironmentReport, y top: Double) {
        var y = top
        guard let policies = env.policies.value, !policies.items.isEmpty, y < bottomLimit - 50 else { return }
        y = heading("Network policies", y: y + 6)
        let items = policies.items
        let rows = items.map { p in
            [Sanitize.text(p.name, max: 120), Sanitize.text(p.kind?.rawValue ?? p.kindText, max: 64),
             !p.valid ? "INVALID" : p.enabled ? "ENFORCED" : "DISABLED",
             "\(p.rules.ingress) in / \(p.rules.egress) out" + (p.rules.ingressDeny + p.rules.egressDeny > 0 ? " / \(p.rules.ingressDeny + p.rules.egressDeny) deny" : ""),
             Sanitize.text((p.origin as NSString).lastPathComponent, max: 200)]
        }
        let colors = items.map { p in !p.valid ? PDFStyle.color(.critical) : p.enabled ? PDFStyle.color(nil) : PDFStyle.color(.warning) }
        // Names wrap rather than being cut: two policies may differ only in their last characters.
        let drawn: Int
        (y, drawn) = wrappedTable(header: ["Name", "Kind", "Status", "Rules", "Source"], rows: rows, widths: [0.30, 0.24, 0.13, 0.13, 0.20],
                                  y: y, wrap: [0, 1, 4], badgeColumn: 2, badgeColors: colors, until: bottomLimit - 18, lastRoom: 16)
        if drawn < policies.items.count {
            doc.text("… and \(CoverageText.plural(policies.items.count - drawn, "more policy", "more policies")): see report.html or report.json.",
                     x: left, y: y + 13, PDFStyle.small)
        }
    }

    /// The environment's charts, drawn from the same specs as the PNG/SVG files: time series at
    /// full width, bar charts two to a row, all shrunk together when they would not leave room for
    /// (up to six rows of) the policy table. Returns the y below them.
    func charts(index: Int, y top: Double, policyRows: Int) -> Double {
        let specs = context.charts.filter { $0.environmentIndex == index }.compactMap(\.spec)
        let series = specs.filter { if case .timeSeries = $0 { true } else { false } }
        let bars = specs.compactMap { spec -> ChartSpec? in
            guard case var .bar(b) = spec else { return nil }
            if b.bars.count > Self.maxBars {
                b.title += " – top \(Self.maxBars) of \(b.bars.count)"
                b.bars = Array(b.bars.prefix(Self.maxBars))
            }
            return .bar(b)
        }
        let gap = 10.0, seriesH = 170.0, columnW = (contentWidth - gap) / 2, barSpecW = 360
        let barRows = stride(from: 0, to: bars.count, by: 2).map { Array(bars[$0..<min($0 + 2, bars.count)]) }
        let rowHeights = barRows.map { row in row.map { Double($0.height) * columnW / Double(barSpecW) }.max() ?? 0 }
        let natural = Double(series.count) * (seriesH + gap) + rowHeights.reduce(0) { $0 + $1 + gap }
        let reserve = policyRows == 0 ? 0 : 22 + 16 + 16 * Double(min(policyRows, 6)) + 30
        let shrink = natural > 0 ? min(1, max(0.4, (bottomLimit - top - reserve) / natural)) : 1
        var y = top
        for spec in series {
            let h = seriesH * shrink
            let sized = spec.resized(width: 620, height: Int((620 * h / contentWidth).rounded()))
            y += doc.draw(sized, x: left, y: y, width: contentWidth, height: h) + gap
        }
        for (row, height) in zip(barRows, rowHeights) {
            for (k, spec) in row.enumerated() {
                let sized = spec.resized(width: barSpecW, height: spec.height)
                doc.draw(sized, x: left + Double(k) * (columnW + gap), y: y, width: columnW, height: height * shrink)
            }
            y += height * shrink + gap
        }
        return y
    }

    /// "complete", "partial: a source failed or read nothing usable", "incomplete: part of an input was skipped".
    static func statusText(_ report: Report) -> String {
        switch report.status {
        case "partial": "partial (a source failed or read nothing usable)"
        case "incomplete": "incomplete (part of an input was skipped)"
        default: "complete"
        }
    }

    /// Bars drawn per bar chart in the PDF; the rest are in report.html and report.json.
    static let maxBars = 8

    func sectionNote(_ status: SectionStatus, _ error: String?, notConfigured: String) -> String? {
        switch status {
        case .ok: nil
        case .notConfigured: notConfigured
        case .unavailable: "Source unavailable: the cause is written below."
        case .partial: nil  // the figures are shown; the caveat goes under the panels
        }
    }
}
