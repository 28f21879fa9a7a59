import Foundation
import Testing

/// The data-quality contract end to end (docs/data-quality.md): a configured source that read
/// input and could use none of it makes the report partial (exit 3) without --fail-on, and the
/// report never says "complete"; the coverage is in report.json, the HTML and the Markdown.
@Suite("Data quality, end to end", .serialized)
struct DataQualityTests {
    /// The real raw-log capture's audit log, with an access log in a format the tool does not read.
    func config(_ dir: String, accessLines: [String]) throws -> String {
        try (accessLines.joined(separator: "\n") + "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        let cfg = dir + "/threat-report.yml"
        try """
        version: 1
        from: 2026-11-22T00:00:00Z
        to: 2026-11-22T01:00:00Z
        interval: minute
        environments:
          - name: production
            namespace: shop-production
            hosts: [shop.example.com]
            waf:
              files: { audit_log: \(repo)/samples/raw/modsec_audit.log, access_log: \(dir)/access.log, audit_log_timezone: Europe/Berlin }

        """.write(toFile: cfg, atomically: true, encoding: .utf8)
        return cfg
    }

    @Test("An unreadable access log: input.unreadable, exit 3 without --fail-on, status partial, coverage in every format")
    func unreadableInputExits3() throws {
        let dir = tempDir("dq")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = (0..<455).map { "[22/Nov/2026:00:1\($0 % 10):00 +0000] upstream timed out <b>#\($0)</b>" }
        let cfg = try config(dir, accessLines: lines)
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "html,md,json", "--compare", "none"])
        #expect(r.code == 3, "\(r.stderr)")
        #expect(r.stderr.contains("exit 3: partial report, unreadable input: production/waf: access log"), "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        #expect(json["status"] as? String == "partial")
        let findings = json["findings"] as? [[String: Any]] ?? []
        #expect(findings.contains { $0["id"] as? String == "input.unreadable" && $0["severity"] as? String == "critical" })
        let env = (json["environments"] as? [[String: Any]])?.first
        let coverage = (env?["waf"] as? [String: Any])?["coverage"] as? [String: Any]
        let inputs = coverage?["inputs"] as? [[String: Any]] ?? []
        let access = inputs.first { $0["name"] as? String == "access log" }
        #expect(access?["read"] as? Int == 455 && access?["parsed"] as? Int == 0)
        let examples = access?["examples"] as? [[String: Any]] ?? []
        #expect(examples.first?["place"] as? String == dir + "/access.log:1")
        #expect(examples.first?["value"] as? String == lines[0])
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("· report partial") && !html.contains("report complete"))
        #expect(html.contains("access log 1 file") && html.contains("&lt;b&gt;#0&lt;/b&gt;"))
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains("_Read:_ files: audit log 1 file") && md.contains("`input.unreadable`"))
    }

    @Test("A readable run of the same capture is complete and exits 0; --fail-on is not needed for the partial case")
    func readableInputIsComplete() throws {
        let dir = tempDir("dq-ok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let access = try String(contentsOfFile: repo + "/samples/raw/access.log", encoding: .utf8)
        let cfg = try config(dir, accessLines: access.split(separator: "\n").map(String.init))
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        #expect(json["status"] as? String == "complete")
        // The previous window lies before the capture: not compared, calmly, and never a failure.
        let env = (json["environments"] as? [[String: Any]])?.first
        let previous = env?["previous"] as? [String: Any]
        #expect(previous?["not_covered"] as? Bool == true)
        #expect(((previous?["waf"] as? [String: Any])?["error"] as? String)?.hasPrefix("the input holds nothing before") == true)
    }
}
