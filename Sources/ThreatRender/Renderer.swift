import Foundation
import Mustache
import ThreatModel

/// A file a renderer produces, relative to the output folder.
public struct OutputFile: Sendable, Equatable {
    public var path: String
    public var bytes: [UInt8]
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
    public init(path: String, text: String) { self.init(path: path, bytes: Array(text.utf8)) }

    public static let checksumsName = "SHA256SUMS"

    /// `SHA256SUMS`: one `HEX  PATH` line per file, sorted by path, in the format `sha256sum -c`
    /// checks from the output folder.
    public static func checksums(_ files: [OutputFile]) -> OutputFile {
        let listed = files.filter { $0.path != checksumsName }.sorted { $0.path < $1.path }
        // Hashed on every core: a report of many environments writes hundreds of MB.
        let digests: Locked<[String?]> = .slots(listed.count)
        DispatchQueue.concurrentPerform(iterations: listed.count) { i in
            digests.set(i, SHA256Digest.hex(listed[i].bytes))
        }
        let hex = digests.current.map { $0 ?? "" }
        let lines = listed.indices.map { "\(hex[$0])  \(listed[$0].path)\n" }
        return OutputFile(path: checksumsName, text: lines.joined())
    }
}

/// What every renderer sees: the analysed report and its drawn charts, never a source.
public struct RenderContext: Sendable {
    public var report: Report
    public var charts: [ReportChart]
    public var templates: TemplateSet
    /// `--fail-on` (nil for `none`): the JUnit report fails a test case at or above it, so the test
    /// report agrees with the exit code.
    public var failOn: Severity?
    /// The configuration file, where CI formats point findings that have no manifest of their own.
    public var config: ConfigReference?
    /// The SHA-256 of `report.json` as this run writes it, for the evidence appendix of the
    /// other formats (a file cannot hold its own digest; `SHA256SUMS` lists every file's).
    public var dataDigest: String?
    /// The descriptions of the checks the analysis ran (`Checks.descriptions` in ThreatAnalysis),
    /// in catalogue order: SARIF rules and JUnit test cases are built from them.
    public var checks: [CheckDescription]
    public init(report: Report, charts: [ReportChart], templates: TemplateSet, checks: [CheckDescription],
                failOn: Severity? = nil, config: ConfigReference? = nil) {
        self.report = report
        self.charts = charts
        self.templates = templates
        self.checks = checks
        self.failOn = failOn
        self.config = config
    }
}

public enum RenderError: Error, Sendable, CustomStringConvertible {
    case template(name: String, detail: String)
    /// A format could not draw its file (cairo failed while writing the PDF).
    case drawing(file: String, detail: String)
    public var description: String {
        switch self {
        case let .template(name, detail): "template \(name): \(detail)"
        case let .drawing(file, detail): "drawing \(file): \(detail)"
        }
    }
}

/// What a format needs from the run besides the analysed report; the pipeline prepares only what
/// the asked-for formats declare, and never asks which format it holds.
public struct RendererNeeds: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The drawn charts in `RenderContext.charts` (inline SVG, PDF pages).
    public static let charts = RendererNeeds(rawValue: 1)
    /// The chart files `charts/*.{png,svg}` beside the report: the Markdown links them; the HTML
    /// inlines its SVG and offers the files beside it for reuse.
    public static let chartFiles = RendererNeeds(rawValue: 2)
}

/// One output format. Adding a format means adding one file with one type and registering it in
/// `ReportFormats.all`.
public protocol ReportRenderer: Sendable {
    /// The `--format` name.
    static var identifier: String { get }
    /// One line for `--help`.
    static var summary: String { get }
    /// What it needs prepared (none by default).
    static var needs: RendererNeeds { get }
    init()
    func render(_ context: RenderContext) throws(RenderError) -> [OutputFile]
}

extension ReportRenderer {
    public static var needs: RendererNeeds { [] }
}

public enum ReportFormats {
    public static let all: [any ReportRenderer.Type] = [
        HTMLRenderer.self, MarkdownRenderer.self, JSONRenderer.self,
        SARIFRenderer.self, JUnitRenderer.self, CodeQualityRenderer.self, PDFRenderer.self,
    ]
    public static let defaults = ["html", "md", "json"]
    /// The machine contract (`report.json`). It is rendered on every run, first, because the
    /// other formats show its SHA-256 in their evidence (a file cannot hold its own digest); it
    /// is written only when asked for.
    public static let data: any ReportRenderer.Type = JSONRenderer.self

    public static func renderer(named name: String) -> (any ReportRenderer.Type)? {
        all.first { $0.identifier == name }
    }
}

/// The chart files (PNG and SVG) that the HTML and Markdown reports refer to.
public enum ChartFiles {
    public static func files(_ charts: [ReportChart]) -> [OutputFile] {
        charts.flatMap { c in
            [OutputFile(path: c.fileBase + ".png", bytes: c.rendered.png),
             OutputFile(path: c.fileBase + ".svg", text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + c.rendered.svg)]
        }
    }
}
