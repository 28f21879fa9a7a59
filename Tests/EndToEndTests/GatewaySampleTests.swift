import Foundation
import Testing

/// The `gateway` environment of the samples (samples/gateway/, written by
/// scripts/lab/make-gateway-sample.py): Envoy's access log and coraza-proxy-wasm's lines in
/// Envoy's own log, with production's attack spike. `make report` shows it beside production and
/// staging; every figure equals Tests/Support/recount_gateway.py's recount of the same files.
@Suite("Samples: the gateway environment (Envoy + Coraza)", .serialized)
struct GatewaySampleTests {
    @Test("make report's gateway environment: Envoy access log and Coraza error lines, figures equal the recount, the spike at 03:00-04:59, engine and CRS named")
    func gatewaySample() throws {
        let out = tempDir("gateway-sample")
        let r = try report(["--config", repo + "/samples/threat-report.yml", "--output", out, "--format", "json,md"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(out + "/report.json") as? [String: Any])
        let envs = try #require(json["environments"] as? [[String: Any]])
        #expect(envs.compactMap { $0["name"] as? String } == ["production", "staging", "gateway"])
        let w = try #require(envs.last?["waf"] as? [String: Any])
        let py = try #require(which("python3"))
        let rr = try run(py, [repo + "/Tests/Support/recount_gateway.py", "--from", "2026-11-19T00:00:00Z", "--to", "2026-11-20T00:00:00Z",
                              "--access", repo + "/samples/gateway/envoy-access.log.gz", "--error", repo + "/samples/gateway/envoy.log.gz",
                              "--hosts", "gw.shop.example.com"])
        let c = try #require(try JSONSerialization.jsonObject(with: Data(rr.stdout.utf8)) as? [String: Any], "\(rr.stderr)")
        #expect(w["total_requests"] as? Int == c["total"] as? Int)
        #expect(w["anomalous_requests"] as? Int == c["anomalous"] as? Int)
        #expect(w["blocked_requests"] as? Int == c["blocked"] as? Int)
        let cats = (w["categories"] as? [[String: Any]] ?? []).map { ($0["category"] as? String ?? "", $0["count"] as? Int ?? -1) }
        #expect(Dictionary(uniqueKeysWithValues: cats) == (c["categories"] as? [String: Int] ?? [:]))
        #expect(cats.contains { $0.0 == "multipart" }, "CRS 4's 922 rules have their family")
        let rules = (w["top_rules"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(rules == (c["top_rules"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" })
        let clients = (w["top_clients"] as? [[String: Any]] ?? []).map { "\($0["ip"] as? String ?? "")=\($0["count"] as? Int ?? -1)" }
        #expect(clients == (c["top_clients"] as? [[Any]] ?? []).map { "\($0[0])=\($0[1])" })
        #expect(w["waf_engine"] as? String == "Coraza" && w["crs_version"] as? String == "4.7.0" && w["access_log_format"] as? String == "envoy")
        // Production's shape: most anomalous requests in the 03:00 and 04:00 buckets, a ratio between 5 % and 20 %.
        let history = (w["history"] as? [String: Any])?["anomalous"] as? [[Any]] ?? []
        let byHour = history.compactMap { $0[1] as? Int }
        #expect(byHour.count == 24)
        if byHour.count == 24 { #expect(Double(byHour[3] + byHour[4]) > 0.8 * Double(byHour.reduce(0, +))) }
        let ratio = w["anomalous_ratio"] as? Double ?? 0
        #expect(ratio > 0.05 && ratio < 0.2)
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(md.contains("Engine: Coraza · OWASP CRS 4.7.0"))
    }
}
