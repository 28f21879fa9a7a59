import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

func env(requests: Int = 1000, anomalous: Int = 0, forwarded: Int = 1000, dropped: Int = 0,
         policies: [PolicyItem]? = nil, thresholds: Thresholds = .defaults) -> EnvironmentReport {
    EnvironmentReport(name: "production", namespace: "shop-production", thresholds: thresholds,
                      waf: .ok(WAFStatistics(totalRequests: requests, anomalousRequests: anomalous)),
                      flows: .ok(FlowStatistics(counts: FlowCounts(forwarded: forwarded, dropped: dropped),
                                                inbound: FlowCounts(forwarded: 0, dropped: 0), outbound: FlowCounts(forwarded: 0, dropped: 0))),
                      policies: policies.map { .ok(PolicySet(items: $0)) } ?? .notConfigured)
}

@Suite("Findings")
struct FindingTests {
    @Test("Anomalous-ratio thresholds: below warning none, at warning warning, at critical critical", arguments: [
        (49, nil), (50, Severity.warning), (199, .warning), (200, .critical), (1000, .critical),
    ] as [(Int, Severity?)])
    func anomalousBoundaries(anomalous: Int, severity: Severity?) {
        let f = FindingAnalyzer.findings(for: env(anomalous: anomalous), window: window).filter { $0.id == "waf.anomalous_ratio" }
        #expect(f.first?.severity == severity)
        if let finding = f.first {
            #expect(finding.value == Double(anomalous) / 1000)
            #expect(finding.threshold == (severity == .critical ? 0.20 : 0.05))
        }
    }

    @Test("Dropped-ratio thresholds at the boundaries (total = forwarded + dropped = 1000)", arguments: [
        (49, nil), (50, Severity.warning), (199, .warning), (200, .critical),
    ] as [(Int, Severity?)])
    func droppedBoundaries(dropped: Int, severity: Severity?) {
        let f = FindingAnalyzer.findings(for: env(forwarded: 1000 - dropped, dropped: dropped), window: window)
            .first { $0.id == "flows.dropped_ratio" }
        #expect(f?.severity == severity)
    }

    @Test("Below the volume guard a ratio finding is capped at info and says why")
    func volumeGuard() {
        let f = FindingAnalyzer.findings(for: env(requests: 99, anomalous: 90), window: window).first { $0.id == "waf.anomalous_ratio" }
        #expect(f?.severity == .info)
        #expect(f?.guidance.contains("below the guard of 100") == true)
        let g = FindingAnalyzer.findings(for: env(requests: 100, anomalous: 90), window: window).first { $0.id == "waf.anomalous_ratio" }
        #expect(g?.severity == .critical)
        let custom = Thresholds(minRequests: 5000)
        let h = FindingAnalyzer.findings(for: env(requests: 1000, anomalous: 900, thresholds: custom), window: window).first { $0.id == "waf.anomalous_ratio" }
        #expect(h?.severity == .info)
    }

    @Test("Zero traffic gives no ratio finding")
    func zeroTraffic() {
        #expect(FindingAnalyzer.findings(for: env(requests: 0, forwarded: 0), window: window).isEmpty)
    }

    @Test("Invalid and disabled policies are findings with the fix and the command")
    func policyFindings() {
        let items = [
            PolicyItem(kind: .networkPolicy, kindText: "NetworkPolicy", name: "broken", namespace: "shop-production", enabled: true,
                       valid: false, problems: [PolicyProblem("YAML syntax error", location: "w.yaml:11:4")], manifest: "", origin: "w.yaml:1"),
            PolicyItem(kind: .ciliumNetworkPolicy, kindText: "CiliumNetworkPolicy", name: "drop-outbound", namespace: "shop-production",
                       enabled: false, valid: true, manifest: "", origin: "p.yaml:1"),
            PolicyItem(kind: .ciliumNetworkPolicy, kindText: "CiliumNetworkPolicy", name: "web", namespace: "shop-production",
                       enabled: true, valid: true, manifest: "", origin: "web.yaml:1"),
        ]
        let f = FindingAnalyzer.findings(for: env(policies: items), window: window)
        let invalid = f.first { $0.id == "policies.invalid" }
        #expect(invalid?.subject == "broken")
        #expect(invalid?.guidance.contains("w.yaml:11:4") == true)
        let disabled = f.first { $0.id == "policies.disabled" }
        #expect(disabled?.subject == "drop-outbound")
        #expect(disabled?.guidance.contains("threat-report policy enable") == true)
        #expect(disabled?.guidance.contains("ciliumnetworkpolicy drop-outbound") == true)
        #expect(f.filter { $0.id.hasPrefix("policies.") }.count == 2)
    }

    @Test("Every finding carries guidance with a command; findings are sorted worst first")
    func guidanceAndOrder() {
        var a = env(requests: 1000, anomalous: 60, forwarded: 500, dropped: 500)
        a.name = "a"
        var b = env(requests: 1000, anomalous: 300)
        b.name = "b"
        let all = FindingAnalyzer.analyze([a, b], window: window)
        #expect(all.map(\.severity) == [.critical, .critical, .warning])
        #expect(all.first?.environment == "a")
        for f in all {
            #expect(f.guidance.contains("`"), "guidance of \(f.id) names a command")
        }
        let flows = all.first { $0.id == "flows.dropped_ratio" }!
        #expect(flows.guidance.contains("hubble observe --namespace shop-production --verdict DROPPED --since 24h"))
    }
}
