import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

/// Rendering defects seen on real data: Markdown code spans, labels without a value, column
/// widths, ratios without a denominator, the column that holds source → destination pairs, and
/// the previous-window note.
@Suite("Rendering on real data")
struct RenderDefectTests {
    /// markdown-it-py's reading of a Markdown text (Tests/Support/check_markdown.py).
    func markdownIt(_ md: String) throws -> [String: Any] {
        let path = try writeTemp("report.md", Array(md.utf8))
        let r = try tool("/usr/bin/python3", [repoRoot + "/Tests/Support/check_markdown.py", path])
        #expect(r.code == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
    }

    @Test("Markdown code span: the fence is longer than any backtick run inside, padded when the content starts or ends with one")
    func markdownCodeSpanFence() throws {
        #expect(MarkdownCode.span("waf.anomalous_ratio") == "`waf.anomalous_ratio`")
        #expect(MarkdownCode.span("echo `id`") == "`` echo `id` ``")
        #expect(MarkdownCode.span("a ``b`` c") == "```a ``b`` c```")
        #expect(MarkdownCode.span("`") == "`` ` ``")
        #expect(MarkdownCode.span("line\nbreak") == "`line break`")
        // markdown-it reads each back verbatim as one code span.
        let samples = ["waf.anomalous_ratio", "echo `id`", "a ``b`` c", "`", "jq -r '.x | .y' <a> [b](c) @all #1 \\_"]
        let md = samples.map { "- " + MarkdownCode.span($0) }.joined(separator: "\n") + "\n"
        let parsed = try markdownIt(md)
        #expect(parsed["code"] as? [String] == samples)
        #expect((parsed["html"] as? [Any])?.isEmpty == true && (parsed["links"] as? [Any])?.isEmpty == true)
    }

    @Test("Markdown: check ids and the tool's commands render as code spans, with no backslash escape in them")
    func markdownCommandsAreCode() throws {
        let md = try render(MarkdownRenderer(), ciReport())
        #expect(!md.contains(#"anomalous\_ratio"#))
        let parsed = try markdownIt(md)
        let code = parsed["code"] as? [String] ?? []
        for id in ["waf.anomalous_ratio", "flows.dropped_ratio", "policies.invalid", "policies.disabled"] {
            #expect(code.contains(id), "\(id) is not a code span: \(code)")
        }
        #expect(code.contains("hubble observe --namespace shop-production --verdict DROPPED --since 24h"))
        #expect(code.contains("threat-report policy explain"))
        let text = parsed["text"] as? String ?? ""
        #expect(!text.contains("`"), "no visible backtick in the rendered text")
    }

    @Test("Markdown: data stays escaped outside code spans; a hostile guidance cannot open HTML, links or break out of its span")
    func markdownDataStaysEscaped() throws {
        let md = try render(MarkdownRenderer(), hostileReport())
        let parsed = try markdownIt(md)
        #expect((parsed["html"] as? [Any])?.isEmpty == true, "\(parsed["html"] ?? "")")
        #expect((parsed["links"] as? [Any])?.isEmpty == true)
        #expect((parsed["code"] as? [String])?.contains("rm -rf") == true)
    }

    /// An environment without hosts and with no engine mode seen.
    func bareReport() -> Report {
        var r = ciReport()
        r.environments[1].waf = .ok(WAFStatistics(totalRequests: 0, anomalousRequests: 292))
        r.environments[1].flows = .ok(FlowStatistics(counts: FlowCounts(forwarded: 0, dropped: 0), inbound: FlowCounts(forwarded: 0, dropped: 0),
                                                    outbound: FlowCounts(forwarded: 0, dropped: 0)))
        return r
    }

