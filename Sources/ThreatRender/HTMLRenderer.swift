import Foundation
import ThreatModel

/// `report.html`: one self-contained file, no JavaScript, a CSP meta first in `<head>`, charts as
/// inline SVG (ids prefixed per chart), print CSS.
public struct HTMLRenderer: ReportRenderer {
    public static let identifier = "html"
    public static let needs: RendererNeeds = [.charts, .chartFiles]
    public static let summary = "self-contained HTML report with inline SVG charts"
    public init() {}

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        let model = ReportViewModel.build(context.report, charts: context.charts, dataDigest: context.dataDigest)
        return [OutputFile(path: "report.html", text: try context.templates.render("report.html", model))]
    }
}

/// `report.md`: GitLab/GitHub-flavoured Markdown, tables for figures, charts linked as PNG.
public struct MarkdownRenderer: ReportRenderer {
    public static let identifier = "md"
    public static let needs: RendererNeeds = [.charts, .chartFiles]
    public static let summary = "Markdown report for merge requests and job summaries"
    public init() {}

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        let model = ReportViewModel.build(context.report, charts: context.charts, dataDigest: context.dataDigest)
        return [OutputFile(path: "report.md", text: try context.templates.render("report.md", model))]
    }
}
