import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

/// Fixture access for the policy tests (paths relative to this file, never /work/shared).
enum PolicyFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/policies")
    static let corpus = root.appendingPathComponent("corpus")

    static func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
    }

    /// Loads a fixture with its file name as origin and "default" as the environment namespace.
    static func load(_ name: String, namespace: String = "default") throws -> PolicyLoadResult {
        PolicyDocumentLoader.loadDetailed(text: try text(name), origin: name, namespace: namespace)
    }

    static func item(_ result: PolicyLoadResult, _ name: String) throws -> PolicyItem {
        try #require(result.items.first { $0.name == name }, "no policy named \(name)")
    }

    /// Every corpus file, relative to the corpus folder, sorted.
    static func corpusFiles() -> [String] {
        let e = FileManager.default.enumerator(atPath: corpus.path)
        return (e?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func isLocation(_ location: String?, file: String) -> Bool {
        guard let location, location.hasPrefix(file + ":") else { return false }
        let rest = location.dropFirst(file.count + 1).split(separator: ":")
        return rest.count == 2 && rest.allSatisfy { Int($0) != nil && Int($0)! > 0 }
    }
}

// MARK: - The third-party corpus

@Suite("Policy corpus (ahmetb/kubernetes-network-policy-recipes)")
struct PoliciesCorpusTests {
    @Test("Every corpus file loads, and every item is valid or has located problems")
    func everyFileLoads() throws {
        let files = PolicyFixtures.corpusFiles()
        #expect(files.count == 16)
        for file in files {
            let text = try String(contentsOf: PolicyFixtures.corpus.appendingPathComponent(file), encoding: .utf8)
            let result = PolicyDocumentLoader.loadDetailed(text: text, origin: file, namespace: "default")
            #expect(result.items.count == 1, "\(file)")
            for item in result.items {
                #expect(item.valid || !item.problems.isEmpty, "\(file)")
                for p in item.problems {
                    #expect(PolicyFixtures.isLocation(p.location, file: file), "\(file): \(p)")
                }
                #expect(item.valid, "\(file): \(item.problems)")
                #expect(item.kind == .networkPolicy)
                #expect(item.origin == "\(file):1")
                #expect(!item.description.isEmpty)
                #expect(item.manifest == text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
    }

    @Test("SOURCES.txt names every corpus file, and every file it names is there")
    func sourcesListMatches() throws {
        let sources = try String(contentsOf: PolicyFixtures.corpus.appendingPathComponent("SOURCES.txt"), encoding: .utf8)
        let listed = sources.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .compactMap { $0.split(separator: "\t").first.map(String.init) }.sorted()
        #expect(listed == PolicyFixtures.corpusFiles())
    }

    static let expected: [(String, [String])] = [
        ("01-deny-all-traffic-to-an-application/web-deny-all.yaml", [
            "All inbound traffic to pods with app=web in default is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("02-limit-traffic-to-an-application/api-allow.yaml", [
            "Pods with app=bookstore and role=api in default accept inbound traffic on any port from pods with app=bookstore in the same namespace; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("02a-allow-all-traffic-to-an-application/web-allow-all.yaml", [
            "Pods with app=web in default accept all inbound traffic, from anywhere and on any port.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("03-deny-all-non-whitelisted-traffic-in-the-namespace/default-deny-all.yaml", [
            "All inbound traffic to all pods in default is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        // `podSelector: matchLabels:` (null) selects every pod.
        ("04-deny-traffic-from-other-namespaces/deny-from-other-namespaces.yaml", [
            "All pods in default accept inbound traffic on any port from all pods in the same namespace; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("05-allow-traffic-from-all-namespaces/web-allow-all-namespaces.yaml", [
            "Pods with app=web in default accept inbound traffic on any port from all pods in all namespaces; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("06-allow-traffic-from-a-namespace/web-allow-prod.yaml", [
            "Pods with app=web in default accept inbound traffic on any port from all pods in namespaces with purpose=production; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("07-allow-traffic-from-some-pods-in-another-namespace/web-allow-all-ns-monitoring.yaml", [
            "Pods with app=web in default accept inbound traffic on any port from pods with type=monitoring in namespaces with team=operations; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("08-allow-external-traffic/web-allow-external.yaml", [
            "Pods with app=web in default accept all inbound traffic, from anywhere and on any port.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("09-allow-traffic-only-to-a-port/api-allow-5000.yaml", [
            "Pods with app=apiserver in default accept inbound TCP/5000 from pods with role=monitoring in the same namespace; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("10-allowing-traffic-with-multiple-selectors/redis-allow-services.yaml", [
            "Pods with app=bookstore and role=db in default accept inbound traffic on any port from pods with app=bookstore and role=search in the same namespace, pods with app=bookstore and role=api in the same namespace or pods with app=inventory and role=web in the same namespace; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]),
        ("11-deny-egress-traffic-from-an-application/foo-deny-egress.yaml", [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from pods with app=foo in default is denied.",
        ]),
        ("11-deny-egress-traffic-from-an-application/block2/foo-deny-egress.yaml", [
            "Inbound traffic is not restricted by this policy.",
            "Pods with app=foo in default may send outbound UDP/53 and TCP/53 to pods with k8s-app=kube-dns in namespace kube-system; all other outbound traffic from them is denied.",
        ]),
        ("12-deny-all-non-whitelisted-traffic-from-the-namespace/default-deny-all-egress.yaml", [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from all pods in default is denied.",
        ]),
        ("14-deny-external-egress-traffic/foo-deny-external-egress.yaml", [
            "Inbound traffic is not restricted by this policy.",
            "Pods with app=foo in default may send outbound UDP/53 and TCP/53 to pods with k8s-app=kube-dns in namespace kube-system; all other outbound traffic from them is denied.",
        ]),
    ]

    @Test("Exact sentences for every recipe", arguments: expected.map(\.0))
    func recipeSentences(_ file: String) throws {
        let want = try #require(Self.expected.first { $0.0 == file }?.1)
        let result = try PolicyFixtures.load("corpus/ahmetb_kubernetes-network-policy-recipes/" + file)
        let item = try #require(result.items.first)
        #expect(item.description == want)
    }

    @Test("Deny-all recipes say denied, never allowed (GitLab #270130 showed deny-all as allow-all)")
    func denyAllIsNotAllowAll() throws {
        for file in ["01-deny-all-traffic-to-an-application/web-deny-all.yaml",
                     "03-deny-all-non-whitelisted-traffic-in-the-namespace/default-deny-all.yaml"] {
            let item = try #require(try PolicyFixtures.load("corpus/ahmetb_kubernetes-network-policy-recipes/" + file).items.first)
            #expect(item.description[0].hasSuffix("is denied."))
            #expect(!item.description[0].contains("accept"))
            #expect(!item.description.joined().contains("allow"))
            #expect(item.rules.total == 0)
        }
    }

    @Test("A disabled_by label in podSelector: enabled false, the not-enforced sentence first")
    func disabledRecipe() throws {
        let item = try #require(try PolicyFixtures.load("corpus/disabled/api-allow.yaml").items.first)
        #expect(item.valid)
        #expect(item.enabled == false)
        #expect(item.description == [
            "Not enforced: the selector carries network-policy.gitlab.com/disabled_by, so it selects no pods.",
            "When enabled, pods with app=bookstore and role=api in default accept inbound traffic on any port from pods with app=bookstore in the same namespace; all other inbound traffic to them is denied.",
            "When enabled, outbound traffic is not restricted by this policy.",
        ])
    }
}

// MARK: - Streams and documents

@Suite("Policy documents")
struct PoliciesDocumentTests {
    @Test("A broken middle document: 3 items, the broken one invalid with the error's line in the FILE")
    func brokenMiddleDocument() throws {
        let result = try PolicyFixtures.load("multi-broken.yaml")
        #expect(result.items.count == 3)
        let (first, broken, last) = (result.items[0], result.items[1], result.items[2])
        #expect(first.valid && first.name == "web-from-frontend" && first.origin == "multi-broken.yaml:2")
        #expect(broken.valid == false)
        #expect(broken.name == "db-broken")
        #expect(broken.kindText == "CiliumNetworkPolicy")
        #expect(broken.origin == "multi-broken.yaml:20")
        #expect(broken.problems.count == 1)
        // `        app: api: v2` is line 32 of the file (line 13 of its document); the second colon is column 17.
        #expect(broken.problems.first?.location == "multi-broken.yaml:32:17")
        #expect(broken.problems.first?.message.contains("mapping values are not allowed") == true)
        #expect(broken.manifest.hasPrefix("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: db-broken"))
        #expect(last.valid && last.name == "drop-outbound" && last.origin == "multi-broken.yaml:34")
        #expect(last.predefined)
        #expect(last.manifest == """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: drop-outbound
              namespace: shop-production
            spec:
              endpointSelector: {}
              egress:
              - {}
            """)
    }

    @Test("lineOffset shifts every line: a text cut out of a larger file")
    func lineOffset() throws {
        let items = PolicyDocumentLoader.load(text: try PolicyFixtures.text("multi-broken.yaml"), origin: "big.yaml", lineOffset: 100)
        #expect(items.map(\.origin) == ["big.yaml:102", "big.yaml:120", "big.yaml:134"])
        #expect(items[1].problems.first?.location == "big.yaml:132:17")
    }

    @Test("A broken document without a readable name gets a placeholder name with its place")
    func unparsedWithoutName() {
        let text = "kind: NetworkPolicy\nspec: [unclosed\n---\napiVersion: v1\nkind: ConfigMap\n"
        let result = PolicyDocumentLoader.loadDetailed(text: text, origin: "x.yaml")
        #expect(result.items.count == 1)
        #expect(result.items[0].name == "(unparsed document at x.yaml:1)")
        #expect(result.items[0].kind == .networkPolicy)
        #expect(result.items[0].valid == false)
        #expect(PolicyFixtures.isLocation(result.items[0].problems.first?.location, file: "x.yaml"))
        #expect(result.notes == ["x.yaml:4: skipped kind ConfigMap (not a network policy)"])
    }

    @Test("A repeated key makes the document unreadable, located at the key, named by the scan")
    func duplicateKey() {
        let text = "apiVersion: v1\nkind: Secret\n---\nkind: NetworkPolicy\nmetadata:\n  name: dup\nspec:\n  podSelector: {}\n  podSelector: {}\n"
        let items = PolicyDocumentLoader.load(text: text, origin: "d.yaml")
        #expect(items.count == 1)
        #expect(items.first?.name == "dup")
        #expect(items.first?.problems.map(\.description) == ["d.yaml:8:3: duplicate key 'podSelector' in one mapping"])
    }

    @Test("CRLF line ends, comments, %YAML directives and ... end markers keep the file's line numbers")
    func splittingEdgeCases() {
        let text = [
            "# leading comment only", "%YAML 1.1", "---", "kind: NetworkPolicy", "apiVersion: networking.k8s.io/v1",
            "metadata: {name: a}", "spec: {podSelector: {}}", "...", "%YAML 1.1", "--- # a comment on the marker",
            "kind: NetworkPolicy", "metadata:", "  name: b", "spec:", "  podSelector: {}", "  ingress: [{from: [{bad: 1}]}]",
            "---", "", "---",
        ].joined(separator: "\r\n")
        let result = PolicyDocumentLoader.loadDetailed(text: text, origin: "crlf.yaml")
        #expect(result.items.map(\.name) == ["a", "b"])
        #expect(result.items.map(\.origin) == ["crlf.yaml:4", "crlf.yaml:11"])
        #expect(result.items[0].valid)
        #expect(result.items[1].valid == false)
        #expect(result.items[1].problems.first?.location == "crlf.yaml:16:22")
        #expect(result.items[0].manifest == "# leading comment only\nkind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a}\nspec: {podSelector: {}}")
        #expect(result.items[1].manifest.hasPrefix("kind: NetworkPolicy\nmetadata:\n  name: b\n"))
    }

    @Test("Garbage never crashes and never hides the good documents", arguments: [
        "", "---", "---\n---\n...\n", ":", "[", "{", "kind: [", "\t- a", "- 1\n- 2", "kind: 42", "kind: List\nitems: 3",
        "kind: CiliumNetworkPolicyList\nitems:\n- 1\n- null", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy",
        "kind: CiliumNetworkPolicy\nmetadata: 1\nspec: 2\nspecs: 3", "kind: NetworkPolicy\nmetadata: {name: x}\nspec: {ingress: [null, {from: null}]}",
        "\u{FEFF}kind: NetworkPolicy\nmetadata: {name: bom}\nspec: {podSelector: {}}", "*alias", "&a [*a]", "!!binary x",
        "kind: CiliumNetworkPolicy\nmetadata: {name: &n x}\nspec:\n  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: *n}]}]",
    ])
    func garbage(_ text: String) {
        let result = PolicyDocumentLoader.loadDetailed(text: text + "\n---\nkind: NetworkPolicy\nmetadata: {name: good}\nspec: {podSelector: {}}\n",
                                                       origin: "g.yaml")
        #expect(result.items.last?.name == "good")
        #expect(result.items.last?.valid == true)
        for item in result.items where !item.valid {
            #expect(!item.problems.isEmpty)
            #expect(item.problems.allSatisfy { PolicyFixtures.isLocation($0.location, file: "g.yaml") }, "\(item.problems)")
        }
    }

    @Test("kind: List and NetworkPolicyList: every policy item is read, other kinds noted")
    func lists() throws {
        let result = try PolicyFixtures.load("list.yaml")
        #expect(result.items.map(\.name) == ["list-deny-egress", "list-allow-http", "from-typed-list"])
        #expect(result.items.map(\.kind) == [.networkPolicy, .ciliumNetworkPolicy, .networkPolicy])
        #expect(result.items.map(\.origin) == ["list.yaml:4", "list.yaml:19", "list.yaml:37"])
        #expect(result.items.allSatisfy { $0.valid })
        #expect(result.notes == ["list.yaml:12: skipped kind Service (not a network policy)"])
        // Items of a typed list carry no kind: it comes from the list, and the manifest says so.
        #expect(result.items[2].manifest.hasPrefix("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: from-typed-list"))
        #expect(result.items[0].description == [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from all pods in shop-production is denied.",
        ])
        #expect(result.items[2].description[0] == "Pods with app=web in shop-production accept all inbound traffic, from anywhere and on any port.")
    }

    @Test("A JSON API list answer: kinds from the list, YAML manifests without server bookkeeping")
    func jsonListAnswer() throws {
        let result = try PolicyFixtures.load("api-list.json")
        #expect(result.notes.isEmpty)
        #expect(result.items.map(\.name) == ["allow-inbound-http", "api-egress"])
        #expect(result.items.allSatisfy { $0.kind == .ciliumNetworkPolicy && $0.valid && $0.origin == "api-list.json:1" })
        let http = result.items[0], egress = result.items[1]
        #expect(http.predefined && http.enabled)
        #expect(http.namespace == "shop-production")
        #expect(http.manifest.hasPrefix("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"))
        #expect(!http.manifest.contains("{\""))
        #expect(!http.manifest.contains("managedFields"))
        #expect(!http.manifest.contains("last-applied-configuration"))
        #expect(http.manifest.contains("  creationTimestamp: '2020-11-02T10:00:00Z'\n"))
        #expect(http.manifest.hasSuffix("""
            spec:
              endpointSelector: {}
              ingress:
              - toPorts:
                - ports:
                  - port: '80'
                    protocol: TCP
                  - port: '443'
                    protocol: TCP
            """))
        #expect(http.description == [
            "All pods in shop-production accept inbound TCP/80 and TCP/443 from anywhere; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ])
        #expect(egress.enabled == false && egress.predefined == false)
        #expect(egress.manifest.contains("  labels:\n    version: '2'\n"))
        #expect(egress.description == [
            PolicyExplainer.disabledSentence,
            "When enabled, inbound traffic is not restricted by this policy.",
            "When enabled, pods with app=api in shop-production may send outbound TCP/443 to the host payments.example.com; all other outbound traffic from them is denied.",
        ])
        // The re-serialized manifest reads back to the same policy.
        let again = PolicyDocumentLoader.load(text: egress.manifest, origin: "m")
        #expect(again.first?.description == egress.description)
    }

    @Test("JSON that libyaml refuses (surrogate-pair escapes) is read by the JSON parser")
    func jsonFallback() {
        let text = #"{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"emoji","annotations":{"note":"\ud83d\ude00"}},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"bogus":{}}]}]}}"#
        let items = PolicyDocumentLoader.load(text: text, origin: "e.json")
        #expect(items.count == 1)
        #expect(items[0].name == "emoji")
        #expect(items[0].valid == false)
        #expect(items[0].problems.map(\.location) == ["e.json:1:1"])
        #expect(items[0].problems.first?.message.hasPrefix("unknown key 'spec.egress[0].to[0].bogus'") == true)
        #expect(items[0].manifest.hasPrefix("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata:\n  name: emoji\n  annotations:\n    note: "))
    }

    @Test("Schema problems: kept as invalid items with line:column; non-policy kinds noted")
    func schemaProblems() throws {
        let result = try PolicyFixtures.load("invalid-schema.yaml")
        #expect(result.items.count == 4)
        #expect(result.items.allSatisfy { !$0.valid })
        #expect(result.notes == ["invalid-schema.yaml:39: skipped kind Deployment (not a network policy)"])
        #expect(result.items.map(\.name) == ["(unnamed policy at invalid-schema.yaml:1)", "spec-is-a-list", "typo-in-peer", "wrong-types"])
        #expect(result.items.map { $0.problems.map(\.description) } == [
            ["invalid-schema.yaml:4:3: metadata.name is missing"],
            ["invalid-schema.yaml:13:1: spec must be a mapping"],
            ["invalid-schema.yaml:22:5: unknown key 'spec.ingress[0].fromEndpointz' (allowed: fromEndpoints, fromRequires, fromCIDR, fromCIDRSet, fromEntities, fromGroups, fromNodes, toPorts, icmps, authentication)"],
            ["invalid-schema.yaml:33:16: spec.podSelector.matchLabels.version must be a string (quote it)",
             "invalid-schema.yaml:36:13: spec.ingress[0].ports[0].port must be a port number or a port name",
             "invalid-schema.yaml:37:17: spec.ingress[0].ports[0].protocol must be TCP, UDP or SCTP, not 'HTTP'"],
        ])
        #expect(result.items[3].description == ["Not described: the manifest has 3 problems."])
        #expect(result.items[2].rules.ingress == 1)
        #expect(result.policies.allSatisfy { $0.model == nil })
    }

    @Test("More schema checks: peers, selectors, CIDRs, entities, ports")
    func moreSchemaProblems() {
        func problems(_ spec: String, kind: String = "CiliumNetworkPolicy") -> [String] {
            let text = "kind: \(kind)\nmetadata: {name: p}\nspec:\n" + spec
            return PolicyDocumentLoader.load(text: text, origin: "s.yaml").first?.problems.map(\.description) ?? ["no item"]
        }
        #expect(problems("  endpointSelector: {}\n  ingress:\n  - fromCIDR: [10.0.0.0/33]") ==
            ["s.yaml:6:16: spec.ingress[0].fromCIDR[0] '10.0.0.0/33' is not a CIDR or an IP address"])
        #expect(problems("  endpointSelector: {}\n  egress:\n  - toEntities: [internet]") ==
            ["s.yaml:6:18: spec.egress[0].toEntities[0] 'internet' is not a Cilium entity (all, world, cluster, host, remote-node, kube-apiserver, health, init, ingress, unmanaged, none, world-ipv4, world-ipv6)"])
        #expect(problems("  endpointSelector: {}\n  ingress:\n  - toFQDNs: [{matchName: a.example}]") ==
            ["s.yaml:6:5: unknown key 'spec.ingress[0].toFQDNs' (allowed: fromEndpoints, fromRequires, fromCIDR, fromCIDRSet, fromEntities, fromGroups, fromNodes, toPorts, icmps, authentication)"])
        #expect(problems("  podSelector:\n    matchExpressions:\n    - {key: app, operator: Equals, values: [a]}", kind: "NetworkPolicy") ==
            ["s.yaml:6:28: spec.podSelector.matchExpressions[0].operator must be one of In, NotIn, Exists, DoesNotExist, not 'Equals'"])
        #expect(problems("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}", kind: "NetworkPolicy") ==
            ["s.yaml:7:7: spec.ingress[0].from[0] may not combine ipBlock with podSelector or namespaceSelector"])
        #expect(problems("  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 90}]", kind: "NetworkPolicy") ==
            ["s.yaml:6:20: spec.ingress[0].ports[0].endPort needs a numeric port"])
        // The located entry is the wrong one, even after a non-string entry.
        #expect(problems("  endpointSelector: {}\n  egress:\n  - toEntities: [1, world, worldd]") ==
            ["s.yaml:6:18: spec.egress[0].toEntities[0] must be a string (quote it)",
             "s.yaml:6:28: spec.egress[0].toEntities[2] 'worldd' is not a Cilium entity (all, world, cluster, host, remote-node, kube-apiserver, health, init, ingress, unmanaged, none, world-ipv4, world-ipv6)"])
        #expect(problems("  ingress: []") == ["s.yaml:4:3: spec.endpointSelector is missing (write endpointSelector: {} to select every pod)"])
        #expect(problems("  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: \"80\", protocol: HTTP}]}]") ==
            ["s.yaml:6:47: spec.ingress[0].toPorts[0].ports[0].protocol must be one of TCP, UDP, SCTP, ICMP, ICMPV6, VRRP, IGMP, GRE, IPIP, ESP, AH, ANY, not 'HTTP'"])
    }

    @Test("A misspelt policy kind is an invalid item; a broken Deployment is only noted")
    func kindTypoAndBrokenOtherKind() {
        let text = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolcy
            metadata: {name: typo}
            spec: {endpointSelector: {}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec: [broken
            ---
            kind: PodSecurityPolicy
            metadata: {name: psp}
            """
        let result = PolicyDocumentLoader.loadDetailed(text: text, origin: "k.yaml")
        #expect(result.items.count == 1)
        #expect(result.items.first?.kindText == "CiliumNetworkPolcy")
        #expect(result.items.first?.kind == nil)
        #expect(result.items.first?.name == "typo")
        #expect(result.items.first?.problems.map(\.description) ==
            ["k.yaml:2:7: kind 'CiliumNetworkPolcy' is not a network-policy kind; did you mean CiliumNetworkPolicy?"])
        #expect(result.notes.count == 2)
        #expect(result.notes.first?.hasPrefix("k.yaml:6: skipped a broken document of kind Deployment (k.yaml:11:1: YAML syntax error:") == true)
        #expect(result.notes.last == "k.yaml:12: skipped kind PodSecurityPolicy (not a network policy)")
    }

    @Test("Calico's NetworkPolicy (another apiVersion) and documents without kind are skipped with a note")
    func foreignKinds() {
        let text = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: calico}\nspec: {selector: all()}\n---\nfoo: bar\n"
        let result = PolicyDocumentLoader.loadDetailed(text: text, origin: "c.yaml")
        #expect(result.items.isEmpty)
        #expect(result.notes == [
            "c.yaml:1: skipped NetworkPolicy of apiVersion projectcalico.org/v3 (not networking.k8s.io)",
            "c.yaml:6: skipped a document without kind",
        ])
    }
}

// MARK: - Semantics and sentences

@Suite("Policy sentences")
struct PoliciesSentenceTests {
    @Test("Cilium `ingress: [{}]` and `egress: [{}]` deny everything; empty lists restrict nothing")
    func ciliumDenyAll() throws {
        let result = try PolicyFixtures.load("cilium-deny-all.yaml")
        #expect(try PolicyFixtures.item(result, "deny-all-ingress").description == [
            "All inbound traffic to all pods in default is denied.",
            "Outbound traffic is not restricted by this policy.",
        ])
        #expect(try PolicyFixtures.item(result, "deny-all-egress").description == [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from pods with app=batch in default is denied.",
        ])
        let empty = try PolicyFixtures.item(result, "empty-lists")
        #expect(empty.description == [
            "Inbound traffic is not restricted by this policy.",
            "Outbound traffic is not restricted by this policy.",
        ])
        #expect(empty.rules.total == 0)
        #expect(try PolicyFixtures.item(result, "deny-all-ingress").rules == PolicyRuleCounts(ingress: 1))
    }

    @Test("Kubernetes deny-all, AND vs OR peers, ipBlock except, endPort, ignored egress rules")
    func kubernetes() throws {
        let result = try PolicyFixtures.load("k8s-policies.yaml")
        #expect(result.items.allSatisfy { $0.valid })
        let denyIngress = try PolicyFixtures.item(result, "default-deny-ingress")
        #expect(denyIngress.description == [
            "All inbound traffic to all pods in default is denied.",
            "Outbound traffic is not restricted by this policy.",
        ])
        #expect(!denyIngress.description[0].contains("accept"))
        #expect(try PolicyFixtures.item(result, "default-deny-all").description == [
            "All inbound traffic to all pods in default is denied.",
            "All outbound traffic from all pods in default is denied.",
        ])
        // One `from` element: both selectors must match (AND).
        #expect(try PolicyFixtures.item(result, "and-one-element").description[0] ==
            "Pods with app=web in default accept inbound traffic on any port from pods with type=monitoring in namespaces with team=operations; all other inbound traffic to them is denied.")
        // Two `from` elements: either matches (OR), and the podSelector alone means the policy's namespace.
        #expect(try PolicyFixtures.item(result, "or-two-elements").description[0] ==
            "Pods with app=web in default accept inbound traffic on any port from all pods in namespaces with team=operations or pods with type=monitoring in the same namespace; all other inbound traffic to them is denied.")
        let cidr = try PolicyFixtures.item(result, "cidr-and-ranges")
        #expect(cidr.description == [
            "Pods with app=api in shop-production accept inbound TCP/32000-32768 and UDP/5353 from addresses in 10.0.0.0/8 except 10.1.0.0/16 and 10.2.0.0/16; all other inbound traffic to them is denied.",
            // The second egress rule is `{}`: in Kubernetes that allows everything.
            "Pods with app=api in shop-production may send all outbound traffic, to anywhere and on any port.",
        ])
        #expect(cidr.rules == PolicyRuleCounts(ingress: 1, egress: 2))
        #expect(try PolicyFixtures.item(result, "ignored-egress").description == [
            "Pods with app=web in default accept inbound TCP port named http from anywhere; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy: policyTypes does not include Egress, so its egress rules are ignored.",
        ])
    }

    @Test("Kubernetes policyTypes default: Ingress, plus Egress only when egress rules exist")
    func policyTypesDefault() throws {
        let text = try PolicyFixtures.text("k8s-policies.yaml")
        let models = PolicyDocumentLoader.loadDetailed(text: text, origin: "k").policies.compactMap(\.model)
        let byName = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        let and = try #require(byName["and-one-element"])
        #expect(and.effectivePolicyTypes(and.specs[0]) == [.ingress])
        let noTypes = PolicyDocumentLoader.loadDetailed(
            text: "kind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  podSelector: {}\n  egress: [{}]", origin: "n").policies[0].model
        let m = try #require(noTypes)
        #expect(m.effectivePolicyTypes(m.specs[0]) == [.ingress, .egress])
        #expect(PolicyExplainer.explain(m, namespace: "ns") == [
            "All inbound traffic to all pods in ns is denied.",
            "All pods in ns may send all outbound traffic, to anywhere and on any port.",
        ])
    }

    @Test("Cilium mixed policies: L7, FQDN, deny rules win, services, CIDR set except, endPort, clusterwide")
    func ciliumMixed() throws {
        let result = try PolicyFixtures.load("cilium-mixed.yaml")
        #expect(result.items.allSatisfy { $0.valid })
        let web = try PolicyFixtures.item(result, "web-mixed")
        #expect(web.rules == PolicyRuleCounts(ingress: 2, egress: 2, ingressDeny: 1))
        #expect(web.description == [
            "Pods with app=web in shop-production accept inbound TCP/80 from pods with app=frontend in the same namespace, and TCP/443 (only HTTP requests GET /public/.* or POST /login) from the entity world (anything outside the cluster); all other inbound traffic to them is denied.",
            "Deny rules win over allow rules: pods with app=web in shop-production never accept inbound traffic on any port from addresses in 203.0.113.0/24 except 203.0.113.8/29, even if this or another policy allows it.",
            "Pods with app=web in shop-production may send outbound UDP/53 (only DNS lookups of pattern *) to pods with k8s-app=kube-dns in namespace kube-system, and TCP/443 to the host api.example.com or hosts matching *.cdn.example.com; all other outbound traffic from them is denied.",
        ])
        #expect(try PolicyFixtures.item(result, "batch-egress").description == [
            "Inbound traffic is not restricted by this policy.",
            "Pods with tier in (batch, cron) in shop-production may send outbound traffic on any port to the service postgres in namespace data, and TCP/8000-8100 to addresses in 192.0.2.0/24; all other outbound traffic from them is denied.",
            "Deny rules win over allow rules: pods with tier in (batch, cron) in shop-production may never send outbound traffic on any port to the entity kube-apiserver (the Kubernetes API server), even if this or another policy allows it.",
        ])
        #expect(try PolicyFixtures.item(result, "rule-mode-ok").description == [
            "Pods with app=api in shop-production accept inbound TCP/8080 from pods with app=web in the same namespace; all other inbound traffic to them is denied.",
            "Pods with app=api in shop-production may send outbound traffic on any port to addresses in 198.51.100.0/24, and traffic on any port to the host payments.example.com; all other outbound traffic from them is denied.",
        ])
        let ccnp = try PolicyFixtures.item(result, "no-metadata-service")
        #expect(ccnp.kind == .ciliumClusterwideNetworkPolicy && ccnp.namespace == nil)
        #expect(ccnp.description == [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from all pods in shop-production is denied (the policy has outbound deny rules but no allow rules, so Cilium denies everything else too).",
            "Deny rules win over allow rules: all pods in shop-production may never send outbound traffic on any port to addresses in 169.254.169.254/32, even if this or another policy allows it.",
        ])
        #expect(try PolicyFixtures.item(result, "open-ingress").description == [
            "Pods with app=public in shop-production accept all inbound traffic, from anywhere and on any port.",
            "Outbound traffic is not restricted by this policy, because enableDefaultDeny.egress is false; its allow rules only add to what other policies allow: outbound traffic on any port to the entity cluster (anything inside the cluster).",
        ])
    }

    @Test("specs: every rule set counted and described; enabled while one set is enforced")
    func specsList() throws {
        let item = try #require(try PolicyFixtures.load("specs.yaml").items.first)
        #expect(item.valid)
        #expect(item.rules == PolicyRuleCounts(ingress: 2, egress: 1, ingressDeny: 0, egressDeny: 1))
        #expect(item.enabled)
        #expect(item.description == [
            "This policy has 2 rule sets, each with its own selector.",
            "specs[0]: Pods with app=web in shop-production accept inbound traffic on any port from pods with app=frontend in the same namespace, and port 443 (any protocol) from the entity world (anything outside the cluster); all other inbound traffic to them is denied.",
            "specs[0]: Outbound traffic is not restricted by this policy.",
            "specs[1]: Not enforced: the selector carries network-policy.gitlab.com/disabled_by, so it selects no pods.",
            "specs[1], when enabled: inbound traffic is not restricted by this policy.",
            "specs[1], when enabled: pods with app=worker in shop-production may send outbound traffic on any port to all pods in the same namespace; all other outbound traffic from them is denied.",
            "specs[1], when enabled: deny rules win over allow rules: pods with app=worker in shop-production may never send outbound traffic on any port to the entity world (anything outside the cluster), even if this or another policy allows it.",
        ])
        #expect(item.ruleModeUnsupported == ["specs: several rule sets in one policy", "specs[1].egressDeny (deny rules)"])
    }

    @Test("A Cilium policy disabled by GitLab: enabled false, the not-enforced sentence, then what it would do")
    func disabledCilium() throws {
        let item = try #require(try PolicyFixtures.load("disabled-cilium.yaml").items.first)
        #expect(item.enabled == false)
        #expect(item.description == [
            "Not enforced: the selector carries network-policy.gitlab.com/disabled_by, so it selects no pods.",
            "When enabled, pods with app=web in shop-production accept inbound TCP/80 from pods with app=frontend in the same namespace; all other inbound traffic to them is denied.",
            "When enabled, outbound traffic is not restricted by this policy.",
        ])
    }

    @Test("Predefined policies: marked by name, and their manifests mean what GitLab said")
    func predefined() throws {
        #expect(PredefinedPolicies.names == ["drop-outbound", "allow-inbound-http"])
        for name in PredefinedPolicies.names {
            let manifest = try #require(PredefinedPolicies.manifests[name])
            let item = try #require(PolicyDocumentLoader.load(text: manifest, origin: name).first)
            #expect(item.valid && item.predefined && item.enabled && item.name == name)
            #expect(item.kind == .ciliumNetworkPolicy)
            #expect(item.ruleModeUnsupported == [])
        }
        let drop = PolicyDocumentLoader.loadDetailed(text: PredefinedPolicies.manifests["drop-outbound"]!, origin: "d", namespace: "shop")
        #expect(drop.items[0].description == [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from all pods in shop is denied.",
        ])
        // Without an environment namespace, a policy without metadata.namespace is "in the policy's namespace".
        #expect(PolicyDocumentLoader.load(text: PredefinedPolicies.manifests["drop-outbound"]!, origin: "d").first?.description[1] ==
            "All outbound traffic from all pods in the policy's namespace is denied.")
        let http = PolicyDocumentLoader.loadDetailed(text: PredefinedPolicies.manifests["allow-inbound-http"]!, origin: "h", namespace: "shop")
        #expect(http.items[0].description == [
            "All pods in shop accept inbound TCP/80 and TCP/443 from anywhere; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ])
        let other = PolicyDocumentLoader.load(text: "kind: CiliumNetworkPolicy\nmetadata: {name: drop-outbound-2}\nspec: {endpointSelector: {}}", origin: "o")
        #expect(other.first?.predefined == false)
    }

    @Test("Cilium without protocol means any protocol; named and ranged ports")
    func portTexts() {
        #expect(PolicyExplainer.portText(PolicyPort(port: "80", protocolName: nil)) == "port 80 (any protocol)")
        #expect(PolicyExplainer.portText(PolicyPort(port: nil, protocolName: "UDP")) == "all UDP ports")
        #expect(PolicyExplainer.portText(PolicyPort(port: "8000", endPort: 9000, protocolName: "TCP")) == "TCP/8000-9000")
        #expect(PolicyExplainer.portText(PolicyPort(port: "http", protocolName: "TCP")) == "TCP port named http")
        #expect(PolicyExplainer.portText(PolicyPort(port: nil, protocolName: nil)) == "any port")
    }

    @Test("Clusterwide host policies (nodeSelector), ICMP, fromRequires, toPorts-only rules")
    func hostPolicy() throws {
        let text = """
            apiVersion: cilium.io/v2
            kind: CiliumClusterwideNetworkPolicy
            metadata: {name: host-fw}
            spec:
              nodeSelector:
                matchLabels: {node-role.kubernetes.io/worker: ""}
              ingress:
              - fromEntities: [cluster]
                icmps:
                - fields: [{type: 8, family: IPv4}]
              - toPorts:
                - ports: [{port: "22", protocol: TCP}]
              - fromEndpoints: [{}]
              - fromRequires: [{matchLabels: {env: prod}}]
            """
        let loaded = PolicyDocumentLoader.loadDetailed(text: text, origin: "h", namespace: "ignored")
        let item = try #require(loaded.items.first)
        #expect(item.valid, "\(item.problems)")
        #expect(item.namespace == nil)
        #expect(item.description == [
            "Nodes with node-role.kubernetes.io/worker accept inbound ICMP type 8 from the entity cluster (anything inside the cluster), TCP/22 from anywhere, and traffic on any port from all pods in all namespaces; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
            "Every source of inbound traffic must also match env=prod (fromRequires).",
        ])
        let model = try #require(loaded.policies.first?.model)
        #expect(model.unsupportedInRuleMode() == [
            "kind CiliumClusterwideNetworkPolicy: the rule mode edits CiliumNetworkPolicy only",
            "spec.nodeSelector (host policy)",
            "spec.ingress[0].icmps (ICMP matches)",
            "spec.ingress[3].fromRequires (requirements)",
        ])
        #expect(PolicyDocumentLoader.load(text: text.replacingOccurrences(of: "CiliumClusterwide", with: "Cilium"), origin: "h")
            .first?.problems.map(\.description) == ["h:5:3: spec.nodeSelector is only allowed in a CiliumClusterwideNetworkPolicy"])
    }

    @Test("Endpoint selectors: namespace labels scope the peer; matchExpressions are spelled out")
    func endpointScopes() throws {
        let text = """
            kind: CiliumNetworkPolicy
            metadata: {name: scopes, namespace: shop}
            spec:
              endpointSelector: {}
              ingress:
              - fromEndpoints:
                - matchLabels: {io.kubernetes.pod.namespace: monitoring}
                - matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: ops, app: agent}
                - matchExpressions: [{key: role, operator: NotIn, values: [db]}, {key: canary, operator: DoesNotExist}]
                - {}
            """
        let item = try #require(PolicyDocumentLoader.load(text: text, origin: "s").first)
        #expect(item.description[0] == "All pods in shop accept inbound traffic on any port from all pods in namespace monitoring, pods with app=agent in namespaces with team=ops, pods with role not in (db) and no label canary in the same namespace or all pods in the same namespace; all other inbound traffic to them is denied.")
    }
}

