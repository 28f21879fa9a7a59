import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

@Suite("Policy values and the rule-mode builder")
struct PoliciesRuleModeBuilderTests {
    @Test("Labels: key=value lists, prefixed keys, Cilium source prefixes; bad ones say why")
    func labels() throws {
        #expect(try RuleModeValues.labels("app=web, tier=front").get() == [LabelPair("app", "web"), LabelPair("tier", "front")])
        #expect(try RuleModeValues.labels("app.kubernetes.io/name=ingress-nginx").get() == [LabelPair("app.kubernetes.io/name", "ingress-nginx")])
        #expect(try RuleModeValues.labels("k8s:io.kubernetes.pod.namespace=monitoring").get().first?.value == "monitoring")
        #expect(try RuleModeValues.labels("team=").get() == [LabelPair("team", "")])
        let bad: [(String, String)] = [
            ("app", "'app' is not a label: write key=value, like app=web"),
            ("-app=web", "label key '-app' must start and end with a letter or digit, with only letters, digits, '-', '_' and '.' between"),
            ("Example.COM/app=web", "label key 'Example.COM/app' has a prefix that is not a DNS subdomain (like example.com)"),
            ("a/b/c=d", "label key 'a/b/c' has more than one '/'"),
            ("app=web!", "label value 'web!' must start and end with a letter or digit, with only letters, digits, '-', '_' and '.' between"),
            ("app=\(String(repeating: "x", count: 64))", "label value '\(String(repeating: "x", count: 64))' is longer than 63 characters"),
            ("app=a,app=b", "label key 'app' is given twice"),
        ]
        for (text, why) in bad {
            guard case let .failure(e) = RuleModeValues.labels(text) else {
                Issue.record("\(text) was accepted")
                continue
            }
            #expect(e.description == why)
        }
    }

