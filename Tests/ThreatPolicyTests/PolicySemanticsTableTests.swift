import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

/// The documented expectations of Tests/Fixtures/realworld/policy-semantics/, checked against the
/// evaluation engine.
enum SemanticsFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/realworld/policy-semantics")

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    /// The valid policy models of a manifest (every one must be valid).
    static func models(_ relative: String) throws -> [NetworkPolicyModel] {
        let loaded = PolicyDocumentLoader.loadDetailed(text: try text(relative), origin: relative)
        for p in loaded.policies where !p.item.valid {
            Issue.record("\(relative): \(p.item.name) is invalid: \(p.item.problems.map(\.description))")
        }
        return loaded.policies.compactMap(\.model)
    }

    static func protoPort(_ s: Substring) -> (Int, String) {
        let parts = s.split(separator: "/")
        return (Int(parts[0]) ?? 0, String(parts[1]))
    }
}

/// One block of kubernetes-e2e/expectations.txt.
struct ReachabilityCase {
    var name = "", file = ""
    var pods: [String] = []
    var port = 0, proto = "TCP"
    /// (source pattern, destination pattern, allowed), in order.
    var rules: [(String, String, Bool)] = []

    static func parse(_ text: String) -> [ReachabilityCase] {
        var out: [ReachabilityCase] = []
        var current: ReachabilityCase?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words = line.split(separator: " ")
            switch words[0] {
            case "case":
                if let c = current { out.append(c) }
                current = ReachabilityCase(name: String(line.dropFirst(5)))
            case "file": current?.file = String(words[1])
            case "pods": current?.pods = words.dropFirst().map(String.init)
            case "probe": (current!.port, current!.proto) = SemanticsFixtures.protoPort(words[1])
            case "allow", "deny": current?.rules.append((String(words[1]), String(words[3]), words[0] == "allow"))
            default: Issue.record("unknown line: \(line)")
            }
        }
        if let c = current { out.append(c) }
        return out
    }

    static func matches(_ pattern: String, _ pod: String) -> Bool {
        if pattern == "*" { return true }
        let p = pattern.split(separator: "/"), q = pod.split(separator: "/")
        return p[0] == q[0] && (p[1] == "*" || p[1] == q[1])
    }

    func expected(_ from: String, _ to: String) -> Bool {
        var allowed = true
        for (s, d, a) in rules where ReachabilityCase.matches(s, from) && ReachabilityCase.matches(d, to) { allowed = a }
        return allowed
    }

    /// The e2e pods: label `pod: <name>`, named ports serve-80-tcp / serve-81-tcp (as the e2e
    /// containers name them), an address per pod.
    static func endpoint(_ pod: String) -> PolicyEndpoint {
        let parts = pod.split(separator: "/").map(String.init)
        let nsIndex = ["x", "y", "z"].firstIndex(of: parts[0]) ?? 9
        let podIndex = ["a", "b", "c"].firstIndex(of: parts[1]) ?? 9
        var e = PolicyEndpoint.pod(parts[0], ["pod": parts[1]], ip: "10.0.\(nsIndex).\(podIndex + 10)")
        e.namedPorts = ["serve-80-tcp": 80, "serve-81-tcp": 81, "serve-80-udp": 80, "serve-81-udp": 81]
        return e
    }
}

