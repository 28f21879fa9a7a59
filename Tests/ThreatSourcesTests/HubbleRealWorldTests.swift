import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// Runs a program and returns its standard output (the independent recounts and `sha256sum`).
func runTool(_ path: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Third-party `hubble observe -o json` captures (Tests/Fixtures/realworld/hubble/README.md): every
/// figure the Hubble file source reports equals recount.py's, a separate Python reading of the same
/// files.
@Suite("Hubble flows: real captures against an independent recount")
struct HubbleRealWorldTests {
    static let folder = repoRoot + "/Tests/Fixtures/realworld/hubble"
    static let files = ["gke-istio-bookinfo-10-flows.json", "kind-bookinfo-l7-redirected-head.json", "kind-flux-audit.json",
                        "cilium-1.18-denied-by.json"].map { folder + "/" + $0 }
    static let from = "2020-01-01T00:00:00Z", to = "2027-01-01T00:00:00Z"
    static let window = TimeWindow(from: RFC3339.parse(from)!, to: RFC3339.parse(to)!, interval: .day)

    func fetch(_ namespace: String) throws -> SourceOutput<FlowStatistics> {
        let env = EnvironmentConfig(name: namespace, namespace: namespace, hosts: [], thresholds: .defaults)
        return try HubbleFlowSource(settings: HubbleSettings(flowLogs: Self.files)).fetch(SourceContext(window: Self.window, environment: env, redactor: SecretRedactor()))
    }

    func recount(_ namespace: String) throws -> [String: Any] {
        let out = try runTool("/usr/bin/python3", [Self.folder + "/recount.py", namespace, Self.from, Self.to] + Self.files)
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    func expectEqual(_ c: FlowCounts, _ r: Any?, _ what: String) {
        let r = r as? [String: Int] ?? [:]
        for (verdict, count) in c.byVerdict {
            #expect(count == r[verdict] ?? 0, "\(what) \(verdict)")
        }
        #expect(c.other == r["OTHER"] ?? 0, "\(what) OTHER")
        #expect(c.total == r.values.reduce(0, +), "\(what) total")
    }

    @Test("Every verdict counts, per direction, in every namespace of the captures, as recount.py counts them",
          arguments: ["bookinfo", "istio-system", "kube-system", "flux-system", "net-lab"])
    func verdictsPerNamespace(namespace: String) throws {
        let out = try fetch(namespace)
        let r = try recount(namespace)
        expectEqual(out.value.counts, r["all"], "all")
        expectEqual(out.value.inbound, r["inbound"], "inbound")
        expectEqual(out.value.outbound, r["outbound"], "outbound")
        #expect(out.value.unattributedDrops == r["unattributed"] as? Int)
        let denying = Dictionary(uniqueKeysWithValues: out.value.topDenyingPolicies.map { ($0.key, $0.count) })
        #expect(denying == (r["denying"] as? [String: Int] ?? [:]))
        #expect((r["bad_lines"] as? Int) == 0 && out.warnings.isEmpty)
    }

    @Test("The Istio bookinfo namespace: REDIRECTED flows are in the total (10 flows, not the 4 forwarded)")
    func redirectedInTotal() throws {
        let s = try fetch("bookinfo").value
        #expect(s.counts.redirected == 6 && s.counts.forwarded == 4)
        #expect(s.counts.total == 10)
        #expect(s.counts.droppedRatio == 0)
    }

    @Test("Policy audit mode: the AUDIT flow is counted and its pair is listed for the finding")
    func auditFlow() throws {
        let s = try fetch("flux-system").value
        #expect(s.counts.audit == 1 && s.counts.total == 1)
        #expect(s.topAuditPairs == [RankedCount(key: "flux-system/source-controller-9dfbc5cd-cz76x → world:6443/TCP", count: 1)])
    }

    @Test("Drops attributed to the policy the flow names in egress_denied_by (Cilium 1.18 capture)")
    func denyingPolicy() throws {
        let s = try fetch("net-lab").value
        #expect(s.counts.dropped == 1)
        #expect(s.topDenyingPolicies == [RankedCount(key: "net-lab/deny-tg-to-echo", count: 1, label: "CiliumNetworkPolicy")])
        #expect(s.unattributedDrops == 0)
        #expect(s.topDropReasons == [RankedCount(key: "POLICY_DENY", count: 1)])
    }

    @Test("A drop naming no policy counts as unattributed; one naming a policy in both directions counts once for it; AUDIT names its policy apart")
    func attributionEdges() throws {
        let dir = NSTemporaryDirectory() + "hubble-attr-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lines = [
            #"{"flow":{"time":"2026-11-19T10:00:00Z","verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED","source":{"namespace":"a"},"destination":{"namespace":"b"}}}"#,
            #"{"flow":{"time":"2026-11-19T10:00:01Z","verdict":"DROPPED","drop_reason_desc":"POLICY_DENY","source":{"namespace":"a"},"destination":{"namespace":"b"},"ingress_denied_by":[{"name":"deny-all","kind":"CiliumClusterwideNetworkPolicy"}],"egress_denied_by":[{"name":"deny-all","kind":"CiliumClusterwideNetworkPolicy"}]}}"#,
            #"{"flow":{"time":"2026-11-19T10:00:02Z","verdict":"TRACED","source":{"namespace":"b"},"destination":{"namespace":"c"}}}"#,
            #"{"flow":{"time":"2026-11-19T10:00:03Z","verdict":"ERROR","source":{"namespace":"b"}}}"#,
            #"{"flow":{"time":"2026-11-19T10:00:04Z","verdict":7,"source":{"namespace":"b"}}}"#,
            #"{"flow":{"time":"2026-11-19T10:00:05Z","verdict":"AUDIT","source":{"namespace":"a"},"destination":{"namespace":"b"},"ingress_denied_by":[{"name":"b-default-deny","namespace":"b","kind":"CiliumNetworkPolicy"}]}}"#,
        ]
        let path = dir + "/flows.json"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let env = EnvironmentConfig(name: "b", namespace: "b", hosts: [], thresholds: .defaults)
        let w = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
        let s = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [path])).fetch(SourceContext(window: w, environment: env, redactor: SecretRedactor())).value
        #expect(s.counts.dropped == 2 && s.counts.traced == 1 && s.counts.error == 1 && s.counts.other == 1)
        #expect(s.counts.audit == 1 && s.counts.total == 6)
        #expect(s.unattributedDrops == 1)
        #expect(s.topDenyingPolicies == [RankedCount(key: "deny-all", count: 1, label: "CiliumClusterwideNetworkPolicy")])
        // AUDIT flows name the policy that would have dropped them; they are not drops.
        #expect(s.topAuditPolicies == [RankedCount(key: "b/b-default-deny", count: 1, label: "CiliumNetworkPolicy")])
        #expect(s.inbound.total == 3 && s.outbound.total == 3)
    }
}

