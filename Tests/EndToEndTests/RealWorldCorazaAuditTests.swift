import Foundation
import Testing

/// threat-report on the real Coraza audit entry of Tests/Fixtures/realworld/waf-coraza/ (origin in
/// its README), plain and behind Envoy's log prefix: every figure the report and `waf tune` show
/// equals the recount of Tests/Support/recount_coraza_audit.py (Python's json, nothing shared).
@Suite("Coraza audit logs on a real capture", .serialized)
struct RealWorldCorazaAuditTests {
    static let fixture = repo + "/Tests/Fixtures/realworld/waf-coraza/coraza-caddy-rho-aias.json.log"
    static let from = "2026-04-01T00:00:00Z", to = "2026-04-02T00:00:00Z"

    func recount(_ files: [String]) throws -> [String: Any] {
        let py = try #require(which("python3"))
        let r = try run(py, [repo + "/Tests/Support/recount_coraza_audit.py", "--from", Self.from, "--to", Self.to] + files.flatMap { ["--audit", $0] })
        #expect(r.code == 0, "recount: \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// The report's WAF section, its Markdown and the recount, for `files` as `audit_log`.
    func check(_ name: String, _ files: [String]) throws -> ([String: Any], String, [String: Any]) {
        let out = tempDir("coraza-\(name)")
        let yaml = """
        version: 1
        from: \(Self.from)
        to: \(Self.to)
        interval: hour
        environments:
          - name: \(name)
            namespace: \(name)
            waf: { files: { audit_log: [\(files.map { "\"\($0)\"" }.joined(separator: ", "))] } }

        """
        try yaml.write(toFile: out + "/config.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", out + "/config.yml", "--output", out, "--format", "json,md"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any], "\(r.stderr)")
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        let waf = try #require(env["waf"] as? [String: Any])
        let md = (try? String(contentsOfFile: out + "/report.md", encoding: .utf8)) ?? ""
        return (waf, md, try recount(files))
    }

    func expectFigures(_ w: [String: Any], _ c: [String: Any], _ name: String) {
        #expect(w["anomalous_requests"] as? Int == c["in_window"] as? Int, "\(name) anomalous")
        #expect(w["blocked_requests"] as? Int == c["blocked"] as? Int, "\(name) blocked")
        #expect(w["detection_only"] as? Int == (c["in_window"] as? Int ?? -1) - (c["blocked"] as? Int ?? 0), "\(name) detected only")
        let rules = (w["top_rules"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(rules == (c["top_rules"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) rules")
        let clients = (w["top_clients"] as? [[String: Any]] ?? []).map { "\($0["ip"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(clients == (c["top_clients"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) clients")
        let uris = (w["top_uris"] as? [[String: Any]] ?? []).map { "\($0["uri"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(uris == (c["top_uris"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) URIs")
        let modes = (w["engine_modes"] as? [[String: Any]] ?? []).map { "\($0["mode"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(modes == (c["engine_modes"] as? [String: Int] ?? [:]).map { "\($0.key)=\($0.value)" }.sorted(), "\(name) modes")
        #expect(w["crs_version"] as? String == (c["crs_versions"] as? [String: Int])?.keys.first, "\(name) CRS")
        #expect(w["skipped_lines"] as? Int == c["skipped"] as? Int, "\(name) skipped")
        // The connector is empty in the capture: the recount sees no name, the report still says Coraza.
        #expect((c["connectors"] as? [String: Int])?.keys.first == "")
        #expect(w["waf_engine"] as? String == "Coraza" && w["audit_log_format"] as? String == "Coraza", "\(name) engine")
        let notes = ((w["coverage"] as? [String: Any])?["notes"] as? [String]) ?? []
        let own = c["in_window"] as? Int ?? -1
        for (key, text) in [("no_rules", "name no rule"), ("no_status", "log no answer status"), ("no_uri", "log no request URI")] {
            let n = c[key] as? Int ?? -1
            #expect(notes.contains { $0.hasPrefix("\(n) of \(own) audit entries \(text)") } == (n > 0), "\(name) \(key): \(notes)")
        }
    }

    @Test("Real coraza-caddy JSON entry: anomalous, blocked, client, URI, engine mode, CRS 4.21.0 as the recount; status and rules said to be not in the log; Markdown engine line")
    func plain() throws {
        let (w, md, c) = try check("caddy", [Self.fixture])
        expectFigures(w, c, "caddy")
        #expect(c["in_window"] as? Int == 1 && c["no_status"] as? Int == 1 && c["no_rules"] as? Int == 1)
        #expect(md.contains("Engine: Coraza · OWASP CRS 4.21.0"), "\(md)")
    }

    @Test("The same entry behind coraza-proxy-wasm's Envoy prefix (PR #263's, verbatim) among Envoy's other lines: read once, the rest passed over")
    func envoyPrefix() throws {
        let real = try String(contentsOfFile: Self.fixture, encoding: .utf8).trimmingCharacters(in: .newlines)
        let dir = tempDir("coraza-envoy")
        let lines = [
            "[2024-03-25 22:25:21.566289][40][info][wasm] [source/extensions/common/wasm/context.cc:1148] wasm log coraza-filter my_vm_id: " + real,
            #"[2024-03-31 10:47:41.013784][33][critical][wasm] [source/extensions/common/wasm/context.cc:1180] wasm log coraza-filter my_vm_id: [client "192.168.65.1"] Coraza: Access denied (phase 1). Inbound Anomaly Score Exceeded in phase 1 (Total Score: 15) [id "949111"] [unique_id "REOYcbXFlHezRahgOnj"]"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/envoy.log", atomically: true, encoding: .utf8)
        let (w, _, c) = try check("envoy", [dir + "/envoy.log"])
        expectFigures(w, c, "envoy")
        #expect(c["prefixed"] as? Int == 1 && c["passed_over"] as? Int == 1 && c["skipped"] as? Int == 0)
        let notes = ((w["coverage"] as? [String: Any])?["notes"] as? [String]) ?? []
        #expect(notes.contains { $0.hasPrefix("1 audit entry read behind a proxy log prefix") && $0.contains("1 other line of that log") }, "\(notes)")
    }

    @Test("waf tune --audit-log on the real entry: it is weighed, no row is made from an entry without rules, and stderr says why")
    func tune() throws {
        let dir = tempDir("coraza-tune")
        let r = try run(binary, ["waf", "tune", "--audit-log", Self.fixture, "--output", dir + "/t.conf", "--from", Self.from, "--to", Self.to])
        #expect(r.code == 0, "\(r.stderr)")
        let c = try recount([Self.fixture])
        #expect(r.stderr.contains("\(c["in_window"] as? Int ?? -1) audit entries weighed (1 read), 0 (rule, path, target) rows"), "\(r.stderr)")
        #expect(r.stderr.contains("1 of 1 audit entries name no rule") && r.stderr.contains("1 of 1 audit entries log no answer status"), "\(r.stderr)")
        let conf = try String(contentsOfFile: dir + "/t.conf", encoding: .utf8)
        // No directive line (the header's comments name them, always behind `#`).
        #expect(!conf.split(separator: "\n").contains { $0.hasPrefix("SecRule") }, "\(conf)")
    }
}
