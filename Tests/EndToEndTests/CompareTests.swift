import Foundation
import Testing

/// `--compare previous|none` against the live Elasticsearch source on a loopback replay server.
@Suite("Compare with the previous window (loopback replay)")
struct CompareTests {
    func config(_ server: ReplayServer, dir: String) throws -> String {
        try writeProductionConfig(dir + "/es.yml", [
            #"waf: { elasticsearch: { url: "\#(server.url)/es", index: "filebeat-7.*", timeout: 2, retries: 0 } }"#,
        ])
    }

    func sample(_ sub: String = "") -> ReplayServer.Response {
        ReplayServer.Response(bodyFile: repo + "/samples/production/waf/\(sub)msearch.json")
    }

    func json(_ path: String) throws -> [String: Any] {
        try #require(try foundationJSON(path) as? [String: Any])
    }

    @Test("--compare previous costs exactly one more _msearch per environment, for the window before; none costs none")
    func requestCountDoubles() throws {
        var counts: [String: Int] = [:]
        for mode in ["previous", "none"] {
            let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [sample(), sample("previous/")])])
            let dir = tempDir("compare-\(mode)")
            let r = try report(["--config", try config(server, dir: dir), "--output", dir + "/out", "--format", "json",
                                "--record", dir + "/rec", "--compare", mode])
            #expect(r.code == 0, "\(r.stderr)")
            // One _msearch per window; the mapping (_field_caps, _mapping/field) once for the run.
            let requests = try server.requests().filter { ($0["path"] as? String)?.hasSuffix("_msearch") == true }
            #expect(try server.requests().count == 2 + requests.count)
            counts[mode] = requests.count
            let env = try #require((try json(dir + "/out/report.json")["environments"] as? [[String: Any]])?.first)
            if mode == "previous" {
                try #require(requests.count == 2)
                // The second request asks for the 24 hours before the report window.
                let body = try #require(requests[1]["body"] as? String)
                #expect(body.contains(#""gte":"2026-11-18T00:00:00Z""#) && body.contains(#""lt":"2026-11-19T00:00:00Z""#))
                // The recording holds the previous window under <env>/<section>/previous/, as samples/ does.
                #expect(FileManager.default.fileExists(atPath: dir + "/rec/production/waf/previous/msearch.json"))
                #expect(FileManager.default.fileExists(atPath: dir + "/rec/production/waf/msearch.json"))
                let previous = try #require(env["previous"] as? [String: Any])
                #expect((previous["waf"] as? [String: Any])?["total_requests"] as? Int == 816_698)
            } else {
                #expect(env["previous"] is NSNull)
                #expect(!FileManager.default.fileExists(atPath: dir + "/rec/production/waf/previous"))
            }
        }
        #expect(counts["previous"] == 2 * (counts["none"] ?? -1))
    }

    @Test("An expired previous window (error or empty answer) leaves the report complete: exit 0, and says why")
    func expiredPreviousWindow() throws {
        let empty = #"{"took":1,"responses":[{"hits":{"total":{"value":0,"relation":"eq"}},"aggregations":{"history":{"buckets":[]}},"status":200},{"hits":{"total":{"value":0,"relation":"eq"}},"aggregations":{"history":{"buckets":[]},"top_rules":{"buckets":[]},"top_clients":{"buckets":[]},"top_uris":{"buckets":[]}},"status":200}]}"#
        let failures: [ReplayServer.Response] = [
            .init(status: 404, body: #"{"error":{"type":"index_not_found_exception","reason":"no such index [filebeat-7.2026.11.18]"},"status":404}"#),
            .init(body: empty),
        ]
        for failure in failures {
            let server = try ReplayServer(routes: [.fieldCaps(index: "filebeat-7.*"), .uriMapping(index: "filebeat-7.*"), .init(method: "POST", path: "/es/_msearch", responses: [sample(), failure])])
            let dir = tempDir("compare-expired")
            let r = try report(["--config", try config(server, dir: dir), "--output", dir + "/out", "--format", "json,md"])
            #expect(r.code == 0, "\(r.stderr)")
            let j = try json(dir + "/out/report.json")
            #expect(j["status"] as? String == "complete")
            let env = try #require((j["environments"] as? [[String: Any]])?.first)
            #expect((env["waf"] as? [String: Any])?["total_requests"] as? Int == 889_348)
            let pw = try #require((env["previous"] as? [String: Any])?["waf"] as? [String: Any])
            #expect(pw["status"] as? String == "unavailable")
            #expect((pw["error"] as? String)?.isEmpty == false)
            let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
            #expect(md.contains("previous window: not available"))
        }
    }

    @Test("A bad --compare value is a usage error")
    func badValue() throws {
        let r = try report(["--config", repo + "/samples/threat-report.yml", "--compare", "yesterday", "--output", tempDir("compare-bad")])
        #expect(r.code == 2)
        #expect(r.stderr.contains("--compare"))
    }
}
