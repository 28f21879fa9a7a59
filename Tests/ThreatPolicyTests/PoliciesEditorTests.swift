import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy
import TestSupport

/// `policy enable` / `policy disable`: GitLab's disabled_by label added or removed in the text.
@Suite("Policy enable and disable")
struct PoliciesEditorTests {
    static let label = "network-policy.gitlab.com/disabled_by: gitlab"

    func disable(_ text: String, names: [String] = []) throws -> PolicyLabelResult {
        try PolicyLabelEditor.apply(.disable, to: text, origin: "t.yaml", names: names)
    }

    func enable(_ text: String, names: [String] = []) throws -> PolicyLabelResult {
        try PolicyLabelEditor.apply(.enable, to: text, origin: "t.yaml", names: names)
    }

    /// The loader's models, for "means the same" comparisons.
    func models(_ text: String) -> [NetworkPolicyModel?] {
        PolicyDocumentLoader.loadDetailed(text: text, origin: "t.yaml").policies.map(\.model)
    }

    func stripped(_ m: NetworkPolicyModel?) -> NetworkPolicyModel? {
        guard var m else { return nil }
        for i in m.specs.indices {
            switch m.specs[i].subject {
            case let .pods(s): m.specs[i].subject = .pods(s.withoutGitLabDisabledBy)
            case let .nodes(s): m.specs[i].subject = .nodes(s.withoutGitLabDisabledBy)
            }
        }
        return m
    }

    @Test("A block matchLabels gets the label as its last line; comments and the rest stay byte for byte")
    func blockMatchLabels() throws {
        let text = """
            # The storefront.
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: web   # keep me
            spec:
              endpointSelector:
                matchLabels:
                  app: web
                  # tier comes next
                  tier: "front"
              ingress:
                - fromEntities: [world]

            """
        let r = try disable(text)
        #expect(r.text == text.replacingOccurrences(of: "      tier: \"front\"\n", with: "      tier: \"front\"\n      \(Self.label)\n"))
        #expect(r.changes == [PolicyLabelChange(name: "web", kind: .ciliumNetworkPolicy, location: "t.yaml:2", changed: true)])
        #expect(r.notes.isEmpty)
        #expect(models(r.text).allSatisfy { $0?.enabled == false })
        #expect(try enable(r.text).text == text)
    }

    @Test("Selectors without matchLabels: {} becomes {matchLabels: {…}}, a block gets a matchLabels block, null gets one")
    func createMatchLabels() throws {
        let flow = "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n"
        let d1 = try disable(flow).text
        #expect(d1.contains("  podSelector: {matchLabels: {\(Self.label)}}\n"))
        #expect(try enable(d1).text == flow)

        let block = """
            kind: NetworkPolicy
            apiVersion: networking.k8s.io/v1
            metadata: {name: b}
            spec:
              podSelector:
                matchExpressions:
                - {key: app, operator: In, values: [web]}
              policyTypes: [Ingress]

            """
        let d2 = try disable(block).text
        #expect(d2.contains("    - {key: app, operator: In, values: [web]}\n    matchLabels:\n      \(Self.label)\n  policyTypes"))
        #expect(try enable(d2).text == block)

        let empty = "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: c}\nspec:\n  podSelector:\n  policyTypes: [Ingress]\n"
        let d3 = try disable(empty).text
        #expect(d3.contains("  podSelector:\n    matchLabels:\n      \(Self.label)\n  policyTypes"))
        // The selector comes back as `{}`: the same (empty) selector, spelt explicitly.
        #expect(try enable(d3).text == empty.replacingOccurrences(of: "  podSelector:\n", with: "  podSelector: {}\n"))

        let explicitNull = "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: d}\nspec:\n  podSelector: null\n"
        #expect(try disable(explicitNull).text.contains("  podSelector: {matchLabels: {\(Self.label)}}\n"))
    }