    @Test("Labels with no value are left out: no dangling '· hosts', no empty 'Rule engine (SecRuleEngine):'")
    func emptyLabelsOmitted() throws {
        let html = try render(HTMLRenderer(), bareReport())
        let staging = html.components(separatedBy: #"id="env-staging""#)[1].components(separatedBy: "</section>")[0]
        #expect(!staging.contains("· hosts"))
        #expect(!staging.contains("Rule engine (SecRuleEngine):"))
        let production = html.components(separatedBy: #"id="env-production""#)[1].components(separatedBy: "</section>")[0]
        #expect(production.contains("· hosts shop.example.com"))
    }

    @Test("A finding with a value and no threshold (a count) shows its value alone: no empty 'threshold' in HTML or Markdown")
    func valueWithoutThreshold() throws {
        var report = ciReport()
        report.findings.append(Finding(id: "policies.uncovered_workload", severity: .warning, environment: "production",
                                       title: "Workload cart received 331 connections and no policy selects it for ingress", value: 331,
                                       guidance: "Review it.", subject: "cart", unit: .count))
        let md = try render(MarkdownRenderer(), report), html = try render(HTMLRenderer(), report)
        #expect(md.contains("(value 331) ·"))
        #expect(html.contains(" · value 331</p>"))
        #expect(!md.contains("threshold )") && !html.contains("threshold </p>") && !html.contains("threshold</p>"))
        // Findings with a threshold keep it.
        #expect(md.contains(", threshold 5\\%)") || md.contains(", threshold 5%)"))
    }

    @Test("A zero denominator shows the ratio as n/a, never 0%, in HTML, Markdown and PDF")
    func zeroDenominatorIsNA() throws {
        let report = bareReport()
        let html = try render(HTMLRenderer(), report)
        let staging = html.components(separatedBy: #"id="env-staging""#)[1].components(separatedBy: "</section>")[0]
        #expect(staging.contains("<b>n/a</b><span>anomalous ratio</span>"))
        #expect(staging.contains("<b>n/a</b><span>dropped ratio</span>"))
        let md = try render(MarkdownRenderer(), report)
        #expect(md.contains("| 0 | 292 | n/a |"))
        let pdf = try PDFRenderer().render(try ciContext(report))[0].bytes
        let text = try PDFInfo.text(try writeTemp("r.pdf", pdf), page: 1)
        #expect(text.contains("n/a"))
    }

    @Test("6-digit rule ids do not wrap: their cells are nowrap")
    func ruleIdsDoNotWrap() throws {
        let html = try render(HTMLRenderer(), ciReport())
        #expect(html.contains(#"<td class="rule-id"><code>942100</code></td>"#))
        #expect(html.contains("td.rule-id { white-space: nowrap;"))
    }

    @Test("The dropped-pairs column is labelled for what it holds (source → destination), not 'Namespaces'")
    func droppedPairsColumn() throws {
        var r = ciReport()
        r.environments[0].flows.value?.topDroppedPairs = [RankedCount(key: "shop-production/web-1 → shop-production/db-0:5432/TCP", count: 3)]
        let html = try render(HTMLRenderer(), r)
        #expect(!html.contains("<th>Namespaces</th>"))
        #expect(html.contains("<th>Source → destination</th>"))
    }

    @Test("Previous window not covered by the files: a neutral note with the plain reason, not the red 'unavailable' style")
    func previousWindowCalm() throws {
        var r = ciReport()
        var p = PreviousWindow(window: ciWindow.previous, wafUnavailable: "the input holds nothing before 2026-11-19T00:08:32Z, so it does not cover that window")
        p.notCovered = true
        r.environments[0].previous = p
        let html = try render(HTMLRenderer(), r)
        #expect(html.contains(#"<p class="meta">production: previous window: not compared (WAF: the input holds nothing before"#))
        #expect(!html.contains(#"<p class="unavailable">production: previous window"#))
    }

    @Test("Report status: 'report complete' only when no input finding fired; incomplete and partial otherwise")
    func reportStatus() throws {
        #expect(try render(HTMLRenderer(), ciReport()).contains("· report partial"), "ciReport has an unavailable source")
        var r = ciReport()
        r.environments.removeLast()
        #expect(try render(HTMLRenderer(), r).contains("· report complete"))
        r.findings.append(Finding(id: InputCheck.partiallyRead, severity: .warning, environment: "production", title: "t", guidance: "g"))
        #expect(try render(HTMLRenderer(), r).contains("· report incomplete"))
        #expect(try render(MarkdownRenderer(), r).contains("· report incomplete"))
        r.findings.append(Finding(id: InputCheck.unreadable, severity: .critical, environment: "staging", title: "t", guidance: "g"))
        let html = try render(HTMLRenderer(), r)
        #expect(html.contains("· report partial"))
        #expect(html.contains(##"<a href="#env-staging">staging</a></td><td><span class="badge partial">Partial data</span>"##))
    }
}
