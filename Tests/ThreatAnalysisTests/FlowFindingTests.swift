import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

func flowEnv(dropped: [Double], reasons: [RankedCount] = [], counts: FlowCounts = FlowCounts(forwarded: 10000, dropped: 100),
             policies: [PolicyItem]? = nil) -> EnvironmentReport {
    let times = (0..<dropped.count).map { window.from.addingTimeInterval(Double($0) * 3600) }
    return EnvironmentReport(
        name: "production", namespace: "shop-production", thresholds: .defaults,
        waf: .notConfigured,
        flows: .ok(FlowStatistics(counts: counts, inbound: counts, outbound: FlowCounts(forwarded: 0, dropped: 0),
                                  forwardedRate: zip(times, dropped).map { SeriesPoint($0.0, 10) },
                                  droppedRate: zip(times, dropped).map { SeriesPoint($0.0, $0.1) }, topDropReasons: reasons)),
        policies: policies.map { .ok(PolicySet(items: $0)) } ?? .notConfigured)
}

@Suite("Flow findings")
struct FlowFindingTests {
    @Test("A drop burst: peak ≥ 10× the median and ≥ 1/s, with the time of the peak")
    func burst() {
        let f = FindingAnalyzer.findings(for: flowEnv(dropped: [0.3, 0.4, 0.3, 249, 0.4]), window: window).first { $0.id == "flows.drop_burst" }
        #expect(f?.severity == .warning)
        #expect(f?.title.contains("2026-11-19T03:00:00Z") == true)
        #expect(f?.guidance.contains("hubble observe --namespace shop-production --verdict DROPPED") == true)
        #expect(FindingAnalyzer.findings(for: flowEnv(dropped: [0.01, 0.02, 0.5]), window: window).allSatisfy { $0.id != "flows.drop_burst" })
        #expect(FindingAnalyzer.findings(for: flowEnv(dropped: [5, 6, 30]), window: window).allSatisfy { $0.id != "flows.drop_burst" })
    }

    @Test("POLICY_DENIED dominant only where the dropped ratio matters")
    func policyDenied() {
        let reasons = [RankedCount(key: "POLICY_DENIED", count: 950), RankedCount(key: "CT_MAP_INSERTION_FAILED", count: 50)]
        let high = flowEnv(dropped: [1], reasons: reasons, counts: FlowCounts(forwarded: 9000, dropped: 1000))
        #expect(FindingAnalyzer.findings(for: high, window: window).first { $0.id == "flows.policy_denied_dominant" }?.value == 0.95)
        let low = flowEnv(dropped: [1], reasons: reasons, counts: FlowCounts(forwarded: 99000, dropped: 1000))
        #expect(FindingAnalyzer.findings(for: low, window: window).allSatisfy { $0.id != "flows.policy_denied_dominant" })
    }

    @Test("No flow metrics while policies are enforced: the Helm value in the guidance")
    func noMetrics() {
        let policy = PolicyItem(kind: .ciliumNetworkPolicy, kindText: "CiliumNetworkPolicy", name: "web", namespace: "shop-production",
                                enabled: true, valid: true, manifest: "", origin: "x")
        let env = flowEnv(dropped: [], counts: FlowCounts(forwarded: 0, dropped: 0), policies: [policy])
        let f = FindingAnalyzer.findings(for: env, window: window).first { $0.id == "flows.no_metrics" }
        #expect(f?.guidance.contains("flow:sourceContext=namespace;destinationContext=namespace") == true)
        #expect(FindingAnalyzer.findings(for: flowEnv(dropped: [], counts: FlowCounts(forwarded: 0, dropped: 0)), window: window)
            .allSatisfy { $0.id != "flows.no_metrics" })
    }
}

@Suite("Policy audit mode finding")
struct PolicyAuditFindingTests {
    @Test("AUDIT counts from Prometheus (no pairs): a warning with the count, the commands and no pair list; none without AUDIT")
    func auditFromCounts() throws {
        let env = flowEnv(dropped: [], counts: FlowCounts(forwarded: 900, dropped: 0, redirected: 50, audit: 1234))
        let f = try #require(FindingAnalyzer.findings(for: env, window: window).first { $0.id == "flows.policy_audit_mode" })
        #expect(f.severity == .warning && f.value == 1234 && f.unit == .count)
        #expect(f.title == "1,234 flows in shop-production would have been dropped: policy audit mode is on, policies do not enforce")
        #expect(!f.guidance.contains("Most seen"))
        #expect(f.guidance.contains("`cilium endpoint config ID PolicyAuditMode=Disabled`"))
        let quiet = flowEnv(dropped: [], counts: FlowCounts(forwarded: 900, dropped: 0, redirected: 50))
        #expect(!FindingAnalyzer.findings(for: quiet, window: window).contains { $0.id == "flows.policy_audit_mode" })
    }
}
