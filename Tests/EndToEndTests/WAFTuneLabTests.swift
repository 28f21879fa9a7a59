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
