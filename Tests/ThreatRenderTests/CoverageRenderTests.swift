import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

/// The data-quality contract in every format: a line under each section heading (HTML, Markdown,
/// PDF), a `coverage` object in report.json, and the evidence appendix with the first skipped
/// places and their values, escaped.
@Suite("Coverage in every format")
struct CoverageRenderTests {
    static let value = "GET /<script>alert(1)</script> `x` | @all \u{1b}[31m"

    func report() -> Report {
        var r = ciReport()
        var access = InputCoverage(name: "access log", unit: "lines", files: 1, bytes: 2048, read: 455, parsed: 0, inWindow: 0, attributed: 0)
        access.skip("not an ingress-nginx or combined access line", count: 455, place: "/var/log/nginx/access.log:1", value: Self.value)
        let audit = InputCoverage(name: "audit log", unit: "lines", files: 1, bytes: 4096, read: 292, parsed: 292, inWindow: 292, attributed: 292)
        r.environments[0].waf.coverage = SourceCoverage(source: "files", inputs: [audit, access])
        r.environments[0].flows.coverage = SourceCoverage(source: "hubble", inputs: [
            InputCoverage(name: "flow log", unit: "lines", files: 1, bytes: 10, read: 3, parsed: 3, inWindow: 3, attributed: 1, otherEnvironment: 2),
        ])
        return r
    }

    @Test("The coverage line: files, bytes, lines, parsed, in the window, of this environment, skipped by reason")
    func coverageLineText() {
        let line = CoverageText.line(report().environments[0].waf.coverage!)
        #expect(line == "files: audit log 1 file, 4.0 KiB, 292 lines, 292 parsed, 292 in the window, 292 of this environment, 0 skipped; "
            + "access log 1 file, 2.0 KiB, 455 lines, 0 parsed, 0 in the window, 0 of this environment, 455 skipped (455 not an ingress-nginx or combined access line)")
    }

    @Test("The offending value is cut and its control characters made visible")
    func exampleValueCut() {
        let long = String(repeating: "a", count: 500) + "\u{1b}"
        let cut = SkipExample.cut(long)
        #expect(cut.count == SkipExample.valueLength + 1 && cut.hasSuffix("…"))
        #expect(SkipExample.cut("x\u{1b}[31m\u{202E}") == "x\\u{1B}[31m\\u{202E}")
    }

    @Test("HTML and Markdown: a line under each section heading; the evidence appendix lists the first places with the value escaped")
    func htmlAndMarkdown() throws {
        let html = try render(HTMLRenderer(), report())
        #expect(html.contains("<h3>Web application firewall</h3>\n<p class=\"coverage\">Read: files: audit log 1 file"))
        #expect(html.contains("<h3>Container network flows</h3>\n<p class=\"coverage\">Read: hubble: flow log 1 file"))
        #expect(html.contains("<code>/var/log/nginx/access.log:1</code> not an ingress-nginx or combined access line: <code>GET /&lt;script&gt;"))
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("\\u{1B}[31m"))
        let md = try render(MarkdownRenderer(), report())
        #expect(md.contains("### Web application firewall\n\n_Read:_ files: audit log 1 file"))
        #expect(md.contains(#"skipped at /var/log/nginx/access.log:1: not an ingress\-nginx or combined access line: GET /\<script\>"#)
            || md.contains(#"skipped at /var/log/nginx/access.log:1: not an ingress-nginx or combined access line: GET /\<script\>"#))
        #expect(!md.contains("<script>"))
    }

    @Test("report.json: a coverage object per section with every figure, the skip reasons and the examples")
    func json() throws {
        let v = try JSONValue.parse(try render(JSONRenderer(), report()))
        let waf = v.at("environments")?.arrayValue?.first?["waf"]?["coverage"]
        #expect(waf?["source"]?.stringValue == "files")
        #expect(waf?["read"]?.intValue == 747 && waf?["skipped"]?.intValue == 455)
        let access = waf?["inputs"]?.arrayValue?[1]
        #expect(access?["name"]?.stringValue == "access log" && access?["parsed"]?.intValue == 0 && access?["bytes"]?.intValue == 2048)
        #expect(access?["skipped"]?.arrayValue?.first?["count"]?.intValue == 455)
        #expect(access?["examples"]?.arrayValue?.first?["value"]?.stringValue == SkipExample.cut(Self.value))
        #expect(v.at("environments")?.arrayValue?[1]["waf"]?["coverage"] == .null)
    }

    @Test("PDF: each section's coverage line on the environment page")
    func pdf() throws {
        let bytes = try PDFRenderer().render(try ciContext(report()))[0].bytes
        let text = try PDFInfo.text(try writeTemp("r.pdf", bytes), page: 3)
        #expect(text.contains("WAF read: files: audit log 1 file"), "\(text)")
        #expect(text.contains("Flows read: hubble: flow log 1 file"))
    }

    @Test("PDF: a long policy name wraps instead of being cut")
    func pdfPolicyNameWraps() throws {
        var r = report()
        let name = "allow-ingress-from-the-monitoring-namespace-prometheus-scrapers-to-web-pods"
        r.environments[0].policies.value?.items[1].name = name
        let bytes = try PDFRenderer().render(try ciContext(r))[0].bytes
        let text = try PDFInfo.text(try writeTemp("r.pdf", bytes), page: 3)
        let joined = text.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }.joined()
        #expect(joined.contains(name), "the whole name is on the page, over several lines:\n\(text)")
        #expect(!text.contains("allow-ingress-from-the-monitoring…"))
    }
}
