import Foundation
import Testing

/// Numbers from engines and recordings that used to trap the process (SIGILL, exit 132, nothing
/// written): each is planted in a loopback engine answer or a recording, and the run must write
/// the report with that section unavailable ("value out of range", exit 3), or draw it, or refuse
/// the input at the start (exit 2) — never trap.
@Suite("Numbers from engines and recordings are range-checked, never trapped on")
struct EngineNumberTests {
    /// A copy of the production sample recordings in a fresh folder, with `edit` applied to one answer.
    func recordings(_ name: String, file: String, edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = tempDir(name)
        for section in ["waf", "flows"] {
            try FileManager.default.copyItem(atPath: "\(repo)/samples/production/\(section)", toPath: "\(dir)/\(section)")
        }
        let path = "\(dir)/\(file)"
        var json = try #require(try foundationJSON(path) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return dir
    }

    func section(_ out: String, _ name: String) throws -> [String: Any] {
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any])
        return try #require(((json["environments"] as? [[String: Any]])?.first)?[name] as? [String: Any])
    }

    func runReport(_ dir: String, extra: [String] = [], env: [String: String] = [:]) throws -> Run {
        let cfg = try writeProductionConfig(dir + "/cfg.yml", ["waf: { replay: \(dir)/waf }", "flows: { replay: \(dir)/flows }"])
        return try report(["--config", cfg, "--output", dir + "/out", "--format", "html,md,json,sarif,junit,codequality,pdf",
                           "--compare", "none"] + extra, env: env)
    }

    @Test("Elasticsearch doc_counts whose sum passes Int64 (loopback engine): the WAF section is unavailable, exit 3, the message names the source and the value")
    func esDocCountSumOverflow() throws {
        let dir = try recordings("num-es", file: "waf/msearch.json") { json in
            var responses = json["responses"] as! [[String: Any]]
            var aggs = responses[0]["aggregations"] as! [String: Any]
            var history = aggs["history"] as! [String: Any]
            // Each bucket is a legal count (< 2^53), but 24 of them sum past 2^53 and 3 × 2^62 past Int64.
            history["buckets"] = (history["buckets"] as! [[String: Any]]).map { b in
                var b = b
                b["doc_count"] = 4_000_000_000_000_000
                return b
            }
            aggs["history"] = history
            responses[0]["aggregations"] = aggs
            responses[0]["hits"] = ["total": ["value": 10_000, "relation": "gte"]]
            json["responses"] = responses
        }
        let server = try ReplayServer(routes: [.fieldCaps(), .uriMapping(),
                                               .init(method: "POST", path: "/es/_msearch", responses: [.init(bodyFile: dir + "/waf/msearch.json")])])
        let cfg = try writeProductionConfig(dir + "/es.yml", [#"waf: { elasticsearch: { url: "\#(server.url)/es", timeout: 5 } }"#])
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "html,json,pdf", "--compare", "none"])
        #expect(r.code == 3, "\(r.stderr)")
        let waf = try section(dir + "/out", "waf")
        #expect(waf["status"] as? String == "unavailable")
        let error = try #require(waf["error"] as? String)
        #expect(error.contains("127.0.0.1") && error.contains("value out of range") && error.contains("9007199254740992"), "\(error)")
        #expect(r.stderr.contains("value out of range"))
    }

    @Test("A doc_count past 2^53 in a recording is refused with its place, not dropped or clamped")
    func esDocCountPastLimit() throws {
        let dir = try recordings("num-es1", file: "waf/msearch.json") { json in
            var responses = json["responses"] as! [[String: Any]]
            var aggs = responses[1]["aggregations"] as! [String: Any]
            var rules = aggs["top_rules"] as! [String: Any]
            var buckets = rules["buckets"] as! [[String: Any]]
            buckets[0]["doc_count"] = "9223372036854775807"
            rules["buckets"] = buckets
            aggs["top_rules"] = rules
            responses[1]["aggregations"] = aggs
            json["responses"] = responses
        }
        let r = try runReport(dir)
        #expect(r.code == 3, "\(r.stderr)")
        let error = try #require(try section(dir + "/out", "waf")["error"] as? String)
        #expect(error.contains("top_rules[0].doc_count") && error.contains("9223372036854775807") && error.contains("value out of range"), "\(error)")
    }

    @Test("A Prometheus rate of 5e-324 (subnormal): the chart axis draws it, every format is written, exit 0")
    func subnormalRate() throws {
        let dir = try recordings("num-sub", file: "flows/rate.json") { json in
            var data = json["data"] as! [String: Any]
            data["result"] = (data["result"] as! [[String: Any]]).map { s in
                var s = s
                s["values"] = (s["values"] as! [[Any]]).map { [$0[0], "5e-324"] }
                return s
            }
            json["data"] = data
        }
        let r = try runReport(dir)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try section(dir + "/out", "flows")["status"] as? String == "ok")
        for f in ["report.html", "report.md", "report.json", "report.sarif", "report.pdf"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/out/" + f), "\(f) missing")
        }
    }

    @Test("A Prometheus sample time of 1e308: the flows section is unavailable with the place and the value, exit 3")
    func hugeSampleTime() throws {
        let dir = try recordings("num-time", file: "flows/rate.json") { json in
            var data = json["data"] as! [String: Any]
            var result = data["result"] as! [[String: Any]]
            var values = result[0]["values"] as! [[Any]]
            values[3][0] = 1e308
            result[0]["values"] = values
            data["result"] = result
            json["data"] = data
        }
        let r = try runReport(dir)
        #expect(r.code == 3, "\(r.stderr)")
        let flows = try section(dir + "/out", "flows")
        #expect(flows["status"] as? String == "unavailable")
        let error = try #require(flows["error"] as? String)
        #expect(error.contains("rate.json") && error.contains("values[3]") && error.contains("1e+308") && error.contains("0001–9999"), "\(error)")
    }

    @Test("A Prometheus count of 1e300 is refused at decode with its place, not clamped")
    func hugeCount() throws {
        let dir = try recordings("num-count", file: "flows/totals.json") { json in
            var data = json["data"] as! [String: Any]
            var result = data["result"] as! [[String: Any]]
            result[0]["value"] = [1_795_132_800, "1e300"]
            data["result"] = result
            json["data"] = data
        }
        let r = try runReport(dir)
        #expect(r.code == 3, "\(r.stderr)")
        let error = try #require(try section(dir + "/out", "flows")["error"] as? String)
        #expect(error.contains("totals.json") && error.contains("value out of range") && error.contains("1e+300"), "\(error)")
    }

    @Test("SOURCE_DATE_EPOCH past the year 9999 is refused at the start (exit 2, clear message, nothing written); 9999-12-31T23:59:59Z is written as RFC 3339 and replays")
    func sourceDateEpoch() throws {
        let dir = tempDir("num-epoch")
        let huge = try report(["--config", "samples/threat-report.yml", "--output", dir + "/out"], env: ["SOURCE_DATE_EPOCH": "9223372036854775807"])
        #expect(huge.code == 2, "\(huge.stderr)")
        #expect(huge.stderr.contains("SOURCE_DATE_EPOCH=9223372036854775807") && huge.stderr.contains("0001–9999"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/report.json"))
        let last = try report(["--config", "samples/threat-report.yml", "--output", dir + "/last", "--format", "json", "--record", dir + "/rec",
                               "--environment", "staging", "--compare", "none"], env: ["SOURCE_DATE_EPOCH": "253402300799"])
        #expect(last.code == 0, "\(last.stderr)")
        let json = try #require(try foundationJSON(dir + "/last/report.json") as? [String: Any])
        #expect(json["generated_at"] as? String == "9999-12-31T23:59:59Z")
        let replay = try report(["--replay", dir + "/rec", "--output", dir + "/replayed", "--format", "json"])
        #expect(replay.code == 0, "\(replay.stderr)")
        let again = try #require(try foundationJSON(dir + "/replayed/report.json") as? [String: Any])
        #expect(again["generated_at"] as? String == "9999-12-31T23:59:59Z")
    }

    @Test("Times outside the years 0001–9999 are refused at input: --to with an offset past year 9999 or before year 1 (exit 2)")
    func toOutsideYears() throws {
        for to in ["9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+01:00", "0000-06-01T00:00:00Z"] {
            let r = try report(["--config", "samples/threat-report.yml", "--output", tempDir("num-to"), "--to", to])
            #expect(r.code == 2, "\(to): \(r.stderr)")
            #expect(r.stderr.contains("--to"), "\(to): \(r.stderr)")
        }
    }
}
