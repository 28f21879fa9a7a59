import Foundation
import Testing
import ThreatAnalysis
import ThreatModel
import ThreatPolicy
import ThreatSources

/// A Cilium host policy (nodeSelector) guards the nodes, not pods: its world-ingress finding must
/// not tell the reader to narrow it by pod labels.
@Suite("Host policies get node advice, not pod advice")
struct HostPolicyAdviceTests {
    static func findings(_ manifest: String) -> (PolicyItem, [Finding]) {
        let items = PolicyDocumentLoader.loadDetailed(text: manifest, origin: "p.yaml", namespace: "shop").items
        let env = EnvironmentReport(name: "e", namespace: "shop", thresholds: .defaults, waf: .notConfigured,
                                    flows: PolicyReportSectionTests.flows(500), policies: .ok(PolicySet(items: items)))
        return (items[0], PolicyFindings.findings(for: env).filter { $0.id == "policies.world_ingress" })
    }

    @Test("A clusterwide host policy open to the world: the finding speaks of nodes and CIDRs; the same rule on pods speaks of pod labels")
    func hostVersusPods() throws {
        let host = """
        apiVersion: cilium.io/v2
        kind: CiliumClusterwideNetworkPolicy
        metadata: { name: host-ssh }
        spec:
          nodeSelector: { matchLabels: { node-role.kubernetes.io/worker: "" } }
          ingress:
            - fromEntities: [world]
              toPorts: [{ ports: [{ port: "22", protocol: TCP }] }]
        """
        let (hostItem, hostFindings) = Self.findings(host)
        #expect(hostItem.valid && hostItem.selectsNodes == true, "\(hostItem.problems)")
        let h = try #require(hostFindings.first)
        #expect(h.guidance.contains("host policy") && h.guidance.contains("fromCIDRSet"), "\(h.guidance)")
        #expect(!h.guidance.contains("pod"), "no pod advice for a host policy: \(h.guidance)")

        let pods = host.replacingOccurrences(of: "nodeSelector: { matchLabels: { node-role.kubernetes.io/worker: \"\" } }",
                                             with: "endpointSelector: { matchLabels: { app: web } }")
        let (podItem, podFindings) = Self.findings(pods)
        #expect(podItem.valid && podItem.selectsNodes == false)
        let p = try #require(podFindings.first)
        #expect(p.guidance.contains("--allow-from-labels") && !p.guidance.contains("host policy"), "\(p.guidance)")
    }
}
