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
    public init(report: Report, charts: [ReportChart], templates: TemplateSet, failOn: Severity? = nil,
                config: ConfigReference? = nil) {
        self.report = report
        self.charts = charts
        self.templates = templates
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

/// One output format. Adding a format means adding one file with one type and registering it in
/// `ReportFormats.all`.
public protocol ReportRenderer: Sendable {
    /// The `--format` name.
    static var identifier: String { get }
    /// One line for `--help`.
    static var summary: String { get }
    init()
    func render(_ context: RenderContext) throws(RenderError) -> [OutputFile]
}

public enum ReportFormats {
    public static let all: [any ReportRenderer.Type] = [
        HTMLRenderer.self, MarkdownRenderer.self, JSONRenderer.self,
        SARIFRenderer.self, JUnitRenderer.self, CodeQualityRenderer.self, PDFRenderer.self,
    ]
    public static let defaults = ["html", "md", "json"]

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
