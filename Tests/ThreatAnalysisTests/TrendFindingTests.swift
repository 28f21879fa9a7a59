import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

@Suite("Trend findings")
struct TrendFindingTests {
    func trended(requests: Int = 1000, anomalous: Int, prevRequests: Int = 1000, prevAnomalous: Int,
                 clients: [String] = [], prevClients: [String] = []) -> EnvironmentReport {
        var e = env(requests: requests, anomalous: anomalous)
        e.waf.value?.topClients = clients.map { RankedCount(key: $0, count: 10) }
        var prev = WAFStatistics(totalRequests: prevRequests, anomalousRequests: prevAnomalous)
        prev.topClients = prevClients.map { RankedCount(key: $0, count: 10) }
        e.previous = PreviousWindow(window: window.previous, waf: prev)
        return e
    }

    func rising(_ e: EnvironmentReport) -> Finding? {
        FindingAnalyzer.findings(for: e, window: window).first { $0.id == "waf.anomalous_ratio_rising" }
    }

    @Test("Rising: at or above the warning threshold and at least twice the previous ratio", arguments: [
        (60, 10, Severity.warning),  // 6% vs 1%
        (60, 30, .warning),          // exactly doubled
        (60, 31, nil),               // not doubled
        (40, 5, nil),                // doubled, below the 5% warning threshold
        (60, 0, .warning),           // from nothing
    ])
    func rule(current: Int, previous: Int, expected: Severity?) {
        let f = rising(trended(anomalous: current, prevAnomalous: previous))
        #expect(f?.severity == expected)
        if let f {
            #expect(f.value == 0.06)
            #expect(f.threshold == max(0.05, 2 * Double(previous) / 1000))
        }
    }

    @Test("Below the volume guard the rising finding is capped at info")
    func volumeGuard() throws {
        let f = try #require(rising(trended(requests: 50, anomalous: 10, prevAnomalous: 1)))
        #expect(f.severity == .info)
        #expect(f.guidance.hasPrefix("Only 50 requests"))
    }

    @Test("No comparison, no trend findings; new top clients are info and name only the new ones")
    func newClientsAndNoComparison() throws {
        #expect(!FindingAnalyzer.findings(for: env(requests: 1000, anomalous: 300), window: window).contains { $0.id.hasSuffix("_rising") })
        let e = trended(anomalous: 10, prevAnomalous: 10, clients: ["192.0.2.1", "192.0.2.9"], prevClients: ["192.0.2.1"])
        let f = try #require(FindingAnalyzer.findings(for: e, window: window).first { $0.id == "waf.new_top_clients" })
        #expect(f.severity == .info && f.subject == "192.0.2.9")
        #expect(f.guidance.contains("192.0.2.9") && f.guidance.contains("jq"))
        #expect(e.deltas?.waf?.newTopClients == ["192.0.2.9"])
    }

    @Test("Dropped ratio rising uses the flow thresholds")
    func droppedRising() throws {
        var e = env(forwarded: 830, dropped: 170)
        e.previous = PreviousWindow(window: window.previous, flows: FlowStatistics(
            counts: FlowCounts(forwarded: 996, dropped: 4), inbound: FlowCounts(forwarded: 0, dropped: 0), outbound: FlowCounts(forwarded: 0, dropped: 0)))
        let f = try #require(FindingAnalyzer.findings(for: e, window: window).first { $0.id == "flows.dropped_ratio_rising" })
        #expect(f.severity == .warning && f.guidance.contains("hubble observe --namespace shop-production"))
    }
}
