import Foundation
import Testing
import ThreatAnalysis
import ThreatConfig
import ThreatModel
import ThreatRender
import ThreatSources

/// Real Hubble captures through the source, the flow checks and the renderers: per-verdict counts,
/// the denying policies and the audit-mode finding in every format.
@Suite("Flow verdicts in the report")
struct FlowVerdictReportTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/realworld/hubble").path
    static let files = ["gke-istio-bookinfo-10-flows.json", "kind-bookinfo-l7-redirected-head.json", "kind-flux-audit.json",
                        "cilium-1.18-denied-by.json"].map { folder + "/" + $0 }
    static let window = TimeWindow(from: RFC3339.parse("2020-01-01T00:00:00Z")!, to: RFC3339.parse("2027-01-01T00:00:00Z")!, interval: .day)

    static func environment(_ namespace: String) throws -> EnvironmentReport {
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: files)).fetch(SourceContext(
            window: window, environment: EnvironmentConfig(name: namespace, namespace: namespace, hosts: [], thresholds: .defaults), redactor: SecretRedactor()))
        return EnvironmentReport(name: namespace, namespace: namespace, thresholds: .defaults, waf: .notConfigured,
                                 flows: .ok(out.value, warnings: out.warnings), policies: .notConfigured)
    }

    static func report() throws -> Report {
        let envs = try ["bookinfo", "flux-system", "net-lab"].map(environment)
        let findings = envs.flatMap { FindingAnalyzer.findings(for: $0, window: window) }
        return Report(title: "t", toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC",
                      environments: envs, findings: findings)
    }

    static func render(_ r: any ReportRenderer) throws -> String {
        let report = try report()
        let files = try r.render(RenderContext(report: report, charts: try ReportCharts.build(report), templates: .defaults, checks: Checks.descriptions))
        return String(decoding: files[0].bytes, as: UTF8.self)
    }

    @Test("The AUDIT capture raises flows.policy_audit_mode naming the pair and how to turn audit mode off")
    func auditFinding() throws {
        let r = try Self.report()
        let audit = r.findings.filter { $0.id == "flows.policy_audit_mode" }
        #expect(audit.count == 1)
        let f = try #require(audit.first)
        #expect(f.environment == "flux-system" && f.severity == .warning && f.value == 1 && f.unit == .count)
        #expect(f.title == "1 flow in flux-system would have been dropped: policy audit mode is on, policies do not enforce")
        #expect(f.guidance.contains("flux-system/source-controller-9dfbc5cd-cz76x → world:6443/TCP (1)"))
        #expect(f.guidance.contains("`policyAuditMode=false`") && f.guidance.contains("`policy-audit-mode: \"false\"`"))
        #expect(f.guidance.contains("`hubble observe --namespace flux-system --verdict AUDIT"))
        #expect(FindingFigures.text(f) == "1")
        #expect(Checks.descriptions.contains { $0.id == "flows.policy_audit_mode" && $0.section == "flows" })
    }

    @Test("report.json: per-verdict counts per direction, denying policies, unattributed drops, audit pairs")
    func json() throws {
        let text = try Self.render(JSONRenderer())
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let envs = try #require(root["environments"] as? [[String: Any]])
        func flows(_ i: Int) throws -> [String: Any] { try #require(envs[i]["flows"] as? [String: Any]) }
        let bookinfo = try flows(0)
        #expect(bookinfo["total"] as? Int == 10)
        let v = try #require(bookinfo["verdicts"] as? [String: Int])
        #expect(v == ["forwarded": 4, "dropped": 0, "redirected": 6, "audit": 0, "traced": 0, "error": 0, "other": 0])
        #expect(((bookinfo["outbound"] as? [String: Any])?["verdicts"] as? [String: Int])?["redirected"] == 6)
        #expect(((bookinfo["inbound"] as? [String: Any])?["verdicts"] as? [String: Int])?["redirected"] == 3)
        let netlab = try flows(2)
        let denying = try #require(netlab["top_denying_policies"] as? [[String: Any]])
        #expect(denying.count == 1 && denying[0]["policy"] as? String == "net-lab/deny-tg-to-echo")
        #expect(denying[0]["kind"] as? String == "CiliumNetworkPolicy" && denying[0]["count"] as? Int == 1)
        #expect(netlab["unattributed_drops"] as? Int == 0)
        let audit = try #require(try flows(1)["top_audit_pairs"] as? [[String: Any]])
        #expect(audit.first?["count"] as? Int == 1)
    }

    @Test("HTML and Markdown show the verdict table and the denying policies")
    func htmlAndMarkdown() throws {
        let md = try Self.render(MarkdownRenderer())
        #expect(md.contains("| REDIRECTED | 6 | 3 | 6 |"))
        #expect(md.contains("| AUDIT | 1 | 0 | 1 |"))
        #expect(md.contains("| net-lab/deny-tg-to-echo | CiliumNetworkPolicy | 1 |"))
        let html = try Self.render(HTMLRenderer())
        #expect(html.contains("<td><code>REDIRECTED</code></td><td class=\"num\">6</td><td class=\"num\">3</td><td class=\"num\">6</td>"))
        #expect(html.contains("<h4>Denying policies</h4>"))
        #expect(html.contains("<td>net-lab/deny-tg-to-echo</td><td>CiliumNetworkPolicy</td><td class=\"num\">1</td>"))
    }
}
