import Foundation
import Testing
import ThreatConfig
import ThreatModel
import ThreatPolicy
@testable import ThreatSources
import TestSupport

/// Suggestions from Hubble workload metrics: the queries, and the policies checked by the
/// evaluation engine (they allow every allowed connection series, deny what was never seen).
@Suite("policy suggest from Prometheus workload metrics")
struct MetricSuggestionTests {
    static let window = TimeWindow(from: Date(timeIntervalSince1970: 1_795_089_600), to: Date(timeIntervalSince1970: 1_795_132_800), interval: .hour)

    @Test("Queries: the namespace is a PromQL string literal in labelsContext and an escaped RE2 prefix in the workload context")
    func queriesEscapeTheNamespace() {
        let q = WorkloadFlowQueries()
        let ns = "a.b\"c\\"
        #expect(q.query(.labels, namespace: ns, window: Self.window)
            == #"sum by(source_namespace,source_workload,destination_namespace,destination_workload,protocol,type,verdict) (increase(hubble_flows_processed_total{destination_namespace="a.b\"c\\"}[43200s]) or increase(hubble_flows_processed_total{source_namespace="a.b\"c\\"}[43200s]))"#)
        #expect(q.query(.workload, namespace: ns, window: Self.window)
            == #"sum by(source,destination,protocol,type,verdict) (increase(hubble_flows_processed_total{destination=~"a\\.b\"c\\\\/.+"}[43200s]) or increase(hubble_flows_processed_total{source=~"a\\.b\"c\\\\/.+"}[43200s]))"#)
        var s = PrometheusSettings(transport: HTTPTransportSettings(url: "http://x"))
        s.metric = "my_flows"
        s.sourceLabel = "src"
        #expect(WorkloadFlowQueries(settings: s).query(.workload, namespace: "shop", window: Self.window).contains(#"my_flows{src=~"shop/.+"}"#))
        #expect(q.request(.labels, namespace: "shop", window: Self.window).params.last == ["time", "1795132800"])
    }

    @Test("Rows: labelsContext and namespace/workload values, reserved entities, empty ends")
    func rowsReadBothContexts() {
        let q = WorkloadFlowQueries()
        let a = q.row(.init(labels: ["source_namespace": "shop", "source_workload": "web", "destination_namespace": "ops",
                                     "protocol": "tcp", "type": "PolicyVerdict", "verdict": "AUDIT"], value: 3), context: .labels)
        #expect(a.source == .workload(namespace: "shop", name: "web") && a.destination == .namespaceOnly("ops") && a.protocolName == "TCP")
        let b = q.row(.init(labels: ["source": "reserved:world", "destination": "shop/api/v2"], value: 1), context: .workload)
        #expect(b.source == .entity("world") && b.destination == .workload(namespace: "shop", name: "api/v2"))
        #expect(q.row(.init(labels: ["destination": "shop"], value: 1), context: .workload).destination == .unknown)
    }

    static func rows(seed: UInt64, count: Int) -> [WorkloadFlowRow] {
        var rng = SplitMix(state: seed)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        let mine = ["web", "api", "cart", "0123", "null", "Web_API.v2"], theirs = ["prometheus", "ingress"]
        var out: [WorkloadFlowRow] = []
        for _ in 0..<count {
            let me = WorkloadFlowRow.End.workload(namespace: "shop", name: pick(mine))
            let other: WorkloadFlowRow.End = pick([.workload(namespace: "shop", name: pick(mine)), .workload(namespace: "ops", name: pick(theirs)),
                                                   .workload(namespace: "kube-system", name: "coredns"), .entity("world"), .entity("host"),
                                                   .unknown, .namespaceOnly("ops"), .workload(namespace: "shop", name: "x\"y\n../z")])
            let inbound = rng.next() % 2 == 0
            out.append(WorkloadFlowRow(source: inbound ? other : me, destination: inbound ? me : other, protocolName: pick(["TCP", "UDP", "TCP", "ICMPV4"]),
                                       type: pick(["PolicyVerdict", "PolicyVerdict", "Trace"]), verdict: pick(["FORWARDED", "REDIRECTED", "AUDIT", "DROPPED"]),
                                       value: pick([0, 0.4, 1, 7.5, 120])))
        }
        return out
    }

    static func endpoint(_ e: WorkloadFlowRow.End, _ s: MetricPolicySuggester) -> PolicyEndpoint? {
        switch e {
        case let .workload(ns, name): .pod(ns, Dictionary(uniqueKeysWithValues: s.labels(namespace: ns, name: name).map { ($0.key, $0.value) }))
        case let .entity(name): .entity(name)
        default: nil
        }
    }

