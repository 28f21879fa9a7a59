import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

/// Issue 5, tests: "Parse a corpus of real-world policies (write your own realistic set covering
/// every construct). None may crash, and every invalid one is reported with a line number."
@Suite("Realistic policy corpus (Fixtures/policies/realistic)")
struct PoliciesRealisticCorpusTests {
    static let folder = "realistic"
    static let files = ["broken.yaml", "clusterwide.yaml", "gitlab-rule-mode.yaml", "k8s.yaml", "shop-cilium.yaml"]

    static func load(_ file: String) throws -> PolicyLoadResult {
        try PolicyFixtures.load(folder + "/" + file, namespace: "shop-production")
    }

    /// 1-based line ranges of the `---`-separated documents of a file.
    static func documentRanges(_ text: String) -> [ClosedRange<Int>] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [ClosedRange<Int>] = []
        var start = 1
        for (i, line) in lines.enumerated() where line == "---" {
            out.append(start...i)
            start = i + 2
        }
        // A syntax error found at the end of the stream is reported on the line after the last one.
        out.append(start...(lines.count + 1))
        return out
    }

    @Test("Every file loads without a crash; the valid ones are valid, and every broken one has problems at file:line:column inside its document")
    func everyFileLoads() throws {
        let expectedInvalid: [String: [String]] = [
            "broken.yaml": ["bad-indent", "bad-cidr", "bad-port", "bad-entity", "ingress-not-a-list", "no-selector", "bad-protocol", "\"unterminated"],
        ]
        var total = 0
        for file in Self.files {
            let text = try PolicyFixtures.text(Self.folder + "/" + file)
            let ranges = Self.documentRanges(text)
            let result = try Self.load(file)
            total += result.items.count
            #expect(result.items.count == ranges.count, "\(file): one item per document")
            #expect(result.items.filter { !$0.valid }.map(\.name) == expectedInvalid[file] ?? [], "\(file)")
            for (item, range) in zip(result.items, ranges) where !item.valid {
                #expect(!item.problems.isEmpty, "\(file) \(item.name)")
                for p in item.problems {
                    let origin = Self.folder + "/" + file
                    #expect(PolicyFixtures.isLocation(p.location, file: origin), "\(file): \(p)")
                    let line = Int(p.location?.dropFirst(origin.count + 1).split(separator: ":").first ?? "") ?? 0
                    #expect(range.contains(line), "\(file) \(item.name): line \(line) is outside its document \(range)")
                }
            }
        }
        #expect(total == 22)
        // The good document between the broken ones is still read, and the one after a syntax error too.
        let broken = try Self.load("broken.yaml")
        #expect(try PolicyFixtures.item(broken, "good-between-bad").valid)
    }

    @Test("The broken documents name what is wrong, at the exact line")
    func brokenMessages() throws {
        let broken = try Self.load("broken.yaml")
        func problem(_ name: String) throws -> String { try #require(PolicyFixtures.item(broken, name).problems.first?.description) }
        #expect(try problem("bad-indent").hasPrefix("realistic/broken.yaml:10:"))
        #expect(try problem("bad-cidr") == "realistic/broken.yaml:21:7: spec.egress[0].toCIDR[0] '10.0.0.300/8' is not a CIDR or an IP address")
        #expect(try problem("bad-port") == "realistic/broken.yaml:32:13: spec.ingress[0].ports[0].port must be between 1 and 65535")
        #expect(try problem("bad-entity").hasPrefix("realistic/broken.yaml:41:20: spec.ingress[0].fromEntities[0] 'internet' is not a Cilium entity"))
        #expect(try problem("ingress-not-a-list") == "realistic/broken.yaml:49:12: spec.ingress must be a list")
        #expect(try problem("no-selector").hasPrefix("realistic/broken.yaml:56:3: spec.podSelector is missing"))
        #expect(try problem("bad-protocol").hasPrefix("realistic/broken.yaml:67:17: spec.egress[0].ports[0].protocol must be TCP, UDP or SCTP"))
        #expect(try problem("\"unterminated").hasPrefix("realistic/broken.yaml:84:"))
    }

    /// The constructs of the policy model that one policy uses.
    static func constructs(_ m: NetworkPolicyModel) -> Set<String> {
        var out: Set<String> = [m.kind.rawValue]
        func selector(_ s: LabelSelector) {
            if !s.matchExpressions.isEmpty { out.insert("matchExpressions") }
        }
        for spec in m.specs {
            if case .nodes = spec.subject { out.insert("nodeSelector") }
            selector(spec.subject.selector)
            if spec.isDisabledByGitLab { out.insert("disabled_by") }
            if spec.policyTypes != nil { out.insert("policyTypes") }
            if m.specs.count > 1 { out.insert("specs") }
            let sections: [(String, [PolicyRule]?)] = [("ingress", spec.ingress), ("egress", spec.egress),
                                                       ("ingressDeny", spec.ingressDeny), ("egressDeny", spec.egressDeny)]
            for (name, rules) in sections {
                guard let rules else { continue }
                out.insert(name)
                if rules.isEmpty { out.insert("\(name): []") }
                for rule in rules {
                    if !rule.icmps.isEmpty { out.insert("icmps") }
                    for p in rule.ports {
                        if p.l7 != nil { out.insert("L7 \(p.l7!.kind)") }
                        for port in p.ports {
                            if port.endPort != nil { out.insert("endPort") }
                            if let proto = port.protocolName { out.insert("protocol \(proto)") }
                            if let n = port.port, Int(n) == nil { out.insert("named port") }
                        }
                    }
                    switch rule.peers {
                    case .anywhere: out.insert("any peer")
                    case .nothing: out.insert("no peer")
                    case let .some(peers):
                        for peer in peers {
                            switch peer {
                            case let .endpoints(s, namespace):
                                selector(s)
                                switch namespace {
                                case .named: out.insert("endpoints in a named namespace")
                                case .policyNamespace: out.insert("endpoints in the same namespace")
                                default: out.insert("endpoints in other namespaces")
                                }
                            case let .pods(pod, ns):
                                out.insert(pod != nil && ns != nil ? "podSelector AND namespaceSelector"
                                           : pod != nil ? "podSelector" : "namespaceSelector")
                                if let pod { selector(pod) }
                            case .entity: out.insert("entities")
                            case let .cidr(_, except, source):
                                out.insert(source.rawValue)
                                if !except.isEmpty { out.insert("\(source.rawValue) except") }
                            case let .fqdn(name, pattern):
                                if name != nil { out.insert("FQDN matchName") }
                                if pattern != nil { out.insert("FQDN matchPattern") }
                            case .service, .serviceSelector: out.insert("services")
                            default: out.insert("other peer")
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    @Test("Together the valid policies use every construct of the model")
    func everyConstruct() throws {
        var seen: Set<String> = []
        for file in Self.files {
            for p in try Self.load(file).policies where p.item.valid {
                let model = try #require(p.model, "\(file) \(p.item.name)")
                seen.formUnion(Self.constructs(model))
            }
        }
        let wanted: Set<String> = [
            "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy",
            "ingress", "egress", "ingressDeny", "egressDeny", "policyTypes", "specs", "nodeSelector", "disabled_by",
            "endpoints in the same namespace", "endpoints in a named namespace", "matchExpressions",
            "podSelector AND namespaceSelector", "podSelector", "namespaceSelector",
            "entities", "cidr", "cidrSet except", "ipBlock except", "FQDN matchName", "FQDN matchPattern", "services",
            "protocol TCP", "protocol UDP", "protocol SCTP", "endPort", "named port", "icmps",
            "L7 HTTP", "L7 DNS", "L7 Kafka", "any peer",
        ]
        #expect(wanted.subtracting(seen).isEmpty, "not covered: \(wanted.subtracting(seen).sorted())")
    }

    @Test("Exact sentences: K8s AND vs OR peers, ipBlock except, Cilium deny-all with `ingress: [{}]`, deny rules win")
    func sentences() throws {
        let k8s = try Self.load("k8s.yaml")
        #expect(try PolicyFixtures.item(k8s, "db-from-app").description[0]
                == "Pods with app=postgres in shop-production accept inbound TCP/5432 from pods with role=app in namespaces with team=shop, and TCP port named metrics from all pods in namespace monitoring or pods with the label job in the same namespace; all other inbound traffic to them is denied.")
        #expect(try PolicyFixtures.item(k8s, "egress-internet-except-private").description[1]
                == "Pods with app=mailer in shop-production may send outbound TCP/587 and TCP/30000-32767 to addresses in 0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16, and UDP/53 and SCTP/9899 to pods with k8s-app=kube-dns in all namespaces; all other outbound traffic from them is denied.")
        #expect(try PolicyFixtures.item(k8s, "default-deny-all").description
                == ["All inbound traffic to all pods in shop-production is denied.", "All outbound traffic from all pods in shop-production is denied."])
        #expect(try PolicyFixtures.item(k8s, "allow-all-ingress").description
                == ["All pods in shop-staging accept all inbound traffic, from anywhere and on any port.", "Outbound traffic is not restricted by this policy."])
        let cilium = try Self.load("shop-cilium.yaml")
        #expect(try PolicyFixtures.item(cilium, "workers-default-deny").description
                == ["All inbound traffic to pods with tier=worker in shop-production is denied.", "All outbound traffic from pods with tier=worker in shop-production is denied."])
        let kafka = try PolicyFixtures.item(cilium, "orders-kafka").description
        #expect(kafka.contains("Deny rules win over allow rules: pods with app=kafka in shop-production never accept inbound traffic on any port from the entity world (anything outside the cluster), even if this or another policy allows it."))
        #expect(kafka[0].contains("(only Kafka requests produce on topic orders or consume on topic order-events)"))
        // GitLab's rule mode: the editor's own manifests fit it; the others list what does not.
        let gitlab = try Self.load("gitlab-rule-mode.yaml")
        #expect(gitlab.items.allSatisfy { $0.ruleModeUnsupported == [] })
        #expect(try PolicyFixtures.item(gitlab, "web-egress-apis").enabled == false)
        #expect(try PolicyFixtures.item(cilium, "orders-kafka").ruleModeUnsupported?.count == 3)
    }
}
