import Testing
@testable import ThreatConfig

@Suite("waf: files: tuning_id_range: the exclusion id range in the report config, validated with its place")
struct TuningIDRangeConfigTests {
    func yaml(_ range: String) -> String {
        "version: 1\nenvironments:\n  - name: a\n    namespace: b\n    waf:\n      files:\n        audit_log: x.log\n        tuning_id_range: \(range)\n"
    }

    @Test("Tuning id range: 20000-20999 is read; without the key the default range applies (nil)")
    func reads() throws {
        let c = try loadConfig(yaml("20000-20999"))
        guard case .files(let f)? = c.environments[0].waf else { Issue.record("not a files source"); return }
        #expect(f.tuningIDRange == 20_000...20_999)
        let d = try loadConfig("version: 1\nenvironments:\n  - {name: a, namespace: b, waf: {files: {audit_log: x.log}}}\n")
        guard case .files(let g)? = d.environments[0].waf else { Issue.record("not a files source"); return }
        #expect(g.tuningIDRange == nil)
    }

    @Test("Tuning id range errors: not a range, reversed, zero, overlapping the CRS, a number alone — each at file:line:column",
          arguments: [
              ("abc", "not 'abc'"), ("10999-10000", "10999 is above 10000"), ("0-10", "within 1-899999"),
              ("899000-900100", "the OWASP CRS uses 900000-999999"), ("950000-950999", "within 1-899999"), ("10000", "like 10000-10999"),
              ("-5-10", "like 10000-10999"), ("10000-99999999999", "like 10000-10999"),
          ])
    func errors(value: String, message: String) {
        guard let e = configError(yaml(value)) else {
            Issue.record("expected an error for \(value)")
            return
        }
        #expect(e.location == "cfg.yml:8:26", "\(e)")
        #expect(e.message.contains(message) && e.message.contains("tuning_id_range"), "\(e)")
    }
}
