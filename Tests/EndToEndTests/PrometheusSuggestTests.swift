import Foundation
import Testing

/// Workload-level suggestions from a real Prometheus backfilled with Hubble counters that carry a
/// workload context (scripts/lab/hubble_workload_openmetrics.py), on a free loopback port.
enum WorkloadTSDB {
    /// One TSDB per context (`labels`, `workload`, `none`), made once per test run, with the
    /// generator's table of connections.
    static let made: Result<String, Error> = Result {
        let dir = tempDir("promwl")
        let promtool = try #require(which("promtool"), "promtool is not installed: `make test` installs prometheus")
        for c in ["labels", "workload", "none"] {
            let gen = try run("/usr/bin/env", ["python3", repo + "/scripts/lab/hubble_workload_openmetrics.py", "--context", c,
                                               "--output", "\(dir)/\(c).om", "--table", dir + "/table.jsonl"])
            guard gen.code == 0 else { throw LivePrometheus.Failure("generator failed: \(gen.stderr)") }
            let fill = try run(promtool, ["tsdb", "create-blocks-from", "openmetrics", "\(dir)/\(c).om", "\(dir)/tsdb-\(c)"])
            guard fill.code == 0 else { throw LivePrometheus.Failure("promtool failed: \(fill.stderr)") }
        }
        return dir
    }

    static func server(_ context: String) throws -> LivePrometheus {
        try LivePrometheus(tsdb: try made.get() + "/tsdb-\(context)")
    }
}

@Suite("Suggested policies from Hubble workload metrics in a real Prometheus", .serialized)
struct PrometheusSuggestTests {
    static let window = ["--from", "2026-11-19T12:00:00Z", "--to", "2026-11-20T00:00:00Z"]
    static let to = 1_795_132_800
    static let labelsQuery = "sum by(source_namespace,source_workload,destination_namespace,destination_workload,protocol,type,verdict) "
        + "(increase(hubble_flows_processed_total{destination_namespace=\"shop\"}[43200s]) or increase(hubble_flows_processed_total{source_namespace=\"shop\"}[43200s]))"
    static let contextQuery = "sum by(source,destination,protocol,type,verdict) "
        + "(increase(hubble_flows_processed_total{destination=~\"shop/.+\"}[43200s]) or increase(hubble_flows_processed_total{source=~\"shop/.+\"}[43200s]))"

    /// A peer rule as the test reads it back from a manifest: direction, namespace, selector
    /// label, protocol (port-0 entries only: every port of the protocol).
    struct Rule: Hashable, CustomStringConvertible {
        var direction: String, namespace: String, label: String, proto: String
        var description: String { "\(direction) \(namespace) \(label) \(proto)" }
    }

    /// What a label value can be (Kubernetes): the test's own check, not the tool's.
    static func validName(_ s: String) -> Bool {
        s.range(of: "^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", options: .regularExpression) != nil
    }

    static func selector(_ ns: String, _ name: String) -> String {
        ns == "kube-system" && name == "coredns" ? "k8s-app=kube-dns" : "app.kubernetes.io/name=\(name)"
    }

    /// The independent recount: per workload of `shop`, the rules the allowed policy-verdict
    /// connections give, from (namespace, workload) pairs.
    static func expected(_ pairs: [(src: (String, String), dst: (String, String), proto: String)]) -> [String: Set<Rule>] {
        var out: [String: Set<Rule>] = [:]
        for p in pairs where ["TCP", "UDP", "SCTP"].contains(p.proto) {
            let named = !p.src.0.isEmpty && !p.dst.0.isEmpty && validName(p.src.1) && validName(p.dst.1)
            guard named else { continue }
            if p.dst.0 == "shop" { out[p.dst.1, default: []].insert(Rule(direction: "ingress", namespace: p.src.0, label: selector(p.src.0, p.src.1), proto: p.proto)) }
            if p.src.0 == "shop" { out[p.src.1, default: []].insert(Rule(direction: "egress", namespace: p.dst.0, label: selector(p.dst.0, p.dst.1), proto: p.proto)) }
        }
        return out
    }

