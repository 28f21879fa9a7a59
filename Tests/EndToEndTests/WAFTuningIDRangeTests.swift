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

@Suite("waf tune --error-log: error-log lines alone give tuning candidates")
struct WAFTuneErrorLogCLITests {
    @Test("Error-log tuning CLI: twelve NGINX ModSecurity lines from twelve clients give a scoped exclusion of 941180 on ARGS:comment")
    func errorLogOnly() throws {
        let lines = (0..<12).map { i in
            String(format: "2026/11/22 01:00:%02d [info] 12#12: *%d ModSecurity: Warning. Matched \"Operator `Rx' with parameter `x' against variable `ARGS:comment' (Value: `v' ) ", i, i)
                + "[file \"/etc/modsecurity/crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf\"] [line \"1\"] [id \"941180\"] [rev \"\"] [msg \"m\"] "
                + "[data \"Matched Data: <!-- found within ARGS:comment: <!-- hi -->\"] [severity \"2\"] [ver \"OWASP_CRS/3.3.4\"] [hostname \"127.0.0.1\"] "
                + "[uri \"/comments\"] [unique_id \"e\(i)\"] [ref \"\"], client: 192.0.2.\(i + 1), server: shop, request: \"POST /comments HTTP/1.1\", host: \"shop\""
        }
        let dir = tempDir("waf-tune-error-log")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/error.log", atomically: true, encoding: .utf8)
        let out = dir + "/tuning/prod.conf"
        let r = try run(wafBinary, ["waf", "tune", "--error-log", dir + "/error.log", "--output", out])
        #expect(r.code == 0, "\(r.stderr)")
        let conf = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(conf.contains(#"SecRule REQUEST_FILENAME "@beginsWith /comments" "id:10000,phase:1,pass,nolog,ctl:ruleRemoveTargetById=941180;ARGS:comment""#), "\(conf)\n\(r.stderr)")
        #expect(conf.contains("e0, e1, e2"), "the first three unique_ids are the examples")
        // Neither log given: a usage error naming the flags.
        let none = try run(wafBinary, ["waf", "tune", "--output", out])
        #expect(none.code == 64 || none.code == 2, "\(none.code)")
        #expect(none.stderr.contains("--audit-log") && none.stderr.contains("--error-log"))
    }
}
