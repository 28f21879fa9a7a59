import Foundation
import Testing
import ThreatAnalysis
import ThreatConfig
import ThreatModel
import ThreatRender
import ThreatSources

/// The traffic map of a real capture through the renderers: report.json `flows.map`, the chart
/// files, the inline SVG in HTML, the PNG link in Markdown and the PDF page.
@Suite("Traffic map in the report")
struct TrafficMapReportTests {
    static func report(policies: Section<PolicySet> = .notConfigured) throws -> Report {
        var env = try FlowVerdictReportTests.environment("bookinfo")
        env.policies = policies
        let prometheusLike = EnvironmentReport(name: "metrics-only", namespace: "shop", thresholds: .defaults, waf: .notConfigured,
                                               flows: .ok(FlowStatistics(counts: FlowCounts(forwarded: 5, dropped: 0),
                                                                         inbound: FlowCounts(forwarded: 5, dropped: 0),
                                                                         outbound: FlowCounts(forwarded: 0, dropped: 0))),
                                               policies: .notConfigured)
        return Report(title: "t", toolVersion: "t", generatedAt: FlowVerdictReportTests.window.to, window: FlowVerdictReportTests.window,
                      timezone: "UTC", environments: [env, prometheusLike], findings: [])
    }

    static func render(_ r: any ReportRenderer, _ report: Report) throws -> [OutputFile] {
        try r.render(RenderContext(report: report, charts: try ReportCharts.build(report), templates: .defaults, checks: Checks.descriptions))
    }

    @Test("report.json flows.map: the source's nodes and edges, null where the source has no map")
    func json() throws {
        let report = try Self.report()
        let text = String(decoding: try Self.render(JSONRenderer(), report)[0].bytes, as: UTF8.self)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let envs = try #require(root["environments"] as? [[String: Any]])
        let map = try #require((envs[0]["flows"] as? [String: Any])?["map"] as? [String: Any])
        let edges = try #require(map["edges"] as? [[String: Any]])
        let source = try #require(report.environments[0].flows.value?.map)
        #expect(edges.count == source.edges.count && edges.count == 7)
        #expect(map["flows"] as? Int == 8 && map["reply_flows"] as? Int == 2 && map["unmapped_flows"] as? Int == 0)
        let first = try #require(edges.first)
        #expect(first["source"] as? String == "workload:bookinfo/productpage" && first["destination"] as? String == "entity:kube-dns")
        #expect(first["forwarded"] as? Int == 2 && first["flows"] as? Int == 2 && first["covered"] is NSNull)
        #expect((map["nodes"] as? [[String: Any]])?.count == 7)
        #expect((envs[1]["flows"] as? [String: Any])?["map"] is NSNull)
    }

    @Test("Coverage in report.json: no policy restricting the namespace's ingress marks its edges not covered")
    func jsonCoverage() throws {
        let report = try Self.report(policies: .ok(PolicySet(items: [])))
        let text = String(decoding: try Self.render(JSONRenderer(), report)[0].bytes, as: UTF8.self)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let envs = try #require(root["environments"] as? [[String: Any]])
        let edges = try #require(((envs[0]["flows"] as? [String: Any])?["map"] as? [String: Any])?["edges"] as? [[String: Any]])
        for e in edges {
            let dst = try #require(e["destination"] as? String)
            if dst.hasPrefix("workload:bookinfo/") { #expect(e["covered"] as? Bool == false) } else { #expect(e["covered"] is NSNull) }
        }
    }

    @Test("Charts: charts/<env>-map.{png,svg} for the environment with flow files only; HTML inlines it, Markdown links the PNG")
    func chartsHTMLMarkdown() throws {
        let report = try Self.report()
        let charts = try ReportCharts.build(report)
        let maps = charts.filter { $0.kind == "map" }
        #expect(maps.map(\.fileBase) == ["charts/bookinfo-map"] && maps.map(\.environmentIndex) == [0])
        let svg = try #require(maps.first?.rendered.svg)
        #expect(svg.hasPrefix("<svg") && maps[0].rendered.png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let html = String(decoding: try Self.render(HTMLRenderer(), report)[0].bytes, as: UTF8.self)
        #expect(html.contains(#"<figure class="chart" aria-label="Traffic map: who talks to whom, by verdict and policy coverage"><svg"#))
        #expect(html.contains(svg))
        #expect(!html.contains("charts/bookinfo-map.png"))  // self-contained
        let md = String(decoding: try Self.render(MarkdownRenderer(), report)[0].bytes, as: UTF8.self)
        #expect(md.contains("![Traffic map \\(bookinfo\\)](charts/bookinfo-map.png)"))
        #expect(!md.contains("metrics-only-map"))
    }

    @Test("PDF: one traffic-map page after the environment's page")
    func pdfPage() throws {
        let with = try Self.render(PDFRenderer(), try Self.report())[0].bytes
        var plain = try Self.report()
        plain.environments[0].flows.value?.map = nil
        let without = try Self.render(PDFRenderer(), plain)[0].bytes
        // Page objects: "/Type /Page" not followed by "s" (the page tree is "/Type /Pages").
        func pages(_ pdf: [UInt8]) -> Int {
            String(decoding: pdf, as: UTF8.self).components(separatedBy: "/Type /Page").dropFirst().filter { !$0.hasPrefix("s") }.count
        }
        #expect(pages(without) >= 2)
        #expect(pages(with) == pages(without) + 1)
    }
}
