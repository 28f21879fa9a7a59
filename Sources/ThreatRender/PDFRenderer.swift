import Foundation
import ThreatCharts
import ThreatModel

/// `report.pdf`: an A4 document for compliance reviews and e-mail. Page 1 is the summary (window,
/// status per environment, finding counts), then the findings worst first with their guidance,
/// then one page per environment with its figures, its charts (drawn as vectors from the same
/// specs as the PNG/SVG files) and its policies. Every page has a footer with page N of M.
///
/// The creation date is the report's `generated_at`, so `SOURCE_DATE_EPOCH` gives byte-identical files.
public struct PDFRenderer: ReportRenderer {
    public static let identifier = "pdf"
    public static let needs: RendererNeeds = .charts
    public static let summary = "report.pdf (A4): summary, findings and one page per environment with its charts"
    public init() {}

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        do {
            return [OutputFile(path: "report.pdf", bytes: try PDFReport(context).make())]
        } catch {
            throw .drawing(file: "report.pdf", detail: error.description)
        }
    }
}

/// Page geometry, type scale and colours of the PDF.
enum PDFStyle {
    static let margin = 48.0, top = 54.0, bottom = 58.0
    static let body = TextStyle(size: 9.5)
    static let small = TextStyle(size: 8.5, color: RGB(hex: 0x5E5E5E))
    static let label = TextStyle(size: 8, bold: true, color: RGB(hex: 0x5E5E5E))
    static let h1 = TextStyle(size: 20, bold: true)
    static let h2 = TextStyle(size: 13, bold: true)
    static let strong = TextStyle(size: 10.5, bold: true)
    static let rule = RGB(hex: 0xDCDCDE)
    static let tint = RGB(hex: 0xF5F5F7)

    static func color(_ severity: Severity?) -> RGB {
        switch severity {
        case .critical: RGB(hex: 0xC91C00)
        case .warning: RGB(hex: 0xA35200)
        case .info: RGB(hex: 0x1F75CB)
        case nil: RGB(hex: 0x108548)
        }
    }
    static let partial = RGB(hex: 0x535158)
}

/// Draws one report into a `PDFDocument`.
final class PDFReport {
    let context: RenderContext
    let report: Report
    let doc: PDFDocument
    let left = PDFStyle.margin
    let contentWidth: Double
    var page = 0
    var pageCount = 0

    init(_ context: RenderContext) throws(ChartError) {
        self.context = context
        report = context.report
        doc = try PDFDocument(metadata: PDFMetadata(
            title: Sanitize.text(context.report.title, max: 120),
            subject: "Threat report \(RFC3339.format(context.report.window.from)) – \(RFC3339.format(context.report.window.to))",
            creator: "\(ToolInfo.name) \(context.report.toolVersion)", createDate: context.report.generatedAt))
        contentWidth = doc.width - 2 * PDFStyle.margin
    }

    var bottomLimit: Double { doc.height - PDFStyle.bottom }

    func make() throws(ChartError) -> [UInt8] {
        let findingPages = paginateFindings()
        let policyPages = Set(policyPageIndexes)
        pageCount = 1 + findingPages.count + report.environments.count + context.charts.filter { $0.kind == "map" }.count + policyPages.count
            + report.environments.filter { $0.flows.value?.suggestions != nil }.count
        summaryPage()
        for (i, blocks) in findingPages.enumerated() { findingsPage(blocks, first: i == 0) }
        for (i, env) in report.environments.enumerated() {
            environmentPage(env, index: i)
            mapPage(env, index: i)
            suggestionsPage(env)
            if policyPages.contains(i) { policyPage(env) }
        }
        return try doc.finish()
    }

    // MARK: Page frame

    func startPage() {
        if page > 0 { doc.nextPage() }
        page += 1
        let y = doc.height - 30
        doc.line(x0: left, y0: y - 12, x1: left + contentWidth, y1: y - 12, PDFStyle.rule)
        let footer = "\(Sanitize.text(report.title, max: 80)) · \(day(report.window.from)) – \(day(report.window.to))"
        doc.text(footer, x: left, y: y, PDFStyle.small, maxWidth: contentWidth - 90)
        doc.text("Page \(page) of \(pageCount)", x: left + contentWidth, y: y, PDFStyle.small, align: .right)
    }

    var timeZone: TimeZone { TimeZone(identifier: report.timezone) ?? TimeZone(identifier: "UTC")! }

    /// `2026-11-19 00:00 UTC` in the report's display time zone.
    func time(_ d: Date) -> String {
        let s = RFC3339.format(d, offsetSeconds: timeZone.secondsFromGMT(for: d))
        let clock = String(s.prefix(16)).replacingOccurrences(of: "T", with: " ")
        return clock + " " + (report.timezone == "UTC" ? "UTC" : Sanitize.text(String(s.dropFirst(19)), max: 8))
    }

    func day(_ d: Date) -> String { String(RFC3339.format(d, offsetSeconds: timeZone.secondsFromGMT(for: d)).prefix(10)) }

    static let badgeText = TextStyle(size: 7.5, bold: true, color: RGB(hex: 0xFFFFFF))

    func badgeWidth(_ text: String) -> Double { doc.width(text, Self.badgeText) + 10 }

    /// A coloured badge with white text; returns its width.
    @discardableResult
    func badge(_ text: String, x: Double, y: Double, color: RGB) -> Double {
        let st = Self.badgeText
        let w = badgeWidth(text)
        doc.fillRoundedRect(x: x, y: y - 8.5, width: w, height: 11.5, radius: 3, color)
        doc.text(text, x: x + 5, y: y, st)
        return w
    }

