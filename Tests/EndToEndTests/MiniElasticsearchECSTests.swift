import Foundation
import Testing

/// Gateway logs shipped with ECS names (Filebeat, Fluent Bit, Vector): Envoy access documents and
/// Coraza error-line documents of one container, read with `fields: ecs` from mini_es.py.
@Suite("WAF from ECS documents (fields: ecs) on a cluster that behaves like Elasticsearch")
struct MiniElasticsearchECSTests {
    static func access(_ host: String, _ t: String, id: String) -> String {
        #"{"@timestamp":"\#(t)","kubernetes":{"container":{"name":"envoy"},"namespace":"envoy-gateway-system"},"stream":"stdout","url":{"domain":"\#(host)","original":"/search?q=1"},"http":{"request":{"id":"\#(id)"},"response":{"status_code":200}},"source":{"ip":"203.0.113.9"},"message":"[\#(t)] \"GET /search?q=1 HTTP/1.1\" 200 - 0 12 3 - \"203.0.113.9\" \"curl\" \"\#(id)\" \"\#(host)\" \"10.0.0.5:8080\""}"#
    }

    /// One Coraza line as a pipeline parsed it: rule id, message, severity in `log.level`.
    static func waf(_ host: String, _ t: String, rule: String, msg: String, level: String, id: String) -> String {
        #"{"@timestamp":"\#(t)","kubernetes":{"container":{"name":"envoy"},"namespace":"envoy-gateway-system"},"stream":"stderr","log":{"level":"\#(level)"},"rule":{"id":"\#(rule)"},"message":"\#(msg)","url":{"domain":"\#(host)","original":"/search?q=1"},"source":{"ip":"198.51.100.7"},"http":{"request":{"id":"\#(id)"}}}"#
    }

    static let sqli = "SQL Injection Attack Detected via libinjection"

    /// 4 access documents of shop.example.com and 2 of api.example.com; 4 WAF lines of
    /// shop.example.com (942100 critical twice, 920350 warning, 949110 critical), 1 of
    /// api.example.com, and one Envoy stderr line that is not the WAF's.
    static var docs: [String] {
        var d: [String] = []
        for i in 0..<4 { d.append(access("shop.example.com", "2026-11-19T0\(i):10:00Z", id: "s\(i)")) }
        for i in 0..<2 { d.append(access("api.example.com", "2026-11-19T0\(i):20:00Z", id: "a\(i)")) }
        d.append(waf("shop.example.com", "2026-11-19T01:10:00Z", rule: "942100", msg: sqli, level: "critical", id: "w1"))
        d.append(waf("shop.example.com", "2026-11-19T02:10:00Z", rule: "942100", msg: sqli, level: "critical", id: "w2"))
        d.append(waf("shop.example.com", "2026-11-19T02:10:00Z", rule: "920350", msg: "Host header is a numeric IP address", level: "warning", id: "w3"))
        d.append(waf("shop.example.com", "2026-11-19T02:10:00Z", rule: "949110", msg: "Inbound Anomaly Score Exceeded (Total Score: 10)", level: "critical", id: "w2"))
        d.append(waf("api.example.com", "2026-11-19T03:10:00Z", rule: "942100", msg: sqli, level: "critical", id: "w9"))
        d.append(#"{"@timestamp":"2026-11-19T02:30:00Z","kubernetes":{"container":{"name":"envoy"},"namespace":"envoy-gateway-system"},"stream":"stderr","log":{"level":"info"},"message":"upstream connect error","url":{"domain":"shop.example.com"}}"#)
        return d
    }

    static var mapping: [String: String] {
        var m: [String: String] = ["@timestamp": "date", "source.ip": "ip", "http.response.status_code": "long", "message": "text+keyword"]
        for f in ["kubernetes.container.name", "kubernetes.namespace", "stream", "url.domain", "url.original", "http.request.id", "rule.id", "log.level"] {
            m[f] = "keyword"
        }
        return m
    }

    @Test("fields: ecs — one _msearch whose bodies use the ECS names; access lines by host, WAF lines by rule.id; counts, labels, critical matches and scores decode")
    func ecsFieldSet() throws {
        let es = try MiniES(index: "logs-envoy-2026.11.19", mapping: Self.mapping, docs: Self.docs)
        let dir = tempDir("mini-es-ecs")
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        window: 24h
        environments:
          - name: gateway
            namespace: shop
            hosts: [shop.example.com]
            waf:
              elasticsearch: { url: "\(es.url)", index: "logs-envoy-*", timeout: 5, retries: 0, fields: ecs,
                               ingress_namespace: envoy-gateway-system, access_containers: [envoy], audit_container: envoy }

        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json", "--compare", "none"])
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any], "\(r.stderr)")
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        // Recount from the documents above: 4 access documents of shop.example.com; 4 WAF lines of
        // it (the stderr line without rule.id and api.example.com's line are not counted).
        #expect(waf["total_requests"] as? Int == 4, "\(r.stderr)")
        #expect(waf["anomalous_requests"] as? Int == 4)
        let rules = try #require(waf["top_rules"] as? [[String: Any]])
        #expect(rules.map { "\($0["id"] ?? "")=\($0["count"] ?? "")" } == ["942100=2", "920350=1", "949110=1"])
        let labels = Dictionary(uniqueKeysWithValues: rules.map { ($0["id"] as! String, $0["message"] as? String ?? "") })
        #expect(labels["942100"] == Self.sqli && labels["920350"] == "Host header is a numeric IP address")
        let text = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        // 942100 twice at critical; 949110 is critical too but is the evaluation, not an attack.
        #expect(waf["critical_attacks"] as? Int == 2, "\(waf.keys.sorted())")
        #expect(text.contains("fields.engine_mode is not set (the ecs field set has none)"))
        let scores = try #require(waf["anomaly_scores"] as? [[String: Any]])
        #expect(scores.map { "\($0["score"] ?? $0["key"] ?? "")=\($0["count"] ?? "")" } == ["10=1"])

