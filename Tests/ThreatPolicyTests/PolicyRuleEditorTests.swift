import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

/// `policy edit`: rule-mode additions and removals applied in place (comments and layout kept),
/// and refusals for policies outside rule mode.
@Suite("Policy rule-mode editing")
struct PolicyRuleEditorTests {
    static let policy = """
        # The storefront policy, reviewed 2026-11.
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: web
          namespace: shop   # production
        spec:
          endpointSelector:
            matchLabels:
              app: web
          ingress:
            # from the frontend
            - fromEndpoints:
                - matchLabels:
                    app: frontend
                - matchLabels:
                    app: admin
              toPorts:
                - ports:
                    - port: "8080"
                      protocol: TCP
            # the load balancer
            - fromEntities:
                - world

        """

    func edit(_ text: String = PolicyRuleEditorTests.policy, _ change: (inout RuleModeEdit) -> Void) throws(PolicyRuleEditError) -> PolicyRuleEditResult {
        var e = RuleModeEdit()
        change(&e)
        return try PolicyRuleEditor.apply(e, to: text, origin: "web.yaml")
    }

    @Test("remove a label peer and a whole rule with its comment; every other line kept byte for byte")
    func removals() throws {
        let r = try edit {
            $0.remove.fromLabels = [[LabelPair("app", "admin")]]
            $0.remove.fromEntities = ["world"]
        }
        #expect(r.text == Self.policy
            .replacingOccurrences(of: "        - matchLabels:\n            app: admin\n", with: "")
            .replacingOccurrences(of: "    # the load balancer\n    - fromEntities:\n        - world\n", with: ""))
        #expect(r.notes == ["spec.ingress[0].fromEndpoints: removed app=admin", "spec.ingress[1]: removed the rule (fromEntities world)"])
    }

    @Test("add rules after the section's last rule in its indentation, and a new egress section at the end of spec")
    func additions() throws {
        let r = try edit {
            $0.add.fromLabels = [[LabelPair("app", "monitor")]]
            $0.add.toEntities = ["kube-apiserver"]
            $0.add.ports = [RuleModePort(port: 9090)]
        }
        #expect(r.text == Self.policy + """
                - fromEndpoints:
                  - matchLabels:
                      app: monitor
                  toPorts:
                  - ports:
                    - port: "9090"
                      protocol: TCP
              egress:
              - toEntities:
                - kube-apiserver
                toPorts:
                - ports:
                  - port: "9090"
                    protocol: TCP

            """)
        #expect(r.notes == ["spec.ingress: added 1 rule", "spec.egress: added 1 rule"])
        let back = try #require(PolicyDocumentLoader.loadDetailed(text: r.text, origin: "x").policies.first?.model)
        #expect(back.ruleSummaryLines().contains("ingress from app=monitor port 9090/TCP"))
        #expect(back.ruleSummaryLines().contains("egress to entity kube-apiserver port 9090/TCP"))
    }

    @Test("removing the last rule removes the section and says the direction is no longer restricted")
    func lastRule() throws {
        let r = try edit {
            $0.remove.fromLabels = [[LabelPair("app", "frontend")], [LabelPair("app", "admin")]]
            $0.remove.fromEntities = ["world"]
        }
        #expect(!r.text.contains("ingress"))
        #expect(r.text.hasSuffix("    matchLabels:\n      app: web\n"))
        #expect(r.notes.last == "spec.ingress: no rule left, so the section was removed: this policy no longer restricts inbound traffic")
    }

    @Test("a peer no rule allows is an error naming the flag; nothing changes")
    func missingPeer() {
        #expect(throws: PolicyRuleEditError("--remove-from-labels app=nobody: no rule of spec.ingress in web.yaml allows it (nothing was changed)")) {
            try edit { $0.remove.fromLabels = [[LabelPair("app", "nobody")]] }
        }
    }

    @Test("policies outside rule mode are refused with 'switch to YAML mode'")
    func outsideRuleMode() throws {
        let deny = Self.policy + "  ingressDeny:\n    - fromEntities: [world]\n"
        let cidrSet = Self.policy.replacingOccurrences(of: "    - fromEntities:\n        - world\n", with: "    - fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]\n")
        let flow = Self.policy.replacingOccurrences(of: "    - fromEntities:\n        - world\n", with: "    - fromEntities: [world, cluster]\n")
        let k8s = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: db}
            spec:
              podSelector: {}

            """
        for (text, reason) in [(deny, "spec.ingressDeny (deny rules)"), (cidrSet, "fromCIDRSet"), (k8s, "kind NetworkPolicy")] {
            do {
                _ = try edit(text) { $0.add.fromEntities = ["cluster"] }
                Issue.record("accepted a policy outside rule mode (\(reason))")
            } catch {
                #expect(error.description.contains(reason), "\(error)")
                #expect(error.description.contains("switch to YAML mode"))
            }
        }
        // A flow-style peer list cannot lose one entry in place.
        do {
            _ = try edit(flow) { $0.remove.fromEntities = ["world"] }
            Issue.record("edited a flow list in place")
        } catch {
            #expect(error.description == "web.yaml: spec.ingress[1].fromEntities is written as a flow list ([…]); switch to YAML mode: edit the file by hand, then check it with `threat-report policy explain web.yaml`")
        }
        // ... but the whole rule can go.
        let whole = try edit(flow) { $0.remove.fromEntities = ["world", "cluster"] }
        #expect(!whole.text.contains("fromEntities"))
    }

    @Test("a file with two policies, an invalid policy or no change is refused")
    func otherRefusals() {
        #expect(throws: PolicyRuleEditError.self) { try edit(Self.policy + "---\n" + Self.policy) { $0.add.fromEntities = ["cluster"] } }
        #expect(throws: PolicyRuleEditError.self) { try edit(Self.policy.replacingOccurrences(of: "- world", with: "- 300.1.2.3/8")) { $0.add.fromEntities = ["cluster"] } }
        #expect(throws: PolicyRuleEditError("nothing to change: give at least one --allow-* or --remove-* flag")) { try edit { _ in } }
    }
}
