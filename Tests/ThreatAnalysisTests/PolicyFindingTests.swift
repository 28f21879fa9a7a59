import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// Policy items as the loader gives them; the traits of the corpus recipes used here are checked
/// against the real manifests in ThreatSourcesTests ("Policy traits for the findings").
enum PolicyItems {
    static func item(_ name: String, kind: PolicyKind = .networkPolicy, enabled: Bool = true, valid: Bool = true,
                     world: [WorldIngressRule] = [], ingress: Bool = false, egress: Bool = false, all: Bool = false,
                     ruleMode: [String] = [], origin: String = "policies/p.yaml:1") -> PolicyItem {
        var i = PolicyItem(kind: kind, kindText: kind.rawValue, name: name, namespace: "shop-production", enabled: enabled,
                           valid: valid, manifest: "", origin: origin)
        guard valid else { return i }
        i.worldIngress = world
        i.restrictsIngress = ingress
        i.restrictsEgress = egress
        i.selectsAllPods = all
        i.ruleModeUnsupported = ruleMode
        return i
    }

    /// ahmetb recipe 03, `default-deny-all`: `podSelector: {}`, `ingress: []`.
    static let denyAll = item("default-deny-all", ingress: true, all: true,
                              ruleMode: ["kind NetworkPolicy: the rule mode edits CiliumNetworkPolicy only"])
    /// ahmetb recipe 02a, `web-allow-all`: `ingress: [{}]`.
    static let allowAll = item("web-allow-all", world: [WorldIngressRule(path: "spec.ingress[0]", peer: "anywhere", anyPort: true,
                                                                          ports: "traffic on any port")], ingress: true)
    /// ahmetb recipe 12, `default-deny-all-egress`.
    static let denyAllEgress = item("default-deny-all-egress", egress: true, all: true)
}

@Suite("Policy findings")
struct PolicyFindingTests {
    func environment(_ items: [PolicyItem]?, flows: Int? = 1200, dropped: Int = 34) -> EnvironmentReport {
        EnvironmentReport(
            name: "production", namespace: "shop-production", thresholds: .defaults, waf: .notConfigured,
            flows: flows.map {
                .ok(FlowStatistics(counts: FlowCounts(forwarded: $0 - dropped, dropped: dropped),
                                   inbound: FlowCounts(forwarded: 0, dropped: 0), outbound: FlowCounts(forwarded: 0, dropped: 0)))
            } ?? .notConfigured,
            policies: items.map { .ok(PolicySet(items: $0)) } ?? .notConfigured)
    }

    func findings(_ items: [PolicyItem]?, flows: Int? = 1200) -> [Finding] {
        PolicyFindings.findings(for: environment(items, flows: flows))
    }

    func ids(_ f: [Finding]) -> [String] { f.map(\.id).sorted() }

    @Test("policies.none: flow traffic and no enforced policy; it says the counts and names commands")
    func none() throws {
        let f = findings([])
        #expect(ids(f) == ["policies.none"])
        let none = try #require(f.first)
        #expect(none.severity == .warning)
        #expect(none.title == "No enforced network policy in shop-production, which had 1,200 flows")
        #expect(none.guidance.hasPrefix("1,200 flows (34 dropped) reached or left shop-production in the window"))
        #expect(none.guidance.contains("`threat-report policy predefined --namespace shop-production > predefined.yaml`"))
        // Disabled and invalid policies do not count as enforced.
        let onlyBroken = findings([PolicyItems.item("off", enabled: false, egress: true), PolicyItems.item("bad", valid: false)])
        #expect(ids(onlyBroken) == ["policies.disabled", "policies.invalid", "policies.none"])
        // Without flows there is nothing to say the namespace is in use: only the egress check is left.
        #expect(ids(findings([], flows: 0)) == ["policies.egress_open"])
        #expect(ids(findings([], flows: nil)) == ["policies.egress_open"])
        // Without a policy source, nothing at all.
        #expect(findings(nil).isEmpty)
    }

    @Test("A deny-all ingress policy: no world ingress, but outbound stays open; K8s kind is YAML-only in GitLab's editor")
    func denyAll() throws {
        let f = findings([PolicyItems.denyAll])
        #expect(ids(f) == ["policies.egress_open", "policies.unsupported_in_rule_mode"])
        let egress = try #require(f.first { $0.id == "policies.egress_open" })
        #expect(egress.severity == .warning)
        #expect(egress.title == "No policy restricts outbound traffic in shop-production")
        #expect(egress.guidance.contains("`threat-report policy predefined drop-outbound --namespace shop-production --enabled`"))
        let ruleMode = try #require(f.first { $0.id == "policies.unsupported_in_rule_mode" })
        #expect(ruleMode.severity == .info && ruleMode.subject == "default-deny-all")
        #expect(ruleMode.guidance.contains("GitLab's rule mode cannot show: kind NetworkPolicy: the rule mode edits CiliumNetworkPolicy only."))
        #expect(ruleMode.guidance.contains("`threat-report policy explain policies/p.yaml`"))
    }

