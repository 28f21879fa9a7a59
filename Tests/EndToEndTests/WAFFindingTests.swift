import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// The WAF findings as rules (pure: no logs, no server). They sit with the end-to-end tests, which
/// also see them come out of real logs (WAFLabTests).
@Suite("WAF findings")
struct WAFFindingTests {
    static let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

    func findings(_ w: WAFStatistics, thresholds: Thresholds = .defaults) -> [Finding] {
        let env = EnvironmentReport(name: "production", namespace: "shop-production", thresholds: thresholds,
                                    waf: .ok(w), flows: .notConfigured, policies: .notConfigured)
        return WAFFindings.findings(for: env, window: Self.window)
    }

    func stats(total: Int = 10_000, anomalous: Int = 1_000, categories: [(CRSCategory, Int)] = [], modes: [(String, Int)] = [],
               clients: [(String, Int)] = [], critical: Int? = nil) -> WAFStatistics {
        var w = WAFStatistics(totalRequests: total, anomalousRequests: anomalous,
                              topClients: clients.map { RankedCount(key: $0.0, count: $0.1) },
                              engineModes: modes.map { RankedCount(key: $0.0, count: $0.1) })
        w.categories = CRSCategory.ranked(Dictionary(uniqueKeysWithValues: categories))
        w.criticalAttackRequests = critical
        return w
    }

    @Test("waf.high_severity_categories: a warning when RCE/SQLi/LFI reach the anomalous warning share, info at background level")
    func highSeverity() throws {
        let campaign = findings(stats(categories: [(.sqli, 800), (.rce, 30), (.xss, 500)]))
        let f = try #require(campaign.first { $0.id == "waf.high_severity_categories" })
        #expect(f.severity == .warning)
        #expect(f.title == "High-severity attacks: SQL injection (800), Remote code execution (30)")
        #expect(f.subject == "sqli,rce")
        #expect(f.guidance.contains("`jq -c"))
        let background = findings(stats(categories: [(.sqli, 15), (.lfi, 5)]))
        #expect(background.first { $0.id == "waf.high_severity_categories" }?.severity == .info)
        let lowVolume = findings(stats(total: 50, anomalous: 40, categories: [(.sqli, 40)]))
        #expect(lowVolume.first { $0.id == "waf.high_severity_categories" }?.severity == .info, "below min_requests")
        #expect(findings(stats(categories: [(.xss, 900), (.scanner, 10), (.protocol_, 10)])).allSatisfy { $0.id != "waf.high_severity_categories" })
    }

    @Test("waf.blocking_disabled: DetectionOnly while critical attacks were seen is info; Enabled, or no critical attack, is nothing")
    func blockingDisabled() throws {
        let f = try #require(findings(stats(modes: [("DetectionOnly", 1_000)], critical: 42)).first { $0.id == "waf.blocking_disabled" })
        #expect(f.severity == .info && f.title.contains("42 critical attack request(s)"))
        #expect(f.guidance.contains("`SecRuleEngine On`"))
        #expect(findings(stats(modes: [("Enabled", 1_000)], critical: 42)).allSatisfy { $0.id != "waf.blocking_disabled" })
        #expect(findings(stats(modes: [("DetectionOnly", 1_000)], critical: 0)).allSatisfy { $0.id != "waf.blocking_disabled" })
        // A source that cannot tell severities (Elasticsearch) falls back on the high-severity categories.
        let es = findings(stats(categories: [(.rce, 12)], modes: [("DetectionOnly", 1_000)]))
        #expect(es.contains { $0.id == "waf.blocking_disabled" && $0.title.contains("12 critical") })
    }

    @Test("waf.attack_burst: one client at or above attack_burst_share (default half) of the anomalous requests, with at least attack_burst_min_requests (20) of them")
    func attackBurst() throws {
        let f = try #require(findings(stats(anomalous: 1_000, clients: [("203.0.113.45", 500), ("192.0.2.1", 10)])).first { $0.id == "waf.attack_burst" })
        #expect(f.severity == .warning && f.value == 0.5 && f.threshold == Thresholds.defaults.attackBurstShare)
        #expect(f.subject == "203.0.113.45")
        #expect(f.guidance.contains("denylist-source-range=203.0.113.45/32"))
        let v6 = try #require(findings(stats(anomalous: 100, clients: [("2001:db8::17", 90)])).first { $0.id == "waf.attack_burst" })
        #expect(v6.guidance.contains("2001:db8::17/128"))
        #expect(findings(stats(anomalous: 1_000, clients: [("203.0.113.45", 499)])).allSatisfy { $0.id != "waf.attack_burst" })
        #expect(findings(stats(anomalous: 30, clients: [("203.0.113.45", 19)])).allSatisfy { $0.id != "waf.attack_burst" }, "too few")
        // Both limits are thresholds (thresholds.attack_burst_share / attack_burst_min_requests).
        var t = Thresholds.defaults
        t.attackBurstShare = 0.3
        t.attackBurstMinRequests = 5
        let tuned = try #require(findings(stats(anomalous: 1_000, clients: [("203.0.113.45", 499)]), thresholds: t).first { $0.id == "waf.attack_burst" })
        #expect(tuned.threshold == 0.3)
        #expect(findings(stats(anomalous: 30, clients: [("203.0.113.45", 19)]), thresholds: t).contains { $0.id == "waf.attack_burst" })
        // A key that is not an address never reaches a command line.
        let odd = try #require(findings(stats(anomalous: 100, clients: [("`rm -rf /`", 90)])).first { $0.id == "waf.attack_burst" })
        #expect(!odd.guidance.contains("rm -rf") && odd.guidance.contains("CLIENT_IP"))
    }

    @Test("Categories derived from top rules (Elasticsearch) leave out the anomaly-evaluation rules")
    func categoriesFromTopRules() {
        let rules = [RankedCount(key: "949110", count: 90), RankedCount(key: "942100", count: 40), RankedCount(key: "942190", count: 5),
                     RankedCount(key: "930120", count: 7), RankedCount(key: "913100", count: 40)]
        #expect(WAFStatistics.categories(fromTopRules: rules).map { "\($0.key)=\($0.count)" } == ["sqli=45", "scanner=40", "lfi=7"])
    }
}