    /// A paragraph wrapped to `width`, at most `maxLines` lines (the last one cut with "…");
    /// returns the y below it.
    @discardableResult
    func paragraph(_ runs: [TextRun], x: Double, y: Double, width: Double, _ style: TextStyle, leading: Double? = nil,
                   maxLines: Int = .max) -> Double {
        let lh = leading ?? style.size * 1.35
        var lines = doc.wrap(runs, maxWidth: width, style)
        if lines.count > maxLines {
            lines = Array(lines.prefix(maxLines))
            let last = lines[lines.count - 1].map(\.text).joined()
            lines[lines.count - 1] = [TextRun(last + " …")]
            var cut = doc.wrap(lines[lines.count - 1], maxWidth: width, style)
            if cut.count > 1 { cut[0] = [TextRun(cut[0].map(\.text).joined().trimmingCharacters(in: .whitespaces) + "…")] }
            lines[lines.count - 1] = cut[0]
        }
        var cy = y
        for line in lines {
            doc.draw(line, x: x, y: cy, style)
            cy += lh
        }
        return cy
    }

    func heading(_ text: String, y: Double) -> Double {
        doc.text(text, x: left, y: y, PDFStyle.h2, maxWidth: contentWidth)
        doc.line(x0: left, y0: y + 5, x1: left + contentWidth, y1: y + 5, PDFStyle.rule)
        return y + 22
    }

    /// A table: a header row, then rows; columns as fractions of the content width. Cells are cut
    /// to their column. Returns the y below the table.
    func table(header: [String], rows: [[String]], widths: [Double], y: Double, rightAligned: Set<Int> = [],
               badgeColumn: Int? = nil, badgeColors: [RGB] = []) -> Double {
        let xs = widths.reduce(into: [left]) { $0.append($0.last! + $1 * contentWidth) }
        let rowH = 16.0
        doc.fillRect(x: left, y: y, width: contentWidth, height: rowH, PDFStyle.tint)
        for (c, h) in header.enumerated() {
            let x = rightAligned.contains(c) ? xs[c + 1] - 5 : xs[c] + 5
            doc.text(h, x: x, y: y + 11, PDFStyle.label, align: rightAligned.contains(c) ? .right : .left)
        }
        var cy = y + rowH
        for (r, row) in rows.enumerated() {
            for (c, cell) in row.enumerated() {
                let w = xs[c + 1] - xs[c] - 10
                if c == badgeColumn, r < badgeColors.count {
                    badge(cell, x: xs[c] + 5, y: cy + 11.5, color: badgeColors[r])
                } else if rightAligned.contains(c) {
                    doc.text(cell, x: xs[c + 1] - 5, y: cy + 11.5, TextStyle(size: 9), align: .right, maxWidth: w)
                } else {
                    doc.text(cell, x: xs[c] + 5, y: cy + 11.5, c == 0 ? TextStyle(size: 9, bold: true) : TextStyle(size: 9), maxWidth: w)
                }
            }
            cy += rowH
            doc.line(x0: left, y0: cy, x1: left + contentWidth, y1: cy, PDFStyle.rule, lineWidth: 0.5)
        }
        return cy
    }

    /// A table whose `wrap` columns wrap (up to 5 lines, never cut to one) instead of being
    /// truncated; rows are drawn while they end above `until` (the last row may also use
    /// `lastRoom` more: the room kept for an "… and N more" note it makes unnecessary). Returns the
    /// y below the last row and how many rows were drawn.
    func wrappedTable(header: [String], rows: [[String]], widths: [Double], y: Double, wrap: Set<Int>,
                      badgeColumn: Int? = nil, badgeColors: [RGB] = [], until: Double, lastRoom: Double = 0) -> (y: Double, drawn: Int) {
        let xs = widths.reduce(into: [left]) { $0.append($0.last! + $1 * contentWidth) }
        let rowH = 16.0, lineH = 11.0
        doc.fillRect(x: left, y: y, width: contentWidth, height: rowH, PDFStyle.tint)
        for (c, h) in header.enumerated() { doc.text(h, x: xs[c] + 5, y: y + 11, PDFStyle.label) }
        var cy = y + rowH
        var drawn = 0
        for (r, row) in rows.enumerated() {
            var cells: [[[TextRun]]] = []
            for (c, cell) in row.enumerated() {
                let style = c == 0 ? TextStyle(size: 9, bold: true) : TextStyle(size: 9)
                cells.append(wrap.contains(c) ? Array(doc.wrap([TextRun(cell)], maxWidth: xs[c + 1] - xs[c] - 10, style).prefix(5)) : [])
            }
            let lines = max(1, cells.map(\.count).max() ?? 1)
            let h = rowH + Double(lines - 1) * lineH
            guard cy + h <= until + (r == rows.count - 1 ? lastRoom : 0) else { break }
            for (c, cell) in row.enumerated() {
                let w = xs[c + 1] - xs[c] - 10
                let style = c == 0 ? TextStyle(size: 9, bold: true) : TextStyle(size: 9)
                if c == badgeColumn, r < badgeColors.count {
                    badge(cell, x: xs[c] + 5, y: cy + 11.5, color: badgeColors[r])
                } else if wrap.contains(c) {
                    for (k, line) in cells[c].enumerated() { doc.draw(line, x: xs[c] + 5, y: cy + 11.5 + Double(k) * lineH, style) }
                } else {
                    doc.text(cell, x: xs[c] + 5, y: cy + 11.5, style, maxWidth: w)
                }
            }
            cy += h
            drawn += 1
            doc.line(x0: left, y0: cy, x1: left + contentWidth, y1: cy, PDFStyle.rule, lineWidth: 0.5)
        }
        return (cy, drawn)
    }
}