        let requests = try es.requests()
        #expect(requests.filter { ($0["path"] as? String) == "/es/_msearch" }.count == 1)
        let caps = try #require(requests.first { ($0["path"] as? String ?? "").hasSuffix("/_field_caps") })
        let asked = ("\(caps["query"] ?? "")".replacingOccurrences(of: "+", with: " ")).removingPercentEncoding ?? ""
        for f in ["http.request.id", "http.response.status_code", "url.domain", "rule.id", "source.ip", "url.original", "log.level", "@timestamp"] {
            #expect(asked.contains(f), "field_caps does not ask \(f): \(asked)")
        }
        let body = try #require(requests.last?["body"] as? String)
        let lines = body.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        // The access search: the host selects the lines.
        #expect(lines[1].contains(#"{"terms":{"url.domain":["shop.example.com"]}}"#), "\(lines[1])")
        #expect(lines[1].contains(#"{"range":{"@timestamp":"#))
        #expect(!lines[1].contains("nginx.ingress_controller"))
        // The WAF search: ECS names only, a WAF line has a rule id.
        let audit = lines[3]
        for piece in [#"{"exists":{"field":"rule.id"}}"#, #"{"term":{"url.domain":"shop.example.com"}}"#,
                      #""top_rules":{"terms":{"field":"rule.id","size":10}"#, #""includes":["message","rule.id"]"#,
                      #""top_clients":{"terms":{"field":"source.ip","size":10}}"#, #""top_uris":{"terms":{"field":"url.original","size":10}}"#,
                      #"{"terms":{"log.level":["0","1","2","emergency","alert","critical","EMERGENCY","ALERT","CRITICAL"]}}"#,
                      #""scores":{"terms":{"field":"message.keyword","size":100"#] {
            #expect(audit.contains(piece), "missing \(piece) in \(audit)")
        }
        #expect(!audit.contains("transaction."), "\(audit)")
        #expect(!audit.contains(#"{"prefix":{"http.request.id""#))
        #expect(!audit.contains("engine_mode"))
    }
}
