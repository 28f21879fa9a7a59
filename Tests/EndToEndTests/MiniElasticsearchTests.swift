import Foundation
import Testing

/// Tests/Support/mini_es.py on a free loopback port: a cluster that follows Elasticsearch's
/// documented semantics (flattened arrays of objects, text vs keyword, `_field_caps`,
/// `search.max_buckets`, `_shards.total: 0`) over a handful of documents.
final class MiniES {
    let pid: pid_t
    let port: Int
    let logPath: String
    var url: String { "http://127.0.0.1:\(port)/es" }

    init(index: String, mapping: [String: String], docs: [String], maxBuckets: Int = 65_535) throws {
        let dir = tempDir("mini-es")
        try JSONSerialization.data(withJSONObject: mapping).write(to: URL(fileURLWithPath: dir + "/mapping.json"))
        try (docs.joined(separator: "\n") + "\n").write(toFile: dir + "/docs.jsonl", atomically: true, encoding: .utf8)
        logPath = dir + "/requests.jsonl"
        FileManager.default.createFile(atPath: logPath, contents: Data())
        FileManager.default.createFile(atPath: dir + "/stdin", contents: Data())
        let python = try #require(which("python3"))
        pid = try spawn(python, [repo + "/Tests/Support/mini_es.py", "--index", index, "--mapping", dir + "/mapping.json",
                                 "--docs", dir + "/docs.jsonl", "--log", logPath, "--max-buckets", "\(maxBuckets)"],
                        cwd: dir, env: [:], stdin: dir + "/stdin", stdout: dir + "/port", stderr: dir + "/stderr")
        var found: Int?
        for _ in 0..<500 {
            if let t = try? String(contentsOfFile: dir + "/port", encoding: .utf8), t.hasSuffix("\n") { found = Int(t.trimmingCharacters(in: .whitespacesAndNewlines)); break }
            usleep(10_000)
        }
        guard let found else { kill(pid, SIGKILL); waitFor(pid); throw SpawnError(message: "mini_es did not start") }
        port = found
    }

    deinit {
        kill(pid, SIGKILL)
        waitFor(pid)
    }

    func requests() throws -> [[String: Any]] {
        try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }
}

@Suite("WAF from a cluster that behaves like Elasticsearch (mini_es.py)")
struct MiniElasticsearchTests {
    /// An ingress-nginx access line (upstream in brackets after the request time).
    static func line(_ upstream: String, _ t: String, module: Bool) -> String {
        let raw = #"203.0.113.9 - - [19/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 12 \"-\" \"curl\" 80 0.003 [\#(upstream)] [] 10.0.0.1:80 12 0.003 200 abc"#
        let parsed = module ? #","nginx":{"ingress_controller":{"upstream":{"name":"\#(upstream)"}}}"# : ""
        return #"{"@timestamp":"\#(t)","kubernetes":{"container":{"name":"controller"},"namespace":"gitlab-managed-apps"},"stream":"stdout","message":"\#(raw)"\#(parsed)}"#
    }

