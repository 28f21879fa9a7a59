import Foundation
import Testing

/// 500 environments against one Elasticsearch stand-in (one `_msearch` each): all are reported,
/// and the server's own in-flight counter shows that no more than --concurrency of them query at once.
@Suite("500 environments with bounded concurrency")
struct ManyEnvironmentsTests {
    func runMany(_ count: Int, concurrency: Int?) throws -> (Run, [[String: Any]], [String: Any]) {
        let server = try ReplayServer(routes: [
            .fieldCaps(), .uriMapping(),
            .init(method: "POST", path: "/es/_msearch", responses: [.init(bodyFile: repo + "/samples/production/waf/msearch.json", delay: 0.01)]),
        ])
        let dir = tempDir("many")
        var yaml = "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n"
        for i in 0..<count {
            yaml += "  - { name: env-\(String(format: "%03d", i)), namespace: ns-\(i), waf: { elasticsearch: { url: \"\(server.url)/es\", timeout: 10, retries: 0 } } }\n"
        }
        try yaml.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        var args = ["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json", "--compare", "none"]
        if let concurrency { args += ["--concurrency", "\(concurrency)"] }
        let r = try report(args)
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any], "\(r.stderr)")
        return (r, try server.requests(), json)
    }

    @Test("500 environments, default --concurrency 4: all listed, at most 4 requests in flight")
    func fiveHundred() throws {
        let t0 = Date()
        let (r, requests, json) = try runMany(500, concurrency: nil)
        let seconds = Date().timeIntervalSince(t0)
        #expect(r.code == 0, "\(r.stderr.suffix(2000))")
        let envs = try #require(json["environments"] as? [[String: Any]])
        #expect(envs.count == 500)
        #expect(Set(envs.compactMap { $0["name"] as? String }) == Set((0..<500).map { "env-" + String(format: "%03d", $0) }))
        #expect(envs.allSatisfy { ($0["waf"] as? [String: Any])?["total_requests"] as? Int == 889_348 })
        // The index pattern's _field_caps and URI field mapping once for the run (all 500 share
        // the pattern), then each environment's _msearch.
        #expect(requests.count == 502)
        #expect(requests.filter { ($0["path"] as? String)?.hasSuffix("/_field_caps") == true }.count == 1)
        #expect(requests.filter { ($0["path"] as? String) == "/es/_msearch" }.count == 500)
        let namespaces = Set(requests.compactMap { ($0["body"] as? String).flatMap { q in q.range(of: "\"ns-[0-9]+-\"", options: .regularExpression).map { String(q[$0]) } } })
        #expect(namespaces.count == 500)
        let inFlight = requests.compactMap { $0["in_flight"] as? Int }
        #expect(inFlight.count == requests.count)
        let peak = inFlight.max() ?? 0
        #expect(peak <= 4, "peak \(peak) requests in flight")
        #expect(peak >= 2, "the environments did run in parallel (peak \(peak))")
        print("500 environments: \(requests.count) requests in \(String(format: "%.1f", seconds)) s, peak \(peak) in flight")
    }

    @Test("--concurrency 2 and 1 are honoured")
    func smallWidths() throws {
        for width in [2, 1] {
            let (r, requests, json) = try runMany(24, concurrency: width)
            #expect(r.code == 0)
            #expect((json["environments"] as? [[String: Any]])?.count == 24)
            let peak = requests.compactMap { $0["in_flight"] as? Int }.max() ?? 0
            #expect(peak <= width && peak >= 1, "width \(width): peak \(peak)")
            if width == 2 { #expect(peak == 2, "two environments overlapped") }
        }
    }
}
