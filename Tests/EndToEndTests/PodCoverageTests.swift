import Foundation
import Testing

/// Policy coverage from the Kubernetes pod list: a loopback stand-in API (TLS, client certificate)
/// serving the three policy lists and a real EKS pod list (Tests/Fixtures/realworld/kubernetes) in
/// two pages; the exact requests, the coverage rows of workloads only the pod list knows, a 403 and
/// hostile answers on the pod list that leave the policies intact, `pods: false`, and replay.
@Suite("Policy coverage from the Kubernetes pod list")
struct PodCoverageTests {
    static let ns = "kube-system"
    static let podsPath = "/api/v1/namespaces/kube-system/pods"
    static let token = "cG9kcy1wYWdlLTI="

    /// The fixture's items of `namespace`, as a namespaced list holds them.
    static func fixtureItems(namespace: String? = ns) throws -> [Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: repo + "/Tests/Fixtures/realworld/kubernetes/eks-pods.json"))
        let list = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let items = try #require(list["items"] as? [[String: Any]])
        return items.filter { namespace == nil || ($0["metadata"] as? [String: Any])?["namespace"] as? String == namespace }
    }

    static func page(_ items: [Any], continueToken: String?) throws -> String {
        var metadata: [String: Any] = ["resourceVersion": "1171150"]
        if let continueToken { metadata["continue"] = continueToken }
        let body: [String: Any] = ["kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": items]
        return String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
    }

    static let policy = #"{"kind":"CiliumNetworkPolicyList","apiVersion":"cilium.io/v2","metadata":{"resourceVersion":"9"},"items":[{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"dns-in","namespace":"kube-system"},"spec":{"endpointSelector":{"matchLabels":{"k8s-app":"kube-dns"}},"ingress":[{"fromEntities":["cluster"],"toPorts":[{"ports":[{"port":"53","protocol":"UDP"}]}]}]}}]}"#

    /// The policy routes, then `pods`.
    static func routes(pods: [ReplayServer.Route]) -> [ReplayServer.Route] {
        [
            .init(path: "/apis/cilium.io/v2/namespaces/kube-system/ciliumnetworkpolicies", query: "limit=500", responses: [.init(body: policy)]),
            .init(path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", query: "limit=500",
                  responses: [.init(body: #"{"kind":"CiliumClusterwideNetworkPolicyList","apiVersion":"cilium.io/v2","metadata":{},"items":[]}"#)]),
            .init(path: "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies", query: "limit=500",
                  responses: [.init(body: #"{"kind":"NetworkPolicyList","apiVersion":"networking.k8s.io/v1","metadata":{},"items":[]}"#)]),
        ] + pods
    }

    static func twoPages() throws -> [ReplayServer.Route] {
        let items = try fixtureItems()
        return [
            .init(path: podsPath, query: "limit=500", responses: [.init(body: try page(Array(items.prefix(2)), continueToken: token))]),
            .init(path: podsPath, query: "limit=500&continue=cG9kcy1wYWdlLTI%3D", responses: [.init(body: try page(Array(items.dropFirst(2)), continueToken: nil))]),
        ]
    }

    /// Hubble flows into coredns (3 new connections, one reply left out), named by Hubble's workload.
    static func flows(_ dir: String) throws {
        let dst = #"{"namespace":"kube-system","pod_name":"coredns-7f5998f4c-5fblt","labels":["k8s:k8s-app=kube-dns","k8s:io.kubernetes.pod.namespace=kube-system"],"workloads":[{"name":"coredns","kind":"Deployment"}]}"#
        func line(_ reply: Bool) -> String {
            #"{"flow":{"time":"2026-11-19T10:00:00Z","verdict":"FORWARDED","is_reply":\#(reply),"source":{"labels":["reserved:world"]},"destination":\#(dst)}}"#
        }
        try ([line(false), line(false), line(false), line(true)].joined(separator: "\n") + "\n").write(toFile: dir + "/flows.json", atomically: true, encoding: .utf8)
    }

    func setup(_ name: String, pods: [ReplayServer.Route], podsSetting: String = "", withFlows: Bool = true) throws -> (ReplayServer, String, String) {
        let pki = try TestPKI(name: "pki-" + name)
        let server = try ReplayServer(routes: Self.routes(pods: pods), cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir(name)
        try writeKubeconfig(dir + "/kubeconfig", server: server.url, caFile: pki.ca, user: try kubeUser(pki, token: "tr-pods-token-7c1e"))
        if withFlows { try Self.flows(dir) }
        let flows = withFlows ? "flows: { hubble: { flows: [flows.json] } }, " : ""
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - { name: production, namespace: kube-system, \(flows)policies: { kubernetes: { kubeconfig: kubeconfig, timeout: 5\(podsSetting) } } }

        """.write(toFile: dir + "/k8s.yml", atomically: true, encoding: .utf8)
        return (server, dir, dir + "/k8s.yml")
    }

    func policies(_ dir: String) throws -> [String: Any] {
        let json = try #require(try foundationJSON(dir + "/report.json") as? [String: Any])
        return try #require(((json["environments"] as? [[String: Any]])?.first)?["policies"] as? [String: Any])
    }

    func findings(_ dir: String) throws -> [[String: Any]] {
        let json = try #require(try foundationJSON(dir + "/report.json") as? [String: Any])
        return (json["findings"] as? [[String: Any]] ?? []).filter { $0["id"] as? String == "policies.uncovered_workload" }
    }

    @Test("Pod list in two pages: exact requests (limit, continue), a row per workload with where it was seen, traffic 0 for pod-only workloads, findings for them; record then replay gives the same report.json")
    func pagedPodListCoverage() throws {
        let (server, dir, cfg) = try setup("pods-paged", pods: try Self.twoPages())
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json,md,html", "--record", dir + "/rec"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try server.requests().map { "\($0["path"]!)?\($0["query"]!)" } == [
            "/apis/cilium.io/v2/namespaces/kube-system/ciliumnetworkpolicies?limit=500",
            "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies?limit=500",
            "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies?limit=500",
            "\(Self.podsPath)?limit=500", "\(Self.podsPath)?limit=500&continue=cG9kcy1wYWdlLTI%3D",
        ])
        let p = try policies(dir + "/out")
        #expect(p["status"] as? String == "ok")
        let list = try #require(p["pod_list"] as? [String: Any])
        #expect(list["status"] as? String == "read" && list["pods"] as? Int == 4 && list["finished_pods"] as? Int == 0)
        let workloads = try #require(list["workloads"] as? [[String: Any]])
        #expect(workloads.compactMap { $0["name"] as? String } == ["aws-node", "coredns", "kube-proxy"])
        #expect(workloads[1]["pods"] as? Int == 2)
        // The per-pod labels (pod-template-hash, controller-revision-hash…) are not the workload's.
        #expect(workloads[1]["labels"] as? [String: String] == ["eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"])
        #expect(workloads[2]["labels"] as? [String: String] == ["k8s-app": "kube-proxy"])

        let rows = try #require(p["workload_coverage"] as? [[String: Any]])
        #expect(rows.compactMap { $0["workload"] as? String } == ["coredns", "aws-node", "kube-proxy"])
        #expect(rows.compactMap { $0["source"] as? String } == ["both", "pod_list", "pod_list"])
        #expect(rows[0]["ingress_policies"] as? [String] == ["dns-in"])
        #expect((rows[0]["received"] as? [String: Any])?["total"] as? Int == 3)
        for row in rows.dropFirst() {
            #expect(row["ingress_policies"] as? [String] == [] && row["labels_known"] as? Bool == true)
            #expect((row["received"] as? [String: Any])?["total"] as? Int == 0)
        }
        let f = try findings(dir + "/out")
        #expect(f.compactMap { $0["subject"] as? String }.sorted() == ["aws-node", "kube-proxy"])
        #expect(f.allSatisfy { $0["value"] as? Int == 0 && ($0["guidance"] as? String ?? "").contains("seen in the pod list") })

        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains("| Workload | Seen in | Labels | Ingress policies | Egress policies | Connections received |"))
        #expect(md.contains(#"| aws-node | pod list | app.kubernetes.io/name=aws-node, k8s-app=aws-node | none \(default allow\) | none \(default allow\) | 0 |"#), "\(md)")
        #expect(md.contains("| coredns | flows and pod list |"))
        #expect(md.contains(#"3 workloads \(0 seen in the flows only, 2 in the pod list only, 1 in both\); 2 with no policy selecting them for ingress. Workloads from the pod list: 3 from 4 running or pending pod\(s\)."#))

        // The recording holds the pods cut down to name, labels, owner and phase, joined in one list.
        let rec = try String(contentsOfFile: dir + "/rec/production/policies/pods.json", encoding: .utf8)
        #expect(rec.contains("coredns-7f5998f4c-6bb5v") && !rec.contains("continue") && !rec.contains("nodeName") && !rec.contains("podIP"))
        let again = try report(["--replay", dir + "/rec", "--output", dir + "/out2", "--format", "json,md,html"])
        #expect(again.code == 0, "\(again.stderr)")
        for f in ["report.json", "report.md", "report.html"] {
            #expect(FileManager.default.contents(atPath: dir + "/out/" + f) == FileManager.default.contents(atPath: dir + "/out2/" + f), "\(f)")
        }
    }

    @Test("Pods of other namespaces in a namespaced answer are skipped and counted; no pod spec value (an API key in env) reaches the recording or the report")
    func otherNamespacesAndSecrets() throws {
        let all = try Self.fixtureItems(namespace: nil)
        let (server, dir, cfg) = try setup("pods-mixed", pods: [.init(path: Self.podsPath, responses: [.init(body: try Self.page(all, continueToken: nil))])],
                                      withFlows: false)
        defer { withExtendedLifetime(server) {} }
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json,md", "--record", dir + "/rec"])
        #expect(r.code == 0, "\(r.stderr)")
        let list = try #require(try policies(dir + "/out")["pod_list"] as? [String: Any])
        #expect(list["pods"] as? Int == 4 && list["unreadable_items"] as? Int == 2)
        #expect((list["statement"] as? String)?.contains("2 list item(s) that are not pods of the namespace skipped") == true)
        // No flow file: the traffic of pod-list workloads is not known, not zero.
        let rows = try #require(try policies(dir + "/out")["workload_coverage"] as? [[String: Any]])
        #expect(rows.count == 3 && rows.allSatisfy { $0["received"] is NSNull && $0["source"] as? String == "pod_list" })
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains(#"not known \(the flows give no workloads\)"#), "\(md)")
        for f in try FileManager.default.subpathsOfDirectory(atPath: dir) {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))) ?? Data()
            if f.hasSuffix("k8s.yml") || f == "kubeconfig" { continue }
            #expect(data.range(of: Data("superSecret".utf8)) == nil, "\(f)")
        }
    }

    @Test("403 on the pod list: the policies are read, the coverage and the warnings say the pod list was not read and what to grant; replay says the same")
    func forbiddenPods() throws {
        let forbidden = #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:threat-report:threat-report\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"","reason":"Forbidden","code":403}"#
        let (server, dir, cfg) = try setup("pods-403", pods: [.init(path: Self.podsPath, responses: [.init(status: 403, body: forbidden)])])
        defer { withExtendedLifetime(server) {} }
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json,md", "--record", dir + "/rec"])
        #expect(r.code == 0, "\(r.stderr)")
        let p = try policies(dir + "/out")
        #expect(p["status"] as? String == "ok")
        #expect((p["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["dns-in"])
        let note = "workloads from the pod list: not read (403 Forbidden — grant pods list, see docs/ci.md)"
        #expect((p["warnings"] as? [String] ?? []).contains(note), "\(p["warnings"] ?? "")")
        let list = try #require(p["pod_list"] as? [String: Any])
        #expect(list["status"] as? String == "not_read" && list["statement"] as? String == note)
        // Coverage goes on from the flows alone.
        let rows = try #require(p["workload_coverage"] as? [[String: Any]])
        #expect(rows.compactMap { $0["workload"] as? String } == ["coredns"] && rows[0]["source"] as? String == "flows")
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains(#"Workloads from the pod list: not read \(403 Forbidden — grant pods list, see docs/ci.md\)."#), "\(md)")
        let again = try report(["--replay", dir + "/rec", "--output", dir + "/out2", "--format", "json,md"])
        #expect(again.code == 0, "\(again.stderr)")
        #expect(FileManager.default.contents(atPath: dir + "/out/report.json") == FileManager.default.contents(atPath: dir + "/out2/report.json"))
    }

    @Test("Hostile pod list answers (garbage, an endless list that ignores limit, a huge body) are named errors in the coverage; the policies and the rest of the report are intact")
    func hostilePodAnswers() throws {
        // Garbage: named with its source.
        var (server, dir, cfg) = try setup("pods-garbage", pods: [.init(path: Self.podsPath, responses: [.init(body: "<html>gateway says hello</html>")])])
        var r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json,md"])
        #expect(r.code == 0, "\(r.stderr)")
        var p = try policies(dir + "/out")
        var reason = try #require((p["pod_list"] as? [String: Any])?["reason"] as? String)
        #expect(reason.contains(Self.podsPath) && reason.contains("not valid JSON"), "\(reason)")
        #expect(p["status"] as? String == "ok" && (p["items"] as? [[String: Any]])?.count == 1)
        #expect((p["workload_coverage"] as? [[String: Any]])?.count == 1)

        // 5,000 tiny pods per page and always a continue token: stopped at the items cap (10 pages).
        let tiny = (0..<5_000).map { #"{"metadata":{"name":"p\#($0)","namespace":"kube-system"},"status":{"phase":"Running"}}"# }
        let endless = #"{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"more"},"items":[\#(tiny.joined(separator: ","))]}"#
        (server, dir, cfg) = try setup("pods-endless", pods: [.init(path: Self.podsPath, responses: [.init(body: endless)])])
        r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try server.requests().filter { ($0["path"] as? String) == Self.podsPath }.count == 10)
        p = try policies(dir + "/out")
        reason = try #require((p["pod_list"] as? [String: Any])?["reason"] as? String)
        #expect(reason.contains("did not end within 50000 items") && reason.contains("in 10 pages") && reason.contains("stopped paging"), "\(reason)")
        #expect(p["status"] as? String == "ok")

        // A body larger than the answer cap: the read stops, the reason says so.
        (server, dir, cfg) = try setup("pods-huge", pods: [.init(path: Self.podsPath, responses: [.init(mode: "huge", hugeBytes: 300 << 20)])])
        r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        p = try policies(dir + "/out")
        reason = try #require((p["pod_list"] as? [String: Any])?["reason"] as? String)
        #expect(reason.contains("larger than"), "\(reason)")
        #expect(p["status"] as? String == "ok" && (p["items"] as? [[String: Any]])?.count == 1)
        withExtendedLifetime(server) {}
    }

    @Test("policy list reads the policies only: the three lists, no pod list")
    func policyListSkipsPods() throws {
        let (server, dir, cfg) = try setup("pods-list-cmd", pods: try Self.twoPages())
        let r = try run(binary, ["policy", "list", "--config", cfg, "--output", "json"], cwd: dir)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("dns-in"))
        #expect(try server.requests().map { $0["path"] as? String ?? "" }.allSatisfy { !$0.hasSuffix("/pods") })
        #expect(try server.requests().count == 3)
    }

    @Test("pods: false sends the three policy lists only; no pod_list, coverage from the flows alone")
    func podsOff() throws {
        let (server, dir, cfg) = try setup("pods-off", pods: try Self.twoPages(), podsSetting: ", pods: false")
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try server.requests().count == 3)
        let p = try policies(dir + "/out")
        #expect(p["pod_list"] is NSNull)
        #expect((p["workload_coverage"] as? [[String: Any]])?.compactMap { $0["source"] as? String } == ["flows"])
    }
}
