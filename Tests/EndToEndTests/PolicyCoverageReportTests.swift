import Foundation
import Testing

/// Policy coverage end to end: Hubble flow files and policy manifests in, the coverage table in
/// report.json (`policies.workload_coverage`), Markdown, HTML and PDF, and the
/// `policies.uncovered_workload` finding with the traffic the workload received.
@Suite("Policy coverage in the report")
struct PolicyCoverageReportTests {
    @Test("web is selected by its policy, db by none: table rows in every format and one finding for db")
    func coverageReport() throws {
        let dir = tempDir("coverage")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func line(_ verdict: String, _ dst: String, reply: Bool = false) -> String {
            #"{"flow":{"time":"2026-11-19T10:00:00Z","verdict":"\#(verdict)","is_reply":\#(reply),"source":{"labels":["reserved:world"]},"destination":\#(dst)}}"#
        }
        let web = #"{"namespace":"shop","pod_name":"web-1","labels":["k8s:app=web","k8s:io.kubernetes.pod.namespace=shop"]}"#
        let db = #"{"namespace":"shop","pod_name":"db-0","labels":["k8s:app=db","k8s:io.kubernetes.pod.namespace=shop"]}"#
        let lines = Array(repeating: line("FORWARDED", web), count: 5) + Array(repeating: line("FORWARDED", db), count: 3)
            + [line("DROPPED", db), line("FORWARDED", db, reply: true)]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/flows.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
        try """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: web-in, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: web}}
              ingress:
              - fromEntities: [world]
                toPorts: [{ports: [{port: "80", protocol: TCP}]}]

            """.write(toFile: dir + "/policies/web.yaml", atomically: true, encoding: .utf8)
        try """
            version: 1
            title: Coverage
            window: 24h
            to: 2026-11-20T00:00:00Z
            environments:
              - name: production
                namespace: shop
                flows:
                  hubble:
                    flows: [flows.json]
                policies:
                  directory: policies

            """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try run(binary, ["report", "--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json,md,html,pdf"], cwd: dir,
                        env: ["SOURCE_DATE_EPOCH": "1795132800"])
        #expect(r.code == 0, "\(r.stderr)")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json"))) as! [String: Any]
        let env = (root["environments"] as! [[String: Any]])[0]
        let rows = try #require((env["policies"] as! [String: Any])["workload_coverage"] as? [[String: Any]])
        #expect(rows.map { $0["workload"] as? String } == ["web", "db"])
        #expect(rows[0]["ingress_policies"] as? [String] == ["web-in"] && rows[0]["egress_policies"] as? [String] == [])
        #expect(rows[1]["ingress_policies"] as? [String] == [] && rows[1]["labels"] as? [String: String] == ["app": "db"])
        let received = try #require(rows[1]["received"] as? [String: Any])
        #expect(received["total"] as? Int == 4 && received["dropped"] as? Int == 1)  // the reply flow is not counted
        let findings = (root["findings"] as! [[String: Any]]).filter { $0["id"] as? String == "policies.uncovered_workload" }
        #expect(findings.count == 1 && findings[0]["subject"] as? String == "db" && findings[0]["value"] as? Int == 4)
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains("#### Policy coverage"))
        // Markdown escapes the parentheses of data.
        #expect(md.contains(#"| web | flows | app=web | web-in | none \(default allow\) | 5 |"#))
        #expect(md.contains(#"| db | flows | app=db | none \(default allow\) | none \(default allow\) | 4 \(1 dropped\) |"#), "\(md)")
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("<h3>Policy coverage</h3>"))
        #expect(html.contains("<span class=\"badge warning\">db</span>"))
        if let pdftotext = which("pdftotext") {
            let text = try run(pdftotext, [dir + "/out/report.pdf", "-"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("Policy coverage"))
            #expect(text.contains("none (default allow)"))
        }
    }
}
