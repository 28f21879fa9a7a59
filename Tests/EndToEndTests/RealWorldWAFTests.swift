import Foundation
import Testing

/// threat-report on third-party captures (Tests/Fixtures/realworld/waf/, origins in each README):
/// every figure the report shows equals the recount of Tests/Support/recount_waf.py, which reads
/// the same files with regular expressions and Python's standard library.
@Suite("WAF files on real-world captures", .serialized)
struct RealWorldWAFTests {
    static let fixtures = repo + "/Tests/Fixtures/realworld/waf"

    struct Case {
        var name: String
        var from: String
        var to: String
        var audit: [String] = []
        var access: [String] = []
        var hosts: [String] = []
        var accessFormat: String?
    }

    /// Runs the report and the recount on one case; returns the WAF section and the recount.
    func check(_ c: Case) throws -> ([String: Any], [String: Any], [[String: Any]]) {
        let out = tempDir("realworld-\(c.name)")
        var files = ""
        if !c.audit.isEmpty { files += "audit_log: [\(c.audit.map { "\"\(Self.fixtures)/\($0)\"" }.joined(separator: ", "))], " }
        if !c.access.isEmpty { files += "access_log: [\(c.access.map { "\"\(Self.fixtures)/\($0)\"" }.joined(separator: ", "))], " }
        if let f = c.accessFormat { files += "access_log_format: '\(f)', " }
        let yaml = """
        version: 1
        from: \(c.from)
        to: \(c.to)
        interval: hour
        environments:
          - name: \(c.name)
            namespace: \(c.name)
        \(c.hosts.isEmpty ? "" : "    hosts: [\(c.hosts.joined(separator: ", "))]\n")    waf: { files: { \(files.dropLast(2)) } }

        """
        try yaml.write(toFile: out + "/config.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", out + "/config.yml", "--output", out, "--format", "json,md"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any], "\(r.stderr)")
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        let waf = try #require(env["waf"] as? [String: Any])
        var args = [repo + "/Tests/Support/recount_waf.py", "--from", c.from, "--to", c.to]
        for a in c.audit { args += ["--audit", "\(Self.fixtures)/\(a)"] }
        for a in c.access { args += ["--access", "\(Self.fixtures)/\(a)"] }
        if !c.hosts.isEmpty { args += ["--hosts", c.hosts.joined(separator: ",")] }
        let py = try #require(which("python3"))
        let recount = try recountJSON(py, args)
        let findings = (json["findings"] as? [[String: Any]]) ?? []
        return (waf, recount, findings)
    }

    func recountJSON(_ exe: String, _ args: [String]) throws -> [String: Any] {
        let r = try run(exe, args)
        #expect(r.code == 0, "recount: \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// Every figure of the WAF section against the recount.
    func expectFigures(_ w: [String: Any], _ c: [String: Any], _ name: String) {
        #expect(w["status"] as? String == "ok", "\(name)")
        #expect(w["total_requests"] as? Int == c["total"] as? Int, "\(name) total")
        #expect(w["anomalous_requests"] as? Int == c["anomalous"] as? Int, "\(name) anomalous")
        #expect(w["blocked_requests"] as? Int == c["blocked"] as? Int, "\(name) blocked")
        #expect(w["detection_only"] as? Int == (c["anomalous"] as? Int ?? -1) - (c["blocked"] as? Int ?? 0), "\(name) detected only")
        let cats = (w["categories"] as? [[String: Any]] ?? []).map { ($0["category"] as? String ?? "", $0["count"] as? Int ?? -1) }
        #expect(Dictionary(uniqueKeysWithValues: cats) == (c["categories"] as? [String: Int] ?? [:]), "\(name) categories")
        let rules = (w["top_rules"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(rules == (c["top_rules"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) top rules")
        let clients = (w["top_clients"] as? [[String: Any]] ?? []).map { "\($0["ip"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(clients == (c["top_clients"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(name) top clients")
        #expect(w["skipped_lines"] as? Int == 0, "\(name) skipped")
        #expect(w["unattributed_entries"] as? Int == 0, "\(name) unattributed")
        let history = w["history"] as? [String: Any]
        #expect((history?["total"] as? [[Any]])?.compactMap { $0[1] as? Int }.reduce(0, +) == c["total"] as? Int, "\(name) total history")
        #expect((history?["anomalous"] as? [[Any]])?.compactMap { $0[1] as? Int }.reduce(0, +) == c["anomalous"] as? Int, "\(name) anomalous history")
    }

    @Test("DVWA attacks in ModSecurity 2.9 native serial format: blocked read from 'Access denied with code 403 (phase 2)'; an environment without hosts owns its file")
    func nativeBlockedDVWA() throws {
        let c = Case(name: "dvwa", from: "2020-12-10T00:00:00Z", to: "2020-12-12T00:00:00Z", audit: ["dvwa-modsec2-native/modsec_audit.log"])
        let (w, recount, findings) = try check(c)
        expectFigures(w, recount, c.name)
        #expect(w["anomalous_requests"] as? Int == 2 && w["blocked_requests"] as? Int == 2)
        #expect(w["audit_log_format"] as? String == "ModSecurity native")
        #expect((w["engine_modes"] as? [[String: Any]])?.first?["mode"] as? String == "Enabled")
        // The guidance reads a native log with awk/grep, not jq, and names no ingress namespace.
        let guidance = findings.compactMap { $0["guidance"] as? String }.joined(separator: "\n")
        #expect(!guidance.contains("gitlab-managed-apps") && !guidance.contains("jq "), "\(guidance)")
    }

    @Test("ModSecurity 2.9's '--0400' zone: times read as -04:00, so a window edge at 21:46Z keeps the 17:45 entries and drops the 17:49 one")
    func timeZoneBug() throws {
        var c = Case(name: "soc", from: "2023-06-07T00:00:00Z", to: "2023-06-09T00:00:00Z",
                     audit: ["soc200-modsec2-native-tzbug/modsec_audit.log"], hosts: ["192.168.210.12"])
        let (w, recount, _) = try check(c)
        expectFigures(w, recount, c.name)
        #expect(w["anomalous_requests"] as? Int == 3 && w["blocked_requests"] as? Int == 0)
        c.to = "2023-06-07T21:46:00Z"
        c.name = "socedge"
        let (edge, edgeRecount, _) = try check(c)
        expectFigures(edge, edgeRecount, c.name)
        #expect(edge["anomalous_requests"] as? Int == 2)
    }

    @Test("The official NGINX image's default 'main' access log: detected, every line counted, the format named")
    func mainDetected() throws {
        let c = Case(name: "elk", from: "2018-08-15T00:00:00Z", to: "2018-08-16T00:00:00Z", access: ["nginx-elk-main-access/access.log"])
        let (w, recount, _) = try check(c)
        expectFigures(w, recount, c.name)
        #expect(w["total_requests"] as? Int == 39)
        #expect(w["access_log_format"] as? String == "main")
    }

    @Test("The same log read through access_log_format: the main preset, and its log_format string compiled")
    func mainConfigured() throws {
        for (k, f) in ["main", #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#].enumerated() {
            let c = Case(name: "elkfmt\(k)", from: "2018-08-15T00:00:00Z", to: "2018-08-18T00:00:00Z",
                         access: ["nginx-elk-main-access/access.log"], accessFormat: f)
            let (w, recount, _) = try check(c)
            expectFigures(w, recount, c.name)
            #expect(w["total_requests"] as? Int == 45)
            #expect(w["access_log_format"] as? String == (k == 0 ? "main" : "log_format"))
        }
    }

    @Test("The audit producer names the engine and CRS version: each native H section's 'Producer: ModSecurity for Apache/2.9.3 …; OWASP_CRS/3.3.0.' (DVWA) and '…/3.2.0.' (SOC-200)")
    func producerFromNativeAudit() throws {
        // grep "Producer:" in each file: DVWA 2 lines naming OWASP_CRS/3.3.0, SOC-200 3 naming OWASP_CRS/3.2.0.
        let (dvwa, _, _) = try check(Case(name: "dvwaproducer", from: "2020-12-10T00:00:00Z", to: "2020-12-12T00:00:00Z",
                                          audit: ["dvwa-modsec2-native/modsec_audit.log"]))
        #expect(dvwa["waf_engine"] as? String == "ModSecurity 2 (Apache)")
        #expect(dvwa["crs_version"] as? String == "3.3.0")
        let (soc, _, _) = try check(Case(name: "socproducer", from: "2023-06-07T00:00:00Z", to: "2023-06-09T00:00:00Z",
                                         audit: ["soc200-modsec2-native-tzbug/modsec_audit.log"], hosts: ["192.168.210.12"]))
        #expect(soc["waf_engine"] as? String == "ModSecurity 2 (Apache)")
        #expect(soc["crs_version"] as? String == "3.2.0")
    }
}
