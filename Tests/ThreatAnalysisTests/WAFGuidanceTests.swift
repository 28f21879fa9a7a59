import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// WAF findings fitted to what was read: the CRS without configuration, bursts from private or
/// loopback clients, and guidance commands for the audit format and the configured namespace.
@Suite("WAF findings fit the input")
struct WAFGuidanceTests {
    func report(_ change: (inout WAFStatistics) -> Void) -> EnvironmentReport {
        var w = WAFStatistics(totalRequests: 1000, anomalousRequests: 100)
        w.categories = [RankedCount(key: "sqli", count: 100, label: "SQL injection")]
        change(&w)
        return EnvironmentReport(name: "production", namespace: "shop-production", thresholds: .defaults, waf: .ok(w),
                                 flows: .notConfigured, policies: .notConfigured)
    }

    func findings(_ change: (inout WAFStatistics) -> Void) -> [Finding] {
        FindingAnalyzer.findings(for: report(change), window: window)
    }

    @Test("Rule 901001 entries make a critical waf.crs_unconfigured finding; none without them")
    func crsUnconfigured() throws {
        let f = try #require(findings { $0.crsUnconfiguredRequests = 111 }.first { $0.id == "waf.crs_unconfigured" })
        #expect(f.severity == .critical && f.title.contains("111") && f.guidance.contains("crs-setup.conf"))
        #expect(!findings { $0.crsUnconfiguredRequests = 0 }.contains { $0.id == "waf.crs_unconfigured" })
    }

    @Test("An attack burst from a private or loopback address says so and gives no deny advice; a public one gets the annotation",
          arguments: [("127.0.0.1", true), ("::1", true), ("10.1.2.3", true), ("172.20.0.1", true), ("192.168.45.191", true),
                      ("fd00::5", true), ("203.0.113.45", false), ("172.32.0.1", false), ("8.8.8.8", false)])
    func burstScope(ip: String, local: Bool) throws {
        let f = try #require(findings { $0.topClients = [RankedCount(key: ip, count: 90)] }.first { $0.id == "waf.attack_burst" })
        #expect(f.title.contains("private or loopback") == local, "\(ip)")
        #expect(f.guidance.contains("denylist-source-range") == !local, "\(ip)")
    }

    @Test("jq paths follow the audit format: v3 transaction.client_ip, v2 remote_address and audit_data, native awk/grep")
    func jqPaths() throws {
        func burst(_ format: String?) throws -> Finding {
            try #require(findings { $0.auditLogFormat = format; $0.topClients = [RankedCount(key: "203.0.113.45", count: 90)] }
                .first { $0.id == "waf.attack_burst" })
        }
        #expect(try burst("ModSecurity v3").guidance.contains(".transaction.client_ip == \"203.0.113.45\""))
        #expect(try burst(nil).guidance.contains(".transaction.client_ip"))
        let v2 = try burst("ModSecurity v2 (3), ModSecurity v3 (1)").guidance
        #expect(v2.contains(".transaction.remote_address") && v2.contains(".request.request_line") && !v2.contains("client_ip"))
        let native = try burst("ModSecurity native").guidance
        #expect(native.contains("awk") && !native.contains("jq "))
        let severe = try #require(findings { $0.auditLogFormat = "ModSecurity v2" }.first { $0.id == "waf.high_severity_categories" })
        #expect(severe.guidance.contains(".audit_data.messages[]?") && !severe.guidance.contains(".details.ruleId"))
    }

    @Test("kubectl commands name the ingress namespace only when one is configured; gitlab-managed-apps is never assumed")
    func namespaceOnlyWhenConfigured() throws {
        let without = findings { $0.anomalousRequests = 300 }
        #expect(!without.map(\.guidance).joined().contains("gitlab-managed-apps"))
        #expect(!without.map(\.guidance).joined().contains("kubectl -n") || without.allSatisfy { !$0.guidance.contains("logs -l app=nginx-ingress") })
        let with = findings { $0.anomalousRequests = 300; $0.ingressNamespace = "gitlab-managed-apps" }
        let ratio = try #require(with.first { $0.id == "waf.anomalous_ratio" })
        #expect(ratio.guidance.contains("kubectl -n gitlab-managed-apps logs -l app=nginx-ingress"))
    }
}