    @Test("Generated series (5 seeds): every allowed policy-verdict series is allowed on any port of its protocol; other protocols, strangers and the same labels elsewhere are denied; hostile names never reach a manifest")
    func allowsObservedDeniesTheRest() throws {
        for seed in UInt64(1)...5 {
            var s = MetricPolicySuggester(namespace: "shop", kind: .cilium, window: Self.window, metric: "hubble_flows_processed_total", context: .workload)
            let rows = Self.rows(seed: seed, count: 400)
            for r in rows { s.add(r) }
            let (kept, rejected) = s.checked()
            #expect(rejected.isEmpty, "\(rejected)")
            #expect(!kept.isEmpty)
            var models: [NetworkPolicyModel] = []
            for c in kept {
                #expect(c.file.range(of: "^[a-z0-9-]+\\.yaml$", options: .regularExpression) != nil, "\(c.file)")
                #expect(!c.yaml.contains("x\"y") && !c.yaml.contains("../z"))
                #expect(c.yaml.contains("network-policy.gitlab.com/disabled_by: gitlab"))
                let enabled = PolicyDocumentLoader.loadDetailed(text: c.policy.yaml(kind: .cilium, disabled: false), origin: c.file)
                #expect(enabled.items.count == 1 && enabled.items[0].valid)
                models += enabled.policies.compactMap(\.model)
            }
            // YAML-special names stay strings: `0123` and `null` are quoted selector values.
            #expect(kept.first { $0.policy.workloads == ["0123"] }.map { $0.yaml.contains("app.kubernetes.io/name: \"0123\"") } ?? true)
            #expect(kept.first { $0.policy.workloads == ["null"] }.map { $0.yaml.contains("app.kubernetes.io/name: \"null\"") } ?? true)
            let e = PolicyEvaluator(policies: models)
            var checked = 0
            for r in rows where r.value > 0 && r.type == "PolicyVerdict" && ["FORWARDED", "REDIRECTED", "AUDIT"].contains(r.verdict)
                && ["TCP", "UDP"].contains(r.protocolName) {
                guard let src = Self.endpoint(r.source, s), let dst = Self.endpoint(r.destination, s) else { continue }
                let names = [r.source, r.destination].compactMap { e -> String? in if case let .workload(_, n) = e { n } else { nil } }
                guard names.allSatisfy({ RuleModeValues.labelValueProblem($0) == nil }) else { continue }
                for port in [1, 8080, 65535] {
                    let c = PolicyConnection(source: src, destination: dst, port: port, protocolName: r.protocolName)
                    if r.destination.namespace == "shop" { #expect(e.verdict(for: c, direction: .ingress).allowed, "\(r)") }
                    if r.source.namespace == "shop" { #expect(e.verdict(for: c, direction: .egress).allowed, "\(r)") }
                    checked += 1
                }
            }
            #expect(checked > 100)
            // Probes never observed.
            for c in kept {
                let subject = PolicyEndpoint.pod("shop", Dictionary(uniqueKeysWithValues: c.policy.selector.map { ($0.key, $0.value) }))
                let stranger = PolicyEndpoint.pod("elsewhere", ["app.kubernetes.io/name": "never-seen"])
                #expect(!e.verdict(for: PolicyConnection(source: stranger, destination: subject, port: 80, protocolName: "TCP"), direction: .ingress).allowed)
                #expect(!e.verdict(for: PolicyConnection(source: subject, destination: stranger, port: 80, protocolName: "TCP"), direction: .egress).allowed)
                for (peer, _) in c.policy.ingress {
                    guard case let .pods(_, labels) = peer else { continue }
                    let same = PolicyEndpoint.pod("elsewhere", Dictionary(uniqueKeysWithValues: labels.map { ($0.key, $0.value) }))
                    #expect(!e.verdict(for: PolicyConnection(source: same, destination: subject, port: 80, protocolName: "TCP"), direction: .ingress).allowed)
                }
                for (peer, ports) in c.policy.egress where !peer.isKubeDNS {
                    guard case let .pods(ns, labels) = peer, !ports.contains(where: { $0.proto == "SCTP" }) else { continue }
                    let seen = PolicyEndpoint.pod(ns, Dictionary(uniqueKeysWithValues: labels.map { ($0.key, $0.value) }))
                    #expect(!e.verdict(for: PolicyConnection(source: subject, destination: seen, port: 80, protocolName: "SCTP"), direction: .egress).allowed)
                }
            }
        }
    }

    @Test("No workload context: both queries asked, no policy, and a note naming the options")
    func noContext() throws {
        let q = WorkloadFlowQueries()
        let outcome = try WorkloadFlowFetch.fetch(queries: q) { (_: WorkloadFlowQueries.Context) throws(SourceError) -> PrometheusAnswer? in
            PrometheusAnswer(result: .vector([.init(labels: ["source": "shop", "destination": "ops", "verdict": "FORWARDED"], value: 5)]), warnings: [])
        }
        #expect(outcome?.context == nil && outcome?.asked == [.labels, .workload])
        let (s, w) = MetricPolicySuggester.forReport(outcome!, namespace: "shop", window: Self.window, queries: q, workloadLabel: "app")
        #expect(s.items.isEmpty && w == nil)
        #expect(s.notes.first?.contains("no hubble_flows_processed_total series for namespace shop names a workload") == true)
    }
}
