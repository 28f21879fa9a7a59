import Foundation
import Testing
@testable import ThreatModel

/// `TrafficMap.withCoverage(_:namespace:workloads:)`: a workload of the environment's namespace
/// decided on its own from the coverage rows (the selector logic of the coverage table), where a
/// narrower selector leaves the per-namespace decision unknown.
@Suite("Traffic map: per-workload coverage from the coverage rows")
struct TrafficMapWorkloadCoverageTests {
    static let map = TrafficMap(
        nodes: [.workload(namespace: "shop", name: "web"), .workload(namespace: "shop", name: "db"), .workload(namespace: "shop", name: "cache"),
                .namespace("shop"), .namespace("team-a")],
        edges: [TrafficMap.Edge(source: "namespace:team-a", destination: "workload:shop/web", forwarded: 5),
                TrafficMap.Edge(source: "workload:shop/web", destination: "workload:shop/db", forwarded: 4),
                TrafficMap.Edge(source: "workload:shop/web", destination: "workload:shop/cache", forwarded: 3),
                TrafficMap.Edge(source: "workload:shop/web", destination: "namespace:team-a", forwarded: 2)],
        flows: 14, edgeCap: 10)

    static func row(_ name: String, _ labels: [String: String], ingress: [String], known: Bool = true) -> WorkloadCoverageRow {
        let zero = FlowCounts(forwarded: 0, dropped: 0)
        return WorkloadCoverageRow(workload: WorkloadTraffic(name: name, namespace: "shop", labels: labels, received: zero, sent: zero),
                                   ingress: ingress, egress: [], labelsKnown: known)
    }

    /// A policy with a narrower selector: per namespace the report cannot tell.
    static var narrow: PolicySet {
        var p = PolicyItem(kind: .ciliumNetworkPolicy, kindText: "CiliumNetworkPolicy", name: "web-in", namespace: "shop", enabled: true,
                           valid: true, manifest: "", origin: "t")
        p.restrictsIngress = true
        p.selectsAllPods = false
        p.selectsNodes = false
        return PolicySet(items: [p])
    }

    @Test("rows decide their workloads (matched by app label or name); unmatched workloads and other namespaces keep the namespace's answer")
    func perWorkload() {
        // Without rows: every own destination is unknown (a narrower selector restricts ingress).
        #expect(Self.map.withCoverage(Self.narrow, namespace: "shop").edges.map(\.covered) == [nil, nil, nil, nil])
        let rows = [Self.row("web-deployment", ["app": "web"], ingress: ["web-in"]),  // matched by its app label
                    Self.row("db", [:], ingress: [], known: true)]                      // matched by name: default allow
        #expect(Self.map.withCoverage(Self.narrow, namespace: "shop", workloads: rows).edges.map(\.covered) == [true, false, nil, nil])
    }

    @Test("unknown labels or rows that disagree leave the workload to the namespace's answer")
    func undecided() {
        let unknown = [Self.row("web", [:], ingress: [], known: false)]
        #expect(Self.map.withCoverage(Self.narrow, namespace: "shop", workloads: unknown).edges.map(\.covered) == [nil, nil, nil, nil])
        let split = [Self.row("web-a", ["app": "web", "v": "1"], ingress: ["web-in"]), Self.row("web-b", ["app": "web", "v": "2"], ingress: [])]
        #expect(Self.map.withCoverage(Self.narrow, namespace: "shop", workloads: split).edges.map(\.covered) == [nil, nil, nil, nil])
        // With no policy at all the namespace says "not covered", and so does a row.
        #expect(Self.map.withCoverage(PolicySet(items: []), namespace: "shop", workloads: unknown).edges.map(\.covered) == [false, false, false, nil])
    }
}
