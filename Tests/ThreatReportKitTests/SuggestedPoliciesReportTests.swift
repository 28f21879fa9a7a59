import Foundation
import Testing
import ThreatAnalysis
import ThreatConfig
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources
@testable import ThreatReportKit

/// The report's suggested policies: the Hubble flow source runs the `policy suggest` code over
/// the flows it counts, the pipeline places the files below `suggested-policies/<env>/`, and every
/// format lists them with their explanation.
@Suite("Suggested policies in the report")
struct SuggestedPoliciesReportTests {
    static let window = FlowVerdictReportTests.window

    static func report() throws -> Report {
        let bookinfo = try FlowVerdictReportTests.environment("bookinfo")
        let prometheusLike = EnvironmentReport(name: "metrics-only", namespace: "shop", thresholds: .defaults, waf: .notConfigured,
                                               flows: .ok(FlowStatistics(counts: FlowCounts(forwarded: 5, dropped: 0),
                                                                         inbound: FlowCounts(forwarded: 5, dropped: 0),
                                                                         outbound: FlowCounts(forwarded: 0, dropped: 0))),
                                               policies: .notConfigured)
        let envs = SuggestedPoliciesOutput.place([bookinfo, prometheusLike])
        return Report(title: "t", toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC", environments: envs, findings: [])
    }

    static func render(_ r: any ReportRenderer, _ report: Report) throws -> String {
        let files = try r.render(RenderContext(report: report, charts: try ReportCharts.build(report), templates: .defaults, checks: Checks.descriptions))
        return String(decoding: files[0].bytes, as: UTF8.self)
    }

    @Test("Source: the flow-file source's suggestions are the manifests policy suggest writes for the same files and window, each valid and disabled")
    func sameAsPolicySuggest() throws {
        let env = try FlowVerdictReportTests.environment("bookinfo")
        let s = try #require(env.flows.value?.suggestions)
        var cli = PolicySuggester(namespace: "bookinfo", kind: .cilium, from: Self.window.from, to: Self.window.to)
        let cover = try HubbleConnectionReader.read(FlowVerdictReportTests.files) { cli.add($0) }
        let (kept, rejected) = cli.checked(files: cover.files)
        #expect(rejected.isEmpty)
        #expect(s.items.map(\.file) == kept.map(\.file) && s.items.map(\.manifest) == kept.map(\.yaml))
        #expect(s.items.map(\.file) == ["details-v1.yaml", "productpage-v1.yaml", "ratings-v1.yaml", "reviews-v1.yaml"])
        #expect(s.flowsUsed == cli.used && s.flowsUsed == 8)
        for item in s.items {
            let loaded = PolicyDocumentLoader.loadDetailed(text: item.manifest, origin: item.file, namespace: "bookinfo").items
            #expect(loaded.count == 1 && loaded[0].valid && !loaded[0].enabled, "\(item.file)")
            #expect(item.explanation == loaded[0].description && item.explanation.first?.hasPrefix("Not enforced") == true)
        }
        let reviews = try #require(s.items.first { $0.file == "reviews-v1.yaml" })
        #expect(reviews.workloads == ["reviews-v1", "reviews-v2"])
        #expect(s.notes.first?.contains("left out") == true && s.notes.first?.contains("replies") == true)
    }

    @Test("Source: only flows of the window and the environment's namespace become rules; replies and drops are counted, not allowed")
    func windowAndNamespace() throws {
        let dir = NSTemporaryDirectory() + "suggest-window-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func line(_ time: String, _ verdict: String, src: String, dst: String, port: Int, reply: Bool = false) -> String {
            #"{"flow":{"time":"\#(time)","verdict":"\#(verdict)","IP":{"source":"10.0.0.1","destination":"10.0.0.2"},"l4":{"TCP":{"destination_port":\#(port)}},"source":{"namespace":"\#(src)","labels":["k8s:app=a","k8s:io.kubernetes.pod.namespace=\#(src)"]},"destination":{"namespace":"\#(dst)","labels":["k8s:app=b","k8s:io.kubernetes.pod.namespace=\#(dst)"]},"is_reply":\#(reply)}}"#
        }
        let lines = [line("2026-11-19T01:00:00Z", "FORWARDED", src: "shop", dst: "shop", port: 8080),
                     line("2026-11-19T01:00:01Z", "FORWARDED", src: "shop", dst: "shop", port: 8080, reply: true),
                     line("2026-11-18T01:00:00Z", "FORWARDED", src: "shop", dst: "shop", port: 9999),  // before the window
                     line("2026-11-19T02:00:00Z", "DROPPED", src: "shop", dst: "shop", port: 22),
                     line("2026-11-19T03:00:00Z", "FORWARDED", src: "other", dst: "other", port: 7000)]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/f.json", atomically: true, encoding: .utf8)
        let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [dir + "/f.json"])).fetch(SourceContext(
            window: window, environment: EnvironmentConfig(name: "shop", namespace: "shop", hosts: [], thresholds: .defaults), redactor: SecretRedactor()))
        let s = try #require(out.value.suggestions)
        #expect(s.items.map(\.file) == ["a.yaml", "b.yaml"] && s.flowsUsed == 1)
        let text = s.items.map(\.manifest).joined()
        #expect(text.contains(#"port: "8080""#) && !text.contains("9999") && !text.contains(#"port: "22""#) && !text.contains("7000"))
        #expect(s.notes == ["From 1 allowed flow(s); left out 1 replies, 1 not allowed (dropped or other verdicts)."])
    }

    @Test("Output: suggested-policies/<environment slug>/<workload>.yaml for flow-file environments only, with the manifest as written")
    func outputFiles() throws {
        let report = try Self.report()
        let files = SuggestedPoliciesOutput.files(report)
        #expect(files.map(\.path) == ["details-v1", "productpage-v1", "ratings-v1", "reviews-v1"].map { "suggested-policies/bookinfo/\($0).yaml" })
        let first = try #require(report.environments[0].flows.value?.suggestions?.items.first)
        #expect(files[0].bytes == Array(first.manifest.utf8))
    }

    @Test("report.json flows.suggestions: file, workloads and explanation lines; null where the source gives none")
    func json() throws {
        let text = try Self.render(JSONRenderer(), try Self.report())
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let envs = try #require(root["environments"] as? [[String: Any]])
        let s = try #require((envs[0]["flows"] as? [String: Any])?["suggestions"] as? [String: Any])
        let items = try #require(s["items"] as? [[String: Any]])
        #expect(items.count == 4 && s["flows_used"] as? Int == 8)
        let reviews = try #require(items.first { $0["file"] as? String == "suggested-policies/bookinfo/reviews-v1.yaml" })
        #expect(reviews["workloads"] as? [String] == ["reviews-v1", "reviews-v2"] && reviews["name"] as? String == "suggested-reviews-v1")
        #expect((reviews["explanation"] as? [String])?.contains { $0.contains("accept inbound TCP/9080 from pods with app=productpage") } == true)
        #expect((envs[1]["flows"] as? [String: Any])?["suggestions"] is NSNull)
    }

    @Test("HTML and Markdown: a Suggested policies section linking each file with its explanation, none without suggestions")
    func htmlAndMarkdown() throws {
        let report = try Self.report()
        let html = try Self.render(HTMLRenderer(), report)
        #expect(html.components(separatedBy: "<h3>Suggested policies</h3>").count == 2)
        #expect(html.contains(#"<a href="suggested-policies/bookinfo/details-v1.yaml"><code>suggested-policies/bookinfo/details-v1.yaml</code></a>"#))
        #expect(html.contains("4 suggested policies for namespace bookinfo") && html.contains("Nothing is applied"))
        #expect(html.contains("accept inbound TCP/9080 from pods with app=productpage in namespace bookinfo"))
        let md = try Self.render(MarkdownRenderer(), report)
        #expect(md.components(separatedBy: "### Suggested policies").count == 2)
        #expect(md.contains("| suggested-policies/bookinfo/reviews-v1.yaml | reviews-v1, reviews-v2 | Not enforced"))
    }
}
