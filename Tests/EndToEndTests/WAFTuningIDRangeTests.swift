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
        let dir = tempDir("waf-tune-error-log")
        try (Self.lines.joined(separator: "\n") + "\n").write(toFile: dir + "/error.log", atomically: true, encoding: .utf8)
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

    /// Twelve NGINX ModSecurity v3 Warning lines of 941180 on ARGS:comment, one per client, unique_ids e0…e11.
    static let lines: [String] = (0..<12).map { i in
        String(format: "2026/11/22 01:00:%02d [info] 12#12: *%d ModSecurity: Warning. Matched \"Operator `Rx' with parameter `x' against variable `ARGS:comment' (Value: `v' ) ", i, i)
            + "[file \"/etc/modsecurity/crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf\"] [line \"1\"] [id \"941180\"] [rev \"\"] [msg \"m\"] "
            + "[data \"Matched Data: <!-- found within ARGS:comment: <!-- hi -->\"] [severity \"2\"] [ver \"OWASP_CRS/3.3.4\"] [hostname \"127.0.0.1\"] "
            + "[uri \"/comments\"] [unique_id \"e\(i)\"] [ref \"\"], client: 192.0.2.\(i + 1), server: shop, request: \"POST /comments HTTP/1.1\", host: \"shop\""
    }

    @Test("Error-log tuning with --access-log: error lines lack the answer code; the access line with the same request id lends it, and the join is counted")
    func errorLogAnswerCodesFromAccessLog() throws {
        let dir = tempDir("waf-tune-error-access")
        try (Self.lines.joined(separator: "\n") + "\n").write(toFile: dir + "/error.log", atomically: true, encoding: .utf8)
        // ingress-nginx's access format, the request id last: e0…e7 answered 200, e8…e10 500, e11 has
        // no access line, and x99 is a request without a rule match.
        let access = (0..<11).map { i in
            String(format: "192.0.2.%d - - [22/Nov/2026:01:00:%02d +0000] \"POST /comments HTTP/1.1\" %d 3 \"-\" \"curl/8\" 321 0.009 ", i + 1, i, i < 8 ? 200 : 500)
                + "[shop-web-80] [] 127.0.0.1:8080 3 0.002 200 e\(i)"
        } + [#"192.0.2.99 - - [22/Nov/2026:01:00:30 +0000] "GET / HTTP/1.1" 200 3 "-" "curl/8" 80 0.001 [shop-web-80] [] 127.0.0.1:8080 3 0.001 200 x99"#]
        try (access.joined(separator: "\n") + "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)

        let alone = try run(wafBinary, ["waf", "tune", "--error-log", dir + "/error.log", "--output", dir + "/a.conf"])
        #expect(alone.code == 0, "\(alone.stderr)")
        #expect(alone.stderr.contains("12 requests from 12 clients, no status logged"), "\(alone.stderr)")
        #expect(!alone.stderr.contains("answer codes from the access logs"))
        #expect(alone.stderr.contains("12 error-log requests carry no answer code"), "the missing sign is said, with the flag that lends it")

        let joined = try run(wafBinary, ["waf", "tune", "--error-log", dir + "/error.log", "--access-log", dir + "/access.log", "--output", dir + "/b.conf"])
        #expect(joined.code == 0, "\(joined.stderr)")
        // 8 of the 11 answered are 200: 73%; e11 stays without a code.
        #expect(joined.stderr.contains("12 requests from 12 clients, 73% answered 2xx/3xx/404"), "\(joined.stderr)")
        #expect(joined.stderr.contains("answer codes from the access logs, joined by request id: 11 of 12 error-log requests"), "\(joined.stderr)")
        #expect(joined.stderr.contains("access.log: NGINX access log: 12 lines (ingress-nginx 12), read for the answer codes only, 0 skipped"), "\(joined.stderr)")
        // The access lines add no request to the tuning: the same rows, the same entries weighed.
        #expect(joined.stderr.contains("12 audit entries weighed") && alone.stderr.contains("12 audit entries weighed"))
    }

    @Test("An input that cannot be read is named by its own flag: a FIFO given to --error-log, --access-log or --audit-log; nothing written")
    func unreadableInputNamesItsFlag() throws {
        let dir = tempDir("waf-tune-fifo")
        try (Self.lines.joined(separator: "\n") + "\n").write(toFile: dir + "/error.log", atomically: true, encoding: .utf8)
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let cases: [(String, [String])] = [
            ("--error-log", ["--error-log", dir + "/fifo"]),
            ("--access-log", ["--error-log", dir + "/error.log", "--access-log", dir + "/fifo"]),
            ("--audit-log", ["--audit-log", dir + "/fifo"]),
        ]
        for (flag, args) in cases {
            let r = try run(wafBinary, ["waf", "tune"] + args + ["--output", dir + "/out.conf"])
            #expect(r.code == 2, "\(flag): \(r.stderr)")
            #expect(r.stderr.contains("\(flag): cannot read \(dir)/fifo: is not a regular file (a FIFO)"), "\(flag): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.conf"))
        }
    }
}
