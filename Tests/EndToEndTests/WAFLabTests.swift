import Foundation
import Testing

/// threat-report on the logs of a real NGINX + ModSecurity v3 + CRS that this test starts, feeds
/// with benign traffic and third-party attack payloads, and stops. The report's numbers are
/// checked against the log lines counted here, independently, and against the ledger of what
/// was sent.
@Suite("WAF files end to end: a real NGINX + ModSecurity v3 + CRS", .serialized)
struct WAFLabTests {
    static let upstreams = ["production": "shop-production-web-80", "staging": "shop-staging-web-80"]

    /// Sends the traffic: per environment benign GETs from a pool of clients and two POSTs (405,
    /// audited for their status), attacks from wfuzz's lists (most of production's from one
    /// address), and requests no environment owns (numeric Host, a raw traversal path).
    func traffic(_ lab: WAFLab) throws -> [WAFLedgerEntry] {
        var ledger: [WAFLedgerEntry] = []
        func send(_ host: String, _ path: String, client: String, attack: Bool, method: String = "GET", body: String? = nil,
                  userAgent: String? = nil) {
            let status = userAgent.map { lab.send(host: host, path: path, method: method, client: client, userAgent: $0, body: body) }
                ?? lab.send(host: host, path: path, method: method, client: client, body: body)
            ledger.append(WAFLedgerEntry(host: host, path: path, client: client, attack: attack, status: status))
        }
        let benign = ["/", "/products", "/products/42", "/cart", "/search?q=shoes", "/static/app.js", "/images/logo.png", "/robots.txt"]
        for i in 0..<60 { send(WAFLab.production, benign[i % benign.count], client: "192.0.2.\(10 + i % 30)", attack: false) }
        for i in 0..<30 { send(WAFLab.staging, benign[i % benign.count], client: "192.0.2.\(100 + i % 10)", attack: false) }
        for host in [WAFLab.production, WAFLab.staging] {
            send(host, "/", client: "192.0.2.50", attack: false, method: "POST", body: "name=alice&qty=2")
        }
        let payloads = try wfuzzPayloads(sql: 40, xss: 15, traversal: 10)
        for (i, p) in payloads.enumerated() {
            let staging = i % 4 == 3
            send(staging ? WAFLab.staging : WAFLab.production, p, client: staging ? "198.51.100.23" : (i % 5 == 0 ? "192.0.2.77" : "203.0.113.45"),
                 attack: true)
        }
        send(WAFLab.production, "/admin.php", client: "203.0.113.45", attack: true, userAgent: "Nikto/2.1.6")
        send(WAFLab.staging, "/?file=%c0%af..%c0%af..%c0%afetc/passwd", client: "198.51.100.140", attack: true)
        send(WAFLab.production, "/?exec=%3Bcat%20/etc/shadow", client: "203.0.113.45", attack: true)
        send("127.0.0.1", "/?cmd=%3Bcat%20/etc/passwd", client: "203.0.113.45", attack: true)
        send(WAFLab.production, "/../../etc/passwd", client: "203.0.113.199", attack: true)
        return ledger
    }

