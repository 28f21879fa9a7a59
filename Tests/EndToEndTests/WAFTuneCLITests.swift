import Foundation
import Testing

/// A ModSecurity v3 JSON audit line (libmodsecurity's shape), built with Foundation so any text
/// is escaped as the engine escapes it.
func v3AuditLine(id: String, client: String, uri: String, status: Int, second: Int, method: String = "GET",
                 matches: [(rule: String, severity: String, data: String)]) -> String {
    var messages: [[String: Any]] = matches.map { m in
        ["message": "rule \(m.rule)", "details": ["ruleId": m.rule, "severity": m.severity, "data": m.data, "match": "", "tags": []]]
    }
    let score = matches.reduce(0) { $0 + ($1.severity == "2" ? 5 : 3) }
    if score >= 5 {
        messages.append(["message": "Inbound Anomaly Score Exceeded (Total Score: \(score))",
                         "details": ["ruleId": "949110", "severity": "2", "data": "", "match": "", "tags": []]])
    }
    let t: [String: Any] = ["transaction": [
        "client_ip": client, "time_stamp": String(format: "Sun Nov 22 01:%02d:%02d 2026", (second / 60) % 60, second % 60), "unique_id": id,
        "request": ["method": method, "uri": uri, "headers": ["Host": "shop.example.com"]],
        "response": ["http_code": status], "producer": ["secrules_engine": "DetectionOnly"], "messages": messages,
    ]]
    let data = try! JSONSerialization.data(withJSONObject: t, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

@Suite("threat-report waf tune")
struct WAFTuneCLITests {
    func tune(_ lines: [String], extra: [String] = []) throws -> (Run, String, String) {
        let dir = tempDir("waf-tune-cli")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        let out = dir + "/tuning/prod.conf"
        let r = try run(wafBinary, ["waf", "tune", "--audit-log", dir + "/audit.log", "--output", out] + extra)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return (r, text, dir)
    }

    @Test("Over-broad never: an attack campaign on the benign parameter leaves it in place; no global removal, no engine switch")
    func campaignOnBenignParameter() throws {
        var lines: [String] = []
        // 40 people search for "char(65)": libinjection (942100) on ARGS:q, answered 200.
        for i in 0..<40 {
            lines.append(v3AuditLine(id: "benign\(i)", client: "192.0.2.\(i + 10)", uri: "/search?q=char(65)", status: 200, second: i,
                                     matches: [("942100", "2", "Matched Data: f(1) found within ARGS:q: char(65)")]))
        }
        // 30 people post harmless HTML comments (941180 on ARGS:comment), no attacker there.
        for i in 0..<30 {
            lines.append(v3AuditLine(id: "comment\(i)", client: "192.0.2.\(i + 100)", uri: "/comments", status: 200, second: 60 + i, method: "POST",
                                     matches: [("941180", "2", "Matched Data: <!-- found within ARGS:comment: <!-- note -->")]))
        }
        // A campaign from two addresses: `' or 1=1--` in q, caught by 942100 alone, plus probes of other families.
        for i in 0..<40 {
            let client = i % 2 == 0 ? "203.0.113.45" : "203.0.113.46"
            lines.append(v3AuditLine(id: "attack\(i)", client: client, uri: "/search?q=%27%20or%201%3D1--", status: 200, second: 120 + i,
                                     matches: [("942100", "2", "Matched Data: s&1c found within ARGS:q: ' or 1=1--")]))
        }
        for (i, m) in [("932160", "ARGS:cmd"), ("930120", "ARGS:file"), ("941100", "ARGS:q"), ("933160", "ARGS:q"), ("942190", "ARGS:q"),
                       ("932100", "ARGS:cmd"), ("941110", "ARGS:q")].enumerated() {
            lines.append(v3AuditLine(id: "probe\(i)", client: "203.0.113.45", uri: "/search?q=x", status: 200, second: 170 + i,
                                     matches: [(m.0, "2", "Matched Data: x found within \(m.1): x")]))
        }
        let (r, conf, _) = try tune(lines)
        #expect(r.code == 0, "\(r.stderr)")
        expectOnlyScopedExclusions(conf)
        #expect(!conf.contains("942100;ARGS:q") && !conf.contains("SecRuleUpdateTargetById 942100"), "the attacked pair is not excluded")
        #expect(conf.contains("# 942100 on ARGS:q under /search:") && conf.contains("40 attack-looking request(s) would fall below detection"))
        #expect(conf.contains(#"SecRule REQUEST_FILENAME "@beginsWith /comments" "id:10000,phase:1,pass,nolog,ctl:ruleRemoveTargetById=941180;ARGS:comment""#))
        #expect(r.stderr.contains("47 of 47 attack-looking requests stay detected"), "\(r.stderr)")
        #expect(r.stdout.hasSuffix("tuning/prod.conf\n"))
        // The campaign, on stderr: both addresses of 203.0.113.0/24 hit q together: one SQLi campaign of their network.
        #expect(r.stderr.contains("  campaign c-") && r.stderr.contains("203.0.113.0/24 (2 addresses) sqli") && r.stderr.contains("answered 2xx: look closer"),
                "\(r.stderr)")
    }

    @Test("Hostile log text: a URI, a variable name and unique_ids carrying quotes, newlines, backslashes and directives cannot inject one")
    func hostileText() throws {
        var lines: [String] = []
        for i in 0..<12 {
            let client = "192.0.2.\(i + 10)"
            // A path with a quote and a newline: no exclusion is written for it, and its comment is escaped.
            lines.append(v3AuditLine(id: "x\(i)\nSecRuleEngine Off\n#", client: client, uri: "/a\"b\nSecRuleEngine Off\n/c", status: 200, second: i,
                                     matches: [("941180", "2", "Matched Data: <!-- found within ARGS:q: <!--")]))
            // A variable name with a quote and a comma (an action separator).
            lines.append(v3AuditLine(id: "y\(i)\\", client: client, uri: "/search", status: 200, second: 20 + i,
                                     matches: [("942190", "2", "Matched Data: x found within ARGS:q\",ctl:ruleEngine=Off: x")]))
            // A clean pair, whose evidence carries the hostile unique_ids of this client.
            lines.append(v3AuditLine(id: "z\(i)\nSecRuleRemoveById 942100\\", client: client, uri: "/notes", status: 200, second: 40 + i, method: "POST",
                                     matches: [("941180", "2", "Matched Data: <!-- found within ARGS:body: <!--")]))
        }
        let (r, conf, dir) = try tune(lines, extra: ["--environment", "prod\"\nSecRuleEngine Off"])
        #expect(r.code == 0, "\(r.stderr)")
        expectOnlyScopedExclusions(conf)
        #expect(conf.contains(#"ctl:ruleRemoveTargetById=941180;ARGS:body""#))
        #expect(conf.contains(#"z0\x0ASecRuleRemoveById 942100\x5C"#), "log text in comments is escaped")
        #expect(conf.contains(#"environment "prod"\x0ASecRuleEngine Off""#))
        #expect(conf.contains("Not written: the path holds characters") && conf.contains("Not written: the variable's name holds characters"))
        // The real engine reads the file as it is: loaded before the CRS, nginx starts and `nginx -t` passes.
        guard FileManager.default.fileExists(atPath: "/usr/sbin/nginx") else { return }
        let lab = try WAFLab(engine: "On", extraEnv: ["WAF_LAB_BEFORE_CRS=\(dir)/tuning/prod.conf"])
        defer { lab.stop() }
        let t = try run("/usr/sbin/nginx", ["-t", "-p", lab.dir, "-c", lab.dir + "/nginx.conf"])
        #expect(t.code == 0, "\(t.stderr)")
        #expect(lab.send(host: WAFLab.production, path: "/", client: "192.0.2.1") == 200)
    }

    @Test("Usage: no audit log, an id range in the CRS's, a FIFO at --output are refused with exit 2, naming the flag")
    func usage() throws {
        let none = try run(wafBinary, ["waf", "tune", "--output", tempDir("waf-tune-usage") + "/x.conf"])
        #expect(none.code == 2 && none.stderr.contains("--audit-log"))
        let (crs, _, _) = try tune([v3AuditLine(id: "a", client: "192.0.2.1", uri: "/", status: 200, second: 0, matches: [])],
                                   extra: ["--id-range", "949000-950000"])
        #expect(crs.code == 2 && crs.stderr.contains("--id-range") && crs.stderr.contains("900000"))
        let dir = tempDir("waf-tune-fifo")
        try "\n".write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        #expect(mkfifo(dir + "/out.conf", 0o600) == 0)
        let fifo = try run(wafBinary, ["waf", "tune", "--audit-log", dir + "/audit.log", "--output", dir + "/out.conf"])
        #expect(fifo.code == 2 && fifo.stderr.contains("--output") && fifo.stderr.contains("not a regular file"))
    }
}