@Suite("Prometheus flow totals over every verdict")
struct PrometheusVerdictTests {
    @Test("sum by(verdict) answers with REDIRECTED, AUDIT, TRACED and ERROR: all are in the total, each shown")
    func everyVerdictCounts() throws {
        let totals = try PrometheusAnswer.decode(bytes(#"""
        {"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"verdict":"FORWARDED"},"value":[0,"655.2"]},{"metric":{"verdict":"REDIRECTED"},"value":[0,"449.9"]},
          {"metric":{"verdict":"DROPPED"},"value":[0,"4"]},{"metric":{"verdict":"AUDIT"},"value":[0,"2"]},
          {"metric":{"verdict":"TRACED"},"value":[0,"1"]},{"metric":{"verdict":"ERROR"},"value":[0,"1"]},
          {"metric":{"verdict":"TRANSLATED"},"value":[0,"3"]}]}}
        """#), place: "t")
        let (s, w) = FlowStatisticsBuilder.build(answers: [.totals: totals], queries: FlowQueries(), namespace: "ns")
        #expect(w.isEmpty)
        #expect(s.counts.forwarded == 655 && s.counts.redirected == 450 && s.counts.dropped == 4)
        #expect(s.counts.audit == 2 && s.counts.traced == 1 && s.counts.error == 1 && s.counts.other == 3)
        #expect(s.counts.total == 655 + 450 + 4 + 2 + 1 + 1 + 3)
    }

    @Test("The totals queries sum over every verdict: no verdict matcher, grouped by the verdict label")
    func queriesKeepEveryVerdict() {
        let q = FlowQueries()
        let w = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 86400), interval: .hour)
        for name in [FlowQueries.Name.totals, .inbound, .outbound] {
            let text = q.query(name, namespace: "ns", window: w)
            #expect(text.hasPrefix("sum by(verdict) ("))
            #expect(!text.contains("verdict="))
        }
    }
}
