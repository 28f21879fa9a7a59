import Foundation
import Testing
import ThreatConfig
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

/// Public policy recipes (Tests/Fixtures/realworld/policies/README.md) and the Cilium 1.18/1.19 CRD
/// schema: extended IP protocols, `log`, strict enums, folders holding several namespaces.
@Suite("Policies: real recipes and the current Cilium CRD schema")
struct PoliciesRealWorldTests {
    static let folder = repoRoot + "/Tests/Fixtures/realworld/policies"

    func load(_ yaml: String, namespace: String = "shop") -> [PolicyItem] {
        PolicyDocumentLoader.loadDetailed(text: yaml, origin: "p.yaml", namespace: namespace).items
    }

    static func port(_ proto: String, _ port: String? = nil) -> String {
        """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: p, namespace: shop}
        spec:
          endpointSelector: {}
          egress:
          - toPorts:
            - ports:
              - protocol: \(proto)\(port.map { "\n        port: \"\($0)\"" } ?? "")
        """
    }

    @Test("Cilium's own VRRP example (a clusterwide host policy) is valid and explained as VRRP traffic")
    func vrrpExample() throws {
        let path = Self.folder + "/cilium/allow-extended-protocols.yaml"
        let out = try PolicyDocumentLoader.loadPath(path, namespace: "kube-system")
        let p = try #require(out.value.items.first)
        #expect(out.value.items.count == 1)
        #expect(p.valid, "\(p.problems)")
        #expect(p.kind == .ciliumClusterwideNetworkPolicy && p.name == "allow-extended-egress-worker-node")
        let text = p.description.joined(separator: " ")
        #expect(text.contains("VRRP traffic"), "\(text)")
        #expect(text.contains("UDP/8472"), "\(text)")
    }

    @Test("Extended IP protocols carry no port: accepted without one or with 0, refused with one; enums stay case-sensitive",
          arguments: ["VRRP", "IGMP", "GRE", "IPIP", "ESP", "AH"])
    func extendedProtocols(proto: String) throws {
        #expect(load(Self.port(proto)).first?.valid == true)
        #expect(load(Self.port(proto, "0")).first?.valid == true)
        let withPort = try #require(load(Self.port(proto, "112")).first)
        #expect(!withPort.valid)
        #expect(withPort.problems.first?.message == "spec.egress[0].toPorts[0].ports[0].port must be empty or 0 for \(proto), which has no ports (not '112')")
        let lower = try #require(load(Self.port(proto.lowercased())).first)
        #expect(!lower.valid)
        #expect(lower.problems.first?.message.contains("must be one of TCP, UDP, SCTP, ICMP, ICMPV6, VRRP, IGMP, GRE, IPIP, ESP, AH, ANY, not '\(proto.lowercased())'") == true)
        // TCP without a port is still a missing port.
        #expect(load(Self.port("TCP")).first?.problems.first?.message == "spec.egress[0].toPorts[0].ports[0].port is missing")
    }

    @Test("log, authentication, enableDefaultDeny, toGroups, icmps and node selectors are read; unknown fields and a lowercase `in` are not")
    func newerFields() throws {
        let good = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: p, namespace: shop}
            spec:
              endpointSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
              log: {value: web-policy}
              enableDefaultDeny: {ingress: true, egress: false}
              ingress:
              - fromNodes: [{matchLabels: {role: worker}}]
                authentication: {mode: required}
              egress:
              - toGroups: [{aws: {securityGroupsIds: [sg-1]}}]
              - icmps: [{fields: [{type: 8, family: IPv4}, {type: EchoRequest, family: IPv6}]}]
            """
        let p = try #require(load(good).first)
        #expect(p.valid, "\(p.problems)")
        let badLog = try #require(load(good.replacingOccurrences(of: "log: {value: web-policy}", with: "log: {val: web-policy}")).first)
        #expect(!badLog.valid)
        let lowerIn = try #require(load(good.replacingOccurrences(of: "operator: In", with: "operator: in")).first)
        #expect(!lowerIn.valid)
        // Cilium's ICMP example (numbers and names, both families).
        let icmp = try PolicyDocumentLoader.loadPath(Self.folder + "/cilium/icmp.yaml", namespace: "default")
        #expect(icmp.value.items.first?.valid == true)
    }

    @Test("A recipe folder holding several namespaces: the other namespace's policies are a note, never items; counts match grep")
    func multiNamespaceFolder() throws {
        let dir = Self.folder + "/ahmetb"
        let out = try PolicyDocumentLoader.loadPath(dir, namespace: "shop")
        // Independent recount: files, and files naming `namespace: default`, by grep.
        let files = try runTool("/usr/bin/find", [dir, "-name", "*.yaml"]).split(separator: "\n").count
        let elsewhere = try runTool("/usr/bin/grep", ["-rl", "namespace: default", dir]).split(separator: "\n").map(String.init).sorted()
        #expect(files == 15 && elsewhere.count == 6)
        #expect(out.evidence.count == files)
        #expect(out.value.items.count == files - elsewhere.count)
        #expect(out.value.items.allSatisfy { $0.namespace == nil })
        let note = try #require(out.value.notes.first { $0.hasPrefix("not in this environment (namespace shop): ") })
        for f in elsewhere { #expect(note.contains("(\(f):"), "\(f)") }
        #expect(note.components(separatedBy: "NetworkPolicy default/").count - 1 == elsewhere.count)
        // The same folder for the `default` namespace: nothing is elsewhere.
        let inDefault = try PolicyDocumentLoader.loadPath(dir, namespace: "default")
        #expect(inDefault.value.items.count == files)
        #expect(!inDefault.value.notes.contains { $0.hasPrefix("not in this environment") })
    }
}
