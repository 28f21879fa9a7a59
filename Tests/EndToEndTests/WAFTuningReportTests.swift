import Foundation
import Testing

@Suite("WAF tuning in the report: candidates, exclusion file and campaigns in every format")
struct WAFTuningReportTests {
    @Test("Report: waf-tuning/<environment>.conf beside the report; Tuning candidates and campaigns in HTML, Markdown, JSON and PDF; the info finding in SARIF and JUnit, never failing --fail-on warning")
    func report() throws {
        var lines: [String] = []
        for i in 0..<30 {
            lines.append(v3AuditLine(id: "fp\(i)", client: "192.0.2.\(i + 10)", uri: "/comments", status: 200, second: i, method: "POST",
                                     matches: [("941180", "2", "Matched Data: <!-- found within ARGS:comment: <!-- note -->")]))
        }
        for i in 0..<25 {
            lines.append(v3AuditLine(id: "rce\(i)", client: "203.0.113.45", uri: "/run?cmd=%3Bcat%20/etc/passwd", status: 200, second: 100 + i,
                                     matches: [("932100", "2", "Matched Data: ;cat found within ARGS:cmd: ;cat /etc/passwd"),
                                               ("930120", "2", "Matched Data: etc/passwd found within ARGS:cmd: ;cat /etc/passwd")]))
        }
        let dir = tempDir("waf-tuning-report")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        // 2,000 requests in the access log: the anomalous ratio stays under its warning level.
        let access = (0..<2000).map { i in
            String(format: "192.0.2.%d - - [22/Nov/2026:01:%02d:%02d +0000] \"GET / HTTP/1.1\" 200 2 \"-\" \"curl/8\"", i % 200, (i / 60) % 60, i % 60)
        }
        try (access.joined(separator: "\n") + "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        let config = """
        version: 1
        from: 2026-11-22T00:00:00Z
        to: 2026-11-23T00:00:00Z
        environments:
          - name: Shop Production
            namespace: shop
            waf: { files: { audit_log: \(dir)/audit.log, access_log: \(dir)/access.log } }

        """
        try config.write(toFile: dir + "/threat-report.yml", atomically: true, encoding: .utf8)
        let out = dir + "/out"
        let r = try run(wafBinary, ["report", "--config", dir + "/threat-report.yml", "--output", out, "--format", "html,md,json,pdf,sarif,junit",
                                    "--fail-on", "warning", "--compare", "none"])
        #expect(r.code == 0, "the info finding alone does not fail --fail-on warning: \(r.stderr)")
        let conf = try String(contentsOfFile: out + "/waf-tuning/shop-production.conf", encoding: .utf8)
        expectOnlyScopedExclusions(conf)
        #expect(conf.contains(#"SecRule REQUEST_FILENAME "@beginsWith /comments" "id:10000,phase:1,pass,nolog,ctl:ruleRemoveTargetById=941180;ARGS:comment""#))
        #expect(conf.contains("# 941180 on ARGS:comment under /comments: 30 requests, 30 clients, first 2026-11-22T01:00:00Z, last 2026-11-22T01:00:29Z"))
        #expect(try String(contentsOfFile: out + "/SHA256SUMS", encoding: .utf8).contains("waf-tuning/shop-production.conf"))

        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any])
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        let tuning = try #require((env["waf"] as? [String: Any])?["tuning"] as? [String: Any])
        #expect(tuning["file"] as? String == "waf-tuning/shop-production.conf")
        let candidates = try #require(tuning["candidates"] as? [[String: Any]])
        #expect(candidates.first?["decision"] as? String == "exclude-on-path" && candidates.first?["exclusion_id"] as? Int == 10000)
        let campaigns = try #require(tuning["campaigns"] as? [[String: Any]])
        #expect(campaigns.count == 1 && campaigns[0]["client"] as? String == "203.0.113.45" && campaigns[0]["requests"] as? Int == 25)
        #expect(campaigns[0]["high_severity_answered_2xx"] as? Int == 25)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["id"] as? String == "waf.false_positive_candidates" && $0["severity"] as? String == "info" })

        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.contains("<h4>Tuning candidates</h4>") && html.contains("<h4>Attack campaigns</h4>"))
        #expect(html.contains("RCE/SQLi/LFI attempt(s) answered 2xx"))
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(md.contains("#### Tuning candidates") && md.contains("#### Attack campaigns"))
        let campaignID = try #require(campaigns[0]["id"] as? String)
        #expect(html.contains(campaignID) && md.contains(campaignID))
        #expect(try String(contentsOfFile: out + "/report.sarif", encoding: .utf8).contains("waf.false_positive_candidates"))
        #expect(try String(contentsOfFile: out + "/report.junit.xml", encoding: .utf8).contains("waf.false_positive_candidates"))
        if let pdftotext = which("pdftotext") {
            let t = try run(pdftotext, ["-layout", out + "/report.pdf", "-"])
            #expect(t.stdout.contains("Tuning candidates") && t.stdout.contains("Campaign \(campaignID)"))
        }
        // Stable campaign ids: the same data gives the same ids.
        let again = try run(wafBinary, ["report", "--config", dir + "/threat-report.yml", "--output", dir + "/again", "--format", "json",
                                        "--compare", "none"])
        #expect(again.code == 0)
        let json2 = try #require(try foundationJSON(dir + "/again/report.json") as? [String: Any])
        let env2 = try #require((json2["environments"] as? [[String: Any]])?.first)
        let c2 = ((env2["waf"] as? [String: Any])?["tuning"] as? [String: Any])?["campaigns"] as? [[String: Any]]
        #expect(c2?.first?["id"] as? String == campaignID)
    }
}