    /// A ModSecurity v3 audit document; `rules` are (id, message) in log order.
    static func audit(_ host: String, _ t: String, _ rules: [(String, String)], engine: String = "DetectionOnly", code: Int = 200, id: String) -> String {
        let msgs = rules.map { #"{"message":"\#($0.1)","details":{"ruleId":"\#($0.0)","severity":"2"}}"# }.joined(separator: ",")
        return #"{"@timestamp":"\#(t)","kubernetes":{"container":{"name":"modsecurity-log"},"namespace":"gitlab-managed-apps"},"stream":"stdout","transaction":{"client_ip":"198.51.100.7","unique_id":"\#(id)","request":{"uri":"/search?q=1","headers":{"Host":"\#(host)"}},"response":{"http_code":\#(code)},"producer":{"secrules_engine":"\#(engine)"},"messages":[\#(msgs)]}}"#
    }

    static let scanner = ("913100", "Found User-Agent associated with security scanner")
    static let sqli = ("942100", "SQL Injection Attack Detected via libinjection")
    static let hostIP = ("920350", "Host header is a numeric IP address")
    static func score(_ n: Int) -> (String, String) { ("949110", "Inbound Anomaly Score Exceeded (Total Score: \(n))") }

    /// 5 access lines of shop-production, 2 of eu-shop-production, 1 of shop-staging; 3 audit
    /// documents of shop.example.com and 1 of another host.
    static func docs(module: Bool) -> [String] {
        var d: [String] = []
        for i in 0..<5 { d.append(line("shop-production-web-80", "2026-11-19T0\(i):10:00Z", module: module)) }
        for i in 0..<2 { d.append(line("eu-shop-production-web-80", "2026-11-19T0\(i):20:00Z", module: module)) }
        d.append(line("shop-staging-web-80", "2026-11-19T05:00:00Z", module: module))
        d.append(audit("shop.example.com", "2026-11-19T01:00:00Z", [scanner, sqli, score(10)], id: "a1"))
        d.append(audit("shop.example.com", "2026-11-19T02:00:00Z", [scanner, sqli, score(10)], id: "a2"))
        d.append(audit("shop.example.com", "2026-11-19T03:00:00Z", [hostIP], id: "a3"))
        d.append(audit("eu.shop.example.com", "2026-11-19T03:00:00Z", [sqli, score(5)], id: "b1"))
        return d
    }

    /// Dynamic mapping: every string text with a .keyword multi-field.
    static func dynamicMapping(module: Bool) -> [String: String] {
        var m: [String: String] = ["@timestamp": "date", "transaction.client_ip": "ip", "transaction.response.http_code": "long"]
        for f in ["kubernetes.container.name", "kubernetes.namespace", "stream", "message", "transaction.unique_id",
                  "transaction.request.uri", "transaction.request.headers.Host", "transaction.producer.secrules_engine",
                  "transaction.messages.message", "transaction.messages.details.ruleId", "transaction.messages.details.severity"] {
            m[f] = "text+keyword"
        }
        if module { m["nginx.ingress_controller.upstream.name"] = "text+keyword" }
        return m
    }

    func run(_ es: MiniES, _ dir: String, extra: String = "", window: String = "window: 24h") throws -> (Run, [String: Any]) {
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        \(window)
        environments:
          - name: production
            namespace: shop-production
            hosts: [shop.example.com]
            waf: { elasticsearch: { url: "\(es.url)", index: "filebeat-7.*", timeout: 5, retries: 0\(extra) } }

        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json", "--compare", "none"])
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any], "\(r.stderr)")
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        return (r, waf)
    }

    @Test("Dynamic mapping, flattened messages, module upstream: exact totals, keyword subfields, right labels, scores and engine mode")
    func dynamicMappingCluster() throws {
        let es = try MiniES(index: "filebeat-7.17.0-2026.11.19", mapping: Self.dynamicMapping(module: true), docs: Self.docs(module: true))
        let dir = tempDir("mini-es-dyn")
        let (r, waf) = try run(es, dir)
        #expect(r.code == 0, "\(r.stderr)")
        // Recount from the documents above: 5 access lines of shop-production (not eu-…, not staging),
        // 3 audit documents of shop.example.com.
        #expect(waf["total_requests"] as? Int == 5)
        #expect(waf["anomalous_requests"] as? Int == 3)
        let rules = try #require(waf["top_rules"] as? [[String: Any]])
        let labels = Dictionary(uniqueKeysWithValues: rules.map { ($0["id"] as! String, $0["message"] as? String ?? "") })
        #expect(labels == ["913100": Self.scanner.1, "942100": Self.sqli.1, "949110": Self.score(10).1, "920350": Self.hostIP.1])
        #expect(rules.map { $0["count"] as? Int } == [2, 2, 2, 1])
        let text = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(text.contains("DetectionOnly"))
        let scores = try #require(waf["anomaly_scores"] as? [[String: Any]])
        #expect(scores.map { "\($0["score"] ?? $0["key"] ?? "")=\($0["count"] ?? "")" } == ["10=2"], "\(scores)")
        let body = try #require(try es.requests().last?["body"] as? String)
        #expect(body.contains(#"{"prefix":{"nginx.ingress_controller.upstream.name.keyword":"shop-production-"}}"#))
        // The URI's .keyword drops values over 256 characters: said, from the mapping.
        #expect(try es.requests().map { $0["path"] as? String ?? "" } == ["/es/filebeat-7.*/_field_caps", "/es/filebeat-7.*/_mapping/field/transaction.request.uri.keyword", "/es/_msearch"])
        #expect(text.contains("URIs longer than 256 characters are not indexed in transaction.request.uri.keyword (ignore_above 256 in index filebeat-7.17.0-2026.11.19)"))
    }

    @Test("Raw lines in analysed text: the phrase also counts eu-shop-production's upstream, and the section says so")
    func rawTextLines() throws {
        let es = try MiniES(index: "filebeat-7.17.0-2026.11.19", mapping: Self.dynamicMapping(module: false), docs: Self.docs(module: false))
        let dir = tempDir("mini-es-raw")
        let (_, waf) = try run(es, dir)
        #expect(waf["total_requests"] as? Int == 7, "5 + the 2 eu-shop-production lines, by tokens")
        let text = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(text.contains("access lines are matched by phrase on the analysed text field message"))
    }

    @Test("search.max_buckets 10,000 (ES 7.0–7.8): with max_buckets set the interval is coarsened and said; without, the cluster's too_many_buckets_exception is shown with its root cause")
    func maxBuckets() throws {
        let es = try MiniES(index: "filebeat-7.17.0-2026.11.19", mapping: Self.dynamicMapping(module: true), docs: Self.docs(module: true), maxBuckets: 10_000)
        let dir = tempDir("mini-es-buckets")
        let (r, waf) = try run(es, dir, extra: ", max_buckets: 10000", window: "window: 30d\ninterval: minute")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(waf["anomalous_requests"] as? Int == 3)
        let text = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(text.contains("the minute histogram would need 43200 buckets + 135 for the top lists = 43335, above max_buckets 10000; the Elasticsearch series are by hour instead"))
        let dir2 = tempDir("mini-es-buckets2")
        let (r2, waf2) = try run(es, dir2, window: "window: 30d\ninterval: minute")
        #expect(r2.code == 3)
        let error = try #require(waf2["error"] as? String)
        #expect(error.contains("search_phase_execution_exception: all shards failed; root cause: too_many_buckets_exception: Trying to create too many buckets. Must be less than or equal to: [10000]"), "\(error)")
        #expect(error.contains("(max_buckets 10000) (index filebeat-7.17.0-2026.11.19)"), "\(error)")
    }

    @Test("A pattern that matches no index: 'no data found for index pattern', partial, exit 3")
    func noIndex() throws {
        let es = try MiniES(index: "logs-2026.11.19", mapping: Self.dynamicMapping(module: true), docs: Self.docs(module: true))
        let dir = tempDir("mini-es-none")
        let (r, waf) = try run(es, dir)
        #expect(r.code == 3)
        #expect(waf["total_requests"] as? Int == 0)
        let text = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(text.contains("no data found for index pattern filebeat-7.*"))
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        #expect(json["status"] as? String == "partial")
    }
}