    @Test("Enabling keeps other labels; it removes matchLabels only when the label was all it held")
    func enableKeepsOtherLabels() throws {
        let text = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: web
            spec:
              endpointSelector:
                matchLabels: {k8s:\(gitlabDisabledByLabel): gitlab, app: web}
              egress:
              - {}

            """
        let r = try enable(text)
        #expect(r.text.contains("    matchLabels: {app: web}\n"))
        #expect(r.changes.map(\.changed) == [true])
        #expect(models(r.text).first??.enabled == true)
        let again = try enable(r.text)
        #expect(again.text == r.text)
        #expect(again.changes.map(\.changed) == [false])
    }

    @Test("Disabling a disabled policy changes nothing; --name picks policies; other documents stay as they are")
    func idempotentAndNames() throws {
        let text = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: not-a-policy}
            data: {a: b}
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: one}
            spec:
              endpointSelector:
                matchLabels:
                  \(Self.label)
              egress: [{}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: two}
            spec:
              endpointSelector: {matchLabels: {app: web}}
              egress: [{}]

            """
        let all = try disable(text)
        #expect(all.changes.map(\.changed) == [false, true])
        #expect(all.changes.map(\.location) == ["t.yaml:6", "t.yaml:15"])
        #expect(all.text == text.replacingOccurrences(of: "{matchLabels: {app: web}}", with: "{matchLabels: {\(Self.label), app: web}}"))
        let onlyOne = try enable(text, names: ["one"])
        #expect(onlyOne.changes.map(\.name) == ["one"])
        #expect(onlyOne.text.contains("metadata: {name: one}\nspec:\n  endpointSelector: {}\n  egress: [{}]\n"))
        #expect(onlyOne.text.hasPrefix("apiVersion: v1\nkind: ConfigMap\n"))
        #expect(throws: PolicyLabelError.unknownNames(["three"], origin: "t.yaml", known: ["one", "two"])) {
            try disable(text, names: ["three"])
        }
    }

    @Test("specs: every rule set's selector; a kind: List; a JSON answer keeps JSON")
    func specsListsAndJSON() throws {
        let specs = try String(contentsOf: PolicyFixtures.root.appendingPathComponent("specs.yaml"), encoding: .utf8)
        let d = try disable(specs)
        for m in models(d.text) { #expect(m?.specs.allSatisfy(\.isDisabledByGitLab) == true) }
        #expect(models(try enable(d.text).text).map(stripped) == models(specs).map(stripped))

        let list = try String(contentsOf: PolicyFixtures.root.appendingPathComponent("list.yaml"), encoding: .utf8)
        let dl = try disable(list)
        #expect(!dl.changes.isEmpty)
        #expect(PolicyDocumentLoader.loadDetailed(text: dl.text, origin: "l").items.allSatisfy { !$0.enabled })

        let json = try String(contentsOf: PolicyFixtures.root.appendingPathComponent("api-list.json"), encoding: .utf8)
        let dj = try disable(json)
        #expect(dj.notes.isEmpty)
        #expect(dj.text.contains("\"\(gitlabDisabledByLabel)\": \"gitlab\""))
        #expect(try JSONValue.parse(dj.text)["items"]?.arrayValue?.isEmpty == false)
        let back = try enable(dj.text)
        #expect(try JSONValue.parse(back.text) == JSONValue.parse(json)
            || models(back.text).map(stripped) == models(json).map(stripped))
    }

    @Test("CRLF line ends are kept; an anchored selector is written anew by Yams, with a note")
    func crlfAndFallback() throws {
        let crlf = "kind: NetworkPolicy\r\napiVersion: networking.k8s.io/v1\r\nmetadata:\r\n  name: a\r\nspec:\r\n  podSelector:\r\n    matchLabels:\r\n      app: web\r\n"
        let d = try disable(crlf).text
        #expect(d == crlf + "      \(Self.label)\r\n")
        #expect(try enable(d).text == crlf)

        let anchored = """
            kind: NetworkPolicy
            apiVersion: networking.k8s.io/v1
            metadata: {name: a}
            spec:
              podSelector: &pods
                matchLabels: {app: web}
              ingress:
              - from:
                - podSelector: *pods

            """
        let r = try disable(anchored)
        #expect(r.notes.count == 1)
        #expect(r.notes.first?.hasPrefix("t.yaml:1: written anew by Yams") == true)
        let m = try #require(models(r.text).first ?? nil)
        #expect(!m.enabled)
        // The peer keeps its labels: only the spec's selector got the label.
        #expect(m.specs[0].ingress?[0].peers == .some([.pods(podSelector: LabelSelector(matchLabels: [LabelPair("app", "web")]), namespaceSelector: nil)]))
    }

    @Test("Errors: a broken policy document with line:column, no policy, no selector, a matchLabels that is not a mapping")
    func errors() {
        let broken = "kind: NetworkPolicy\nmetadata:\n  name: x\nspec:\n  podSelector: {\n"
        #expect {
            try disable(broken)
        } throws: { e in
            guard case let .unreadable(m) = e as? PolicyLabelError else { return false }
            return m.hasPrefix("t.yaml:") && m.split(separator: ":").count >= 3
        }
        #expect(throws: PolicyLabelError.noPolicies(origin: "t.yaml")) { try disable("kind: ConfigMap\nmetadata: {name: a}\n") }
        #expect {
            try disable("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a}\nspec:\n  policyTypes: [Ingress]\n")
        } throws: { e in
            (e as? PolicyLabelError)?.description == "t.yaml:1: NetworkPolicy a has no spec.podSelector to carry the \(gitlabDisabledByLabel) label"
        }
        #expect {
            try disable("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a}\nspec:\n  podSelector:\n    matchLabels: app=web\n")
        } throws: { e in
            (e as? PolicyLabelError)?.description.hasPrefix("t.yaml:1: NetworkPolicy a: podSelector.matchLabels is not a mapping; fix the manifest first") == true
        }
    }

    @Test("Round trip over the corpus: disable then enable means the same, and is byte for byte the same when no matchLabels was empty")
    func corpusRoundTrip() throws {
        // Only this recipe writes an empty `matchLabels:`; it comes back as `podSelector: {}`.
        let emptyMatchLabels = "ahmetb_kubernetes-network-policy-recipes/04-deny-traffic-from-other-namespaces/deny-from-other-namespaces.yaml"
        for file in PolicyFixtures.corpusFiles() {
            let text = try String(contentsOf: PolicyFixtures.corpus.appendingPathComponent(file), encoding: .utf8)
            let disabled = try disable(text)
            #expect(disabled.notes.isEmpty, "\(file)")
            let d = PolicyDocumentLoader.loadDetailed(text: disabled.text, origin: file)
            #expect(d.items.allSatisfy { $0.valid && !$0.enabled }, "\(file)")
            let enabled = try enable(disabled.text)
            let e = PolicyDocumentLoader.loadDetailed(text: enabled.text, origin: file)
            #expect(e.items.allSatisfy { $0.valid && $0.enabled }, "\(file)")
            #expect(e.policies.map { stripped($0.model) } == models(text).map(stripped), "\(file)")
            #expect(e.items.map(\.description) == PolicyDocumentLoader.loadDetailed(text: text, origin: file).items.map {
                $0.description.filter { $0 != PolicyExplainer.disabledSentence }.map { $0.replacingOccurrences(of: "When enabled, ", with: "") }
                    .map { PolicyExplainer.upperFirst($0) }
            }, "\(file)")
            let wasEnabled = models(text).allSatisfy { $0?.enabled == true }
            if wasEnabled && file != emptyMatchLabels {
                #expect(enabled.text == text, "\(file)")
            } else if !wasEnabled {
                // enable then disable gives back the disabled original byte for byte.
                #expect(try disable(try enable(text).text).text == text, "\(file)")
            }
        }
    }
}