    /// Reads the peer rules back from a manifest's text, line by line.
    static func rules(_ yaml: String) -> Set<Rule> {
        var out = Set<Rule>(), direction = "", ns = "", label = ""
        var lastPort: String?
        for line in yaml.split(separator: "\n").map(String.init) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if line == "  ingress:" || line == "  egress:" { direction = String(t.dropLast()) }
            if t.hasPrefix("k8s:io.kubernetes.pod.namespace: ") { ns = String(t.dropFirst("k8s:io.kubernetes.pod.namespace: ".count)) }
            if !direction.isEmpty, t.hasPrefix("app.kubernetes.io/name: ") || t.hasPrefix("k8s-app: ") {
                label = t.replacingOccurrences(of: ": ", with: "=")
            }
            if t.hasPrefix("- fromEntities:") || t.hasPrefix("- toEntities:") { ns = "entity"; label = "" }
            if !ns.isEmpty, ns == "entity", t.hasPrefix("- ") && !t.contains(":") { label = String(t.dropFirst(2)) }
            if t.hasPrefix("protocol: "), let prev = lastPort, prev == "\"0\"" {
                out.insert(Rule(direction: direction, namespace: ns, label: label, proto: String(t.dropFirst("protocol: ".count))))
            }
            if t.hasPrefix("- port: ") { lastPort = String(t.dropFirst("- port: ".count)) } else if !t.hasPrefix("protocol: ") { lastPort = nil }
        }
        return out
    }

    func files(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: dir) {
            out[f] = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
        }
        return out
    }

    @Test("labelsContext: one policy per workload whose peers equal Prometheus's own recount and the generator's table; drops, Trace, ICMP and idle series left out; the exact PromQL recorded; replay writes the same bytes")
    func labelsContextSuggestions() throws {
        let prom = try WorkloadTSDB.server("labels")
        let dir = tempDir("promsuggest")
        let r = try policy(["suggest", "--namespace", "shop", "--prometheus", prom.url, "--output", dir + "/out", "--record", dir + "/rec"] + Self.window)
        try #require(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("labelsContext (source_namespace, source_workload, destination_namespace, destination_workload)"))
        #expect(r.stdout.contains("Ports are not in the metrics"))
        // One query, exactly this PromQL; no fallback since it named workloads.
        let recorded = try FileManager.default.contentsOfDirectory(atPath: dir + "/rec").sorted()
        #expect(recorded == ["workload_flows.json", "workload_flows.request.json"])
        let request = try #require(try foundationJSON(dir + "/rec/workload_flows.request.json") as? [String: Any])
        let params = try #require(request["params"] as? [[String]])
        #expect(params.first { $0.first == "query" }?.last == Self.labelsQuery)
        #expect(params.first { $0.first == "time" }?.last == String(Self.to))

        // Recount 1: Prometheus's own answer to a query that filters in PromQL.
        let ref = try prom.instant("sum by(source_namespace,source_workload,destination_namespace,destination_workload,protocol) "
            + "(increase(hubble_flows_processed_total{type=\"PolicyVerdict\",verdict=~\"FORWARDED|REDIRECTED|AUDIT\"}[43200s]) > 0)", time: Self.to)
        var pairs: [(src: (String, String), dst: (String, String), proto: String)] = []
        for key in ref.keys {
            var l: [String: String] = [:]
            // The keys join label=value with commas; values here hold no comma except the hostile one, kept whole.
            for part in key.split(separator: ",", omittingEmptySubsequences: false) {
                if let eq = part.firstIndex(of: "=") { l[String(part[..<eq])] = String(part[part.index(after: eq)...]) }
            }
            pairs.append(((l["source_namespace"] ?? "", l["source_workload"] ?? ""), (l["destination_namespace"] ?? "", l["destination_workload"] ?? ""), l["protocol"] ?? ""))
        }
        let fromPrometheus = Self.expected(pairs)
        // Recount 2: the generator's table (the ground truth), filtered by the same rules.
        let table = try String(contentsOfFile: try WorkloadTSDB.made.get() + "/table.jsonl", encoding: .utf8)
        var tablePairs: [(src: (String, String), dst: (String, String), proto: String)] = []
        for line in table.split(separator: "\n") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let s = o["source"] as! [String], d = o["destination"] as! [String]
            guard o["type"] as? String == "PolicyVerdict", ["FORWARDED", "REDIRECTED", "AUDIT"].contains(o["verdict"] as? String ?? ""),
                  (o["per_minute"] as? Int ?? 0) > 0, s[0] == "shop" || d[0] == "shop" else { continue }
            tablePairs.append(((s[0], s[1]), (d[0], d[1]), o["protocol"] as! String))
        }
        #expect(Self.expected(tablePairs) == fromPrometheus)
        #expect(fromPrometheus.keys.sorted() == ["Web_API.v2", "cart", "frontend", "redis"])

        let written = try files(dir + "/out")
        #expect(written.keys.sorted() == ["cart.yaml", "frontend.yaml", "redis.yaml", "web-api-v2.yaml"])
        for (workload, rules) in fromPrometheus {
            let file = workload == "Web_API.v2" ? "web-api-v2.yaml" : workload + ".yaml"
            let yaml = try #require(written[file])
            #expect(Self.rules(yaml) == rules, "\(file): \(Self.rules(yaml).map(\.description).sorted()) vs \(rules.map(\.description).sorted())")
            #expect(yaml.contains("network-policy.gitlab.com/disabled_by: gitlab"))
            #expect(yaml.contains("# Ports: not in the metrics"))
            #expect(yaml.contains("# Window: 2026-11-19T12:00:00Z to 2026-11-20T00:00:00Z"))
            let explain = try policy(["explain", dir + "/out/" + file])
            #expect(explain.code == 0 && explain.stdout.contains("Not enforced"), "\(explain.stderr)")
        }
        // The dropped peer (payments) and the Trace replies (cart → frontend) gave no rule.
        #expect(written["payments.yaml"] == nil)
        #expect(!(written["frontend.yaml"] ?? "").contains("payments"))
        #expect(Self.rules(written["frontend.yaml"] ?? "").allSatisfy { $0.direction == "egress" || $0.label != "app.kubernetes.io/name=cart" })
        // Hostile label values: never in a file name or a manifest.
        for (name, yaml) in written {
            #expect(name.range(of: "^[a-z0-9-]+\\.yaml$", options: .regularExpression) != nil, "\(name)")
            #expect(!yaml.contains("evil") && !yaml.contains("passwd") && !yaml.contains("../"), "\(name)")
        }
        #expect(r.stdout.contains("4 ends whose name is not a valid label value or namespace"))

        // Replay: the same files, byte for byte, without Prometheus.
        let again = try policy(["suggest", "--namespace", "shop", "--replay", dir + "/rec", "--output", dir + "/replayed"] + Self.window)
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try files(dir + "/replayed") == written)
        #expect(!again.stderr.contains("recorded for another"))
    }

    @Test("Workload context (source/destination = namespace/workload, reserved:world): asked after an empty labelsContext answer; world becomes fromEntities")
    func workloadContextSuggestions() throws {
        let prom = try WorkloadTSDB.server("workload")
        let dir = tempDir("promsuggestctx")
        let r = try policy(["suggest", "--namespace", "shop", "--prometheus", prom.url, "--output", dir + "/out", "--record", dir + "/rec"] + Self.window)
        try #require(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("sourceContext/destinationContext=workload (namespace/workload)"))
        let request = try #require(try foundationJSON(dir + "/rec/workload_flows_context.request.json") as? [String: Any])
        #expect((request["params"] as? [[String]])?.first { $0.first == "query" }?.last == Self.contextQuery)
        #expect(FileManager.default.fileExists(atPath: dir + "/rec/workload_flows.json"))
        let written = try files(dir + "/out")
        #expect(written.keys.sorted() == ["cart.yaml", "frontend.yaml", "redis.yaml", "web-api-v2.yaml"])
        let frontend = try #require(written["frontend.yaml"])
        #expect(Self.rules(frontend).contains(Rule(direction: "ingress", namespace: "entity", label: "world", proto: "TCP")))
        #expect(Self.rules(frontend).contains(Rule(direction: "ingress", namespace: "ingress-nginx",
                                                   label: "app.kubernetes.io/name=ingress-nginx-controller", proto: "TCP")))
    }

    @Test("No workload context: a clear message naming the options, exit 2, no file written; the report says so in the section")
    func noWorkloadContext() throws {
        let prom = try WorkloadTSDB.server("none")
        let dir = tempDir("promsuggestnone")
        let r = try policy(["suggest", "--namespace", "shop", "--prometheus", prom.url, "--output", dir + "/out"] + Self.window)
        #expect(r.code == 2)
        #expect(r.stderr.contains("no hubble_flows_processed_total series for namespace shop names a workload"), "\(r.stderr)")
        #expect(r.stderr.contains("No file written."))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))

        let cfg = dir + "/c.yml"
        try "version: 1\nto: 2026-11-20T00:00:00Z\nwindow: 12h\nenvironments:\n  - { name: shop, namespace: shop, flows: { prometheus: { url: \"\(prom.url)\", timeout: 5, retries: 0 } } }\n"
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let rep = try report(["--config", cfg, "--output", dir + "/report", "--format", "json,md"])
        #expect(rep.code == 0, "\(rep.stderr)")
        let md = try String(contentsOfFile: dir + "/report/report.md", encoding: .utf8)
        #expect(md.contains("### Suggested policies") && md.contains("No suggestions from Prometheus"))
        #expect(!md.contains("No workload of the namespace had an allowed connection"), "the note says why, not a false empty state")
        #expect(!FileManager.default.fileExists(atPath: dir + "/report/suggested-policies/shop"))
    }

    @Test("Report: a Prometheus environment gets suggested-policies/<env>/<workload>.yaml and the section names the context; its replay writes the same files")
    func reportSuggestionsAndReplay() throws {
        let prom = try WorkloadTSDB.server("labels")
        let dir = tempDir("promsuggestreport")
        let cfg = dir + "/c.yml"
        try "version: 1\nto: 2026-11-20T00:00:00Z\nwindow: 12h\nenvironments:\n  - { name: shop-prod, namespace: shop, flows: { prometheus: { url: \"\(prom.url)\", timeout: 5, retries: 0, workload_label: app } } }\n"
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let r = try report(["--config", cfg, "--output", dir + "/out", "--format", "json,md,html", "--record", dir + "/rec"])
        try #require(r.code == 0, "\(r.stderr)")
        let folder = dir + "/out/suggested-policies/shop-prod"
        let written = try files(folder)
        #expect(written.keys.sorted() == ["cart.yaml", "frontend.yaml", "redis.yaml", "web-api-v2.yaml"])
        #expect(written["cart.yaml"]?.contains("      app: cart\n") == true, "workload_label app is the selector key")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let flows = try #require(((json["environments"] as? [[String: Any]])?.first)?["flows"] as? [String: Any])
        let s = try #require(flows["suggestions"] as? [String: Any])
        #expect((s["items"] as? [[String: Any]])?.count == 4)
        #expect((s["notes"] as? [String])?.first?.contains("labelsContext") == true)
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains("suggested-policies/shop-prod/cart.yaml"))
        #expect(md.contains("on every port (the metrics carry no ports: narrow them before enabling)"))
        #expect(!md.contains("each allows only the peers, ports and protocols observed"))

        // The recording replays without Prometheus (the server is gone) to the same files.
        prom.stop()
        let rr = try report(["--output", dir + "/out2", "--format", "json", "--replay", dir + "/rec"])
        #expect(rr.code == 0, "\(rr.stderr)")
        #expect(try files(dir + "/out2/suggested-policies/shop-prod") == written)
    }

    @Test("A failing workload query costs the suggestions, not the statistics: the section names the error, the flows are still there")
    func failingWorkloadQuery() throws {
        let ok = ReplayServer.Response(body: #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
        let bad = ReplayServer.Response(status: 400, body: #"{"status":"error","errorType":"bad_data","error":"many-to-many matching not allowed"}"#)
        // Five statistics queries answer; the sixth instant query (the workload one) fails.
        let server = try ReplayServer(routes: [.init(path: "/api/v1/query", responses: [ok, ok, ok, ok, ok, bad]),
                                               .init(path: "/api/v1/query_range", responses: [ok])])
        let dir = tempDir("promsuggestfail")
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: shop, namespace: shop, flows: { prometheus: { url: \"\(server.url)\", retries: 0 } } }\n"
            .write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json,md", "--compare", "none"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let flows = try #require(((json["environments"] as? [[String: Any]])?.first)?["flows"] as? [String: Any])
        #expect(flows["status"] as? String == "ok")
        let notes = try #require((flows["suggestions"] as? [String: Any])?["notes"] as? [String])
        #expect(notes.first?.contains("the workload query failed") == true && notes.first?.contains("many-to-many matching not allowed") == true, "\(notes)")
        #expect(try server.requests().count == 7, "six statistics queries and one workload query, not retried on 400")
    }

    @Test("--bearer-token-file: the token is sent to Prometheus and never written to the recording, the files or the output")
    func bearerTokenNeverWritten() throws {
        let answer = ReplayServer.Response(body: #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"source_namespace":"shop","source_workload":"web","destination_namespace":"ops","destination_workload":"api","protocol":"TCP","type":"PolicyVerdict","verdict":"FORWARDED"},"value":[1795132800,"12"]}]}}"#)
        let server = try ReplayServer(routes: [.init(path: "/prefix/api/v1/query", responses: [answer])])
        let dir = tempDir("promsuggesttoken")
        let token = "tr-canary-suggest-token-5e1f"
        try (token + "\n").write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        let r = try policy(["suggest", "--namespace", "shop", "--prometheus", server.url + "/prefix", "--bearer-token-file", dir + "/token",
                            "--output", dir + "/out", "--record", dir + "/rec"] + Self.window)
        #expect(r.code == 0, "\(r.stderr)")
        let sent = try server.requests().map { ($0["headers"] as? [String: String])?["Authorization"] ?? "" }
        #expect(sent == ["Bearer " + token])
        #expect(!r.stdout.contains(token) && !r.stderr.contains(token))
        for folder in [dir + "/out", dir + "/rec"] {
            for f in try FileManager.default.contentsOfDirectory(atPath: folder) {
                #expect(!(try String(contentsOfFile: folder + "/" + f, encoding: .utf8)).contains(token), "\(f)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/out") == ["web.yaml"])
    }
}
