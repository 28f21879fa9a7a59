import Foundation
import Testing
@testable import ThreatModel

/// `TrafficMap.withCoverage`: which edges a policy set covers, from the policy traits the report keeps.
@Suite("Traffic map: policy coverage of each edge's destination")
struct TrafficMapCoverageTests {
    static let map = TrafficMap(
        nodes: [.workload(namespace: "shop", name: "web"), .namespace("shop"), .namespace("team-a"), .entity("world"), .entity("kube-dns")],
        edges: [TrafficMap.Edge(source: "namespace:team-a", destination: "workload:shop/web", forwarded: 5),
                TrafficMap.Edge(source: "entity:world", destination: "namespace:shop", forwarded: 4),
                TrafficMap.Edge(source: "workload:shop/web", destination: "namespace:team-a", forwarded: 3),
                TrafficMap.Edge(source: "workload:shop/web", destination: "entity:kube-dns", forwarded: 2)],
        flows: 14, edgeCap: 10)

    static func policy(_ name: String, namespace: String? = "shop", kind: PolicyKind = .ciliumNetworkPolicy, ingress: Bool?,
                       all: Bool?, enabled: Bool = true, valid: Bool = true) -> PolicyItem {
        var p = PolicyItem(kind: kind, kindText: kind.rawValue, name: name, namespace: namespace, enabled: enabled, valid: valid,
                           manifest: "", origin: "t")
        p.restrictsIngress = ingress
        p.selectsAllPods = all
        p.selectsNodes = false
        return p
    }

    func covered(_ items: [PolicyItem]?) -> [Bool?] {
        Self.map.withCoverage(items.map { PolicySet(items: $0) }, namespace: "shop").edges.map(\.covered)
    }

    @Test("A policy restricting ingress of every pod covers the namespace and its workloads; others stay unknown")
    func coversAll() {
        #expect(covered([Self.policy("deny-in", ingress: true, all: true)]) == [true, true, nil, nil])
    }

    @Test("No policy restricting ingress: the namespace's destinations are not covered (default allow)")
    func noneCovers() {
        #expect(covered([]) == [false, false, nil, nil])
        #expect(covered([Self.policy("egress-only", ingress: false, all: true)]) == [false, false, nil, nil])
        // A disabled (GitLab disabled_by) or invalid policy enforces nothing.
        #expect(covered([Self.policy("off", ingress: true, all: true, enabled: false)]) == [false, false, nil, nil])
        #expect(covered([Self.policy("broken", ingress: true, all: true, valid: false)]) == [false, false, nil, nil])
        // A policy of another namespace does not count.
        #expect(covered([Self.policy("theirs", namespace: "team-a", ingress: true, all: true)]) == [false, false, nil, nil])
    }

    @Test("Only narrower selectors restrict ingress, or the traits are unknown: the report cannot tell")
    func cannotTell() {
        #expect(covered([Self.policy("web-only", ingress: true, all: false)]) == [nil, nil, nil, nil])
        #expect(covered([Self.policy("unchecked", ingress: nil, all: nil)]) == [nil, nil, nil, nil])
        #expect(covered(nil) == [nil, nil, nil, nil])
    }

    @Test("A clusterwide policy restricting ingress of every pod covers every namespace and workload")
    func clusterwide() {
        #expect(covered([Self.policy("ccnp", namespace: nil, kind: .ciliumClusterwideNetworkPolicy, ingress: true, all: true)])
            == [true, true, true, nil])
    }

    @Test("Merging edges keeps coverage only when both agree")
    func merge() {
        var a = TrafficMap.Edge(source: "x", destination: "y", forwarded: 1, covered: false)
        a.merge(TrafficMap.Edge(source: "x", destination: "y", dropped: 2, replies: 1, covered: false))
        #expect(a.covered == false && a.flows == 3 && a.replies == 1)
        a.merge(TrafficMap.Edge(source: "x", destination: "y", audit: 1, covered: true))
        #expect(a.covered == nil && a.audit == 1)
    }
}