@Suite("Policy enable and disable on damaged input")
struct PoliciesEditorRobustnessTests {
    @Test("Every fixture, and 2,000 damaged copies of them, give an edited stream or a typed error, never a crash; what is edited is in the state asked for")
    func neverCrashes() throws {
        let root = PolicyFixtures.root.path
        let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()
        #expect(files.count > 20)
        var texts = try files.map { try String(contentsOfFile: root + "/" + $0, encoding: .utf8) }
        var rng = SplitMix(state: 20261121)
        let pieces = ["{", "}", "[", "]", ":", " ", "\n", "- ", "#", "'", "\"", "&a ", "*a", "!!map ", "\r\n", "---\n", "\t", "é", "\u{FEFF}"]
        for _ in 0..<2000 {
            var scalars = Array(texts[Int.random(in: 0..<files.count, using: &rng)].unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !scalars.isEmpty {
                let at = Int.random(in: 0..<scalars.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: scalars.remove(at: at)
                case 1: scalars.insert(contentsOf: pieces.randomElement(using: &rng)!.unicodeScalars, at: at)
                default: scalars.removeSubrange(at..<min(scalars.count, at + Int.random(in: 1...12, using: &rng)))
                }
            }
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars)
            texts.append(String(s))
        }
        var edited = 0
        for text in texts {
            for action in PolicyEnforcementAction.allCases {
                do {
                    let r = try PolicyLabelEditor.apply(action, to: text, origin: "f")
                    edited += 1
                    // Whatever was edited reads back with every policy in the state asked for.
                    let items = PolicyDocumentLoader.loadDetailed(text: r.text, origin: "f").items
                    for c in r.changes {
                        guard let item = items.first(where: { $0.name == c.name }), item.valid else { continue }
                        #expect(item.enabled == (action == .enable), "\(action) \(c.name): \(text)")
                    }
                } catch {
                    #expect(!error.description.isEmpty)
                }
            }
        }
        #expect(edited > 500)
    }
}
