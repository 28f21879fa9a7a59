import Foundation
import Testing

/// `--record DIR` then `--replay DIR`: the report regenerated from the recording alone, byte for byte.
@Suite("Record and replay a whole run")
struct RecordReplayTests {
    static let formats = "html,md,json,sarif,junit,codequality,pdf"

    /// Elasticsearch and Prometheus on one loopback server, the Kubernetes API (paged, TLS with a
    /// client certificate) on another, and local raw logs and manifests for a second environment.
    struct Lab {
        let engines: ReplayServer
        let kube: ReplayServer
        let dir: String
        let config: String
    }

    func lab() throws -> Lab {
        let flows = repo + "/samples/production/flows/"
        func answer(_ file: String) -> ReplayServer.Response { .init(bodyFile: file) }
        let engines = try ReplayServer(routes: [
            .fieldCaps(), .uriMapping(),
            .init(method: "POST", path: "/es/_msearch", responses: [answer(repo + "/samples/production/waf/msearch.json"),
                                                                     answer(repo + "/samples/production/waf/previous/msearch.json")]),
            .init(path: "/prom/api/v1/query", responses: ["totals", "inbound", "outbound", "drop_reasons", "drop_pairs"].map { answer(flows + $0 + ".json") }
                + ["totals", "inbound", "outbound", "drop_reasons", "drop_pairs"].map { answer(flows + "previous/" + $0 + ".json") }),
            .init(path: "/prom/api/v1/query_range", responses: [answer(flows + "rate.json"), answer(flows + "previous/rate.json")]),
        ])
        let pki = try TestPKI(name: "replay-pki")
        let k8s = KubernetesLiveTests()
        let cnp = "/apis/cilium.io/v2/namespaces/shop-production/ciliumnetworkpolicies"
        let kube = try ReplayServer(routes: [
            .init(path: cnp, query: "limit=500", responses: [.init(body: k8s.list("CiliumNetworkPolicyList", ["web", "api"], continueToken: "eyJ2IjoxfQ=="))]),
            .init(path: cnp, query: "limit=500&continue=eyJ2IjoxfQ%3D%3D", responses: [.init(body: k8s.list("CiliumNetworkPolicyList", ["worker"]))]),
            .init(path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", query: "limit=500",
                  responses: [.init(status: 403, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","code":403}"#)]),
            .init(path: "/apis/networking.k8s.io/v1/namespaces/shop-production/networkpolicies", query: "limit=500",
                  responses: [.init(body: k8s.list("NetworkPolicyList", ["default-deny"]))]),
            // The pods, for policy coverage: a Deployment's pod and a finished Job's.
            .init(path: "/api/v1/namespaces/shop-production/pods", query: "limit=500", responses: [.init(body: #"""
                {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[
                {"metadata":{"name":"web-7d9f8b6c5d-x2k9p","namespace":"shop-production","labels":{"app":"web","pod-template-hash":"7d9f8b6c5d"},
                 "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d9f8b6c5d","controller":true,"uid":"u1"}]},
                 "spec":{"containers":[{"name":"web","env":[{"name":"TOKEN","value":"tr-canary-pod-env"}]}]},"status":{"phase":"Running"}},
                {"metadata":{"name":"migrate-x7k2p","namespace":"shop-production","labels":{"job-name":"migrate"},
                 "ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"migrate","controller":true,"uid":"u2"}]},"status":{"phase":"Succeeded"}}]}
                """#)]),
        ], cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca)
        let dir = tempDir("record-replay")
        _ = try k8s.kubeconfig(pki, server: kube.url, dir: dir)   // writes dir/kubeconfig
        try FileManager.default.createDirectory(atPath: dir + "/raw", withIntermediateDirectories: true)
        for f in ["access.log", "modsec_audit.log"] {
            try FileManager.default.copyItem(atPath: repo + "/samples/raw/" + f, toPath: dir + "/raw/" + f)
        }
        try FileManager.default.copyItem(atPath: repo + "/samples/production/policies", toPath: dir + "/manifests")
        let config = dir + "/threat-report.yml"
        try """
        version: 1
        title: Recorded run
        window: 24h
        to: 2026-11-20T00:00:00Z
        timezone: Europe/Berlin
        environments:
          - name: production
            namespace: shop-production
            hosts: [shop.example.com]
            waf:
              elasticsearch: { url: "\(engines.url)/es", api_key_env: TR_REPLAY_ES_KEY, timeout: 5 }
            flows:
              prometheus: { url: "\(engines.url)/prom", bearer_token_env: TR_REPLAY_PROM_TOKEN, timeout: 5 }
            policies:
              kubernetes: { kubeconfig: kubeconfig, timeout: 5 }
          - name: raw logs
            namespace: shop-staging
            waf:
              files: { audit_log: raw/modsec_audit.log, access_log: raw/access.log, audit_log_timezone: Europe/Berlin }
            policies: { directory: manifests }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return Lab(engines: engines, kube: kube, dir: dir, config: config)
    }

    /// Every file under `dir`, relative path → bytes.
    func tree(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for f in try FileManager.default.subpathsOfDirectory(atPath: dir) {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue, !f.hasPrefix(".") else { continue }
            out[f] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
        }
        return out
    }

    static let secrets = ["TR_REPLAY_ES_KEY": "tr-canary-replay-es-1c9e", "TR_REPLAY_PROM_TOKEN": "tr-canary-replay-prom-77ab",
                          "THREAT_REPORT_RETRY_BACKOFF": "0.05"]

    @Test("--replay regenerates every output file byte for byte with the engines gone; evidence names the original URLs; a changed answer shows")
    func byteForByte() throws {
        var lab: Lab? = try lab()
        let dir = lab!.dir
        let engineURL = lab!.engines.url
        let kubeURL = lab!.kube.url
        // No SOURCE_DATE_EPOCH: the replay must take generated_at from the recording.
        let first = try report(["--config", "threat-report.yml", "--output", "out1", "--format", Self.formats, "--record", "rec"],
                               cwd: dir, env: Self.secrets)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(try lab!.engines.requests().count == 18,
                "1 _field_caps and 1 _mapping/field for the run (both windows), 1 + 1 _msearch, 6 + 6 Prometheus queries, 2 workload queries (report window only)")
        #expect(try lab!.kube.requests().count == 5, "3 policy lists (one in 2 pages) and the pod list")
        lab = nil   // both servers are gone: a replay that reached for the network would fail

        let recorded = try tree(dir + "/rec")
        for f in ["recording.json", "config.yml", "production/waf/source.json", "production/waf/previous/source.json",
                  "production/flows/previous/rate.json", "production/policies/source.json", "raw-logs/waf/source.json"] {
            #expect(recorded[f] != nil, "rec/\(f)")
        }
        for (f, data) in recorded {
            for s in Self.secrets.values where s.hasPrefix("tr-canary") { #expect(data.range(of: Data(s.utf8)) == nil, "secret in rec/\(f)") }
            #expect(data.range(of: Data(KubernetesLiveTests.token.utf8)) == nil, "kube token in rec/\(f)")
            #expect(data.range(of: Data("tr-canary-pod-env".utf8)) == nil, "pod spec value in rec/\(f)")
        }

        // No secrets in the environment, and the recording named by an absolute path. The local inputs
        // (raw logs, manifests) are read again where the config names them.
        let second = try report(["--replay", dir + "/rec", "--output", dir + "/out2", "--format", Self.formats], cwd: dir)
        #expect(second.code == 0, "\(second.stderr)")
        let a = try tree(dir + "/out1"), b = try tree(dir + "/out2")
        #expect(a.count >= 10 && a.keys.sorted() == b.keys.sorted())
        for (f, data) in a { #expect(b[f] == data, "\(f) differs") }

        let json = try String(contentsOfFile: dir + "/out2/report.json", encoding: .utf8)
        #expect(json.contains("\(engineURL)/es/_msearch") && json.contains("\(engineURL)/prom/api/v1/query_range"))
        #expect(json.contains("\(kubeURL)/apis/cilium.io/v2/namespaces/shop-production/ciliumnetworkpolicies"))
        #expect(json.contains("raw/access.log") && json.contains("\"total_requests\": 889348"))
        #expect(!json.contains("/rec/"), "the replay names the original sources, not the recording's files")

        // The replay reads the recorded answers: change one and the numbers change.
        let msearch = dir + "/rec/production/waf/msearch.json"
        let text = try String(contentsOfFile: msearch, encoding: .utf8)
        try text.replacingOccurrences(of: "889348", with: "889349").write(toFile: msearch, atomically: true, encoding: .utf8)
        let third = try report(["--replay", dir + "/rec", "--output", dir + "/out3", "--format", "json"], cwd: dir)
        #expect(third.code == 0, "\(third.stderr)")
        #expect(try String(contentsOfFile: dir + "/out3/report.json", encoding: .utf8).contains("\"total_requests\": 889349"))
    }

    @Test("--replay: a changed config copy, a missing recording or a flag it replaces is a usage error (exit 2) naming the place")
    func replayErrors() throws {
        let dir = tempDir("replay-errors")
        let missing = try report(["--replay", dir + "/none", "--output", dir + "/out"])
        #expect(missing.code == 2 && missing.stderr.contains("--replay: \(dir)/none/recording.json: no such file"), "\(missing.stderr)")
        let flag = try report(["--replay", dir + "/none", "--window", "3d"])
        #expect(flag.code == 2 && flag.stderr.contains("drop --window"), "\(flag.stderr)")

        let rec = dir + "/rec"
        let r = try report(["--config", "samples/threat-report.yml", "--output", dir + "/out", "--format", "json", "--record", rec])
        #expect(r.code == 0 || r.code == 1, "\(r.stderr)")
        try "version: 1\nenvironments: []\n".write(toFile: rec + "/config.yml", atomically: true, encoding: .utf8)
        let tampered = try report(["--replay", rec, "--output", dir + "/out2"])
        #expect(tampered.code == 2 && tampered.stderr.contains("does not match config_sha256"), "\(tampered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out2/report.json"))
    }

    @Test("Evidence: SHA256SUMS covers every output file and passes sha256sum -c; HTML and Markdown show report.json's SHA-256")
    func checksums() throws {
        let dir = tempDir("checksums")
        let r = try report(["--config", "samples/threat-report.yml", "--output", dir, "--format", Self.formats])
        #expect(r.code == 0 || r.code == 1, "\(r.stderr)")
        #expect(!r.stdout.contains("SHA256SUMS"), "stdout lists the reports only")
        let sums = try String(contentsOfFile: dir + "/SHA256SUMS", encoding: .utf8)
        let listed = sums.split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1].dropFirst()) }
        let written = try tree(dir).keys.filter { $0 != "SHA256SUMS" }.sorted()
        #expect(listed == written && listed.contains("report.pdf") && listed.contains { $0.hasPrefix("charts/") })
        let check = try run(try #require(which("sha256sum")), ["-c", "--strict", "SHA256SUMS"], cwd: dir)
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        let jsonDigest = try #require(sums.split(separator: "\n").first { $0.hasSuffix("  report.json") }?.prefix(64))
        #expect(try String(contentsOfFile: dir + "/report.html", encoding: .utf8).contains("SHA-256 <code>\(jsonDigest)</code>"))
        #expect(try String(contentsOfFile: dir + "/report.md", encoding: .utf8).contains("SHA-256 \(jsonDigest);"))
        // A changed file fails the check.
        try "tampered".write(toFile: dir + "/report.md", atomically: true, encoding: .utf8)
        #expect(try run(try #require(which("sha256sum")), ["-c", "--quiet", "SHA256SUMS"], cwd: dir).code != 0)
    }
}
