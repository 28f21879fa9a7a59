import Foundation
import Testing

/// A real HAProxy 2.6 (`option httplog`, Host captured) in front of a real NGINX + ModSecurity v3 +
/// OWASP CRS whose audit log is off: the rule matches are only in NGINX's error log (level info),
/// shared by a DetectionOnly server and a blocking one (scripts/lab/waf-gateway.sh). The report
/// reads HAProxy's log as the denominator and the error log's lines as the matches, split by
/// Host, and every figure equals the ledger and Tests/Support/recount_gateway.py's recount.
@Suite("WAF lab: HAProxy httplog + NGINX ModSecurity error log, no audit log", .serialized)
struct WAFGatewayLabTests {
    static let detect = "detect.example.com"
    static let block = "block.example.com"

    /// One request over a fresh connection to the lab's HAProxy; the status (0: no answer).
    func send(_ port: UInt16, host: String, path: String, client: String) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return 0 }
        let head = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: lab/1.0\r\nX-Forwarded-For: \(client)\r\nAccept: */*\r\nConnection: close\r\n\r\n".utf8)
        guard head.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == head.count else { return 0 }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            answer += chunk[0..<n]
        }
        let fields = String(decoding: answer.prefix { $0 != 0x0D }, as: UTF8.self).split(separator: " ")
        return fields.count >= 2 ? Int(fields[1]) ?? 0 : 0
    }

    @Test("HAProxy httplog + ModSecurity error lines: totals per Host, transactions by unique_id, blocked only on the blocking server, DetectionOnly seen, figures equal the recount")
    func gatewayLab() throws {
        for path in ["/usr/sbin/nginx", "/usr/sbin/haproxy", "/usr/share/modsecurity-crs/rules"] {
            try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: `make test` installs nginx, haproxy, modsecurity-crs")
        }
        let dir = tempDir("waf-gateway-lab")
        let (code, out) = try WAFLab.spawn(["/bin/bash", repo + "/scripts/lab/waf-gateway.sh", "start", dir], env: [], output: dir + ".start")
        let port = try #require(code == 0 ? UInt16(out.trimmingCharacters(in: .whitespacesAndNewlines)) : nil, "start: \(out)")
        defer { _ = try? WAFLab.spawn(["/bin/bash", repo + "/scripts/lab/waf-gateway.sh", "stop", dir], env: [], output: dir + ".stop") }

        // The ledger: benign and attack requests to both servers, from several planted clients.
        let attacks = try wfuzzPayloads(sql: 6, xss: 4, traversal: 2)
        var ledger: [WAFLedgerEntry] = []
        for (k, host) in [Self.detect, Self.block].enumerated() {
            for i in 0..<(8 + k) {
                let client = "198.51.100.\(10 + i % 3)"
                ledger.append(WAFLedgerEntry(host: host, path: "/page/\(i)", client: client, attack: false,
                                             status: send(port, host: host, path: "/page/\(i)", client: client)))
            }
            for (i, a) in attacks.enumerated() {
                let client = i % 4 == 0 ? "203.0.113.7" : "203.0.113.\(20 + k)"
                ledger.append(WAFLedgerEntry(host: host, path: a, client: client, attack: true, status: send(port, host: host, path: a, client: client)))
            }
        }
        #expect(ledger.allSatisfy { $0.status != 0 }, "every request answered")
        _ = try WAFLab.spawn(["/bin/bash", repo + "/scripts/lab/waf-gateway.sh", "stop", dir], env: [], output: dir + ".stop")

        let yaml = """
        version: 1
        from: 2020-01-01T00:00:00Z
        to: 2100-01-01T00:00:00Z
        interval: day
        environments:
          - name: detect
            namespace: detect
            hosts: [\(Self.detect)]
            waf: { files: { access_log: "\(dir)/haproxy.log", error_log: "\(dir)/error.log" } }
          - name: block
            namespace: block
            hosts: [\(Self.block)]
            waf: { files: { access_log: "\(dir)/haproxy.log", error_log: "\(dir)/error.log" } }

        """
        try yaml.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/config.yml", "--output", dir + "/out", "--format", "json,md", "--compare", "none"])
        #expect(r.code == 0 || r.code == 1, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any], "\(r.stderr)")
        let envs = try #require(json["environments"] as? [[String: Any]])
        let py = try #require(which("python3"))
        for (env, host) in zip(envs, [Self.detect, Self.block]) {
            let w = try #require(env["waf"] as? [String: Any])
            let rr = try run(py, [repo + "/Tests/Support/recount_gateway.py", "--from", "2020-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
                                  "--access", dir + "/haproxy.log", "--error", dir + "/error.log", "--hosts", host])
            let c = try #require(try JSONSerialization.jsonObject(with: Data(rr.stdout.utf8)) as? [String: Any], "\(rr.stderr)")
            let sent = ledger.filter { $0.host == host }
            #expect(w["total_requests"] as? Int == sent.count, "\(host): HAProxy logged every request")
            #expect(w["total_requests"] as? Int == c["total"] as? Int, "\(host) total")
            #expect(w["access_log_format"] as? String == "haproxy")
            #expect(w["anomalous_requests"] as? Int == c["anomalous"] as? Int, "\(host) anomalous")
            #expect(w["blocked_requests"] as? Int == c["blocked"] as? Int, "\(host) blocked")
            let rules = (w["top_rules"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
            #expect(rules == (c["top_rules"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(host) top rules")
            let clients = (w["top_clients"] as? [[String: Any]] ?? []).map { "\($0["ip"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
            #expect(clients == (c["top_clients"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" }, "\(host) top clients")
            let cats = (w["categories"] as? [[String: Any]] ?? []).map { ($0["category"] as? String ?? "", $0["count"] as? Int ?? -1) }
            #expect(Dictionary(uniqueKeysWithValues: cats) == (c["categories"] as? [String: Int] ?? [:]), "\(host) categories")
            #expect(w["waf_engine"] as? String == "ModSecurity v3 (NGINX)")
            #expect(w["crs_version"] as? String == "3.3.4")
            #expect(w["skipped_lines"] as? Int == 0, "\(host): noise lines are passed over, not skipped")
            #expect(w["unattributed_entries"] as? Int == 0)
            let modes = (w["engine_modes"] as? [[String: Any]] ?? []).map { $0["mode"] as? String ?? "" }
            if host == Self.block {
                // Every attack the blocking server answered 403 is one blocked transaction.
                #expect(w["blocked_requests"] as? Int == sent.filter { $0.status == 403 }.count, "blocked = the ledger's 403s")
                #expect((w["blocked_requests"] as? Int ?? 0) > 0)
                #expect(modes.first == "Enabled")
            } else {
                #expect(w["blocked_requests"] as? Int == 0)
                #expect(sent.allSatisfy { $0.status == 200 }, "DetectionOnly lets everything through")
                #expect(modes == ["DetectionOnly"])
            }
            #expect((w["anomalous_requests"] as? Int ?? 0) >= sent.filter { $0.attack && $0.status == 403 }.count)
        }
    }
}
