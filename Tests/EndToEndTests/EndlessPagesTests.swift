import Foundation
import Testing

/// A Kubernetes API that never ends a list (it hands out a `continue` token with every page) is
/// followed to a cap of items, bytes and pages, then refused with a clear error; the rest of the
/// report is written (docs/limits.md).
@Suite("Kubernetes paging is bounded")
struct EndlessPagesTests {
    @Test("Endless pages: a loopback API answering 500 items and a continue token forever is stopped after 50,000 items (100 pages), exit 3, the section says why")
    func endlessPages() throws {
        let pki = try TestPKI(name: "pki-endless")
        let items = (0..<500).map { #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"p\#($0)","namespace":"shop"},"spec":{"endpointSelector":{},"ingress":[{"fromEntities":["cluster"]}]}}"# }
        let page = #"{"kind":"CiliumNetworkPolicyList","apiVersion":"cilium.io/v2","metadata":{"resourceVersion":"9","continue":"again"},"items":[\#(items.joined(separator: ","))]}"#
        let server = try ReplayServer(routes: [
            .init(path: "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies", responses: [.init(body: page)]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("endless")
        try writeKubeconfig(dir + "/kubeconfig", server: server.url, caFile: pki.ca, user: try kubeUser(pki, token: "tr-endless-token"))
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: production, namespace: shop, policies: { kubernetes: { kubeconfig: kubeconfig, timeout: 5 } } }\n"
            .write(toFile: dir + "/k8s.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/k8s.yml", "--output", dir + "/out", "--format", "json,html"])
        #expect(r.code == 3, "\(r.stderr)")
        let requests = try server.requests()
        #expect(requests.count == 100, "pages fetched: \(requests.count)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let policies = try #require(((json["environments"] as? [[String: Any]])?.first)?["policies"] as? [String: Any])
        #expect(policies["status"] as? String == "unavailable")
        let error = try #require(policies["error"] as? String)
        #expect(error.contains("/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies") && error.contains("did not end within 50000 items")
                && error.contains("read 50000 items") && error.contains("in 100 pages") && error.contains("stopped paging"), "\(error)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/report.html"))
    }
}
