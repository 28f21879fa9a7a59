import Foundation
import Testing

/// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made with openssl.
struct TestPKI {
    let dir: String
    var ca: String { dir + "/ca.crt" }
    var serverCert: String { dir + "/server.crt" }
    var serverKey: String { dir + "/server.key" }
    var clientCert: String { dir + "/client.crt" }
    var clientKey: String { dir + "/client.key" }

    init(name: String = "pki") throws {
        dir = tempDir(name)
        let openssl = try #require(which("openssl"))
        func sh(_ args: [String]) throws {
            let r = try run(openssl, args, cwd: dir)
            try #require(r.code == 0, "openssl \(args.joined(separator: " ")): \(r.stderr)")
        }
        try sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=threat-report test CA"])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
        try sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        try sh(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext"])
        try sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=threat-report-reader"])
        try sh(["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2"])
    }

    func base64(_ path: String) throws -> String { try Data(contentsOf: URL(fileURLWithPath: path)).base64EncodedString() }
}

@Suite("Policies from the Kubernetes API (TLS loopback replay)")
struct KubernetesLiveTests {
    static let token = "tr-canary-kube-token-51d2"

    func list(_ kind: String, _ names: [String], continueToken: String = "") -> String {
        let items = names.map { n in
            kind == "NetworkPolicyList"
                ? #"{"metadata":{"name":"\#(n)","namespace":"shop","resourceVersion":"1"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}"#
                : #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"\#(n)","namespace":"shop"},"spec":{"endpointSelector":{"matchLabels":{"app":"\#(n)"}},"ingress":[{"fromEntities":["world"]}]}}"#
        }
        let apiVersion = kind == "NetworkPolicyList" ? "networking.k8s.io/v1" : "cilium.io/v2"
        return #"{"kind":"\#(kind)","apiVersion":"\#(apiVersion)","metadata":{"resourceVersion":"9","continue":"\#(continueToken)"},"items":[\#(items.joined(separator: ","))]}"#
    }

    func kubeconfig(_ pki: TestPKI, server: String, dir: String, user: String? = nil) throws -> String {
        try writeKubeconfig(dir + "/kubeconfig", server: server, caFile: pki.ca, user: try user ?? kubeUser(pki, token: Self.token))
        let cfg = dir + "/k8s.yml"
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: production, namespace: shop, policies: { kubernetes: { kubeconfig: kubeconfig, timeout: 5 } } }\n"
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        return cfg
    }

