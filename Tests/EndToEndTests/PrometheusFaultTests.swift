import Foundation
import Testing

/// Prometheus error answers, replayed from a loopback server: each gives a partial report with a
/// plain message and exit 3, and the other sections are still written.
@Suite("Prometheus error answers (loopback replay)")
struct PrometheusFaultTests {
    func run(_ responses: [ReplayServer.Response], timeout: Int = 2) throws -> (Run, [String: Any], ReplayServer) {
        let server = try ReplayServer(routes: [
            .init(path: "/api/v1/query", responses: responses),
            .init(path: "/api/v1/query_range", responses: responses),
        ])
        let dir = tempDir("promfault")
        try writeProductionConfig(dir + "/c.yml", [
            "waf: { replay: \(repo)/samples/production/waf }",
            #"flows: { prometheus: { url: "\#(server.url)", timeout: \#(timeout), retries: 1 } }"#,
        ])
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json,html"], env: ["THREAT_REPORT_RETRY_BACKOFF": "0.05"])
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        #expect((env["waf"] as? [String: Any])?["status"] as? String == "ok", "the WAF section is still there")
        return (r, try #require(env["flows"] as? [String: Any]), server)
    }

    @Test("400 bad_data: not retried; the engine's message is shown")
    func badData() throws {
        let (r, flows, server) = try run([.init(status: 400, body: #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:30: parse error"}"#)])
        #expect(r.code == 3)
        #expect(flows["status"] as? String == "unavailable")
        #expect((flows["error"] as? String)?.contains("answered HTTP 400: bad_data: invalid parameter") == true)
        #expect(try server.requests().count == 1)
    }

    @Test("503: retried as configured, then unavailable")
    func unavailable() throws {
        let (r, flows, server) = try run([.init(status: 503, body: "Service Unavailable")])
        #expect(r.code == 3)
        #expect((flows["error"] as? String)?.contains("HTTP 503") == true)
        #expect(try server.requests().count == 2)
    }

    @Test("An answer slower than the timeout")
    func slow() throws {
        let (r, flows, _) = try run([.init(body: #"{"status":"success","data":{"resultType":"vector","result":[]}}"#, delay: 4)], timeout: 1)
        #expect(r.code == 3)
        #expect((flows["error"] as? String)?.contains("no answer within the timeout") == true)
    }

    @Test("200 with warnings: the numbers are shown, marked possibly incomplete")
    func warnings() throws {
        let (r, flows, _) = try run([.init(body: #"{"status":"success","warnings":["store eu-1 unavailable: partial response"],"data":{"resultType":"vector","result":[{"metric":{"verdict":"FORWARDED"},"value":[1795132800,"100"]}]}}"#)])
        #expect(r.code == 3)
        #expect(flows["status"] as? String == "partial")
        #expect(flows["forwarded"] as? Int == 100)
        #expect((flows["error"] as? String)?.contains("store eu-1 unavailable: partial response") == true)
    }

    @Test("Credentials: bearer token from a file, basic auth from the environment, a Thanos-style path prefix")
    func credentials() throws {
        let ok = ReplayServer.Response(body: #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
        let server = try ReplayServer(routes: [
            .init(path: "/thanos/api/v1/query", responses: [ok]), .init(path: "/thanos/api/v1/query_range", responses: [ok]),
        ])
        let dir = tempDir("promauth")
        try "tr-canary-prom-token\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - { name: a, namespace: shop, flows: { prometheus: { url: "\(server.url)/thanos/", bearer_token_file: token } } }
          - { name: b, namespace: shop, flows: { prometheus: { url: "\(server.url)/thanos", username: reader, password_env: TR_PROM_PW } } }
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json", "--concurrency", "1", "--compare", "none"], env: ["TR_PROM_PW": "s3cret"])
        #expect(r.code == 0, "\(r.stderr)")
        let auth = try server.requests().map { ($0["headers"] as? [String: String])?["Authorization"] ?? "" }
        // Per environment: six statistics queries and the two workload queries (the empty answers name no workload).
        #expect(auth.count == 16)
        #expect(auth.prefix(8).allSatisfy { $0 == "Bearer tr-canary-prom-token" })
        #expect(auth.suffix(8).allSatisfy { $0 == "Basic " + Data("reader:s3cret".utf8).base64EncodedString() })
        #expect(try server.requests().allSatisfy { ($0["path"] as? String)?.hasPrefix("/thanos/api/v1/") == true })
        let out = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(!out.contains("tr-canary-prom-token") && !out.contains("s3cret"))
    }

    @Test("A missing secret names the variable, not a value, and fails only that section")
    func missingSecret() throws {
        let dir = tempDir("promnosecret")
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: a, namespace: shop, flows: { prometheus: { url: \"http://127.0.0.1:9\", bearer_token_env: TR_UNSET_TOKEN } } }\n"
            .write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 3)
        #expect(r.stderr.contains("the environment variable TR_UNSET_TOKEN is not set or empty"))
    }
}