// MARK: - Rule mode

@Suite("Policy editor rule mode")
struct PoliciesRuleModeTests {
    @Test("What GitLab's rule mode cannot show is listed per place; simple policies list nothing")
    func unsupported() throws {
        let result = try PolicyFixtures.load("cilium-mixed.yaml")
        #expect(try PolicyFixtures.item(result, "web-mixed").ruleModeUnsupported == [
            "spec.ingressDeny (deny rules)",
            "spec.ingress[1].toPorts[0].rules (L7 HTTP rules)",
            "spec.egress[0].toPorts[0].rules (L7 DNS rules)",
            "spec.egress[1].toFQDNs matchPattern *.cdn.example.com",
        ])
        #expect(try PolicyFixtures.item(result, "batch-egress").ruleModeUnsupported == [
            "spec.egressDeny (deny rules)",
            "spec.endpointSelector.matchExpressions",
            "spec.egress[0].toServices (services)",
            "spec.egress[1].toPorts[0].ports[0].endPort (port ranges)",
        ])
        #expect(try PolicyFixtures.item(result, "rule-mode-ok").ruleModeUnsupported == [])
        #expect(try PolicyFixtures.item(result, "no-metadata-service").ruleModeUnsupported == [
            "kind CiliumClusterwideNetworkPolicy: the rule mode edits CiliumNetworkPolicy only",
            "spec.egressDeny (deny rules)",
        ])
        let k8s = try #require(try PolicyFixtures.load("k8s-policies.yaml").items.first)
        #expect(k8s.ruleModeUnsupported == ["kind NetworkPolicy: the rule mode edits CiliumNetworkPolicy only"])
    }

    @Test("A CIDR set with except, and a rule mixing peer types, are outside the rule mode")
    func cidrSetAndMixedPeers() throws {
        let text = """
            kind: CiliumNetworkPolicy
            metadata: {name: m}
            spec:
              endpointSelector: {matchLabels: {app: a}}
              egress:
              - toCIDRSet: [{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}]
              - toEndpoints: [{matchLabels: {app: b}}]
                toEntities: [world]
            """
        let loaded = PolicyDocumentLoader.loadDetailed(text: text, origin: "m", namespace: "ns")
        let model = try #require(loaded.policies.first?.model)
        #expect(model.unsupportedInRuleMode() == [
            "spec.egress[0].toCIDRSet (CIDR sets and except ranges)",
            "spec.egress[1] combines toEndpoints and toEntities (the rule mode keeps one peer type per rule)",
        ])
        #expect(loaded.items[0].description[1] == "Pods with app=a in ns may send outbound traffic on any port to addresses in 0.0.0.0/0 except 10.0.0.0/8, and traffic on any port to pods with app=b in the same namespace or the entity world (anything outside the cluster); all other outbound traffic from them is denied.")
    }
}

// MARK: - Large answers

@Suite("Policy answers")
struct PoliciesAnswerTests {
    @Test("A large API answer (1,000 policies on one JSON line) loads every item")
    func largeAnswer() {
        let item = #"{"metadata":{"name":"p%d","namespace":"ns"},"spec":{"endpointSelector":{"matchLabels":{"app":"a%d"}},"ingress":[{"fromEndpoints":[{"matchLabels":{"app":"b"}}],"toPorts":[{"ports":[{"port":"80","protocol":"TCP"}]}]}]}}"#
        let items = (0..<1000).map { String(format: item, $0, $0) }.joined(separator: ",")
        let text = #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicyList","items":["# + items + "]}"
        let loaded = PolicyDocumentLoader.load(text: text, origin: "big.json")
        #expect(loaded.count == 1000)
        #expect(loaded.allSatisfy { $0.valid && $0.kind == .ciliumNetworkPolicy })
        #expect(loaded.last?.description.first == "Pods with app=a999 in ns accept inbound TCP/80 from pods with app=b in the same namespace; all other inbound traffic to them is denied.")
    }
}
