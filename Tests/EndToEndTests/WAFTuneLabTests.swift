import Foundation
import Testing

/// Lines a tuning file may hold besides comments and blank lines: the two exclusion forms, with
/// ids, paths and targets from the strict character sets (docs/waf.md "The exclusion file").
let tuningDirective = #"^(SecRule REQUEST_FILENAME "@beginsWith /[A-Za-z0-9/._~-]*" "id:[0-9]+,phase:1,pass,nolog,ctl:ruleRemoveTargetById=[0-9]+;[A-Z_]+(:[A-Za-z0-9_.-]+)?"|SecRuleUpdateTargetById [0-9]+ "![A-Z_]+(:[A-Za-z0-9_.-]+)?")$"#

/// Every line of a tuning file is a comment, blank, or one of the two exclusion forms: no
/// `SecRuleRemoveById`, no `SecRuleEngine`, nothing a log could have slipped in.
func expectOnlyScopedExclusions(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let directive = try? Regex(tuningDirective) else {
        Issue.record("the directive pattern does not compile", sourceLocation: sourceLocation)
        return
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty || line.hasPrefix("#") { continue }
        #expect(line.wholeMatch(of: directive) != nil, "not a scoped exclusion: \(line)", sourceLocation: sourceLocation)
    }
    let directives = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    #expect(!directives.contains("SecRuleRemoveById") && !directives.contains("SecRuleEngine") && !directives.contains("ctl:ruleEngine"),
            sourceLocation: sourceLocation)
}

