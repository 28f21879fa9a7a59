import Foundation
import Testing

/// `policy enable|disable|new --apply` against a TLS loopback server that demands the client
/// certificate: the exact method, path, query, Content-Type, body and Authorization of each write.
@Suite("policy --apply (TLS loopback API server)")
struct PolicyApplyTests {
    static let token = "tr-canary-apply-token-7c41"

    /// A kubeconfig for `server` with the PKI's CA, client certificate and key, and a token.
    func kubeconfig(_ pki: TestPKI, server: String, dir: String) throws -> String {
        let path = dir + "/kubeconfig"
        try writeKubeconfig(path, server: server, caFile: pki.ca, user: try kubeUser(pki, token: Self.token), context: "writer")
        return path
    }

    func cli(_ args: [String], stdin: String? = nil, env: [String: String] = [:]) throws -> Run {
        try run(policyCLI, ["policy"] + args, env: env, stdin: stdin.map { Data($0.utf8) })
    }

    func write(_ text: String, _ dir: String, _ name: String = "policies.yaml") throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func body(_ request: [String: Any]) throws -> NSDictionary {
        let text = try #require(request["body"] as? String)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary, "\(text)")
    }

    func header(_ request: [String: Any], _ name: String) -> String? {
        (request["headers"] as? [String: String])?.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    static let twoPolicies = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: web
          namespace: shop
          resourceVersion: "41"
        spec:
          endpointSelector:
            matchLabels:
              app: web
          ingress:
          - fromEndpoints:
            - matchLabels: {app: frontend}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: deny-all
        spec:
          podSelector: {}
          policyTypes: [Ingress]

        """

    static func answer(_ kind: String, _ apiVersion: String, _ name: String, rv: String, selectorKey: String, disabled: Bool) -> String {
        let labels = disabled ? #"{"network-policy.gitlab.com/disabled_by":"gitlab"}"# : "{}"
        return #"{"apiVersion":"\#(apiVersion)","kind":"\#(kind)","metadata":{"name":"\#(name)","namespace":"shop","resourceVersion":"\#(rv)"},"spec":{"\#(selectorKey)":{"matchLabels":\#(labels)}}}"#
    }

    @Test("disable --apply: one merge PATCH per policy, to each kind's path, with the token, the client certificate and the resourceVersion")
    func disableApply() throws {
        let pki = try TestPKI(name: "pki-apply")
        let cnp = "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/web"
        let np = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/deny-all"
        let server = try ReplayServer(routes: [
            .init(method: "PATCH", path: cnp, responses: [.init(body: Self.answer("CiliumNetworkPolicy", "cilium.io/v2", "web", rv: "42", selectorKey: "endpointSelector", disabled: true))]),
            .init(method: "PATCH", path: np, responses: [.init(body: Self.answer("NetworkPolicy", "networking.k8s.io/v1", "deny-all", rv: "43", selectorKey: "podSelector", disabled: true))]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("apply-disable")
        let file = try write(Self.twoPolicies, dir)
        let r = try cli(["disable", file, "--apply", "--namespace", "shop", "--kubeconfig", try kubeconfig(pki, server: server.url, dir: dir)])
        #expect(r.code == 0, "\(r.stderr)")
        // stdout: the edited manifest, as without --apply.
        #expect(r.stdout.contains("      app: web\n      network-policy.gitlab.com/disabled_by: gitlab\n"))
        let reqs = try server.requests()
        try #require(reqs.count == 2)
        #expect(reqs.map { $0["method"] as? String } == ["PATCH", "PATCH"])
        #expect(reqs.map { $0["path"] as? String } == [cnp, np])
        #expect(reqs.map { $0["query"] as? String } == ["", ""])
        for q in reqs {
            #expect(header(q, "Content-Type") == "application/merge-patch+json")
            #expect(header(q, "Authorization") == "Bearer \(Self.token)")
            #expect((q["client_cert_subject"] as? [String: String])?["commonName"] == "threat-report-reader")
        }
        #expect(try body(reqs[0]) == [
            "metadata": ["resourceVersion": "41"],
            "spec": ["endpointSelector": ["matchLabels": ["network-policy.gitlab.com/disabled_by": "gitlab"]]],
        ] as NSDictionary)
        #expect(try body(reqs[1]) == ["spec": ["podSelector": ["matchLabels": ["network-policy.gitlab.com/disabled_by": "gitlab"]]]] as NSDictionary)
        // What was sent and what the server answered, on stderr; never the token.
        #expect(r.stderr.contains("sending: PATCH \(server.url)\(cnp) (application/merge-patch+json)"))
        #expect(r.stderr.contains("applied: PATCH \(cnp) → 200: ciliumnetworkpolicy shop/web resourceVersion 42, not enforced (GitLab's disabled_by label)"))
        #expect(r.stderr.contains("applied: PATCH \(np) → 200: networkpolicy shop/deny-all resourceVersion 43, not enforced"))
        #expect(!r.stderr.contains(Self.token) && !r.stdout.contains(Self.token))
    }

    @Test("enable --apply --dry-run=server: dryRun=All; the label set to null in spec, a specs list sent whole without it")
    func enableDryRun() throws {
        let pki = try TestPKI(name: "pki-apply-dry")
        let manifest = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: multi
              namespace: shop
            specs:
            - endpointSelector:
                matchLabels: {app: web, network-policy.gitlab.com/disabled_by: gitlab}
              egress:
              - toEntities: [world]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumClusterwideNetworkPolicy
            metadata:
              name: nodes
            spec:
              nodeSelector:
                matchLabels:
                  k8s:network-policy.gitlab.com/disabled_by: gitlab
              ingress:
              - fromEntities: [cluster]

            """
        let multi = "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/multi"
        let ccnp = "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies/nodes"
        let server = try ReplayServer(routes: [
            .init(method: "PATCH", path: multi, query: "dryRun=All", responses: [.init(body: #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"multi","namespace":"shop","resourceVersion":"7"},"specs":[{"endpointSelector":{"matchLabels":{"app":"web"}},"egress":[{"toEntities":["world"]}]}]}"#)]),
            .init(method: "PATCH", path: ccnp, query: "dryRun=All", responses: [.init(body: #"{"apiVersion":"cilium.io/v2","kind":"CiliumClusterwideNetworkPolicy","metadata":{"name":"nodes","resourceVersion":"8"},"spec":{"nodeSelector":{"matchLabels":{}},"ingress":[{"fromEntities":["cluster"]}]}}"#)]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("apply-enable")
        let r = try cli(["enable", "-", "--apply", "--dry-run=server"], stdin: manifest,
                        env: ["KUBECONFIG": try kubeconfig(pki, server: server.url, dir: dir)])
        #expect(r.code == 0, "\(r.stderr)")
        let reqs = try server.requests()
        try #require(reqs.count == 2)
        #expect(reqs.map { "\($0["method"]!) \($0["path"]!)?\($0["query"]!)" } == ["PATCH \(multi)?dryRun=All", "PATCH \(ccnp)?dryRun=All"])
        #expect(try body(reqs[0]) == ["specs": [["endpointSelector": ["matchLabels": ["app": "web"]], "egress": [["toEntities": ["world"]]]]]] as NSDictionary)
        let nulls = ["network-policy.gitlab.com/disabled_by", "k8s:network-policy.gitlab.com/disabled_by", "any:network-policy.gitlab.com/disabled_by"]
        #expect(try body(reqs[1]) == ["spec": ["nodeSelector": ["matchLabels": Dictionary(uniqueKeysWithValues: nulls.map { ($0, NSNull()) })]]] as NSDictionary)
        #expect(r.stderr.contains("applied: PATCH \(multi)?dryRun=All → 200: ciliumnetworkpolicy shop/multi resourceVersion 7, enforced (server dry run: nothing stored)"))
        #expect(r.stderr.contains("ciliumclusterwidenetworkpolicy nodes resourceVersion 8, enforced (server dry run"))
    }

    @Test("new --apply --dry-run=server: a POST create of the printed policy in --namespace")
    func newApply() throws {
        let pki = try TestPKI(name: "pki-apply-new")
        let collection = "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies"
        let server = try ReplayServer(routes: [
            .init(method: "POST", path: collection, query: "dryRun=All", responses: [.init(status: 201, body: #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"web-ingress","namespace":"shop","uid":"u1"},"spec":{"endpointSelector":{"matchLabels":{"app":"web"}},"ingress":[{"fromEndpoints":[{"matchLabels":{"app":"frontend"}}]}]}}"#)]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("apply-new")
        let r = try cli(["new", "--name", "web-ingress", "--namespace", "shop", "--endpoint", "app=web", "--allow-from-labels", "app=frontend",
                         "--ports", "80/tcp", "--apply", "--dry-run=server", "--kubeconfig", try kubeconfig(pki, server: server.url, dir: dir), "--context", "writer"])
        #expect(r.code == 0, "\(r.stderr)")
        let reqs = try server.requests()
        try #require(reqs.count == 1)
        #expect(reqs[0]["method"] as? String == "POST" && reqs[0]["path"] as? String == collection && reqs[0]["query"] as? String == "dryRun=All")
        #expect(header(reqs[0], "Content-Type") == "application/json")
        #expect(header(reqs[0], "Authorization") == "Bearer \(Self.token)")
        // The body is the printed manifest, as JSON.
        #expect(r.stdout.hasPrefix("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: web-ingress\n  namespace: shop\n"))
        #expect(try body(reqs[0]) == [
            "apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": ["name": "web-ingress", "namespace": "shop"],
            "spec": [
                "endpointSelector": ["matchLabels": ["app": "web"]],
                "ingress": [["fromEndpoints": [["matchLabels": ["app": "frontend"]]],
                             "toPorts": [["ports": [["port": "80", "protocol": "TCP"]]]]]],
            ],
        ] as NSDictionary)
        #expect(r.stderr.contains("applied: POST \(collection)?dryRun=All → 201: ciliumnetworkpolicy shop/web-ingress, enforced (server dry run: nothing stored)"))
    }

    @Test("--in-cluster: the service account's token and CA, the API server from KUBERNETES_SERVICE_HOST/PORT")
    func inCluster() throws {
        let pki = try TestPKI(name: "pki-apply-sa")
        let path = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/deny-all"
        let server = try ReplayServer(routes: [
            .init(method: "PATCH", path: path, responses: [.init(body: Self.answer("NetworkPolicy", "networking.k8s.io/v1", "deny-all", rv: "3", selectorKey: "podSelector", disabled: false))]),
        ], cert: pki.serverCert, key: pki.serverKey)
        let sa = tempDir("apply-sa")
        try "sa-token-canary-93b1\n".write(toFile: sa + "/token", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: pki.ca, toPath: sa + "/ca.crt")
        let file = try write(Self.twoPolicies, tempDir("apply-sa-in"))
        let r = try cli(["enable", file, "--name", "deny-all", "--apply", "--in-cluster", "--namespace", "shop"],
                        env: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "\(server.port)",
                              "THREAT_REPORT_SERVICEACCOUNT_DIR": sa, "KUBECONFIG": "/nonexistent/kubeconfig"])
        #expect(r.code == 0, "\(r.stderr)")
        let reqs = try server.requests()
        try #require(reqs.count == 1, "--name deny-all: only that policy is patched")
        #expect(reqs[0]["path"] as? String == path && header(reqs[0], "Authorization") == "Bearer sa-token-canary-93b1")
        #expect(try body(reqs[0]) == ["spec": ["podSelector": ["matchLabels": ["network-policy.gitlab.com/disabled_by": NSNull()]]]] as NSDictionary)
        #expect(r.stderr.contains("applied: PATCH \(path) → 200: networkpolicy shop/deny-all resourceVersion 3, enforced"))
        #expect(!r.stderr.contains("sa-token-canary"))
    }

    @Test("Refusals: 404, 409, 403 and 422 each say what happened with the Status message; exit 3, the others still sent")
    func refusals() throws {
        let pki = try TestPKI(name: "pki-apply-err")
        func status(_ code: Int, _ reason: String, _ message: String) -> String {
            #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"\#(reason)","code":\#(code),"message":"\#(message)"}"#
        }
        let base = "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/"
        let server = try ReplayServer(routes: [
            .init(method: "PATCH", path: base + "gone", responses: [.init(status: 404, body: status(404, "NotFound", "ciliumnetworkpolicies.cilium.io \\\"gone\\\" not found"))]),
            .init(method: "PATCH", path: base + "stale", responses: [.init(status: 409, body: status(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again"))]),
            .init(method: "PATCH", path: base + "locked", responses: [.init(status: 403, body: status(403, "Forbidden", "user \\\"viewer\\\" cannot patch resource \\\"ciliumnetworkpolicies\\\""))]),
            .init(method: "PATCH", path: base + "bad", responses: [.init(status: 422, body: status(422, "Invalid", "spec.ingress[0].toPorts[0].ports[0].port: Invalid value: \\\"http\\\"\\u001b[31m"))]),
            .init(method: "PATCH", path: base + "fine", responses: [.init(body: Self.answer("CiliumNetworkPolicy", "cilium.io/v2", "fine", rv: "5", selectorKey: "endpointSelector", disabled: true))]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("apply-err")
        let docs = ["gone", "stale", "locked", "bad", "fine"].map { n in
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: \(n), namespace: shop, resourceVersion: \"3\"}\nspec:\n  endpointSelector: {}\n  egress: [{}]\n"
        }
        let r = try cli(["disable", try write(docs.joined(separator: "---\n"), dir), "--apply", "--kubeconfig", try kubeconfig(pki, server: server.url, dir: dir)])
        #expect(r.code == 3, "\(r.stderr)")
        #expect(try server.requests().count == 5)
        #expect(r.stderr.contains("404 Not Found: ciliumnetworkpolicy shop/gone does not exist on the server"))
        #expect(r.stderr.contains(#"The server said: ciliumnetworkpolicies.cilium.io "gone" not found"#))
        #expect(r.stderr.contains("409 Conflict: ciliumnetworkpolicy shop/stale changed on the server since this manifest was read"))
        #expect(r.stderr.contains("kubectl get ciliumnetworkpolicies stale -n shop -o yaml"))
        #expect(r.stderr.contains("403 Forbidden: these credentials may not patch ciliumnetworkpolicies"))
        #expect(r.stderr.contains(#"user "viewer" cannot patch"#))
        #expect(r.stderr.contains("422 Unprocessable: the server refused the policy as invalid. The server said: spec.ingress[0].toPorts[0].ports[0].port: Invalid value"))
        #expect(!r.stderr.contains("\u{1b}"), "control characters from the server are not printed")
        #expect(r.stderr.contains("applied: PATCH \(base)fine → 200"))

        // A create that meets an existing object.
        let exists = try ReplayServer(routes: [
            .init(method: "POST", path: "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies",
                  responses: [.init(status: 409, body: status(409, "AlreadyExists", "ciliumnetworkpolicies.cilium.io \\\"web\\\" already exists"))]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir2 = tempDir("apply-exists")
        let n = try cli(["new", "--name", "web", "--namespace", "shop", "--allow-to-entities", "world", "--apply",
                         "--kubeconfig", try kubeconfig(pki, server: exists.url, dir: dir2)])
        #expect(n.code == 3)
        #expect(n.stderr.contains("409 Conflict: ciliumnetworkpolicy shop/web already exists") && n.stderr.contains(#""web" already exists"#))
        #expect(try exists.requests().count == 1, "a refused create is not retried")
    }

    @Test("Without --apply nothing leaves the machine; usage errors are found before anything is sent")
    func nothingWithoutApply() throws {
        let pki = try TestPKI(name: "pki-apply-none")
        let server = try ReplayServer(routes: [], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("apply-none")
        let cfg = try kubeconfig(pki, server: server.url, dir: dir)
        let file = try write(Self.twoPolicies, dir)
        let env = ["KUBECONFIG": cfg]
        for args in [["disable", file], ["enable", file], ["new", "--name", "x", "--namespace", "shop", "--allow-to-entities", "world"]] {
            let r = try cli(args, env: env)
            #expect(r.code == 0, "\(args): \(r.stderr)")
            #expect(!r.stdout.isEmpty && !r.stderr.contains("sending:"))
        }
        let usage: [([String], String)] = [
            (["disable", file, "--dry-run=server"], "--dry-run=server needs --apply"),
            (["enable", file, "--kubeconfig", cfg], "need --apply"),
            (["disable", file, "--namespace", "shop"], "--namespace needs --apply"),
            (["new", "--name", "x", "--allow-to-entities", "world", "--apply"], "--apply needs --namespace"),
            (["disable", file, "--apply", "--in-cluster", "--context", "writer"], "--in-cluster cannot be combined"),
            (["disable", file, "--apply", "--dry-run=client"], "dry-run"),
            // deny-all has no namespace and none is given: refused before anything is printed or sent.
            (["disable", file, "--apply"], "NetworkPolicy deny-all has no metadata.namespace; pass --namespace NAME"),
            (["disable", file, "--apply", "--namespace", "other"], "is in namespace 'shop', but --namespace says 'other'"),
        ]
        for (args, message) in usage {
            let r = try cli(args, env: env)
            #expect(r.code == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args)")
        }
        #expect(try server.requests().isEmpty, "no request without --apply, and none after a usage error")
    }
}
