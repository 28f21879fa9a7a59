import Foundation
import Testing

/// The live Elasticsearch source against a loopback server replaying recorded `_msearch` answers.
@Suite("WAF from Elasticsearch (loopback replay)")
struct ElasticsearchLiveTests {
    static let canary = "tr-canary-api-key-7f3a9c"

    func config(_ server: ReplayServer, dir: String, extra: String = "") throws -> String {
        try writeProductionConfig(dir + "/es.yml", [
            #"waf: { elasticsearch: { url: "\#(server.url)/es", index: "filebeat-7.*", api_key_env: TR_TEST_ES_KEY, timeout: 2\#(extra) } }"#,
        ])
    }

    func answer(_ status: Int = 200, delay: Double? = nil) -> ReplayServer.Response {
        ReplayServer.Response(status: status, bodyFile: repo + "/samples/production/waf/msearch.json", delay: delay)
    }

    func runReport(_ server: ReplayServer, _ dir: String, extra: String = "") throws -> Run {
        // --compare none: these tests count the requests of the report window alone (CompareTests covers the previous window).
        try report(["--config", try config(server, dir: dir, extra: extra), "--output", dir + "/out", "--format", "html,md,json", "--record", dir + "/rec",
                    "--compare", "none"],
                   env: ["TR_TEST_ES_KEY": Self.canary, "THREAT_REPORT_RETRY_BACKOFF": "0.05"])
    }

    @Test("One _msearch per environment: the exact body, index, NDJSON content type and API key; numbers as answered")
    func exactRequest() throws {
        let server = try ReplayServer(routes: [.init(method: "POST", path: "/es/_msearch", responses: [answer()])])
        let dir = tempDir("es")
        let r = try runReport(server, dir)
        #expect(r.code == 0, "\(r.stderr)")
        let requests = try server.requests()
        try #require(requests.count == 1)
        let req = requests[0]
        #expect(req["method"] as? String == "POST")
        #expect(req["path"] as? String == "/es/_msearch")
        let headers = try #require(req["headers"] as? [String: String])
        #expect(headers["Authorization"] == "ApiKey \(Self.canary)")
        #expect(headers["Content-Type"] == "application/x-ndjson")
        let lines = try #require(req["body"] as? String).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0] == #"{"index":"filebeat-7.*","ignore_unavailable":true}"#)
        for i in [1, 3] {
            let body = try #require(try JSONSerialization.jsonObject(with: Data(lines[i].utf8)) as? [String: Any])
            #expect(body["size"] as? Int == 0)
            #expect(body["track_total_hits"] as? Bool == true)
            let hist = (((body["aggs"] as? [String: Any])?["history"] as? [String: Any])?["date_histogram"] as? [String: Any])
            #expect(hist?["fixed_interval"] as? String == "1h")
            let range = ((((body["query"] as? [String: Any])?["bool"] as? [String: Any])?["filter"] as? [[String: Any]])?.first?["range"] as? [String: Any])?["@timestamp"] as? [String: String]
            #expect(range?["gte"] == "2026-11-19T00:00:00Z")
            #expect(range?["lt"] == "2026-11-20T00:00:00Z")
        }
        #expect(lines[3].contains(#""top_rules":{"terms":{"field":"transaction.messages.details.ruleId","size":10}"#))
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        #expect(waf["total_requests"] as? Int == 889_348)
        #expect(waf["anomalous_requests"] as? Int == 82_745)
        // The recording holds the request without credentials, and replays.
        let recorded = try String(contentsOfFile: dir + "/rec/production/waf/msearch.request.json", encoding: .utf8)
        #expect(recorded.contains("_msearch") && !recorded.contains(Self.canary))
    }

    @Test("503 twice then success: retried with backoff, three requests")
    func retriesOn503() throws {
        let server = try ReplayServer(routes: [.init(method: "POST", path: "/es/_msearch", responses: [
            .init(status: 503, body: #"{"error":{"type":"unavailable"},"status":503}"#),
            .init(status: 503, body: #"{"error":{"type":"unavailable"},"status":503}"#), answer(),
        ])])
        let r = try runReport(server, tempDir("es503"))
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try server.requests().count == 3)
    }

    @Test("401 is not retried: one request, a partial report that says why, exit 3")
    func noRetryOn401() throws {
        let server = try ReplayServer(routes: [.init(method: "POST", path: "/es/_msearch", responses: [
            .init(status: 401, body: #"{"error":{"type":"security_exception","reason":"unable to authenticate with provided credentials"},"status":401}"#),
        ])])
        let dir = tempDir("es401")
        let r = try runReport(server, dir)
        #expect(r.code == 3)
        #expect(try server.requests().count == 1)
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("answered HTTP 401 (the credentials were refused: check the token, API key or password): security_exception: unable to authenticate with provided credentials"))
    }

    @Test("An answer slower than the timeout fails the section after the configured retries: one retry, two attempts")
    func timeout() throws {
        let server = try ReplayServer(routes: [.init(method: "POST", path: "/es/_msearch", responses: [answer(delay: 5)])])
        let dir = tempDir("esslow")
        let r = try runReport(server, dir, extra: ", retries: 1")
        #expect(r.code == 3)
        #expect(try server.requests().count == 2, "a timed-out attempt is retried once (retries: 1), then the section fails")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        #expect((waf["error"] as? String)?.contains("no answer within the timeout") == true, "\(waf["error"] ?? "")")
    }

    @Test("The API key never appears in any output, log line or recording")
    func secretsNeverWritten() throws {
        let server = try ReplayServer(routes: [.init(method: "POST", path: "/es/_msearch", responses: [
            .init(status: 403, body: #"{"error":{"type":"security_exception","reason":"action [indices:data/read/msearch] is unauthorized"},"status":403}"#),
        ])])
        let dir = tempDir("essecret")
        let r = try runReport(server, dir)
        #expect(!r.stdout.contains(Self.canary) && !r.stderr.contains(Self.canary))
        for f in try FileManager.default.subpathsOfDirectory(atPath: dir) {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))) ?? Data()
            #expect(data.range(of: Data(Self.canary.utf8)) == nil, "\(f)")
        }
    }
}
