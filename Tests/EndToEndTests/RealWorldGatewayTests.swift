import Foundation
import Testing

/// threat-report on third-party gateway captures (Tests/Fixtures/realworld/waf-gateway/, origins
/// in its README): Envoy, Envoy Gateway JSON, Traefik JSON and HAProxy access logs, and Coraza
/// error lines wrapped in JSON. Every figure equals Tests/Support/recount_gateway.py's recount.
@Suite("Gateway access logs and WAF error lines on real-world captures", .serialized)
struct RealWorldGatewayTests {
    static let fixtures = repo + "/Tests/Fixtures/realworld/waf-gateway"

    struct Case {
        var name: String
        var namespace = "shop"
        var access: [String] = []
        var errors: [String] = []
        var hosts: [String] = []
        var format: String?
        var from = "2015-01-01T00:00:00Z"
        var to = "2027-01-01T00:00:00Z"
    }

    /// The WAF section, its coverage and the findings of a report on one case, and the recount.
    func check(_ c: Case) throws -> (waf: [String: Any], recount: [String: Any], findings: [[String: Any]]) {
        let out = tempDir("gateway-\(c.name)")
        var files: [String] = []
        if !c.access.isEmpty { files.append("access_log: [\(c.access.map { "\"\(Self.fixtures)/\($0)\"" }.joined(separator: ", "))]") }
        if !c.errors.isEmpty { files.append("error_log: [\(c.errors.map { "\"\(Self.fixtures)/\($0)\"" }.joined(separator: ", "))]") }
        if let f = c.format { files.append("access_log_format: \(f)") }
        let yaml = """
        version: 1
        from: \(c.from)
        to: \(c.to)
        interval: day
        environments:
          - name: \(c.name)
            namespace: \(c.namespace)
        \(c.hosts.isEmpty ? "" : "    hosts: [\(c.hosts.joined(separator: ", "))]\n")    waf: { files: { \(files.joined(separator: ", ")) } }

        """
        try yaml.write(toFile: out + "/config.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", out + "/config.yml", "--output", out, "--format", "json,md", "--compare", "none"])
        #expect(r.code == 0 || r.code == 1, "\(r.stderr)")
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any], "\(r.stderr)")
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        let waf = try #require(env["waf"] as? [String: Any])
        var args = [repo + "/Tests/Support/recount_gateway.py", "--from", c.from, "--to", c.to]
        for a in c.access { args += ["--access", "\(Self.fixtures)/\(a)"] }
        for e in c.errors { args += ["--error", "\(Self.fixtures)/\(e)"] }
        if !c.hosts.isEmpty { args += ["--hosts", c.hosts.joined(separator: ",")] }
        let py = try #require(which("python3"))
        let rr = try run(py, args)
        #expect(rr.code == 0, "recount: \(rr.stderr)")
        let recount = try #require(try JSONSerialization.jsonObject(with: Data(rr.stdout.utf8)) as? [String: Any])
        return (waf, recount, (json["findings"] as? [[String: Any]]) ?? [])
    }

    /// The days with requests in the WAF history, `YYYY-MM-DD` → requests, to compare with the recount's `days`.
    func days(_ waf: [String: Any]) -> [String: Int] {
        var out: [String: Int] = [:]
        for point in ((waf["history"] as? [String: Any])?["total"] as? [[Any]]) ?? [] {
            guard point.count == 2, let t = point[0] as? String, let n = point[1] as? Int, n > 0 else { continue }
            out[String(t.prefix(10)), default: 0] += n
        }
        return out
    }

    func input(_ waf: [String: Any], _ name: String) -> [String: Any]? {
        ((waf["coverage"] as? [String: Any])?["inputs"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    @Test("Envoy default text: detected, both lines counted (a TCP line's status 0 too), the format named")
    func envoyText() throws {
        let (w, c, _) = try check(Case(name: "envoy", access: ["envoy-text.log"]))
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        #expect(w["total_requests"] as? Int == 2)
        #expect(w["access_log_format"] as? String == "envoy")
        #expect(input(w, "access log")?["skipped"] as? [Any] == nil || (input(w, "access log")?["skipped"] as? [Any])?.isEmpty == true)
    }

    @Test("HAProxy httplog behind syslog: the httplog line counted, the two lines of another log-format skipped with their place")
    func haproxy() throws {
        let (w, c, findings) = try check(Case(name: "haproxy", access: ["haproxy.log"]))
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        #expect(w["total_requests"] as? Int == 1)
        #expect(w["access_log_format"] as? String == "haproxy")
        #expect(w["skipped_lines"] as? Int == c["access_skipped"] as? Int)
        let examples = (input(w, "access log")?["examples"] as? [[String: Any]]) ?? []
        #expect(examples.first?["place"] as? String == "\(Self.fixtures)/haproxy.log:2")
        #expect(findings.contains { $0["id"] as? String == "input.partially_read" })
    }

    @Test("HAProxy with access_log_format: haproxy reads the same line; the Host comes from the first captured header")
    func haproxyPresetHost() throws {
        let (w, _, _) = try check(Case(name: "haproxyhost", access: ["haproxy.log"], hosts: ["docs.example.internal"], format: "haproxy"))
        #expect(w["total_requests"] as? Int == 1)
        let (other, _, _) = try check(Case(name: "haproxyother", access: ["haproxy.log"], hosts: ["shop.example.com"], format: "haproxy"))
        #expect(other["total_requests"] as? Int == 0, "the captured Host is another site's")
    }

    @Test("HAProxy httplog from two repositories: every line read (no captures, {host}, {host} {resp}, {X-Forwarded-For}, <NOSRV>, <BADREQ>, +Ta, CONNECT, ISO syslog time, no syslog prefix, a line cut at 1024 bytes inside its request), each day as the recount counts")
    func haproxyHttplog() throws {
        let files = ["haproxy-httplog-beats.log", "haproxy-httplog-logstash.log"]
        let (w, c, findings) = try check(Case(name: "httplog", access: files, from: "2010-01-01T00:00:00Z"))
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        #expect(w["total_requests"] as? Int == 10)
        #expect((c["access_formats"] as? [String: Int]) == ["haproxy": 10])
        #expect(days(w) == (c["days"] as? [String: Int] ?? [:]))
        // 2017-07-31: the line cut inside its request (no closing quote) is a request too.
        #expect(days(w) == ["2011-07-18": 1, "2013-12-09": 2, "2015-11-03": 1, "2017-07-31": 1, "2018-07-30": 1, "2018-12-10": 3, "2020-11-04": 1])
        #expect(w["access_log_format"] as? String == "haproxy")
        #expect(w["skipped_lines"] as? Int == 0)
        #expect(!findings.contains { $0["id"] as? String == "input.partially_read" })
    }

    @Test("HAProxy httplog with hosts: the first captured header decides (localhost:8888 is localhost's); lines without captures are the file's")
    func haproxyHttplogHosts() throws {
        let files = ["haproxy-httplog-beats.log", "haproxy-httplog-logstash.log"]
        let (w, c, _) = try check(Case(name: "httploghost", access: files, hosts: ["localhost"], from: "2010-01-01T00:00:00Z"))
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        // beats: 1 without captures + 2 {localhost:8888||}; logstash: 4 without captures
        #expect(w["total_requests"] as? Int == 7)
        #expect(days(w) == (c["days"] as? [String: Int] ?? [:]))
    }

    @Test("Traefik JSON: detected, every line counted (StartUTC or time) and attributed by RequestHost, the format named")
    func traefik() throws {
        let hosts = ["backend.docker.docker.localhost", "10.10.10.11", "api-students.unpad.ac.id", "backend.elastic-package-service.docker.localhost"]
        let (w, c, _) = try check(Case(name: "traefik", access: ["traefik.json.log"], hosts: hosts))
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        #expect(w["total_requests"] as? Int == 5)
        #expect(w["access_log_format"] as? String == "traefik-json")
        #expect(w["skipped_lines"] as? Int == 0)
    }

    @Test("Traefik JSON without hosts: a Kubernetes router (<namespace>-…@kubernetes, @kubernetescrd) says whose a line is; ping@internal and lines without a router are the file's")
    func traefikRouters() throws {
        // jq -r .RouterName: null, ping@internal, service-foo-…@kubernetescrd, app-unpad-students-api-prod-…@kubernetes, null
        let (w, _, _) = try check(Case(name: "traefikns", namespace: "service", access: ["traefik.json.log"]))
        #expect(w["total_requests"] as? Int == 4)
        let (other, _, _) = try check(Case(name: "traefikother", namespace: "shop", access: ["traefik.json.log"]))
        #expect(other["total_requests"] as? Int == 3)
    }

    @Test("Envoy Gateway JSON: detected; typed values (v1.2+) and the older all-string values with \"-\" both read; attributed by :authority against hosts; every day as the recount counts")
    func envoyGatewayHosts() throws {
        // jq -r '.[":authority"]': 192.168.2.132, example.com, www.example.com, access-token.common.svc
        let (w, c, _) = try check(Case(name: "eghosts", namespace: "default", access: ["envoy-gateway.json.log"],
                                       hosts: ["example.com", "www.example.com"], from: "2024-01-01T00:00:00Z"))
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        #expect(w["total_requests"] as? Int == 2)
        #expect(days(w) == (c["days"] as? [String: Int] ?? [:]))
        #expect(w["access_log_format"] as? String == "envoy-json")
        let (all, ca, _) = try check(Case(name: "egall", namespace: "default", access: ["envoy-gateway.json.log"], from: "2024-01-01T00:00:00Z"))
        #expect(all["total_requests"] as? Int == ca["total"] as? Int)
        #expect(all["total_requests"] as? Int == 4)
        #expect(days(all) == ["2024-06-21": 1, "2025-05-02": 1, "2025-12-24": 2])
        #expect(days(all) == (ca["days"] as? [String: Int] ?? [:]))
        #expect(all["skipped_lines"] as? Int == 0)
    }

    @Test("Envoy Gateway JSON without hosts: the route name httproute/<namespace>/… says whose a line is; a null route (route_not_found) is the file's")
    func envoyGatewayRoutes() throws {
        // jq -r .route_name: httproute/default/moon-svc/…, null, httproute/default/backend/… ×2
        let (def, _, _) = try check(Case(name: "egdefault", namespace: "default", access: ["envoy-gateway.json.log"], from: "2024-01-01T00:00:00Z"))
        #expect(def["total_requests"] as? Int == 4)
        let (none, _, _) = try check(Case(name: "egnone", namespace: "shop", access: ["envoy-gateway.json.log"], from: "2024-01-01T00:00:00Z"))
        #expect(none["total_requests"] as? Int == 1, "only the null route, which names no namespace")
    }

    @Test("Coraza error lines in Caddy's JSON: transactions by unique_id (a msg of three lines is one), rules, clients, categories, engine and CRS version")
    func corazaJSON() throws {
        let (w, c, findings) = try check(Case(name: "caddy", errors: ["caddy-coraza.json.log"]))
        #expect(w["anomalous_requests"] as? Int == c["anomalous"] as? Int)
        #expect(w["anomalous_requests"] as? Int == 4)
        #expect(w["blocked_requests"] as? Int == c["blocked"] as? Int)
        let rules = (w["top_rules"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(rules == (c["top_rules"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" })
        let clients = (w["top_clients"] as? [[String: Any]] ?? []).map { "\($0["ip"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(clients == (c["top_clients"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" })
        let cats = (w["categories"] as? [[String: Any]] ?? []).map { ($0["category"] as? String ?? "", $0["count"] as? Int ?? -1) }
        #expect(Dictionary(uniqueKeysWithValues: cats) == (c["categories"] as? [String: Int] ?? [:]))
        #expect(w["waf_engine"] as? String == "Coraza")
        #expect(w["crs_version"] as? String == "4.0.0-rc1")
        #expect((w["error_log_format"] as? String)?.contains("grouped by unique_id") == true)
        let e = try #require(input(w, "error log"))
        #expect(e["read"] as? Int == 4 && e["parsed"] as? Int == 4)
        let notes = ((w["coverage"] as? [String: Any])?["notes"] as? [String]) ?? []
        #expect(notes.contains { $0.contains("\(c["match_lines"] as? Int ?? -1) rule-match lines") && $0.contains("in \(c["transactions"] as? Int ?? -1) transactions") })
        #expect(findings.contains { $0["id"] as? String == "input.no_denominator" }, "matches without an access log: the ratio is n/a")
    }
}
