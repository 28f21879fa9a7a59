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