    /// Runs threat-report (the built binary) on the lab's logs over a window around now.
    func report(_ lab: WAFLab, start: Date) throws -> (Run, [String: Any], String) {
        let out = tempDir("waf-lab-out")
        let from = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / 60).rounded(.down) * 60 - 120)
        let to = from.addingTimeInterval(600)
        let f = ISO8601DateFormatter()
        let config = out + "/threat-report.yml"
        var yaml = "version: 1\nfrom: \(f.string(from: from))\nto: \(f.string(from: to))\ninterval: minute\nenvironments:\n"
        for (name, host) in [("production", WAFLab.production), ("staging", WAFLab.staging)] {
            yaml += """
              - name: \(name)
                namespace: shop-\(name)
                hosts: [\(host)]
                waf: { files: { audit_log: \(lab.auditLog), access_log: "\(lab.dir)/access*.log", audit_log_timezone: Europe/Berlin } }

            """
        }
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try run(wafBinary, ["report", "--config", config, "--output", out, "--format", "html,md,json"])
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any], "report.json: \(r.stderr)")
        return (r, json, out)
    }

    func waf(_ json: [String: Any], _ env: String) throws -> [String: Any] {
        let envs = try #require(json["environments"] as? [[String: Any]])
        return try #require(envs.first { $0["name"] as? String == env }?["waf"] as? [String: Any])
    }

    /// The checks both engine modes share: totals, anomalous, ratio, bucket sums, top rules,
    /// categories, clients and blocked, per environment, against the independent count.
    func checkAgainstLogs(_ json: [String: Any], _ count: WAFLogCount, ledger: [WAFLedgerEntry]) throws {
        for env in ["production", "staging"] {
            let w = try waf(json, env)
            let c = try #require(count.envs[env])
            #expect(w["status"] as? String == "ok")
            #expect(w["total_requests"] as? Int == c.total, "\(env) total")
            #expect(w["anomalous_requests"] as? Int == c.anomalous, "\(env) anomalous")
            let ratio = try #require(w["anomalous_ratio"] as? Double)
            #expect(abs(ratio - c.ratio) < 1e-12)
            let history = try #require(w["history"] as? [String: Any])
            for (series, expected) in [("total", c.total), ("anomalous", c.anomalous)] {
                let points = try #require(history[series] as? [[Any]])
                #expect(points.count == 10)
                #expect(points.compactMap { $0[1] as? Int }.reduce(0, +) == expected, "\(env) \(series) bucket sum")
            }
            let rules = try #require(w["top_rules"] as? [[String: Any]])
            #expect(rules.map { $0["id"] as? String ?? "" } == c.topRules.map(\.0), "\(env) top rules")
            #expect(rules.map { $0["count"] as? Int ?? -1 } == c.topRules.map(\.1))
            #expect(rules.allSatisfy { ($0["message"] as? String)?.isEmpty == false }, "every top rule has its message")
            let cats = try #require(w["categories"] as? [[String: Any]])
            #expect(Dictionary(uniqueKeysWithValues: cats.map { ($0["category"] as? String ?? "", $0["count"] as? Int ?? -1) }) == c.categories)
            let clients = try #require(w["top_clients"] as? [[String: Any]])
            #expect(clients.first?["ip"] as? String == c.clients.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key)
            #expect(w["blocked_requests"] as? Int == c.blocked, "\(env) blocked")
            #expect(w["detection_only"] as? Int == c.anomalous - c.blocked)
            #expect(w["skipped_lines"] as? Int == 0)
            // The ledger: every request to the environment's Host that NGINX routed has one access line.
            let host = env == "production" ? WAFLab.production : WAFLab.staging
            #expect(ledger.filter { $0.host == host && $0.status != 400 && $0.status != 0 }.count == c.total, "\(env) ledger")
        }
        // One audit entry per request at most; all of them parse.
        #expect(count.auditLines <= ledger.count && count.accessLines == ledger.count)
    }

    @Test("DetectionOnly: counts per environment equal the logs; nothing blocked; findings name the risk")
    func detectionOnly() throws {
        let lab = try WAFLab(engine: "DetectionOnly")
        defer { lab.stop() }
        let start = Date()
        let ledger = try traffic(lab)
        lab.stop()
        #expect(ledger.allSatisfy { $0.status != 0 }, "every request was answered")
        #expect(ledger.filter { !$0.attack }.allSatisfy { $0.status == 200 || $0.status == 405 })
        let count = try WAFLogCount(access: lab.accessLog, audit: lab.auditLog, upstreams: Self.upstreams)
        let (r, json, out) = try report(lab, start: start)
        #expect(r.code == 0, "\(r.stderr)")
        try checkAgainstLogs(json, count, ledger: ledger)
        let p = try waf(json, "production")
        #expect(p["blocked_requests"] as? Int == 0)
        #expect((p["engine_modes"] as? [[String: Any]])?.map { $0["mode"] as? String } == ["DetectionOnly"])
        #expect((p["anomaly_scores"] as? [[String: Any]])?.isEmpty == false)
        let findings = try #require(json["findings"] as? [[String: Any]])
        let ids = Set(findings.filter { $0["environment"] as? String == "production" }.compactMap { $0["id"] as? String })
        #expect(ids.isSuperset(of: ["waf.blocking_disabled", "waf.high_severity_categories", "waf.attack_burst"]), "\(ids)")
        #expect(FileManager.default.fileExists(atPath: out + "/charts/production-waf-categories.svg"))
        #expect(FileManager.default.fileExists(atPath: out + "/charts/production-waf-categories.png"))
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.contains("Attack categories (CRS rule families)") && html.contains("Inbound anomaly scores"))
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(md.contains("charts/production-waf-categories.png"))
    }

    @Test("SecRuleEngine On: attacks get 403, blocked equals the 403 entries with 949110, and the counts still match")
    func blocking() throws {
        let lab = try WAFLab(engine: "On")
        defer { lab.stop() }
        let start = Date()
        let ledger = try traffic(lab)
        lab.stop()
        let count = try WAFLogCount(access: lab.accessLog, audit: lab.auditLog, upstreams: Self.upstreams)
        let (r, json, _) = try report(lab, start: start)
        #expect(r.code == 0, "\(r.stderr)")
        try checkAgainstLogs(json, count, ledger: ledger)
        for (env, host) in [("production", WAFLab.production), ("staging", WAFLab.staging)] {
            let w = try waf(json, env)
            let denied = ledger.filter { $0.host == host && $0.status == 403 }.count
            #expect(denied > 0)
            #expect(w["blocked_requests"] as? Int == denied, "\(env): every 403 was a blocking decision")
            #expect((w["engine_modes"] as? [[String: Any]])?.map { $0["mode"] as? String } == ["Enabled"])
        }
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(!findings.contains { $0["id"] as? String == "waf.blocking_disabled" })
    }

    @Test("The bundled raw capture (samples/threat-report-raw.yml) reports what its logs hold")
    func rawSample() throws {
        let out = tempDir("waf-raw-sample")
        let r = try run(wafBinary, ["report", "--config", "samples/threat-report-raw.yml", "--output", out, "--format", "json,md"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any])
        let count = try WAFLogCount(access: repo + "/samples/raw/access.log", audit: repo + "/samples/raw/modsec_audit.log",
                                    upstreams: Self.upstreams)
        for env in ["production", "staging"] {
            let w = try waf(json, env)
            let c = try #require(count.envs[env])
            #expect(w["total_requests"] as? Int == c.total && w["anomalous_requests"] as? Int == c.anomalous, "\(env)")
            let rules = try #require(w["top_rules"] as? [[String: Any]])
            #expect(rules.map { $0["id"] as? String ?? "" } == c.topRules.map(\.0))
        }
        // The ledger the recording script kept agrees with the access log.
        let ledger = try String(contentsOfFile: repo + "/samples/raw/ledger.tsv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(ledger.count == count.accessLines)
    }
}
