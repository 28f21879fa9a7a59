import Foundation
import Testing
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

@Suite("policy simulate: decisions remembered per distinct connection")
struct SimulationVerdictCacheTests {
    static let web = PolicyEndpoint.pod("shop", ["app": "web"])

    static func flow(to destination: PolicyEndpoint, port: Int = 443) -> ObservedFlow {
        ObservedFlow(time: Date(timeIntervalSince1970: 0), verdict: "FORWARDED", isReply: false,
                     connection: PolicyConnection(source: web, destination: destination, port: port, protocolName: "TCP"))
    }

    static func evaluator(_ yaml: String) -> PolicyEvaluator {
        PolicyEvaluator(policies: PolicySimulateTests.policies(yaml), defaultNamespace: "shop")
    }

    static let cidrPolicy = """
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: {name: web-egress, namespace: shop}
    spec:
      endpointSelector: {matchLabels: {app: web}}
      egress:
        - toCIDR: ["198.51.100.20/31"]
    """

    static let familyPolicy = """
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: {name: web-egress, namespace: shop}
    spec:
      endpointSelector: {matchLabels: {app: web}}
      egress:
        - toEntities: ["world-ipv4"]
    """

    @Test("CIDR rules: addresses stay in the key, so two addresses of one world get their own decisions")
    func cidrAddressesKeptApart() {
        let ev = Self.evaluator(Self.cidrPolicy)
        var cache = SimulationVerdictCache(evaluator: ev)
        #expect(cache.keepsAddresses)
        var sim = PolicySimulation(evaluator: ev, namespace: nil)
        for ip in ["198.51.100.20", "198.51.100.30", "198.51.100.20", "198.51.100.30"] {
            let c = Self.flow(to: .world(ip: ip)).connection
            #expect(cache.verdict(c, direction: .egress) == ev.verdict(for: c, direction: .egress))
            sim.add(Self.flow(to: .world(ip: ip)))
        }
        #expect(cache.hits == 2 && cache.misses == 2)
        #expect(sim.newlyDropped == 2)
        let pairs = sim.byPair
        #expect(pairs.first { $0.destination == "world 198.51.100.20" }?.wouldAllow == true)
        #expect(pairs.first { $0.destination == "world 198.51.100.30" }?.change == "newly_dropped")
    }

    @Test("No address rule: addresses count by family only, and IPv4 and IPv6 worlds stay apart")
    func familyKeyedWithoutAddressRules() {
        let ev = Self.evaluator(Self.familyPolicy)
        var cache = SimulationVerdictCache(evaluator: ev)
        #expect(!cache.keepsAddresses)
        let ips = ["198.51.100.1", "203.0.113.9", "2001:db8::1", "2001:db8::2", "192.0.2.44"]
        for ip in ips {
            let c = Self.flow(to: .world(ip: ip)).connection
            #expect(cache.verdict(c, direction: .egress) == ev.verdict(for: c, direction: .egress))
        }
        // One entry per family: the first IPv4 and the first IPv6 address missed, the rest hit.
        #expect(cache.misses == 2 && cache.hits == 3)
        var sim = PolicySimulation(evaluator: ev, namespace: nil)
        for ip in ips { sim.add(Self.flow(to: .world(ip: ip))) }
        #expect(sim.newlyDropped == 2)
        #expect(Set(sim.byPair.filter { $0.change == "newly_dropped" }.map(\.destination)) == ["world 2001:db8::1", "world 2001:db8::2"])
    }

    @Test("Ends in namespaces no policy names are decided directly, not kept")
    func unpolicedNamespacesNotKept() {
        let ev = Self.evaluator(Self.familyPolicy)
        var cache = SimulationVerdictCache(evaluator: ev)
        #expect(cache.policedNamespaces == ["shop"])
        let other = PolicyConnection(source: .pod("team-a", ["app": "client"]), destination: .pod("team-b", ["app": "api"]),
                                     port: 8080, protocolName: "TCP")
        for d in [PolicyDirection.egress, .ingress] {
            #expect(cache.verdict(other, direction: d) == ev.verdict(for: other, direction: d))
        }
        #expect(cache.hits == 0 && cache.misses == 0)
    }

    @Test("Ports and protocols are part of the key: the same pair on another port gets its own decision")
    func portsKeptApart() {
        let ev = Self.evaluator("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db-in, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: db}}
          ingress:
            - ports: [{port: 5432, protocol: TCP}]
        """)
        var cache = SimulationVerdictCache(evaluator: ev)
        let db = PolicyEndpoint.pod("shop", ["app": "db"])
        var seen: [Bool] = []
        for (port, proto) in [(5432, "TCP"), (5433, "TCP"), (5432, "UDP"), (5432, "TCP")] {
            let c = PolicyConnection(source: Self.web, destination: db, port: port, protocolName: proto)
            let d = cache.verdict(c, direction: .ingress)
            #expect(d == ev.verdict(for: c, direction: .ingress))
            seen.append(d.allowed)
        }
        #expect(seen == [true, false, false, true])
        #expect(cache.misses == 3 && cache.hits == 1)
    }
}
