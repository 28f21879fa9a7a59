import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

@Suite("Suggested policies: workload identity and the manifests written")
struct SuggestedPolicyTests {
    @Test("Workload names: the ReplicaSet hash and pod suffix go, Hubble's workload name wins")
    func workloadNames() {
        #expect(WorkloadIdentity.name(pod: "productpage-v1-6b746f74dc-qxz2w", workload: nil) == "productpage-v1")
        #expect(WorkloadIdentity.name(pod: "cilium-x2k9p", workload: nil) == "cilium")
        #expect(WorkloadIdentity.name(pod: "db-0", workload: nil) == "db")
        #expect(WorkloadIdentity.name(pod: "plain", workload: nil) == "plain")
        #expect(WorkloadIdentity.name(pod: "traffic-generator-9b649846d-bxqfc", workload: "traffic-generator") == "traffic-generator")
        #expect(WorkloadIdentity.name(pod: nil, workload: nil) == nil)
    }

    @Test("Identifying labels: application keys first, never pod-hash or Cilium labels")
    func identifyingLabels() {
        let pod = ["app": "reviews", "version": "v1", "pod-template-hash": "545db77b95", "io.cilium.k8s.policy.serviceaccount": "x",
                   "security.istio.io/tlsMode": "istio"]
        #expect(WorkloadIdentity.labels(pod) == [LabelPair("app", "reviews")])
        let noApp = ["tier": "db", "controller-revision-hash": "abc", "statefulset.kubernetes.io/pod-name": "db-0"]
        #expect(WorkloadIdentity.labels(noApp) == [LabelPair("tier", "db")])
        #expect(WorkloadIdentity.labels(["pod-template-hash": "x"]).isEmpty)
        // Hostile flow labels: invalid keys or values are dropped, the valid ones kept.
        #expect(WorkloadIdentity.labels(["app": "web: {x}\n- y", "tier": "front", "bad key": "v"]) == [LabelPair("tier", "front")])
    }

    @Test("Hostile names and labels: comments stay one line, values are quoted, the manifest reads back valid or is refused")
    func hostileInputInManifest() {
        var p = SuggestedPolicy(name: "suggested-web", namespace: "shop", workloads: ["web"], selector: [LabelPair("app", "web: {x}\n- y")])
        p.comment = ["Workload: shop/web\napiVersion: evil/v1\r\u{2028}kind: Secret"]
        p.ingress[.pods(namespace: "ops", labels: [LabelPair("app", "a\"b'c#d")])] = [SuggestedPort(80, "TCP")]
        p.egress[.fqdn("api.example.com")] = [SuggestedPort(443, "TCP")]
        for kind in SuggestionKind.allCases {
            let yaml = p.yaml(kind: kind, disabled: true)
            let commentLines = yaml.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
            #expect(commentLines.count == 1 && !yaml.contains("\napiVersion: evil"))
            let loaded = PolicyDocumentLoader.loadDetailed(text: yaml, origin: "x.yaml")
            #expect(loaded.items.count == 1)
            // The quoting kept the document one policy with the value as given (the suggester never
            // picks such a label: WorkloadIdentity drops invalid keys and values).
            #expect(loaded.policies.first?.model?.specs.first?.subject.selector.value(of: "app") == "web: {x}\n- y")
        }
    }

    @Test("Kubernetes kind: no FQDN or entity rules (a NetworkPolicy has neither); DNS to kube-dns on UDP and TCP")
    func kubernetesKindMapping() {
        var p = SuggestedPolicy(name: "suggested-web", namespace: "shop", workloads: ["web"], selector: [LabelPair("app", "web")])
        p.egress[.pods(namespace: "kube-system", labels: [LabelPair("k8s-app", "kube-dns")])] = [SuggestedPort(53, "UDP")]
        p.egress[.cidr("192.0.2.1/32")] = [SuggestedPort(443, "TCP")]
        let yaml = p.yaml(kind: .kubernetes, disabled: false)
        let loaded = PolicyDocumentLoader.loadDetailed(text: yaml, origin: "k.yaml")
        #expect(loaded.items.first?.valid == true && loaded.items.first?.enabled == true)
        let e = PolicyEvaluator(policies: loaded.policies.compactMap(\.model))
        let web = PolicyEndpoint.pod("shop", ["app": "web"])
        let dns = PolicyEndpoint.pod("kube-system", ["k8s-app": "kube-dns"])
        for proto in ["UDP", "TCP"] {
            #expect(e.verdict(for: PolicyConnection(source: web, destination: dns, port: 53, protocolName: proto), direction: .egress).allowed)
        }
        #expect(!e.verdict(for: PolicyConnection(source: web, destination: dns, port: 54, protocolName: "UDP"), direction: .egress).allowed)
        #expect(e.verdict(for: PolicyConnection(source: web, destination: .world(ip: "192.0.2.1"), port: 443, protocolName: "TCP"), direction: .egress).allowed)
        #expect(!e.verdict(for: PolicyConnection(source: .pod("shop", ["app": "x"]), destination: web, port: 80, protocolName: "TCP"), direction: .ingress).allowed)
    }

    @Test("FQDN patterns: a star stays within one label; very long input never matches instead of recursing deep")
    func fqdnPatternBounds() {
        #expect(FQDNMatch.matches(name: nil, pattern: "*.example.com", "a.example.com"))
        #expect(!FQDNMatch.matches(name: nil, pattern: "*.example.com", "a.b.example.com"))
        #expect(FQDNMatch.matches(name: nil, pattern: "*", "anything.at.all"))
        let long = String(repeating: "*a", count: 5000)
        #expect(!FQDNMatch.matches(name: nil, pattern: long, String(repeating: "a", count: 100)))
    }
}
