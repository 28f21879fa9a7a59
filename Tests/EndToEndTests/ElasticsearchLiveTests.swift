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

    @Test("One _field_caps then one _msearch per environment: the exact requests (compared as JSON), index, NDJSON content type and API key; numbers as answered")
    func exactRequest() throws {
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [answer()])])
        let dir = tempDir("es")
        let r = try runReport(server, dir)
        #expect(r.code == 0, "\(r.stderr)")
        let requests = try server.requests()
        try #require(requests.count == 3)
        let caps = requests[0]
        #expect(caps["method"] as? String == "GET" && caps["path"] as? String == "/es/filebeat-7.*/_field_caps")
        let query = try #require(caps["query"] as? String).removingPercentEncoding
        #expect(query == "fields=@timestamp,@timestamp.keyword,kubernetes.container.name,kubernetes.container.name.keyword,kubernetes.namespace,kubernetes.namespace.keyword,stream,stream.keyword,nginx.ingress_controller.upstream.name,nginx.ingress_controller.upstream.name.keyword,message,message.keyword,transaction.unique_id,transaction.unique_id.keyword,transaction.request.headers.Host,transaction.request.headers.Host.keyword,transaction.response.http_code,transaction.response.http_code.keyword,transaction.messages.details.ruleId,transaction.messages.details.ruleId.keyword,transaction.messages.message,transaction.messages.message.keyword,transaction.client_ip,transaction.client_ip.keyword,transaction.request.uri,transaction.request.uri.keyword,transaction.producer.secrules_engine,transaction.producer.secrules_engine.keyword,message.transaction.unique_id,message.transaction.unique_id.keyword,message.transaction.request.headers.Host,message.transaction.request.headers.Host.keyword,message.transaction.response.http_code,message.transaction.response.http_code.keyword,message.transaction.messages.details.ruleId,message.transaction.messages.details.ruleId.keyword,message.transaction.messages.message,message.transaction.messages.message.keyword,message.transaction.client_ip,message.transaction.client_ip.keyword,message.transaction.request.uri,message.transaction.request.uri.keyword,message.transaction.producer.secrules_engine,message.transaction.producer.secrules_engine.keyword&ignore_unavailable=true")
        #expect(requests[1]["method"] as? String == "GET" && requests[1]["path"] as? String == "/es/filebeat-7.*/_mapping/field/transaction.request.uri")
        #expect(requests[1]["query"] as? String == "ignore_unavailable=true")
        let req = requests[2]
        #expect(req["method"] as? String == "POST")
        #expect(req["path"] as? String == "/es/_msearch")
        let headers = try #require(req["headers"] as? [String: String])
        #expect(headers["Authorization"] == "ApiKey \(Self.canary)")
        #expect(headers["Content-Type"] == "application/x-ndjson")
        let lines = try #require(req["body"] as? String).split(separator: "\n").map(String.init)
        let expected = try String(contentsOfFile: repo + "/Tests/Fixtures/elasticsearch/msearch-production-module-layout.ndjson", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        try #require(lines.count == 4 && expected.count == 4)
        for (got, want) in zip(lines, expected) {
            // Exact JSON: same members, same values (key order aside).
            let g = try JSONSerialization.jsonObject(with: Data(got.utf8)) as? NSDictionary
            let w = try JSONSerialization.jsonObject(with: Data(want.utf8)) as? NSDictionary
            #expect(g == w, "\(got)")
        }
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        #expect(waf["total_requests"] as? Int == 889_348)
        #expect(waf["anomalous_requests"] as? Int == 82_745)
        // The recording holds both requests without credentials, and replays.
        let recorded = try String(contentsOfFile: dir + "/rec/production/waf/msearch.request.json", encoding: .utf8)
        #expect(recorded.contains("_msearch") && !recorded.contains(Self.canary))
        #expect(FileManager.default.fileExists(atPath: dir + "/rec/production/waf/field_caps.json"))
        let replayed = try report(["--replay", dir + "/rec", "--output", dir + "/out2", "--format", "json"])
        #expect(replayed.code == 0, "\(replayed.stderr)")
        #expect(try server.requests().count == 3, "a replay sends nothing")
        let again = try #require(try foundationJSON(dir + "/out2/report.json") as? [String: Any])
        let waf2 = try #require(((again["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        #expect(waf2["anomalous_requests"] as? Int == 82_745)
        #expect((waf2["warnings"] as? [String] ?? []).contains("URIs longer than 1024 characters are not indexed in transaction.request.uri (ignore_above 1024 in index filebeat-7.17.0-2026.11.18): they are missing from top URIs, which the file source keeps"), "\(waf2["warnings"] ?? "")")
        #expect((waf2["warnings"] as? [String] ?? []).allSatisfy { !$0.contains("recorded for another query") }, "\(waf2["warnings"] ?? "")")
    }

    @Test("A dynamic mapping (text with .keyword) makes the searches use .keyword; a text field without one fails the section naming the field")
    func textMappingLive() throws {
        let dynamic = try String(contentsOfFile: repo + "/Tests/Fixtures/elasticsearch/field_caps-dynamic-mapping.json", encoding: .utf8)
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*", responses: [.init(body: dynamic)]),
                                               .init(method: "POST", path: "/es/_msearch", responses: [answer()])])
        let dir = tempDir("es-text")
        let r = try runReport(server, dir)
        #expect(r.code == 0, "\(r.stderr)")
        let body = try #require(try server.requests().last?["body"] as? String)
        #expect(body.contains(#""engine_mode":{"terms":{"field":"transaction.producer.secrules_engine.keyword","size":3}}"#))
        #expect(body.contains(#"{"prefix":{"transaction.unique_id.keyword":"shop.example.com-"}}"#))
        let noKeyword = dynamic.replacingOccurrences(of: #""transaction.producer.secrules_engine.keyword""#, with: #""unrelated.keyword""#)
        let server2 = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*", responses: [.init(body: noKeyword)]),
                                                .init(method: "POST", path: "/es/_msearch", responses: [answer()])])
        let dir2 = tempDir("es-text2")
        let r2 = try runReport(server2, dir2)
        #expect(r2.code == 3)
        #expect(try server2.requests().count == 1, "no _msearch after the mapping was refused")
        let json = try #require(try foundationJSON(dir2 + "/out/report.json") as? [String: Any])
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        #expect((waf["error"] as? String)?.contains("field transaction.producer.secrules_engine is mapped as text (not aggregatable) and has no aggregatable .keyword subfield") == true, "\(waf["error"] ?? "")")
    }

    @Test("A wrong index: _field_caps lists no index and _shards.total is 0: partial with 'no data found for index pattern', exit 3")
    func wrongIndexLive() throws {
        let none = #"{"took":0,"responses":[{"_shards":{"total":0,"successful":0,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"hits":[]},"status":200},{"_shards":{"total":0,"successful":0,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"hits":[]},"status":200}]}"#
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*", responses: [.init(body: #"{"indices":[],"fields":{}}"#)]),
                                               .init(method: "POST", path: "/es/_msearch", responses: [.init(body: none)])])
        let dir = tempDir("es-noindex")
        let r = try runReport(server, dir)
        #expect(r.code == 3, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        #expect(json["status"] as? String == "partial")
        let text = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(text.contains("no data found for index pattern filebeat-7.*"))
    }

    @Test("503 twice then success: retried with backoff, three requests")
    func retriesOn503() throws {
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [
            .init(status: 503, body: #"{"error":{"type":"unavailable"},"status":503}"#),
            .init(status: 503, body: #"{"error":{"type":"unavailable"},"status":503}"#), answer(),
        ])])
        let r = try runReport(server, tempDir("es503"))
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try server.requests().count == 5, "one _field_caps, one _mapping/field, then the _msearch three times")
    }

    @Test("401 is not retried: one request, a partial report that says why, exit 3")
    func noRetryOn401() throws {
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [
            .init(status: 401, body: #"{"error":{"type":"security_exception","reason":"unable to authenticate with provided credentials"},"status":401}"#),
        ])])
        let dir = tempDir("es401")
        let r = try runReport(server, dir)
        #expect(r.code == 3)
        #expect(try server.requests().count == 3, "one _field_caps, one _mapping/field, one _msearch not retried")
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("answered HTTP 401 (the credentials were refused: check the token, API key or password): security_exception: unable to authenticate with provided credentials"))
    }

    @Test("An answer slower than the timeout fails the section after the configured retries: one retry, two attempts")
    func timeout() throws {
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [answer(delay: 5)])])
        let dir = tempDir("esslow")
        let r = try runReport(server, dir, extra: ", retries: 1")
        #expect(r.code == 3)
        // _field_caps and _mapping/field answer at once; the slow _msearch is retried once (retries: 1), then the section fails.
        #expect(try server.requests().filter { ($0["path"] as? String) == "/es/_msearch" }.count == 2, "a timed-out attempt is retried once (retries: 1), then the section fails")
        #expect(try server.requests().count == 4)
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let waf = try #require(((json["environments"] as? [[String: Any]])?.first)?["waf"] as? [String: Any])
        #expect((waf["error"] as? String)?.contains("no answer within the timeout") == true, "\(waf["error"] ?? "")")
    }

    @Test("The API key never appears in any output, log line or recording")
    func secretsNeverWritten() throws {
        let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [
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
