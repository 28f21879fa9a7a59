import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

/// Semantics of the evaluation engine that the documented tables do not reach.
@Suite("Policy evaluation engine")
struct PolicyEvaluatorTests {
    static func evaluator(_ yaml: String, namespace: String = "shop") -> PolicyEvaluator {
        let loaded = PolicyDocumentLoader.loadDetailed(text: yaml, origin: "test.yaml")
        for p in loaded.policies where !p.item.valid { Issue.record("invalid: \(p.item.problems.map(\.description))") }
        return PolicyEvaluator(policies: loaded.policies.compactMap(\.model), defaultNamespace: namespace)
    }

    static let web = PolicyEndpoint.pod("shop", ["app": "web", "tier": "front"], ip: "10.0.0.5")
    static let api = PolicyEndpoint.pod("shop", ["app": "api"], ip: "10.0.0.6")
    static let db = PolicyEndpoint.pod("data", ["app": "db"], ip: "10.0.1.7")

    static func conn(_ s: PolicyEndpoint, _ d: PolicyEndpoint, _ port: Int?, _ proto: String = "TCP") -> PolicyConnection {
        PolicyConnection(source: s, destination: d, port: port, protocolName: proto)
    }

    @Test("Kubernetes policyTypes: absent means Ingress, plus Egress when egress rules exist")
    func kubernetesPolicyTypesDefaulting() {
        let ingressOnly = Self.evaluator("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web}
        spec:
          podSelector: {matchLabels: {app: web}}
        """)
        // No policyTypes, no rules: ingress is isolated, egress is not.
        #expect(!ingressOnly.verdict(for: Self.conn(Self.api, Self.web, 80), direction: .ingress).allowed)
        #expect(ingressOnly.verdict(for: Self.conn(Self.web, Self.db, 5432), direction: .egress).reason == .notSelected)
        let withEgress = Self.evaluator("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web}
        spec:
          podSelector: {matchLabels: {app: web}}
          egress:
          - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: data}}}]
            ports: [{port: 5432}]
        """)
        #expect(withEgress.verdict(for: Self.conn(Self.web, Self.db, 5432), direction: .egress).allowed)
        #expect(!withEgress.verdict(for: Self.conn(Self.web, Self.db, 5433), direction: .egress).allowed)
        #expect(!withEgress.verdict(for: Self.conn(Self.web, Self.db, 5432, "UDP"), direction: .egress).allowed)
        #expect(!withEgress.verdict(for: Self.conn(Self.api, Self.web, 80), direction: .ingress).allowed)
        let egressOnly = Self.evaluator("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web}
        spec:
          podSelector: {}
          policyTypes: [Egress]
        """)
        #expect(egressOnly.verdict(for: Self.conn(Self.api, Self.web, 80), direction: .ingress).reason == .notSelected)
        #expect(!egressOnly.verdict(for: Self.conn(Self.web, Self.db, 80), direction: .egress).allowed)
    }

    @Test("Cilium enableDefaultDeny false: the rules add allows and deny nothing else")
    func ciliumEnableDefaultDeny() {
        let additive = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: add}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          enableDefaultDeny: {ingress: false}
          ingress:
          - fromEndpoints: [{matchLabels: {app: api}}]
        """)
        let other = PolicyEndpoint.pod("shop", ["app": "other"])
        #expect(additive.verdict(for: Self.conn(other, Self.web, 80), direction: .ingress).reason == .notSelected)
        #expect(additive.verdict(for: Self.conn(Self.api, Self.web, 80), direction: .ingress).allowed)
        let forced = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: lock}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          enableDefaultDeny: {egress: true}
        """)
        let d = forced.verdict(for: Self.conn(Self.web, Self.db, 443), direction: .egress)
        #expect(d.reason == .defaultDeny([PolicyRuleRef(kind: .ciliumNetworkPolicy, policy: "shop/lock", rule: "")]))
    }

    @Test("Selectors: matchExpressions NotIn, Exists, DoesNotExist; namespace labels; other namespaces")
    func selectorsAndNamespaces() {
        let e = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: sel}
        spec:
          endpointSelector:
            matchExpressions:
            - {key: tier, operator: Exists}
            - {key: legacy, operator: DoesNotExist}
          ingress:
          - fromEndpoints:
            - matchExpressions: [{key: app, operator: NotIn, values: [api]}]
          - fromEndpoints:
            - matchLabels: {k8s:io.kubernetes.pod.namespace: data, app: db}
          - fromEndpoints:
            - matchLabels: {io.cilium.k8s.namespace.labels.team: ops}
        """)
        let other = PolicyEndpoint.pod("shop", ["app": "other"])
        #expect(e.verdict(for: Self.conn(other, Self.web, 80), direction: .ingress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.api, Self.web, 80), direction: .ingress).allowed)
        #expect(e.verdict(for: Self.conn(Self.db, Self.web, 80), direction: .ingress).allowed)
        // Same labels in another namespace: the first rule is scoped to the policy's namespace.
        let otherNS = PolicyEndpoint.pod("else", ["app": "other"])
        #expect(!e.verdict(for: Self.conn(otherNS, Self.web, 80), direction: .ingress).allowed)
        let ops = PolicyEndpoint.pod("monitoring", ["app": "prom"], namespaceLabels: ["team": "ops"])
        #expect(e.verdict(for: Self.conn(ops, Self.web, 80), direction: .ingress).allowed)
        // api has no tier label: not selected, default allow.
        #expect(e.verdict(for: Self.conn(Self.web, Self.api, 80), direction: .ingress).reason == .notSelected)
        var legacy = Self.web
        legacy.labels["legacy"] = "1"
        #expect(e.verdict(for: Self.conn(Self.api, legacy, 80), direction: .ingress).reason == .notSelected)
    }

    @Test("Entities: world, cluster, host, kube-apiserver, remote-node, all")
    func entities() {
        let e = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: ent}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          egress:
          - toEntities: [kube-apiserver, host]
          - toEntities: [cluster]
            toPorts: [{ports: [{port: "53", protocol: UDP}]}]
        """)
        #expect(e.verdict(for: Self.conn(Self.web, .entity("kube-apiserver"), 443), direction: .egress).allowed)
        #expect(e.verdict(for: Self.conn(Self.web, .entity("host"), 10250), direction: .egress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.web, .entity("remote-node"), 10250), direction: .egress).allowed)
        #expect(e.verdict(for: Self.conn(Self.web, Self.db, 53, "UDP"), direction: .egress).allowed)
        #expect(e.verdict(for: Self.conn(Self.web, .entity("remote-node"), 53, "UDP"), direction: .egress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.web, .world(ip: "8.8.8.8"), 53, "UDP"), direction: .egress).allowed)
        #expect(PolicyEvaluator.entityMatches("all", .world(ip: "1.1.1.1")))
        #expect(PolicyEvaluator.entityMatches("world-ipv6", .world(ip: "2001:db8::1")))
        #expect(!PolicyEvaluator.entityMatches("world-ipv4", .world(ip: "2001:db8::1")))
    }

    @Test("Ports: ranges with endPort, protocol ANY, ICMP; IPv6 CIDR with except")
    func portsAndCIDRs() {
        let e = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: ports}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          egress:
          - toCIDRSet: [{cidr: "2001:db8::/32", except: ["2001:db8:ff::/48"]}]
            toPorts: [{ports: [{port: "8000", endPort: 8100, protocol: ANY}]}]
          - toEntities: [world]
            icmps: [{fields: [{type: 8}]}]
        """)
        let v6 = PolicyEndpoint.world(ip: "2001:db8:1::9")
        #expect(e.verdict(for: Self.conn(Self.web, v6, 8050, "UDP"), direction: .egress).allowed)
        #expect(e.verdict(for: Self.conn(Self.web, v6, 8100, "SCTP"), direction: .egress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.web, v6, 8101), direction: .egress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.web, .world(ip: "2001:db8:ff::1"), 8050), direction: .egress).allowed)
        #expect(e.verdict(for: Self.conn(Self.web, .world(ip: "192.0.2.1"), nil, "ICMP"), direction: .egress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.web, .world(ip: "192.0.2.1"), 80), direction: .egress).allowed)
        // A Cilium CIDR does not select a pod by its address.
        let inCluster = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: c}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          egress: [{toCIDR: [10.0.0.0/8]}]
        """)
        #expect(!inCluster.verdict(for: Self.conn(Self.web, Self.db, 80), direction: .egress).allowed)
        #expect(inCluster.verdict(for: Self.conn(Self.web, .world(ip: "10.9.9.9"), 80), direction: .egress).allowed)
    }

    @Test("Deny rules win over allows of other policies; GitLab's disabled_by label turns a policy off")
    func denyWinsAndDisabledBy() {
        let e = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: allow-all}
        spec:
          endpointSelector: {}
          ingress: [{fromEntities: [all]}]
        ---
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: no-api}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          ingressDeny:
          - fromEndpoints: [{matchLabels: {app: api}}]
            toPorts: [{ports: [{port: "443"}]}]
        ---
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: lock-db}
        spec:
          endpointSelector: {matchLabels: {app: db, network-policy.gitlab.com/disabled_by: gitlab}}
          ingress: [{}]
        """)
        let d = e.verdict(for: Self.conn(Self.api, Self.web, 443), direction: .ingress)
        #expect(d.reason == .deniedBy(PolicyRuleRef(kind: .ciliumNetworkPolicy, policy: "shop/no-api", rule: "spec.ingressDeny[0]")))
        #expect(e.verdict(for: Self.conn(Self.api, Self.web, 80), direction: .ingress).allowed)
        let dbInShop = PolicyEndpoint.pod("shop", ["app": "db"])
        #expect(e.verdict(for: Self.conn(Self.api, dbInShop, 5432), direction: .ingress).reason
            == .allowedBy(PolicyRuleRef(kind: .ciliumNetworkPolicy, policy: "shop/allow-all", rule: "spec.ingress[0]")))
    }

    @Test("FQDNs, services and named ports: decided by names in flows, or reported as unresolved")
    func fqdnServicesUnresolved() {
        let e = Self.evaluator("""
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: out}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          egress:
          - toFQDNs: [{matchName: api.example.com}, {matchPattern: "*.cdn.example.net"}]
          - toServices: [{k8sService: {serviceName: db, namespace: data}}]
        """)
        #expect(e.verdict(for: Self.conn(Self.web, .world(ip: "192.0.2.8", names: ["API.example.com."]), 443), direction: .egress).allowed)
        #expect(e.verdict(for: Self.conn(Self.web, .world(ip: "192.0.2.9", names: ["img.cdn.example.net"]), 443), direction: .egress).allowed)
        #expect(!e.verdict(for: Self.conn(Self.web, .world(ip: "192.0.2.9", names: ["a.img.cdn.example.net"]), 443), direction: .egress).allowed)
        let svc = e.verdict(for: Self.conn(Self.web, Self.db, 5432), direction: .egress)
        #expect(!svc.allowed && svc.unresolved.contains { $0.contains("toServices data/db") })
    }

    @Test("Cilium labels from Hubble: reserved identities, namespace labels, unknown sources left out")
    func endpointFromCiliumLabels() {
        let pod = PolicyEndpoint.fromCiliumLabels(["k8s:app=web", "k8s:io.kubernetes.pod.namespace=shop",
                                                   "k8s:io.cilium.k8s.namespace.labels.team=a", "container:x=y"],
                                                  namespace: "shop", ip: "10.0.0.1")
        #expect(pod.labels == ["app": "web"] && pod.namespaceLabels["team"] == "a" && pod.isPod)
        let world = PolicyEndpoint.fromCiliumLabels(["reserved:world"], namespace: nil, ip: "1.1.1.1")
        #expect(world.isWorld && !world.isPod)
        let host = PolicyEndpoint.fromCiliumLabels(["reserved:host", "reserved:kube-apiserver"], namespace: nil, ip: nil)
        #expect(host.entities == ["host", "kube-apiserver"] && !host.isWorld)
    }
}
