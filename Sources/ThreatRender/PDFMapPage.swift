import Foundation
import ThreatCharts
import ThreatModel

extension PDFReport {
    /// A page with the environment's traffic map, drawn as vectors at the full text width, when
    /// its flow source gave one.
    func mapPage(_ env: EnvironmentReport, index: Int) {
        guard let chart = context.charts.first(where: { $0.environmentIndex == index && $0.kind == "map" }),
              let spec = chart.spec else { return }
        startPage()
        var y = PDFStyle.top + 8
        doc.text("Traffic map: \(Sanitize.text(env.name, max: 80))", x: left, y: y, TextStyle(size: 16, bold: true), maxWidth: contentWidth)
        y += 16
        y = paragraph([TextRun("Who talked to whom in namespace \(Sanitize.text(env.namespace, max: 80)): width is flows (log scale), "
                               + "colour the verdict; dashed where no policy covers the destination, dotted where the report cannot tell. "
                               + "report.json has every edge (flows.map).")],
                      x: left, y: y, width: contentWidth, PDFStyle.small, maxLines: 3) + 6
        // Drawn for a 640-pixel width, so its labels read at the page's text size.
        let sized = spec.resized(width: 640, height: spec.height)
        let height = min(bottomLimit - y - 8, contentWidth * Double(sized.height) / Double(sized.width))
        doc.draw(sized, x: left, y: y, width: contentWidth, height: height)
    }
}

extension PDFReport {
    /// A page listing the environment's suggested policies with their explanations, when its flow
    /// source gave suggestions; what does not fit is counted and left to report.html.
    func suggestionsPage(_ env: EnvironmentReport) {
        guard let s = env.flows.value?.suggestions else { return }
        startPage()
        var y = PDFStyle.top + 8
        doc.text("Suggested policies: \(Sanitize.text(env.name, max: 80))", x: left, y: y, TextStyle(size: 16, bold: true), maxWidth: contentWidth)
        y += 16
        y = paragraph([TextRun("\(CoverageText.plural(s.items.count, "suggested policy", "suggested policies")) for namespace "
                               + "\(Sanitize.text(env.namespace, max: 80)), least privilege for the \(NumberText.grouped(s.flowsUsed)) allowed "
                               + "connection flow(s) of the window, written beside the report. Nothing is applied: each file carries GitLab's "
                               + "disabled_by label; review it, then "),
                       TextRun("threat-report policy enable FILE", code: true), TextRun(" and apply it.")],
                      x: left, y: y, width: contentWidth, PDFStyle.small, maxLines: 4) + 4
        for note in s.notes.prefix(3) {
            y = paragraph([TextRun(Sanitize.text(note, max: 600))], x: left, y: y, width: contentWidth, PDFStyle.small, maxLines: 2) + 2
        }
        var drawn = 0
        for item in s.items {
            let lines = item.explanation.count + 1
            guard y + Double(lines) * 26 < bottomLimit - 20 else { break }
            y = paragraph([TextRun(Sanitize.text(item.file, max: 300), code: true),
                           TextRun(" (workload \(Sanitize.text(item.workloads.joined(separator: ", "), max: 300)))")],
                          x: left, y: y + 6, width: contentWidth, PDFStyle.body, maxLines: 2)
            for line in item.explanation {
                y = paragraph([TextRun(Sanitize.text(line, max: 2000))], x: left + 10, y: y, width: contentWidth - 10, PDFStyle.small, maxLines: 4)
            }
            drawn += 1
        }
        if drawn < s.items.count {
            doc.text("… and \(CoverageText.plural(s.items.count - drawn, "more suggested policy", "more suggested policies")): see report.html or report.json.",
                     x: left, y: y + 10, PDFStyle.small, maxWidth: contentWidth)
        }
    }
}