    @Test("Entities, CIDRs (host bits refused with the network), FQDNs and ports")
    func values() throws {
        #expect(RuleModeValues.entity("world") == nil)
        #expect(RuleModeValues.entity("kube-apiserver") == nil)
        #expect(RuleModeValues.entity("internet")?.description.hasPrefix("'internet' is not a Cilium entity (all, host,") == true)
        #expect(RuleModeValues.cidr("10.0.0.0/8") == nil)
        #expect(RuleModeValues.cidr("2001:db8::/32") == nil)
        #expect(RuleModeValues.cidr("0.0.0.0/0") == nil)
        #expect(RuleModeValues.cidr("10.1.2.3/8")?.description == "'10.1.2.3/8' has host bits set: did you mean 10.0.0.0/8?")
        #expect(RuleModeValues.cidr("2001:db8::1/32")?.description == "'2001:db8::1/32' has host bits set: did you mean 2001:db8::/32?")
        #expect(RuleModeValues.cidr("10.0.0.0/33")?.description.hasPrefix("'10.0.0.0/33' is not a CIDR") == true)
        #expect(RuleModeValues.cidr("10.0.0.1")?.description.hasPrefix("'10.0.0.1' is not a CIDR") == true)
        #expect(RuleModeValues.fqdn("api.example.com") == nil)
        #expect(RuleModeValues.fqdn("*.example.com") == nil)
        #expect(RuleModeValues.fqdn("api..example.com") != nil)
        #expect(RuleModeValues.fqdn("https://api.example.com") != nil)
        #expect(try RuleModeValues.ports("80/tcp,443, 53/UDP,8000-8080/sctp,9000/any").get() == [
            RuleModePort(port: 80), RuleModePort(port: 443), RuleModePort(port: 53, protocolName: "UDP"),
            RuleModePort(port: 8000, endPort: 8080, protocolName: "SCTP"), RuleModePort(port: 9000, protocolName: "ANY"),
        ])
        for bad in ["0", "65536", "80/icmp", "http", "90-80", "80/tcp/x", "", "1-2-3"] {
            guard case .failure = RuleModeValues.ports(bad) else {
                Issue.record("ports '\(bad)' accepted")
                continue
            }
        }
        #expect(RuleModeValues.isDNSSubdomain("web.allow-1"))
        #expect(!RuleModeValues.isDNSSubdomain("Web"))
        #expect(!RuleModeValues.isDNSLabel("a.b"))
    }

    @Test("A rule-mode policy: the YAML GitLab's editor wrote, valid, and its sentences say what was asked")
    func buildAndExplain() throws {
        var p = RuleModePolicy(name: "web", namespace: "shop")
        p.endpoint = [LabelPair("app", "web")]
        p.fromLabels = [[LabelPair("app", "frontend")]]
        p.fromEntities = ["world"]
        p.toFQDNs = ["api.example.com", "*.cdn.example.com"]
        p.ports = [RuleModePort(port: 443)]
        #expect(p.yaml() == """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: web
              namespace: shop
            spec:
              endpointSelector:
                matchLabels:
                  app: web
              ingress:
              - fromEndpoints:
                - matchLabels:
                    app: frontend
                toPorts:
                - ports:
                  - port: "443"
                    protocol: TCP
              - fromEntities:
                - world
                toPorts:
                - ports:
                  - port: "443"
                    protocol: TCP
              egress:
              - toFQDNs:
                - matchName: api.example.com
                - matchPattern: "*.cdn.example.com"
                toPorts:
                - ports:
                  - port: "443"
                    protocol: TCP

            """)
        let item = try #require(PolicyDocumentLoader.loadDetailed(text: p.yaml(), origin: "new").items.first)
        #expect(item.valid)
        #expect(item.enabled)
        #expect(item.description == [
            "Pods with app=web in shop accept inbound TCP/443 from pods with app=frontend in the same namespace, and TCP/443 from the entity world (anything outside the cluster); all other inbound traffic to them is denied.",
            "Pods with app=web in shop may send outbound TCP/443 to the host api.example.com or hosts matching *.cdn.example.com; all other outbound traffic from them is denied.",
        ])
        #expect(item.ruleModeUnsupported == ["spec.egress[0].toFQDNs matchPattern *.cdn.example.com"])

        var all = RuleModePolicy(name: "open")
        all.toCIDRs = ["0.0.0.0/0", "::/0"]
        all.disabled = true
        let yaml = all.yaml()
        #expect(yaml.contains("  endpointSelector:\n    matchLabels:\n      network-policy.gitlab.com/disabled_by: gitlab\n"))
        #expect(yaml.contains("  - toCIDR:\n    - 0.0.0.0/0\n    - \"::/0\"\n"))
        let open = try #require(PolicyDocumentLoader.loadDetailed(text: yaml, origin: "new").items.first)
        #expect(open.valid && !open.enabled && open.namespace == nil)
        #expect(open.description.last == "When enabled, all pods in the policy's namespace may send outbound traffic on any port to addresses in 0.0.0.0/0 or addresses in ::/0; all other outbound traffic from them is denied.")
    }

    @Test("YAML scalars: plain when that reads back as the same string, quoted otherwise")
    func scalars() {
        #expect(YAMLLines.scalar("web") == "web")
        #expect(YAMLLines.scalar("app.kubernetes.io/name") == "app.kubernetes.io/name")
        for s in ["true", "no", "8080", "1.5", "null", "~", "*.x", "a b", "::/0", "", "a:b", "2026-01-01"] {
            #expect(YAMLLines.scalar(s).hasPrefix("\""), "\(s)")
        }
    }
}

@Suite("GitLab's predefined policies")
struct PoliciesPredefinedTests {
    @Test("Both forms, disabled by default: they read back valid, disabled, and mean what GitLab said", arguments: [PolicyKind.ciliumNetworkPolicy, .networkPolicy])
    func manifests(kind: PolicyKind) throws {
        for p in GitLabPredefinedPolicy.allCases {
            let disabled = try #require(PredefinedPolicies.manifest(p.name, kind: kind, enabled: false, namespace: "shop"))
            let d = try #require(PolicyDocumentLoader.loadDetailed(text: disabled, origin: p.name, namespace: "x").items.first)
            #expect(d.valid && !d.enabled && d.predefined && d.kind == kind && d.namespace == "shop")
            if kind == .ciliumNetworkPolicy { #expect(d.rules == p.rules) }
            let enabled = try #require(PredefinedPolicies.manifest(p.name, kind: kind, enabled: true))
            let e = try #require(PolicyDocumentLoader.loadDetailed(text: enabled, origin: p.name, namespace: "shop").items.first)
            #expect(e.valid && e.enabled && e.namespace == nil)
            // The facts the report shows for a predefined policy that is not deployed are the explainer's.
            #expect(e.description == p.description(namespace: "shop"))
            #expect(d.description == [PolicyExplainer.disabledSentence] + p.description(namespace: "shop").map {
                "When enabled, " + PolicyExplainer.lowerFirst($0)
            })
            // `policy enable` turns the disabled form into the enabled one, byte for byte.
            #expect(try PolicyLabelEditor.apply(.enable, to: disabled, origin: p.name).text
                == PredefinedPolicies.manifest(p.name, kind: kind, enabled: true, namespace: "shop"))
        }
        #expect(PredefinedPolicies.names == GitLabPredefinedPolicy.allCases.map(\.name))
    }

    @Test("A set lists the predefined policies no deployed policy is named after")
    func notDeployed() {
        let item = PolicyItem(kind: .networkPolicy, kindText: "NetworkPolicy", name: "allow-inbound-http", namespace: "shop",
                              enabled: true, valid: true, manifest: "", origin: "a.yaml:1")
        #expect(PolicySet(items: [item]).predefinedNotDeployed == [.dropOutbound])
        #expect(PolicySet(items: []).predefinedNotDeployed == [.dropOutbound, .allowInboundHTTP])
    }
}

@Suite("Policy traits for the findings")
struct PoliciesTraitsTests {
    func item(_ yaml: String) throws -> PolicyItem {
        try #require(PolicyDocumentLoader.loadDetailed(text: yaml, origin: "t.yaml", namespace: "shop").items.first)
    }

    func corpus(_ file: String) throws -> PolicyItem {
        try item(String(contentsOf: PolicyFixtures.corpus.appendingPathComponent("ahmetb_kubernetes-network-policy-recipes/" + file), encoding: .utf8))
    }

    @Test("Deny-all: restricts ingress, admits nothing from the world; allow-all: admits the world on every port")
    func denyAllAndAllowAll() throws {
        let deny = try corpus("03-deny-all-non-whitelisted-traffic-in-the-namespace/default-deny-all.yaml")
        #expect(deny.worldIngress == [])
        #expect(deny.restrictsIngress == true && deny.restrictsEgress == false && deny.selectsAllPods == true)
        let allow = try corpus("02a-allow-all-traffic-to-an-application/web-allow-all.yaml")
        #expect(allow.worldIngress == [WorldIngressRule(path: "spec.ingress[0]", peer: "anywhere", anyPort: true, ports: "traffic on any port")])
        #expect(allow.restrictsIngress == true && allow.selectsAllPods == false)
        let egressDeny = try corpus("12-deny-all-non-whitelisted-traffic-from-the-namespace/default-deny-all-egress.yaml")
        #expect(egressDeny.restrictsEgress == true && egressDeny.restrictsIngress == false)
        let namespaces = try corpus("05-allow-traffic-from-all-namespaces/web-allow-all-namespaces.yaml")
        #expect(namespaces.worldIngress == [])
    }

    @Test("World ingress: Cilium entities and 0.0.0.0/0, Kubernetes ipBlock, L4-only rules; ignored rules and deny rules do not count")
    func worldIngress() throws {
        let cilium = try item("""
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: c}
            spec:
              endpointSelector: {}
              ingress:
              - fromEntities: [cluster]
              - fromEntities: [world]
                toPorts: [{ports: [{port: "443", protocol: TCP}]}]
              - fromCIDR: ["::/0"]
              - toPorts: [{ports: [{port: "80"}]}]
            """)
        #expect(cilium.worldIngress == [
            WorldIngressRule(path: "spec.ingress[1]", peer: "entity world", anyPort: false, ports: "TCP/443"),
            WorldIngressRule(path: "spec.ingress[2]", peer: "::/0", anyPort: true, ports: "traffic on any port"),
            WorldIngressRule(path: "spec.ingress[3]", peer: "anywhere", anyPort: false, ports: "port 80 (any protocol)"),
        ])
        let denied = try item("""
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: d}
            spec:
              endpointSelector: {}
              ingress: [{fromEntities: [all]}]
              ingressDeny: [{fromEntities: [world]}]
            """)
        #expect(denied.worldIngress == [])
        let k8s = try item("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: k}
            spec:
              podSelector: {}
              ingress:
              - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
            """)
        #expect(k8s.worldIngress?.map(\.peer) == ["0.0.0.0/0"])
        let egressOnly = try item("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: e}
            spec:
              podSelector: {}
              policyTypes: [Egress]
              ingress: [{}]
            """)
        #expect(egressOnly.worldIngress == [])
        #expect(egressOnly.restrictsEgress == true && egressOnly.restrictsIngress == false)
    }
}

@Suite("policy list")
struct PoliciesListingTests {
    @Test("Rows per environment, then the predefined policies not deployed; table, JSON and YAML")
    func listing() throws {
        let items = PolicyDocumentLoader.loadDetailed(text: PredefinedPolicies.manifest("drop-outbound", kind: .ciliumNetworkPolicy, enabled: false, namespace: "shop")!,
                                                      origin: "p.yaml").items
        var l = PolicyListing()
        l.add(name: "production", namespace: "shop", section: .ok(PolicySet(items: items)))
        l.add(name: "staging", namespace: "shop-staging", section: .unavailable("cannot read x: no such folder"))
        #expect(l.hasUnavailable)
        #expect(l.table() == """
            ENVIRONMENT  KIND                 NAME                NAMESPACE  ENABLED  VALID  RULES         PREDEFINED
            production   CiliumNetworkPolicy  drop-outbound       shop       no       yes    0 in / 1 out  yes
            production   CiliumNetworkPolicy  allow-inbound-http  shop       no       yes    1 in / 0 out  not deployed

            """)
        let json = l.json
        #expect(json.at("environments")?.arrayValue?.count == 2)
        let rows = try #require(json["environments"]?.arrayValue?.first?["policies"]?.arrayValue)
        #expect(rows.map { $0["deployed"]?.boolValue } == [true, false])
        #expect(rows[1]["rules"]?["ingress"]?.intValue == 1)
        #expect(json["environments"]?.arrayValue?.last?["status"]?.stringValue == "unavailable")
        #expect(l.yaml.contains("- name: production\n  namespace: shop\n  status: ok\n"))
    }
}