@Suite("WAF tuning with the real engine: NGINX + libmodsecurity 3 + CRS 3.3.4", .serialized)
struct WAFTuneLabTests {
    @Test("Real-engine replay: the exclusion file passes nginx -t, removes at least 80% of the false-positive entries and keeps at least 98% of the attacks detected")
    func replay() throws {
        for path in ["/usr/sbin/nginx", "/usr/share/modsecurity-crs/rules", "/usr/share/wfuzz/wordlist/Injections/SQL.txt"] {
            try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: `make test` installs it")
        }
        let work = tempDir("waf-tune-replay")
        let r = try run("/usr/bin/python3", [repo + "/scripts/lab/waf-tune-replay.py", "--binary", wafBinary, "--work", work])
        try #require(r.code == 0, "\(r.stderr)")
        let m = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(m["nginx_t"] as? Int == 0, "\(m["nginx_t_output"] ?? "")")
        let fpBefore = try #require(m["fp_before"] as? Int), fpAfter = try #require(m["fp_after"] as? Int)
        let detectedBefore = try #require(m["attacks_detected_before"] as? Int), detectedAfter = try #require(m["attacks_detected_after"] as? Int)
        // The traffic made false positives and real detections to begin with.
        #expect(fpBefore >= 100 && detectedBefore >= 90, "\(m)")
        let removed = Double(fpBefore - fpAfter) / Double(fpBefore), kept = Double(detectedAfter) / Double(detectedBefore)
        #expect(removed >= 0.80, "false-positive entries removed: \(fpBefore - fpAfter) of \(fpBefore)")
        #expect(kept >= 0.98, "attack entries still detected: \(detectedAfter) of \(detectedBefore)")
        // The same requests reached the engine both times.
        #expect(m["attack_entries_before"] as? Int == m["attack_entries_after"] as? Int)

        let conf = try String(contentsOfFile: try #require(m["conf"] as? String), encoding: .utf8)
        expectOnlyScopedExclusions(conf)
        #expect(conf.contains(#"SecRuleUpdateTargetById 941180 "!ARGS:ref""#), "noisy on every page: one configure-time exclusion")
        #expect(conf.contains(#"SecRule REQUEST_FILENAME "@beginsWith /search" "id:"#))
        // libinjection (942100) alone catches classic `' or 1=1--` payloads on q: the benign
        // matches of q stay, with the reason, and no directive names that pair.
        #expect(!conf.contains("ruleRemoveTargetById=942100;ARGS:q"))
        #expect(conf.contains("# 942100 on ARGS:q under /search:") && conf.contains("Left in place: the same target also carries attacks"))
        // Evidence: the example unique_ids are entries of the audit log.
        let audit = try String(contentsOfFile: work + "/before/modsec_audit.log", encoding: .utf8)
        let ids = conf.split(separator: "\n").filter { $0.contains("examples (unique_id):") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(!ids.isEmpty && ids.allSatisfy { audit.contains("\"unique_id\":\"\($0)\"") })
    }
}

/// The proof again with ModSecurity's lines in NGINX's error log only: the audit log off, the
/// error log at `info` (ModSecurity v3 writes its Warning lines there), `waf tune --error-log`
/// with the access log for the answer codes the error lines lack.
@Suite("WAF tuning from NGINX's error log with the real engine", .serialized)
struct WAFTuneErrorLogLabTests {
    /// False-positive requests and detected attack requests in an NGINX error log, recounted here
    /// apart from the tool and the script: ModSecurity lines grouped per request by `[unique_id]`,
    /// the client from NGINX's `, client: X, server:` suffix.
    static func recount(_ path: String) throws -> (fp: Int, detected: Int, attacks: Int, lines: Int) {
        let attackers: Set<String> = ["203.0.113.45", "203.0.113.46", "198.51.100.23"]
        var requests: [String: (client: String, ids: Set<String>)] = [:]
        var lines = 0
        func between(_ s: Substring, _ open: String, _ close: String) -> Substring? {
            guard let a = s.range(of: open), let b = s[a.upperBound...].range(of: close) else { return nil }
            return s[a.upperBound..<b.lowerBound]
        }
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") where line.contains("ModSecurity: ") {
            guard let uid = between(line, "[unique_id \"", "\"]"), let client = between(line, ", client: ", ", server: ") else { continue }
            lines += 1
            var ids = requests[String(uid)]?.ids ?? []
            var rest = line[...]
            while let r = rest.range(of: "[id \"") {
                let tail = rest[r.upperBound...]
                if let end = tail.firstIndex(of: "\"") { ids.insert(String(tail[..<end])) }
                rest = tail
            }
            requests[String(uid)] = (String(client), ids)
        }
        var fp = 0, detected = 0, attacks = 0
        for r in requests.values {
            if attackers.contains(r.client) {
                attacks += 1
                if r.ids.contains("949110") { detected += 1 }
            } else if r.ids.contains(where: { !($0.hasPrefix("949") || $0.hasPrefix("959") || $0.hasPrefix("980")) }) {
                fp += 1
            }
        }
        return (fp, detected, attacks, lines)
    }

    @Test("Error-log replay: Warning lines at info with the audit log off; waf tune --error-log writes a file that passes nginx -t, removes at least 80% of the false-positive requests and keeps at least 98% of the attacks detected")
    func replayFromErrorLog() throws {
        for path in ["/usr/sbin/nginx", "/usr/share/modsecurity-crs/rules", "/usr/share/wfuzz/wordlist/Injections/SQL.txt"] {
            try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: `make test` installs it")
        }
        let work = tempDir("waf-tune-replay-errorlog")
        let r = try run("/usr/bin/python3", [repo + "/scripts/lab/waf-tune-replay.py", "--binary", wafBinary, "--work", work, "--source", "error-log"])
        try #require(r.code == 0, "\(r.stderr)")
        let m = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(m["nginx_t"] as? Int == 0, "\(m["nginx_t_output"] ?? "")")

        // The matches are in the error log only, at [info]: no audit entry was written.
        let audit = (try? String(contentsOfFile: work + "/before/modsec_audit.log", encoding: .utf8)) ?? ""
        #expect(audit.isEmpty, "the audit log is off")
        let errorLog = try String(contentsOfFile: work + "/before/error.log", encoding: .utf8)
        #expect(errorLog.contains("[info]") && errorLog.contains("ModSecurity: Warning."))

        // The recount here equals the script's, and the goals hold on it.
        let before = try Self.recount(work + "/before/error.log"), after = try Self.recount(work + "/after/error.log")
        #expect(before.fp == m["fp_before"] as? Int && after.fp == m["fp_after"] as? Int)
        #expect(before.detected == m["attacks_detected_before"] as? Int && after.detected == m["attacks_detected_after"] as? Int)
        #expect(before.fp >= 100 && before.detected >= 90, "the traffic made false positives and detections: \(before)")
        #expect(before.attacks == after.attacks, "the same attack requests reached the engine both times")
        let removed = Double(before.fp - after.fp) / Double(before.fp), kept = Double(after.detected) / Double(max(1, before.detected))
        #expect(removed >= 0.80, "false-positive requests removed: \(before.fp - after.fp) of \(before.fp)")
        #expect(kept >= 0.98, "attack requests still detected: \(after.detected) of \(before.detected)")

        // waf tune read the error lines and found every request's answer code by request id.
        let inputs = (m["tune_inputs"] as? [String]) ?? []
        #expect(inputs.contains { $0.contains("WAF error log:") && $0.contains("\(before.lines) with rule matches") }, "\(inputs)")
        #expect(inputs.contains { $0.hasPrefix("answer codes from the access logs, joined by request id:") }, "\(inputs)")
        if let join = inputs.first(where: { $0.hasPrefix("answer codes") }), let tail = join.split(separator: ":").last {
            let nums = tail.split(separator: " ").compactMap { Int($0) }
            #expect(nums.count == 2 && nums[0] == nums[1] && nums[0] > 0, "\(join)")
        }
        let conf = try String(contentsOfFile: try #require(m["conf"] as? String), encoding: .utf8)
        expectOnlyScopedExclusions(conf)
        #expect(conf.contains(#"SecRuleUpdateTargetById 941180 "!ARGS:ref""#))
        #expect(!conf.contains("ruleRemoveTargetById=942100;ARGS:q"), "the attacked q keeps libinjection")
        // Evidence: the example unique_ids are requests of the error log.
        let ids = conf.split(separator: "\n").filter { $0.contains("examples (unique_id):") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(!ids.isEmpty && ids.allSatisfy { errorLog.contains("[unique_id \"\($0)\"]") })

        // A report on the same two logs (`waf: files: error_log:` beside the ingress access log)
        // joins them the same way and writes the same exclusions.
        let out = tempDir("waf-tune-errorlog-report")
        try """
        version: 1
        from: 2000-01-01T00:00:00Z
        to: 2100-01-01T00:00:00Z
        interval: day
        environments:
          - name: lab
            namespace: shop-production
            hosts: [shop.example.com]
            waf: { files: { access_log: ["\(work)/before/access.log"], error_log: ["\(work)/before/error.log"] } }

        """.write(toFile: out + "/config.yml", atomically: true, encoding: .utf8)
        let rep = try report(["--config", out + "/config.yml", "--output", out, "--format", "json", "--compare", "none"])
        #expect(rep.code == 0 || rep.code == 1, "\(rep.stderr)")
        let reportConf = try String(contentsOfFile: out + "/waf-tuning/lab.conf", encoding: .utf8)
        func directives(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.hasPrefix("#") } }
        #expect(!directives(conf).isEmpty && directives(reportConf) == directives(conf))
        #expect(reportConf.contains("100% answered 2xx/3xx/404") && !reportConf.contains("no status logged"))
    }
}
