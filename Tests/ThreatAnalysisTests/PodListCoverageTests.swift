import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// Coverage rows merged from the flow files and the Kubernetes pod list: matching by name or by
/// labels, pod-only rows with no traffic, rows when no flow file gives workloads, and the
/// `policies.uncovered_workload` findings for pod-list workloads.
@Suite("Policy coverage with the pod list")
struct PodListCoverageTests {
    typealias T = PolicyCoverageTests

    static func env(flows: [WorkloadTraffic]?, pods: PodListWorkloads?, _ policies: [PolicyItem]) -> EnvironmentReport {
        var e = T.env(flows, policies)
        e.policies = .ok(PolicySet(items: policies, podList: pods))
        return e
    }

    static let pods = PodListWorkloads(workloads: [
        .init(name: "api", labels: ["app": "api", "tier": "back"], pods: 2),
        .init(name: "bare", labels: [:], pods: 1),
        .init(name: "web", labels: ["app": "web"], pods: 3),
    ], pods: 6, finished: 1)

    static let webIn = T.policy("web-in", [PodSelectorTrait(matchLabels: ["app": "web"], ingress: true, egress: false)])
    static let allEgress = T.policy("all-egress", [PodSelectorTrait(matchLabels: [:], ingress: false, egress: true)])

    @Test("merging: same name → both; flow labels found in exactly one pod-list workload → both; pod-only rows last with 0 traffic")
    func merge() throws {
        let flows = [T.workload("web", ["app": "web"], received: 7), T.workload("api-by-labels", ["app": "api"], received: 2),
                     T.workload("ghost", ["app": "ghost"], received: 1)]
        let rows = try #require(WorkloadCoverage.rows(Self.env(flows: flows, pods: Self.pods, [Self.webIn, Self.allEgress])))
        #expect(rows.map(\.workload.name) == ["web", "api-by-labels", "ghost", "bare"])
        #expect(rows.map(\.source) == [.both, .both, .flows, .podList])
        #expect(rows[0].ingress == ["web-in"] && rows[0].workload.received.total == 7)
        // A pod without labels is still a known label set: the empty selector picks it.
        #expect(rows[3].labelsKnown && rows[3].egress == ["all-egress"] && rows[3].ingress == [] && rows[3].workload.received.total == 0)
        #expect(rows.allSatisfy { $0.trafficKnown })
        #expect(rows.filter(\.isOpen).map(\.workload.name) == ["api-by-labels", "ghost", "bare"])
    }

    @Test("flow labels matching two pod-list workloads match neither (no guess)")
    func ambiguousLabels() throws {
        let pods = PodListWorkloads(workloads: [.init(name: "a", labels: ["team": "x", "app": "a"], pods: 1),
                                                .init(name: "b", labels: ["team": "x", "app": "b"], pods: 1)], pods: 2, finished: 0)
        let rows = try #require(WorkloadCoverage.rows(Self.env(flows: [T.workload("team-x", ["team": "x"], received: 1)], pods: pods, [])))
        #expect(rows.map(\.source) == [.flows, .podList, .podList])
    }

    @Test("no flow file gives workloads: rows from the pod list with traffic not known; a list not read gives no rows")
    func podsOnly() throws {
        let rows = try #require(WorkloadCoverage.rows(Self.env(flows: nil, pods: Self.pods, [Self.webIn])))
        #expect(rows.map(\.workload.name) == ["api", "bare", "web"] && rows.allSatisfy { !$0.trafficKnown && $0.source == .podList })
        #expect(WorkloadCoverage.rows(Self.env(flows: nil, pods: .notRead("403 Forbidden — grant pods list, see docs/ci.md"), [Self.webIn])) == nil)
        #expect(PodListWorkloads.notRead("403 Forbidden — grant pods list, see docs/ci.md").statement
                == "workloads from the pod list: not read (403 Forbidden — grant pods list, see docs/ci.md)")
        #expect(Self.pods.statement == "workloads from the pod list: 3 from 6 running or pending pod(s); 1 finished pod(s) left out")
    }

    @Test("uncovered_workload fires for pod-list workloads with 0 connections (and says where it was seen), not for covered ones")
    func findings() {
        var f = PolicyCoverageFindings.findings(for: Self.env(flows: [T.workload("web", ["app": "web"], received: 7)], pods: Self.pods, [Self.webIn]))
        #expect(f.map { $0.subject ?? "" } == ["api", "bare"])
        #expect(f.allSatisfy { $0.value == 0 && $0.title.contains("received 0 connections") && $0.guidance.contains("(seen in the pod list)") })
        f = PolicyCoverageFindings.findings(for: Self.env(flows: nil, pods: Self.pods, [Self.webIn]))
        #expect(f.map { $0.subject ?? "" } == ["api", "bare"])
        #expect(f.allSatisfy { $0.title.hasSuffix("runs and no policy selects it for ingress") && $0.guidance.contains("its traffic is not known") })
    }
}
