import Foundation
import Testing

/// `policy delete NAME --namespace NS --apply [--dry-run=server]` against the TLS loopback API
/// server stand-in: the exact DELETE (path, dryRun=All, no body, the token sent and never printed);
/// without --apply nothing is sent.
@Suite("policy delete (TLS loopback API server)")
struct PolicyDeleteTests {
    static let token = "tr-canary-delete-token-91d3"

    func kubeconfig(_ pki: TestPKI, server: String, dir: String) throws -> String {
        let path = dir + "/kubeconfig"
        try writeKubeconfig(path, server: server, caFile: pki.ca, user: try kubeUser(pki, token: Self.token), context: "writer")
        return path
    }

    func header(_ request: [String: Any], _ name: String) -> String? {
        (request["headers"] as? [String: String])?.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    static let deleted = #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"web-ingress","namespace":"shop","resourceVersion":"77"},"spec":{"endpointSelector":{"matchLabels":{"app":"web"}}}}"#

    @Test("delete --apply --dry-run=server: one DELETE of the object path with dryRun=All, no body, the token; exit 0")
    func deleteDryRun() throws {
        let pki = try TestPKI(name: "pki-delete")
        let path = "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/web-ingress"
        let server = try ReplayServer(routes: [
            .init(method: "DELETE", path: path, query: "dryRun=All", responses: [.init(body: Self.deleted)]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("delete-dry")
        let r = try run(policyCLI, ["policy", "delete", "web-ingress", "--namespace", "shop", "--apply", "--dry-run=server",
                                    "--kubeconfig", try kubeconfig(pki, server: server.url, dir: dir)])
        #expect(r.code == 0, "\(r.stderr)")
        let reqs = try server.requests()
        try #require(reqs.count == 1)
        #expect(reqs[0]["method"] as? String == "DELETE")
        #expect(reqs[0]["path"] as? String == path)
        #expect(reqs[0]["query"] as? String == "dryRun=All")
        #expect((reqs[0]["body"] as? String ?? "") == "")
        #expect(header(reqs[0], "Content-Type") == nil)
        #expect(header(reqs[0], "Authorization") == "Bearer \(Self.token)")
        #expect(r.stderr.contains("sending: DELETE \(server.url)\(path)?dryRun=All\n"))
        #expect(r.stderr.contains("applied: DELETE \(path)?dryRun=All → 200: ciliumnetworkpolicy shop/web-ingress resourceVersion 77: deleted (server dry run: nothing stored)"))
        #expect(!r.stderr.contains(Self.token) && !r.stdout.contains(Self.token))
    }

    @Test("delete --apply of a NetworkPolicy that is not there: 404 explained, exit 3")
    func deleteMissing() throws {
        let pki = try TestPKI(name: "pki-delete-404")
        let path = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/gone"
        let server = try ReplayServer(routes: [
            .init(method: "DELETE", path: path, responses: [.init(status: 404, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"networkpolicies.networking.k8s.io \"gone\" not found"}"#)]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("delete-404")
        let r = try run(policyCLI, ["policy", "delete", "gone", "--kind", "kubernetes", "--namespace", "shop", "--apply",
                                    "--kubeconfig", try kubeconfig(pki, server: server.url, dir: dir)])
        #expect(r.code == 3, "\(r.stderr)")
        let reqs = try server.requests()
        #expect(reqs.count == 1 && reqs[0]["query"] as? String == "")
        #expect(r.stderr.contains("404 Not Found: networkpolicy shop/gone does not exist on the server"))
        #expect(r.stderr.contains("The server said: networkpolicies.networking.k8s.io \"gone\" not found"))
        #expect(!r.stderr.contains(Self.token))
    }

    @Test("delete without --apply says what it would send and sends nothing; bad names and namespaces are refused")
    func deleteWithoutApply() throws {
        let r = try run(policyCLI, ["policy", "delete", "web-ingress", "--namespace", "shop"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("would send: DELETE /apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/web-ingress for ciliumnetworkpolicy shop/web-ingress; nothing was sent."))
        #expect(r.stderr.contains("`kubectl -n shop delete ciliumnetworkpolicies web-ingress`"))
        let cw = try run(policyCLI, ["policy", "delete", "deny-world", "--kind", "clusterwide"])
        #expect(cw.code == 0 && cw.stderr.contains("DELETE /apis/cilium.io/v2/ciliumclusterwidenetworkpolicies/deny-world"), "\(cw.stderr)")
        let traversal = try run(policyCLI, ["policy", "delete", "../../secrets/x", "--namespace", "shop", "--apply"])
        #expect(traversal.code == 2 && traversal.stderr.contains("is not a Kubernetes object name"), "\(traversal.stderr)")
        let badNS = try run(policyCLI, ["policy", "delete", "web", "--namespace", "Shop/x", "--apply"])
        #expect(badNS.code == 2 && badNS.stderr.contains("is not a namespace name"), "\(badNS.stderr)")
        let noNS = try run(policyCLI, ["policy", "delete", "web"])
        #expect(noNS.code != 0 && noNS.stderr.contains("--namespace is required"), "\(noNS.stderr)")
    }
}