@Suite("Policy semantics: documented reachability tables")
struct PolicySemanticsTableTests {
    @Test("Kubernetes e2e netpol reachability: every transcribed pair agrees with the engine")
    func kubernetesE2EReachability() throws {
        let cases = ReachabilityCase.parse(try SemanticsFixtures.text("kubernetes-e2e/expectations.txt"))
        #expect(cases.count == 25)
        var pairs = 0, denied = 0
        for c in cases {
            let evaluator = PolicyEvaluator(policies: try SemanticsFixtures.models("kubernetes-e2e/\(c.file)"))
            #expect(!evaluator.policies.isEmpty, "\(c.file)")
            for from in c.pods {
                for to in c.pods where from != to {
                    let conn = PolicyConnection(source: ReachabilityCase.endpoint(from), destination: ReachabilityCase.endpoint(to),
                                                port: c.port, protocolName: c.proto)
                    let got = evaluator.evaluate(conn)
                    let want = c.expected(from, to)
                    pairs += 1
                    if !want { denied += 1 }
                    #expect(got.allowed == want,
                            "\(c.name): \(from) → \(to) \(c.port)/\(c.proto): expected \(want ? "allowed" : "denied"), engine says egress \(got.egress.summary); ingress \(got.ingress.summary)")
                }
            }
        }
        // Both outcomes are exercised, not a table of one answer.
        #expect(pairs == 288 && denied == 49, "pairs \(pairs), denied \(denied)")
    }

    @Test("Cilium documentation examples: the stated behaviour of each policy")
    func ciliumDocsExamples() throws {
        let text = try SemanticsFixtures.text("cilium-docs/expectations.txt")
        var evaluator: PolicyEvaluator?
        var endpoints: [String: PolicyEndpoint] = [:]
        var checked = 0, files = 0
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let w = line.split(separator: " ").map(String.init)
            switch w[0] {
            case "file":
                evaluator = PolicyEvaluator(policies: try SemanticsFixtures.models("cilium-docs/\(w[1])"), defaultNamespace: "default")
                #expect(evaluator?.policies.count == 1, "\(w[1])")
                endpoints = [:]
                files += 1
            case "endpoint":
                switch w[2] {
                case "pod":
                    var labels: [String: String] = [:]
                    for kv in w[4].split(separator: ",") {
                        let p = kv.split(separator: "=", maxSplits: 1)
                        labels[String(p[0])] = String(p[1])
                    }
                    endpoints[w[1]] = .pod(w[3], labels, ip: w.count > 5 ? w[5] : nil)
                case "world": endpoints[w[1]] = .world(ip: w[3])
                default: endpoints[w[1]] = .entity(w[3], ip: w.count > 4 ? w[4] : nil)
                }
            case "expect":
                let (port, proto) = SemanticsFixtures.protoPort(Substring(w[4]))
                let conn = PolicyConnection(source: endpoints[w[1]]!, destination: endpoints[w[3]]!, port: port, protocolName: proto)
                let got = try #require(evaluator).evaluate(conn)
                #expect(got.allowed == (w[5] == "allow"), "\(line): egress \(got.egress.summary); ingress \(got.ingress.summary)")
                checked += 1
            default: Issue.record("unknown line: \(line)")
            }
        }
        #expect(files == 6 && checked == 22)
    }

    @Test("Cilium documentation examples: the deciding rule is named (deny rule, CIDR except, default deny)")
    func ciliumDocsDecidingRules() throws {
        let lockdown = PolicyEvaluator(policies: try SemanticsFixtures.models("cilium-docs/from_world_deny.yaml"))
        let web = PolicyEndpoint.pod("shop", ["app": "web"])
        let fromWorld = lockdown.verdict(for: PolicyConnection(source: .world(ip: "198.51.100.1"), destination: web, port: 443, protocolName: "TCP"),
                                         direction: .ingress)
        #expect(fromWorld.reason == .deniedBy(PolicyRuleRef(kind: .ciliumClusterwideNetworkPolicy, policy: "external-lockdown", rule: "spec.ingressDeny[0]")))
        let cidr = PolicyEvaluator(policies: try SemanticsFixtures.models("cilium-docs/cidr.yaml"), defaultNamespace: "default")
        let svc = PolicyEndpoint.pod("default", ["app": "myService"])
        let excepted = cidr.verdict(for: PolicyConnection(source: svc, destination: .world(ip: "10.96.0.10"), port: 443, protocolName: "TCP"),
                                    direction: .egress)
        #expect(excepted.reason == .defaultDeny([PolicyRuleRef(kind: .ciliumNetworkPolicy, policy: "default/cidr-rule", rule: "")]))
        let ten = cidr.verdict(for: PolicyConnection(source: svc, destination: .world(ip: "10.1.2.3"), port: 443, protocolName: "TCP"),
                               direction: .egress)
        #expect(ten.reason == .allowedBy(PolicyRuleRef(kind: .ciliumNetworkPolicy, policy: "default/cidr-rule", rule: "spec.egress[1]")))
    }
}