    @Test("An allow-all ingress policy: world ingress on every port is a warning naming the rule")
    func allowAll() throws {
        let f = findings([PolicyItems.allowAll, PolicyItems.denyAllEgress])
        #expect(ids(f) == ["policies.world_ingress"])
        let w = try #require(f.first)
        #expect(w.severity == .warning && w.subject == "web-allow-all")
        #expect(w.title == "Policy web-allow-all accepts inbound traffic from outside the cluster on every port")
        #expect(w.guidance.hasPrefix("spec.ingress[0] admits any source on traffic on any port."))
        #expect(w.guidance.contains("`threat-report policy new --name web-allow-all --namespace shop-production --allow-from-labels app.kubernetes.io/name=ingress-nginx --ports 80/tcp`"))
    }

    @Test("World ingress limited to some ports is info; a disabled policy admitting the world is not reported as such")
    func worldIngressOnPorts() throws {
        let http = PolicyItems.item("allow-inbound-http", kind: .ciliumNetworkPolicy,
                                    world: [WorldIngressRule(path: "spec.ingress[0]", peer: "entity world", anyPort: false, ports: "TCP/80 and TCP/443")],
                                    ingress: true, egress: true)
        let f = findings([http])
        #expect(ids(f) == ["policies.world_ingress"])
        #expect(f.first?.severity == .info)
        #expect(f.first?.title == "Policy allow-inbound-http accepts inbound traffic from outside the cluster")
        #expect(f.first?.guidance.hasPrefix("spec.ingress[0] admits entity world on TCP/80 and TCP/443.") == true)
        var off = PolicyItems.allowAll
        off.enabled = false
        #expect(ids(findings([off, PolicyItems.denyAllEgress])) == ["policies.disabled"])
    }

    @Test("An enforced egress policy closes policies.egress_open; a disabled one does not; unknown traits say nothing")
    func egressOpen() {
        #expect(!ids(findings([PolicyItems.denyAll, PolicyItems.denyAllEgress])).contains("policies.egress_open"))
        var off = PolicyItems.denyAllEgress
        off.enabled = false
        #expect(ids(findings([PolicyItems.denyAll, off])).contains("policies.egress_open"))
        let old = PolicyItem(kind: .networkPolicy, kindText: "NetworkPolicy", name: "recorded", namespace: nil, enabled: true,
                             valid: true, manifest: "", origin: "answer.json:1")
        #expect(findings([old]).isEmpty)
    }

    @Test("Invalid and disabled: the fix, the file, and the commands (enable --apply with a server dry run first)")
    func invalidAndDisabled() throws {
        var bad = PolicyItems.item("worker", valid: false, origin: "samples/production/policies/worker.yaml:2")
        bad.problems = [PolicyProblem("YAML cannot be read: mapping values are not allowed here", location: "samples/production/policies/worker.yaml:11:15")]
        let off = PolicyItems.item("drop-outbound", kind: .ciliumNetworkPolicy, enabled: false, egress: true, all: true,
                                   origin: "https://k8s/apis/cilium.io/v2/namespaces/shop-production/ciliumnetworkpolicies")
        let f = findings([bad, off, PolicyItems.denyAllEgress])
        let invalid = try #require(f.first { $0.id == "policies.invalid" })
        #expect(invalid.guidance.contains("worker.yaml:11:15: YAML cannot be read"))
        #expect(invalid.guidance.contains("`threat-report policy explain samples/production/policies/worker.yaml`"))
        let disabled = try #require(f.first { $0.id == "policies.disabled" })
        #expect(disabled.guidance.contains("`threat-report policy enable FILE > enabled.yaml && kubectl apply -f enabled.yaml`"))
        #expect(disabled.guidance.contains("`kubectl -n shop-production edit ciliumnetworkpolicy drop-outbound`"))
        #expect(disabled.guidance.contains("`threat-report policy enable FILE --apply --dry-run=server`"))
    }

    @Test("Rule-mode gaps: info, the first three listed and the rest counted; every policy finding names a command")
    func ruleModeAndCommands() throws {
        let gaps = ["specs: several rule sets in one policy", "specs[1].egressDeny (deny rules)", "spec.ingress[0].icmps (ICMP matches)",
                    "spec.egress[0].toServices (services)", "spec.egress[1].toFQDNs matchPattern *.x"]
        let p = PolicyItems.item("mixed", kind: .ciliumNetworkPolicy, egress: true, ruleMode: gaps)
        let f = findings([p])
        let r = try #require(f.first { $0.id == "policies.unsupported_in_rule_mode" })
        #expect(r.guidance.hasPrefix("GitLab's rule mode cannot show: specs: several rule sets in one policy; specs[1].egressDeny (deny rules); spec.ingress[0].icmps (ICMP matches); and 2 more."))
        let everything = findings([PolicyItems.allowAll, PolicyItems.denyAll, p, PolicyItems.item("bad", valid: false)]) + findings([])
        #expect(Set(everything.map(\.id)) == ["policies.world_ingress", "policies.unsupported_in_rule_mode", "policies.invalid", "policies.none"])
        for finding in everything {
            #expect(finding.guidance.contains("`threat-report policy ") || finding.guidance.contains("`kubectl "), "\(finding.id)")
        }
    }

    @Test("The analyzer includes the policy findings, worst first")
    func analyzer() {
        let all = FindingAnalyzer.analyze([environment([PolicyItems.allowAll, PolicyItems.denyAll])], window: TimeWindow(
            from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 86400), interval: .hour))
        #expect(all.filter { $0.id.hasPrefix("policies.") }.map(\.severity) == [.warning, .warning, .info])
    }
}
