import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

let hostile = "<script>alert(1)</script> | `rm -rf` [x](javascript:alert(1)) <img src=x onerror=alert(1)> @all #1 \u{1b}[31m"

/// A report whose every untrusted field carries the payload.
func hostileReport() -> Report {
    let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
    let waf = WAFStatistics(
        totalRequests: 10, anomalousRequests: 3,
        totalHistory: [SeriesPoint(window.from, 10)], anomalousHistory: [SeriesPoint(window.from, 3)],
        topRules: [RankedCount(key: hostile, count: 3, label: hostile)],
        topClients: [RankedCount(key: hostile, count: 2)], topURIs: [RankedCount(key: "/search?q=" + hostile, count: 1)],
        engineModes: [RankedCount(key: hostile, count: 3)])
    let flows = FlowStatistics(counts: FlowCounts(forwarded: 10, dropped: 5), inbound: FlowCounts(forwarded: 5, dropped: 5),
                               outbound: FlowCounts(forwarded: 5, dropped: 0), topDropReasons: [RankedCount(key: hostile, count: 5)],
                               topDroppedPairs: [RankedCount(key: hostile, count: 5)])
    let policy = PolicyItem(kind: nil, kindText: hostile, name: hostile, namespace: hostile, enabled: false, valid: false,
                            problems: [PolicyProblem(hostile, location: hostile)], description: [hostile],
                            manifest: "metadata:\n  name: \"" + hostile + "\"\n```\n", origin: hostile)
    let env = EnvironmentReport(name: hostile, namespace: hostile, hosts: [hostile], thresholds: .defaults,
                                waf: .ok(waf, warnings: [hostile]), flows: .ok(flows), policies: .ok(PolicySet(items: [policy], notes: [hostile])),
                                evidence: [EvidenceItem(section: "waf", source: hostile, query: hostile, sha256: "00")])
    let findings = [Finding(id: "waf.anomalous_ratio", severity: .critical, environment: hostile, title: hostile, value: 0.3,
                            threshold: 0.2, guidance: hostile, subject: hostile)]
    return Report(title: hostile, toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC",
                  environments: [env], findings: findings)
}

func render(_ r: any ReportRenderer, _ report: Report) throws -> String {
    let charts = try ReportCharts.build(report)
    let files = try r.render(RenderContext(report: report, charts: charts, templates: .defaults, checks: catalogue))
    return String(decoding: files[0].bytes, as: UTF8.self)
}