    @Test("Lists all three kinds with paging, over TLS with the kubeconfig's CA, client certificate and token")
    func pagedListsWithClientCert() throws {
        let pki = try TestPKI()
        let cnp = "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies"
        let server = try ReplayServer(routes: [
            .init(path: cnp, query: "limit=500", responses: [.init(body: list("CiliumNetworkPolicyList", ["web", "api"], continueToken: "eyJ2IjoxfQ=="))]),
            .init(path: cnp, query: "limit=500&continue=eyJ2IjoxfQ%3D%3D", responses: [.init(body: list("CiliumNetworkPolicyList", ["worker"]))]),
            .init(path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", query: "limit=500", responses: [.init(body: list("CiliumClusterwideNetworkPolicyList", []))]),
            .init(path: "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", query: "limit=500", responses: [.init(body: list("NetworkPolicyList", ["default-deny"]))]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("k8s")
        let r = try report(["--config", try kubeconfig(pki, server: server.url, dir: dir), "--output", dir + "/out", "--format", "json,html", "--record", dir + "/rec"])
        #expect(r.code == 0, "\(r.stderr)")
        let reqs = try server.requests()
        #expect(reqs.map { "\($0["path"]!)?\($0["query"]!)" } == [
            "\(cnp)?limit=500", "\(cnp)?limit=500&continue=eyJ2IjoxfQ%3D%3D",
            "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies?limit=500",
            "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies?limit=500",
            // Then the pods, for coverage (this stand-in has no route for them: a 404, said in the report).
            "/api/v1/namespaces/shop/pods?limit=500",
        ])
        for q in reqs {
            #expect((q["headers"] as? [String: String])?["Authorization"] == "Bearer \(Self.token)")
            #expect((q["client_cert_subject"] as? [String: String])?["commonName"] == "threat-report-reader")
        }
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let items = try #require((((json["environments"] as? [[String: Any]])?.first)?["policies"] as? [String: Any])?["items"] as? [[String: Any]])
        #expect(items.compactMap { $0["name"] as? String } == ["web", "api", "worker", "default-deny"])
        // The recording joins the pages and replays to the same set; it never holds the token.
        let rec = try String(contentsOfFile: dir + "/rec/production/policies/ciliumnetworkpolicies.json", encoding: .utf8)
        #expect(rec.contains("\"worker\"") && !rec.contains("continue"))
        for f in try FileManager.default.subpathsOfDirectory(atPath: dir + "/rec") {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/rec/" + f))) ?? Data()
            #expect(data.range(of: Data(Self.token.utf8)) == nil, "\(f)")
        }
    }

    @Test("403 on the Cilium kinds means Cilium is not installed: an empty state, not a failure")
    func ciliumMissing() throws {
        let pki = try TestPKI(name: "pki403")
        let forbidden = #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"ciliumnetworkpolicies.cilium.io is forbidden"}"#
        let server = try ReplayServer(routes: [
            .init(path: "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies", responses: [.init(status: 403, body: forbidden)]),
            .init(path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", responses: [.init(status: 404, body: #"{"kind":"Status","code":404}"#)]),
            .init(path: "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", responses: [.init(body: list("NetworkPolicyList", ["default-deny"]))]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("k8s403")
        let r = try report(["--config", try kubeconfig(pki, server: server.url, dir: dir), "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let policies = try #require(((json["environments"] as? [[String: Any]])?.first)?["policies"] as? [String: Any])
        #expect(policies["status"] as? String == "ok")
        #expect((policies["notes"] as? [String])?.first?.hasPrefix("Cilium is not installed") == true)
        #expect((policies["items"] as? [[String: Any]])?.count == 1)
    }

    @Test("A server certificate from another CA is refused with a plain reason; exit 3")
    func wrongCA() throws {
        let pki = try TestPKI(name: "pkiA"), other = try TestPKI(name: "pkiB")
        let server = try ReplayServer(routes: [], cert: other.serverCert, key: other.serverKey)
        let dir = tempDir("k8sca")
        let r = try report(["--config", try kubeconfig(pki, server: server.url, dir: dir), "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 3)
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let error = try #require((((json["environments"] as? [[String: Any]])?.first)?["policies"] as? [String: Any])?["error"] as? String)
        #expect(error.contains("not trusted") || error.contains("TLS"), "\(error)")
        #expect(try server.requests().isEmpty)
    }

    @Test("A kubeconfig with an exec plugin gets a clear error that suggests piping kubectl into stdin")
    func execPlugin() throws {
        let pki = try TestPKI(name: "pkiexec")
        let dir = tempDir("k8sexec")
        let cfg = try kubeconfig(pki, server: "https://127.0.0.1:1", dir: dir, user: "    exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: aws }")
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 3)
        #expect(r.stderr.contains("exec or auth-provider plugin")
                && r.stderr.contains("kubectl get ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies,networkpolicies -A -o yaml | threat-report report --config FILE --policies -"))
    }

    /// What `kubectl get ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies,networkpolicies -A -o yaml` prints.
    static let allNamespaces = """
    apiVersion: v1
    kind: List
    items:
    - apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata: { name: web, namespace: shop-production }
      spec: { endpointSelector: { matchLabels: { app: web } }, ingress: [ { fromEndpoints: [ { matchLabels: { app: frontend } } ] } ] }
    - apiVersion: cilium.io/v2
      kind: CiliumClusterwideNetworkPolicy
      metadata: { name: cluster-dns }
      spec: { endpointSelector: {}, egress: [ { toEndpoints: [ { matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system } } ] } ] }
    - apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: { name: default-deny, namespace: shop-staging }
      spec: { podSelector: {}, policyTypes: [Ingress] }
    - apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: { name: other-team, namespace: billing }
      spec: { podSelector: {}, policyTypes: [Ingress] }
    """

    @Test("The suggested pipe works: --policies - reads stdin once, and each environment keeps its namespace's policies and the cluster-wide ones; --record/--replay keep it")
    func policiesFromStdin() throws {
        let dir = tempDir("k8s-stdin")
        let cfg = dir + "/cfg.yml"
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - { name: production, namespace: shop-production, policies: { kubernetes: { kubeconfig: /nonexistent/kubeconfig } } }
          - { name: staging, namespace: shop-staging }
        """.write(toFile: cfg, atomically: true, encoding: .utf8)
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json,html", "--policies", "-", "--record", dir + "/rec"],
                           stdin: Data(Self.allNamespaces.utf8))
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let envs = try #require(json["environments"] as? [[String: Any]])
        func names(_ i: Int) -> [String] {
            ((envs[i]["policies"] as? [String: Any])?["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        }
        #expect(names(0) == ["web", "cluster-dns"])
        #expect(names(1) == ["cluster-dns", "default-deny"])
        let notes = (envs[0]["policies"] as? [String: Any])?["notes"] as? [String] ?? []
        #expect(notes.contains("2 policies of other namespaces in stdin left out"), "\(notes)")
        // The recording keeps stdin, and the replay reads it from there.
        let again = try report(["--replay", dir + "/rec", "--output", dir + "/out2", "--format", "json,html"])
        #expect(again.code == 0, "\(again.stderr)")
        for f in ["report.json", "report.html"] {
            #expect(FileManager.default.contents(atPath: dir + "/out/" + f) == FileManager.default.contents(atPath: dir + "/out2/" + f), "\(f)")
        }
        let bad = try report(["--config", cfg, "--replay", dir + "/rec"])
        #expect(bad.code == 2 && bad.stderr.contains("drop --config"))
    }
}
