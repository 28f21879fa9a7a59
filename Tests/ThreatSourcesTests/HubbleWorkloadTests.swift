import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// Workloads for policy coverage from Hubble flow files: labels (`k8s:` prefix off, the namespace
/// label kept apart), Hubble's workload names, reply flows left out, the table capped.
@Suite("Hubble workloads for policy coverage")
struct HubbleWorkloadTests {
    let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

    func fetch(_ path: String, namespace: String) throws -> SourceOutput<FlowStatistics> {
        let env = EnvironmentConfig(name: "p", namespace: namespace, hosts: [], thresholds: .defaults)
        return try HubbleFlowSource(settings: HubbleSettings(flowLogs: [path])).fetch(SourceContext(window: window, environment: env, redactor: SecretRedactor()))
    }

    @Test("the sample capture: one workload app=web, 7,950 new connections received of which 800 dropped")
    func sample() throws {
        // Independent recount (python3, json.loads per line, bad lines skipped): destination namespace
        // shop-production, is_reply not true, time in the window → 7950 flows, 800 DROPPED, one label set
        // {k8s:app=web, k8s:io.kubernetes.pod.namespace=shop-production}.
        let out = try fetch(repoRoot + "/samples/hubble/flows.json.gz", namespace: "shop-production")
        let w = try #require(out.value.workloads)
        try #require(w.count == 1)
        #expect(w[0].name == "web" && w[0].namespace == "shop-production")
        #expect(w[0].labels == ["app": "web"])
        #expect(w[0].received.total == 7_950 && w[0].received.dropped == 800)
    }

    @Test("workload names, labels, replies left out, sent and received")
    func generated() throws {
        let dir = NSTemporaryDirectory() + "hubble-workloads-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func line(_ verdict: String, src: String, dst: String, reply: Bool = false) -> String {
            #"{"flow":{"time":"2026-11-19T10:00:00Z","verdict":"\#(verdict)","is_reply":\#(reply),"source":\#(src),"destination":\#(dst)}}"#
        }
        let api = #"{"namespace":"shop","pod_name":"api-5d8-abcde","labels":["k8s:app=api","k8s:io.kubernetes.pod.namespace=shop","reserved:host-ish:x=y"],"workloads":[{"name":"api","kind":"Deployment"}]}"#
        let db = #"{"namespace":"shop","pod_name":"db-0","labels":["k8s:app=db","k8s:io.cilium.k8s.policy.serviceaccount=db"]}"#
        let world = #"{"labels":["reserved:world"]}"#
        let bare = #"{"namespace":"shop","pod_name":"job-x"}"#
        let text = [
            line("FORWARDED", src: world, dst: api), line("DROPPED", src: world, dst: api),
            line("FORWARDED", src: api, dst: db), line("FORWARDED", src: db, dst: api, reply: true),
            line("FORWARDED", src: world, dst: bare),
        ].joined(separator: "\n") + "\n"
        try text.write(toFile: dir + "/f.json", atomically: true, encoding: .utf8)
        let w = try #require(try fetch(dir + "/f.json", namespace: "shop").value.workloads)
        let byName = Dictionary(uniqueKeysWithValues: w.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["api", "db", "job-x"])
        #expect(byName["api"]?.labels == ["app": "api"])
        #expect(byName["api"]?.received.total == 2 && byName["api"]?.received.dropped == 1)
        #expect(byName["api"]?.sent.total == 1)  // the reply from db is not a connection api received
        #expect(byName["db"]?.labels == ["app": "db"] && byName["db"]?.received.total == 1 && byName["db"]?.sent.total == 0)
        #expect(byName["job-x"]?.labels == [:] && byName["job-x"]?.received.total == 1)
        #expect(w.first?.name == "api")  // most traffic first
    }
}