@Suite("Escaping untrusted strings")
struct EscapingTests {
    @Test("HTML: <script>, on* handlers and javascript: arrive as text; the CSP meta is first in <head>")
    func html() throws {
        let html = try render(HTMLRenderer(), hostileReport())
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("\u{1b}"))
        let head = html.components(separatedBy: "<head>")[1]
        #expect(head.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#))
        // Payload text only ever appears escaped: no raw '<' followed by a payload tag name.
        #expect(html.components(separatedBy: "onerror=").count == html.components(separatedBy: "&lt;img src=x onerror=").count)
    }

    @Test("Markdown: pipes, backticks, brackets and angle brackets are escaped; tables keep their columns")
    func markdown() throws {
        let md = try render(MarkdownRenderer(), hostileReport())
        #expect(!md.contains("<script>"))
        #expect(!md.contains("](javascript:"))
        #expect(md.contains(#"\<script\>alert\(1\)\</script\>"#))
        #expect(md.contains(#"\| \`rm -rf\`"#))
        #expect(!md.contains("\u{1b}"))
        // The summary row keeps its 8 columns: exactly 9 pipes that are not escaped.
        let lines = md.components(separatedBy: "## Summary")[1].split(separator: "\n")
        func unescapedPipes(_ line: Substring?) -> Int {
            let row = Array(line ?? "")
            return row.indices.filter { row[$0] == "|" && ($0 == 0 || row[$0 - 1] != "\\") }.count
        }
        let header = lines.first { $0.hasPrefix("| Environment") }
        #expect(unescapedPipes(header) >= 9)
        #expect(unescapedPipes(lines.first { $0.contains("alert") }) == unescapedPipes(header))
    }

    @Test("JSON keeps the payload intact as data and escapes markup characters")
    func json() throws {
        let text = try render(JSONRenderer(), hostileReport())
        #expect(!text.contains("<script>"))
        let v = try JSONValue.parse(text)
        #expect(v.at("environments")?.arrayValue?.first?["name"]?.stringValue == hostile)
        #expect(v.at("findings")?.arrayValue?.first?["guidance"]?.stringValue == hostile)
    }

    @Test("Markdown escaper and code fences")
    func markdownEscaper() {
        #expect(MarkdownEscaper.escape("a|b`c`[d](e)<f>") == #"a\|b\`c\`\[d\]\(e\)\<f\>"#)
        #expect(MarkdownEscaper.escape("#1 @all\nnext") == ##"\#1 \@all next"##)
        #expect(MarkdownEscaper.fence(for: "no ticks") == "```")
        #expect(MarkdownEscaper.fence(for: "a ```` b") == "`````")
    }

    @Test("Sanitize removes terminal escapes and bidi overrides, and cuts long text")
    func sanitize() {
        #expect(Sanitize.text("a\u{1b}[31mb\u{9b}c\u{202e}d") == "a [31mbcd")
        #expect(Sanitize.text(String(repeating: "x", count: 500), max: 10) == String(repeating: "x", count: 10) + "…")
        #expect(Sanitize.text("l1\nl2", keepNewlines: true) == "l1\nl2")
        #expect(Sanitize.text("l1\nl2") == "l1 l2")
    }

    @Test("Terminal text: the first control or bidi character is found with its line and column")
    func terminalText() {
        #expect(TerminalText.firstUnsafe(in: "a: b\nc: \u{202E}d")?.line == 2)
        #expect(TerminalText.firstUnsafe(in: "a: b\nc: \u{202E}d")?.column == 4)
        #expect(TerminalText.firstUnsafe(in: "x\u{1B}[31m")?.name == "U+001B (a control character)")
        #expect(TerminalText.firstUnsafe(in: "x\u{9B}")?.name == "U+009B (a control character)")
        #expect(TerminalText.firstUnsafe(in: "tab\there\r\nnext ü 😀") == nil)
        #expect(TerminalText.containsUnsafe("\u{2066}isolate"))
    }

    @Test("JSON writes C0, C1 and bidi controls as \\u escapes and reads them back unchanged")
    func jsonControls() throws {
        let s = "a\u{1B}[31m\u{85}\u{9B}\u{202E}\u{2066}é😀"
        let text = JSONValue.string(s).serialized()
        #expect(text == #""a\u001b[31m\u0085\u009b\u202e\u2066é😀""#)
        #expect(try JSONValue.parse(text).stringValue == s)
        // An unpaired high surrogate becomes U+FFFD; the escape after it is kept.
        #expect(try JSONValue.parse(#""\ud800\u0041""#).stringValue == "\u{FFFD}A")
        #expect(try JSONValue.parse(#""\ud83d\ude00""#).stringValue == "😀")
        #expect(try JSONValue.parse(#""\udc00x""#).stringValue == "\u{FFFD}x")
    }

    @Test("XML escaper for JUnit")
    func xml() {
        #expect(XMLEscaper.escape("<a href=\"x\">&'\u{1}") == "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}")
        #expect(XMLEscaper.escape("a\u{FFFE}b\u{FFFF}c\u{FFFD}\u{10FFFF}") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}\u{10FFFF}")
    }

    @Test("Environment names become safe, unique chart file names")
    func slugs() {
        #expect(ReportCharts.slugs(["production", "Staging EU", "../../etc", hostile, "production"])
            == ["production", "staging-eu", "etc", "env4", "production-2"])
    }

    @Test("The built-in templates are templates/*.mustache, byte for byte")
    func embeddedTemplatesMatchFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in TemplateSet.names {
            let file = try String(contentsOf: root.appendingPathComponent("templates/\(name).mustache"), encoding: .utf8)
            #expect(TemplateSet.defaults.sources[name] == file, "\(name)")
        }
    }
}
