import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

@Suite("WAF tuning: scores, decisions and the exclusion file")
struct WAFTuningTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    static let header = WAFExclusionFile.Header(environment: "production", generatedAt: t0, from: t0, to: t0.addingTimeInterval(86_400))

    func row(_ rule: String, _ path: String, _ target: String, count: Int, clients: Int, ok: Int? = nil, attackMatches: Int? = nil,
             campaign: Int = 0, families: [String] = []) -> WAFTargetStats {
        var r = WAFTargetStats(ruleID: rule, path: path, target: target, firstSeen: Self.t0, lastSeen: Self.t0.addingTimeInterval(60))
        r.count = count
        r.clients = clients
        for k in 0..<count { r.statuses.add(k < (ok ?? count) ? 200 : 500) }
        r.attackMatches = attackMatches ?? count
        r.campaignEntries = campaign
        r.campaignClients = campaign > 0 ? 2 : 0
        r.otherFamilies = families
        r.examples = ["id-\(rule)-1"]
        return r
    }

    @Test("Score: many clients, 2xx answers, one rule per request, no campaign score high; a scanner's pattern scores low; each has its one-sentence explanation")
    func scores() {
        let benign = row("942190", "/search", "ARGS:q", count: 40, clients: 35)
        let scanner = row("930120", "/", "ARGS:file", count: 40, clients: 2, ok: 5, attackMatches: 200, campaign: 40, families: ["rce", "sqli", "xss"])
        #expect(WAFTuning.score(benign) >= 0.95)
        #expect(WAFTuning.score(scanner) < 0.3)
        let e = WAFTuning.explanation(benign, score: WAFTuning.score(benign))
        #expect(e == "Score 1.00: 40 requests from 35 clients, 100% answered 2xx/3xx/404, 1.0 attack rules per request, none from attack-looking clients, no other attack family from those clients.")
        #expect(e.hasSuffix(".") && !e.dropLast().contains(". "), "one sentence")
    }

    @Test("Decision: a pair that attacks depend on is left in place; pairs without attacks are excluded per path; noisy on every path → SecRuleUpdateTargetById")
    func decisions() {
        var input = WAFTuningInput()
        input.rows = [
            row("942100", "/search", "ARGS:q", count: 50, clients: 40),
            row("941180", "/", "ARGS:ref", count: 20, clients: 15), row("941180", "/cart", "ARGS:ref", count: 20, clients: 15),
            row("941180", "/products", "ARGS:ref", count: 20, clients: 15),
            row("942230", "/comments", "ARGS:comment", count: 10, clients: 9),
        ]
        // Three attack entries on q: 942100 alone (escapes), 942100 + 942190 untargeted (stays), nothing else.
        input.campaignEntries.append(rows: [0], points: [5])
        input.campaignEntries.append(rows: [0, -1], points: [5, 5])
        input.ruleIDsSeen = ["10000", "942100"]
        let a = WAFTuning.advise(input, environment: "production", header: Self.header)
        let byRule = Dictionary(grouping: a.candidates, by: { "\($0.row.ruleID) \($0.row.path)" })
        #expect(byRule["942100 /search"]?.first?.decision == .keep)
        #expect(byRule["942100 /search"]?.first?.reason.contains("1 attack-looking request(s) would fall below detection") == true)
        #expect(a.candidates.filter { $0.row.ruleID == "941180" }.allSatisfy { $0.decision == .excludeEverywhere })
        let comments = byRule["942230 /comments"]?.first
        #expect(comments?.decision == .excludeOnPath && comments?.exclusionID == 10001, "10000 is an id of the logs")
        #expect(a.attackEntriesChecked == 2 && a.attackEntriesStillDetected == 2)
        #expect(a.file.contains(#"SecRule REQUEST_FILENAME "@beginsWith /comments" "id:10001,phase:1,pass,nolog,ctl:ruleRemoveTargetById=942230;ARGS:comment""#))
        #expect(a.file.contains(#"SecRuleUpdateTargetById 941180 "!ARGS:ref""#))
        #expect(!a.file.contains("SecRuleRemoveById") && !a.file.contains("SecRuleEngine"))
        #expect(a.fileName == "waf-tuning/production.conf")
        // Part 2 comes after part 1, with its marker.
        let p1 = a.file.range(of: WAFExclusionFile.partOneMarker), p2 = a.file.range(of: WAFExclusionFile.partTwoMarker)
        #expect(p1 != nil && p2 != nil && p1!.lowerBound < p2!.lowerBound)
    }

    @Test("Below the bars: few clients, few requests or a low score make no candidate, and no file")
    func belowBars() {
        var input = WAFTuningInput()
        input.rows = [row("942100", "/a", "ARGS:x", count: 4, clients: 4), row("942100", "/b", "ARGS:x", count: 30, clients: 2),
                      row("930120", "/", "ARGS:file", count: 40, clients: 3, ok: 0, attackMatches: 200, campaign: 40, families: ["rce", "sqli"])]
        let a = WAFTuning.advise(input, environment: "e", header: Self.header)
        #expect(a.candidates.isEmpty && a.file.isEmpty)
    }

    @Test("Id range: the CRS's ids are refused; a range used up leaves the rest in place, said so")
    func idRange() {
        #expect(WAFTuningOptions.problem(with: 10_000...10_999) == nil)
        #expect(WAFTuningOptions.problem(with: 899_000...900_000)?.contains("900000") == true)
        var input = WAFTuningInput()
        input.rows = (0..<3).map { row("942230", "/p\($0)x", "ARGS:a\($0)", count: 10, clients: 9) }
        var o = WAFTuningOptions()
        o.idRange = 20_000...20_001
        let a = WAFTuning.advise(input, environment: "e", options: o, header: Self.header)
        #expect(a.candidates.compactMap(\.exclusionID).sorted() == [20_000, 20_001])
        #expect(a.candidates.filter { $0.reason.contains("id range 20000-20001 is used up") }.count == 1)
    }

    @Test("Comments escape log text: quotes kept, newline, backslash and non-ASCII as \\xHH; long text cut")
    func commentEscape() {
        #expect(WAFExclusionFile.comment("a\"b\nSecRuleEngine Off\\") == #"a"b\x0ASecRuleEngine Off\x5C"#)
        #expect(WAFExclusionFile.comment("é") == #"\xC3\xA9"#)
        #expect(WAFExclusionFile.comment(String(repeating: "x", count: 200), max: 10) == "xxxxxxxxxx...")
        #expect(WAFExclusionFile.unwritable(row("942100", "/a b", "ARGS:q", count: 1, clients: 1)) != nil)
        #expect(WAFExclusionFile.unwritable(row("942100", "/a", "ARGS:q;x", count: 1, clients: 1)) != nil)
        #expect(WAFExclusionFile.unwritable(row("942100", "/a", "TX:score", count: 1, clients: 1)) != nil)
        #expect(WAFExclusionFile.unwritable(row("942100", "/api/notes", "ARGS:json.note", count: 1, clients: 1)) == nil)
    }

    @Test("Finding waf.false_positive_candidates is info, so --fail-on warning never fails on it alone")
    func finding() {
        var input = WAFTuningInput()
        input.rows = [row("942230", "/comments", "ARGS:comment", count: 10, clients: 9)]
        var waf = WAFStatistics(totalRequests: 100, anomalousRequests: 10)
        waf.tuningAdvice = WAFTuning.advise(input, environment: "e", header: Self.header)
        let env = EnvironmentReport(name: "e", namespace: "e", thresholds: Thresholds(), waf: .ok(waf), flows: .notConfigured, policies: .notConfigured)
        let f = FalsePositiveCandidatesCheck.findings(in: CheckContext(environment: env, window: TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 3600), interval: .hour)))
        #expect(f.count == 1 && f[0].severity == .info && f[0].id == "waf.false_positive_candidates" && f[0].subject == "942230")
        #expect(f[0].guidance.contains("waf-tuning/e.conf"))
    }
}
