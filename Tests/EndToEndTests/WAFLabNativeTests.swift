import Foundation
import Testing

/// The real NGINX + libmodsecurity 3 + CRS writing `SecAuditLogFormat Native` serial logs and,
/// per server, NGINX's default `main` access log: the report is checked against the ledger of what
/// was sent and against Tests/Support/recount_waf.py on the same logs.
@Suite("WAF files end to end: native audit log and main access log from a real NGINX", .serialized)
struct WAFLabNativeTests {
    @Test("SecAuditLogFormat Native + main access logs: totals, anomalous, blocked, rules, clients equal the recount and the ledger")
    func nativeAndMain() throws {
        let lab = try WAFLab(engine: "On", auditFormat: "Native")
        defer { lab.stop() }
        let start = Date()
        let ledger = try WAFLabTests().traffic(lab)
        lab.stop()
        let audit = try String(contentsOfFile: lab.auditLog, encoding: .utf8)
        #expect(audit.hasPrefix("---") && !audit.contains("{\"transaction\""), "the audit log is native")

        let out = tempDir("waf-lab-native")
        let from = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / 60).rounded(.down) * 60 - 120)
        let to = from.addingTimeInterval(600)
        let f = ISO8601DateFormatter()
        var yaml = "version: 1\nfrom: \(f.string(from: from))\nto: \(f.string(from: to))\ninterval: minute\nenvironments:\n"
        let envs = [("production", WAFLab.production), ("staging", WAFLab.staging)]
        for (name, host) in envs {
            yaml += """
              - name: \(name)
                namespace: shop-\(name)
                hosts: [\(host)]
                waf: { files: { audit_log: \(lab.auditLog), access_log: "\(lab.dir)/main-access-\(name).log" } }

            """
        }
        try yaml.write(toFile: out + "/threat-report.yml", atomically: true, encoding: .utf8)
        let r = try run(wafBinary, ["report", "--config", out + "/threat-report.yml", "--output", out, "--format", "json"])
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any], "\(r.stderr)")
        let reported = try #require(json["environments"] as? [[String: Any]])
        let python = try #require(which("python3"))

        var attributed = 0
        for (name, host) in envs {
            let w = try #require(reported.first { $0["name"] as? String == name }?["waf"] as? [String: Any])
            let rc = try run(python, [repo + "/Tests/Support/recount_waf.py", "--from", f.string(from: from), "--to", f.string(from: to),
                                      "--audit", lab.auditLog, "--access", "\(lab.dir)/main-access-\(name).log", "--hosts", host])
            let c = try #require(try JSONSerialization.jsonObject(with: Data(rc.stdout.utf8)) as? [String: Any], "\(rc.stderr)")
            #expect(w["status"] as? String == "ok")
            #expect(w["access_log_format"] as? String == "main" && w["audit_log_format"] as? String == "ModSecurity native")
            #expect(w["total_requests"] as? Int == c["total"] as? Int, "\(name) total")
            #expect(w["anomalous_requests"] as? Int == c["anomalous"] as? Int, "\(name) anomalous")
            #expect(w["blocked_requests"] as? Int == c["blocked"] as? Int, "\(name) blocked")
            let rules = (w["top_rules"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
            #expect(rules == (c["top_rules"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) top rules")
            let clients = (w["top_clients"] as? [[String: Any]] ?? []).map { "\($0["ip"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
            #expect(clients == (c["top_clients"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) top clients")
            let cats = (w["categories"] as? [[String: Any]] ?? []).map { ($0["category"] as? String ?? "", $0["count"] as? Int ?? -1) }
            #expect(Dictionary(uniqueKeysWithValues: cats) == (c["categories"] as? [String: Int] ?? [:]), "\(name) categories")
            #expect(w["skipped_lines"] as? Int == 0)
            // The ledger: one main line per request NGINX routed to this server, and every 403 a blocking decision.
            #expect(ledger.filter { $0.host == host && $0.status != 400 && $0.status != 0 }.count == c["total"] as? Int, "\(name) ledger total")
            let denied = ledger.filter { $0.host == host && $0.status == 403 }.count
            #expect(denied > 0 && w["blocked_requests"] as? Int == denied, "\(name) ledger 403s")
            attributed += w["anomalous_requests"] as? Int ?? 0
            let unattributed = w["unattributed_entries"] as? Int ?? -1
            // Entries of the default server (Host 127.0.0.1) belong to neither environment: counted, never dropped silently.
            let all = try run(python, [repo + "/Tests/Support/recount_waf.py", "--from", f.string(from: from), "--to", f.string(from: to),
                                       "--audit", lab.auditLog])
            let total = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["anomalous"] as? Int ?? -1
            let other = try run(python, [repo + "/Tests/Support/recount_waf.py", "--from", f.string(from: from), "--to", f.string(from: to),
                                         "--audit", lab.auditLog, "--hosts", envs.map(\.1).joined(separator: ",")])
            let known = (try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])?["anomalous"] as? Int ?? -1
            #expect(unattributed == total - known && unattributed > 0, "\(name) unattributed")
        }
        #expect(attributed > 0)
    }
}
