import Foundation
import Testing
import ThreatModel
import ThreatPolicy

/// The normalized rule summary kept in report.json for the drift comparison: layout, comments, key
/// and rule order do not change it; GitLab's disabled_by label is left to the enforcement check;
/// every peer and port is one line.
@Suite("Policy fingerprint")
struct PolicyFingerprintTests {
    func fingerprint(_ text: String) throws -> PolicyFingerprint {
        try #require(PolicyDocumentLoader.load(text: text, origin: "p.yaml").first?.fingerprint)
    }

    static let cilium = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: web, namespace: shop}
        spec:
          endpointSelector: {matchLabels: {app: web}}
          ingress:
          - fromEndpoints: [{matchLabels: {app: frontend}}, {matchLabels: {"k8s:app": admin, "k8s:io.kubernetes.pod.namespace": ops}}]
            toPorts: [{ports: [{port: "8080", protocol: TCP}, {port: "9000", endPort: 9100, protocol: UDP}]}]
          egressDeny:
          - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]
          egress:
          - toFQDNs: [{matchPattern: "*.example.com"}]
            toPorts: [{ports: [{port: "443", protocol: TCP}]}]
        """

    @Test("one line per selector, peer and port, sorted")
    func lines() throws {
        let f = try fingerprint(Self.cilium)
        #expect(f.lines == [
            "egress deny to cidr 10.0.0.0/8 except 10.1.0.0/16 any port",
            "egress to fqdn pattern *.example.com port 443/TCP",
            "ingress from app=admin in namespace ops port 8080/TCP",
            "ingress from app=admin in namespace ops ports 9000-9100/UDP",
            "ingress from app=frontend port 8080/TCP",
            "ingress from app=frontend ports 9000-9100/UDP",
            "selects app=web",
        ])
        #expect(f.total == 7 && f.isComplete)
        #expect(f.digest == SHA256Digest.hex(Array(f.lines.map { $0 + "\n" }.joined().utf8)))
    }

    @Test("layout, comments, rule order and the disabled_by label leave the digest unchanged; a port does not")
    func invariance() throws {
        let base = try fingerprint(Self.cilium)
        let relaid = """
            # reviewed in change 42
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              namespace: shop
              name: web
            spec:
              egress:
                - toFQDNs:
                    - matchPattern: "*.example.com"
                  toPorts:
                    - ports:
                        - protocol: TCP
                          port: "443"
              egressDeny:
                - toCIDRSet:
                    - cidr: 10.0.0.0/8
                      except: [10.1.0.0/16]
              endpointSelector:
                matchLabels:
                  app: web
                  network-policy.gitlab.com/disabled_by: gitlab
              ingress:
                - toPorts: [{ports: [{port: "9000", endPort: 9100, protocol: UDP}, {port: "8080", protocol: TCP}]}]
                  fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": ops, app: admin}}, {matchLabels: {app: frontend}}]
            """
        #expect(try fingerprint(relaid).digest == base.digest)
        let otherPort = Self.cilium.replacingOccurrences(of: "\"8080\"", with: "\"8081\"")
        #expect(try fingerprint(otherPort).digest != base.digest)
    }

    @Test("Kubernetes policies carry their defaulted policy types")
    func kubernetesTypes() throws {
        let f = try fingerprint("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: db, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: db}}
              ingress:
              - from: [{podSelector: {matchLabels: {app: api}}, namespaceSelector: {matchLabels: {team: shop}}}]
                ports: [{port: 5432}]
              egress: [{}]
            """)
        #expect(f.lines == [
            "egress to anywhere any port",
            "ingress from app=api in namespaces team=shop port 5432/TCP",
            "policy types Ingress, Egress",
            "selects app=db",
        ])
    }

    @Test("a rule with a huge peers × ports product is one line, so the summary stays as small as the manifest")
    func productBound() throws {
        let peers = (0..<40).map { "{matchLabels: {app: p\($0)}}" }.joined(separator: ", ")
        let ports = (0..<40).map { "{port: \"\(1000 + $0)\", protocol: TCP}" }.joined(separator: ", ")
        let f = try fingerprint("""
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: wide, namespace: shop}
            spec:
              endpointSelector: {}
              ingress:
              - fromEndpoints: [\(peers)]
                toPorts: [{ports: [\(ports)]}]
            """)
        #expect(f.total == 2)
        #expect(f.lines.contains { $0.hasPrefix("ingress from app=p0 or app=p1 or ") && $0.hasSuffix("port 1039/TCP") })
    }
}
