import Foundation
import Testing
import ThreatModel
@testable import ThreatPolicy

/// What `policy enable|disable|new --apply` sends, built without a network.
@Suite("Policy writes for --apply")
struct PoliciesWriteTests {
    func json(_ s: String) throws -> JSONValue { try JSONValue.parse(bytes: Array(s.utf8)) }

    @Test("API paths per kind: namespaced Cilium and Kubernetes policies, cluster-wide Cilium policies")
    func paths() {
        #expect(KubernetesPolicyAPI.path(kind: .ciliumNetworkPolicy, namespace: "shop", name: "web") == "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/web")
        #expect(KubernetesPolicyAPI.path(kind: .networkPolicy, namespace: "shop", name: nil) == "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies")
        #expect(KubernetesPolicyAPI.path(kind: .ciliumClusterwideNetworkPolicy, namespace: "ignored", name: "host") == "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies/host")
    }

    @Test("disable: a merge patch per policy with only the label, the resourceVersion when the manifest has one; --name picks")
    func disablePatches() throws {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: cilium.io/v2
              kind: CiliumNetworkPolicy
              metadata: {name: a, namespace: shop, resourceVersion: "12"}
              spec:
                endpointSelector: {matchLabels: {app: a}}
                egress: [{}]
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: b}
              spec: {podSelector: {}, policyTypes: [Egress]}

            """
        let edited = try PolicyLabelEditor.apply(.disable, to: text, origin: "list.yaml").text
        let all = try KubernetesPolicyAPI.patches(.disable, edited: edited, origin: "list.yaml", names: [], namespace: "shop", dryRun: false)
        #expect(all.map(\.path) == ["/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/a", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/b"])
        #expect(all.map(\.method) == ["PATCH", "PATCH"] && all.allSatisfy { $0.contentType == "application/merge-patch+json" && $0.params.isEmpty })
        #expect(try json(all[0].body) == json(#"{"metadata":{"resourceVersion":"12"},"spec":{"endpointSelector":{"matchLabels":{"network-policy.gitlab.com/disabled_by":"gitlab"}}}}"#))
        #expect(try json(all[1].body) == json(#"{"spec":{"podSelector":{"matchLabels":{"network-policy.gitlab.com/disabled_by":"gitlab"}}}}"#))
        #expect(all.map(\.location) == ["list.yaml:4", "list.yaml:10"])
        let one = try KubernetesPolicyAPI.patches(.disable, edited: edited, origin: "list.yaml", names: ["b"], namespace: "shop", dryRun: true)
        #expect(one.map(\.name) == ["b"] && one[0].params == [["dryRun", "All"]])
    }

    @Test("Namespaces: the manifest's or --namespace; missing or conflicting ones are refused before anything is sent")
    func namespaces() throws {
        let doc = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec: {podSelector: {}}\n"
        #expect(try KubernetesPolicyAPI.patches(.enable, edited: doc, origin: "f", names: [], namespace: nil, dryRun: false)[0].namespace == "shop")
        #expect(throws: PolicyWriteError("f:1: NetworkPolicy x is in namespace 'shop', but --namespace says 'other'")) {
            try KubernetesPolicyAPI.patches(.enable, edited: doc, origin: "f", names: [], namespace: "other", dryRun: false)
        }
        let bare = doc.replacingOccurrences(of: ", namespace: shop", with: "")
        #expect(throws: PolicyWriteError("f:1: NetworkPolicy x has no metadata.namespace; pass --namespace NAME")) {
            try KubernetesPolicyAPI.patches(.enable, edited: bare, origin: "f", names: [], namespace: nil, dryRun: false)
        }
        #expect(throws: PolicyWriteError("f:1: 'Shop_1' is not a namespace name")) {
            try KubernetesPolicyAPI.patches(.enable, edited: bare, origin: "f", names: [], namespace: "Shop_1", dryRun: false)
        }
    }

    @Test("create: the manifest as JSON in the given namespace, POSTed to the collection")
    func create() throws {
        var p = RuleModePolicy(name: "web", namespace: nil)
        p.toEntities = ["world"]
        let w = try KubernetesPolicyAPI.create(manifest: p.yaml(), origin: "new policy", namespace: "shop", dryRun: true)
        #expect(w.method == "POST" && w.contentType == "application/json")
        #expect(w.path == "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies" && w.params == [["dryRun", "All"]])
        let body = try json(w.body)
        #expect(body.at("metadata.namespace")?.stringValue == "shop" && body.at("metadata.name")?.stringValue == "web")
        #expect(body["kind"]?.stringValue == "CiliumNetworkPolicy")
    }

    @Test("Answers: a stored object's name, resourceVersion and enforcement; Status refusals in words, control characters out")
    func outcomes() throws {
        let w = PolicyWrite(operation: .patch, kind: .ciliumNetworkPolicy, name: "web", namespace: "shop", dryRun: false, body: "{}", location: "f:1")
        let ok = KubernetesPolicyAPI.outcome(w, status: 200, body: Array(#"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"web","namespace":"shop","resourceVersion":"99"},"spec":{"endpointSelector":{"matchLabels":{"network-policy.gitlab.com/disabled_by":"gitlab"}}}}"#.utf8))
        #expect(ok.succeeded && ok.resourceVersion == "99" && ok.enforced == false)
        #expect(ok.summary == "PATCH /apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/web → 200: ciliumnetworkpolicy shop/web resourceVersion 99, not enforced (GitLab's disabled_by label)")
        func refused(_ status: Int, _ message: String) -> String {
            KubernetesPolicyAPI.outcome(w, status: status, body: Array(#"{"kind":"Status","code":\#(status),"message":"\#(message)"}"#.utf8)).error ?? ""
        }
        #expect(refused(404, "not found").hasPrefix("404 Not Found: ciliumnetworkpolicy shop/web does not exist on the server"))
        #expect(refused(409, "modified").hasPrefix("409 Conflict: ciliumnetworkpolicy shop/web changed on the server"))
        #expect(refused(403, "no").contains("may not patch ciliumnetworkpolicies"))
        #expect(refused(422, "bad\\u001b[2J").hasSuffix("The server said: bad [2J"))
        #expect(refused(500, "boom") == "HTTP 500: the server did not take the change. The server said: boom")
        let proxy = KubernetesPolicyAPI.outcome(w, status: 502, body: Array("<html>Bad Gateway</html>".utf8))
        #expect(proxy.error == "HTTP 502: the server did not take the change. The server said: <html>Bad Gateway</html>")
    }
}
