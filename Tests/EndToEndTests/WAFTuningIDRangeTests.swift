import Foundation
import Testing

@Suite("WAF tuning id range from the report config")
struct WAFTuningIDRangeTests {
    @Test("Tuning id range: waf: files: tuning_id_range: 20000-20999 numbers the report's exclusion rules from 20000")
    func configuredRange() throws {
        var lines: [String] = []
        for i in 0..<30 {
            lines.append(v3AuditLine(id: "fp\(i)", client: "192.0.2.\(i + 10)", uri: "/comments", status: 200, second: i, method: "POST",
                                     matches: [("941180", "2", "Matched Data: <!-- found within ARGS:comment: <!-- note -->")]))
        }
        let dir = tempDir("waf-tuning-id-range")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        let config = """
        version: 1
        from: 2026-11-22T00:00:00Z
        to: 2026-11-23T00:00:00Z
        environments:
          - name: Shop
            namespace: shop
            waf: { files: { audit_log: \(dir)/audit.log, tuning_id_range: 20000-20999 } }

        """
        try config.write(toFile: dir + "/threat-report.yml", atomically: true, encoding: .utf8)
        let out = dir + "/out"
        let r = try run(wafBinary, ["report", "--config", dir + "/threat-report.yml", "--output", out, "--format", "json", "--compare", "none"])
        #expect(r.code == 0, "\(r.stderr)")
        let conf = try String(contentsOfFile: out + "/waf-tuning/shop.conf", encoding: .utf8)
        #expect(conf.contains(#""id:20000,phase:1,pass,nolog,ctl:ruleRemoveTargetById=941180;ARGS:comment""#), "\(conf)")
        #expect(!conf.contains("id:10000,"))
    }
}
