import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// Policy coverage: which enforced policy selects each workload for ingress and egress (label
/// selector semantics), and the `policies.uncovered_workload` finding.
@Suite("Policy coverage")
struct PolicyCoverageTests {
    static func workload(_ name: String, _ labels: [String: String], received: Int, dropped: Int = 0, ns: String = "shop") -> WorkloadTraffic {
        WorkloadTraffic(name: name, namespace: ns, labels: labels, received: FlowCounts(forwarded: received - dropped, dropped: dropped),
                        sent: FlowCounts(forwarded: 0, dropped: 0))
    }

    static func policy(_ name: String, _ selectors: [PodSelectorTrait], enabled: Bool = true, ns: String? = "shop",
                       kind: PolicyKind = .ciliumNetworkPolicy) -> PolicyItem {
        var p = PolicyItem(kind: kind, kindText: kind.rawValue, name: name, namespace: ns, enabled: enabled, valid: true, manifest: "", origin: "p.yaml:1")
        p.podSelectors = selectors
        p.selectsNodes = false
        return p
    }

    static func env(_ workloads: [WorkloadTraffic]?, _ policies: [PolicyItem]) -> EnvironmentReport {
        var flows = FlowStatistics(counts: FlowCounts(forwarded: 1, dropped: 0), inbound: FlowCounts(forwarded: 1, dropped: 0),
                                   outbound: FlowCounts(forwarded: 0, dropped: 0))
        flows.workloads = workloads
        return EnvironmentReport(name: "production", namespace: "shop", thresholds: .defaults, waf: .notConfigured,
                                 flows: .ok(flows), policies: .ok(PolicySet(items: policies)))
    }

    @Test("selector semantics: matchLabels, every expression operator, empty selects all, namespace and direction")
    func selectors() throws {
        let web = Self.workload("web", ["app": "web", "tier": "front"], received: 10)
        let db = Self.workload("db", ["app": "db"], received: 5)
        let other = Self.workload("other", ["app": "web"], received: 1, ns: "elsewhere")
        let unlabelled = Self.workload("job", [:], received: 3)
        let rows = try #require(WorkloadCoverage.rows(Self.env([web, db, other, unlabelled], [
            Self.policy("web-in", [PodSelectorTrait(matchLabels: ["app": "web"], ingress: true, egress: false)]),
            Self.policy("tiers", [PodSelectorTrait(matchLabels: [:], matchExpressions: [.init(key: "tier", op: "In", values: ["front", "back"])], ingress: true, egress: true)]),
            Self.policy("not-db", [PodSelectorTrait(matchLabels: [:], matchExpressions: [.init(key: "app", op: "NotIn", values: ["db"])], ingress: false, egress: true)]),
            Self.policy("has-app", [PodSelectorTrait(matchLabels: [:], matchExpressions: [.init(key: "app", op: "Exists", values: [])], ingress: false, egress: true)]),
            Self.policy("no-tier", [PodSelectorTrait(matchLabels: [:], matchExpressions: [.init(key: "tier", op: "DoesNotExist", values: [])], ingress: false, egress: true)]),
            Self.policy("all-egress", [PodSelectorTrait(matchLabels: [:], ingress: false, egress: true)]),
            Self.policy("off", [PodSelectorTrait(matchLabels: [:], ingress: true, egress: true)], enabled: false),
            Self.policy("cw-db", [PodSelectorTrait(matchLabels: ["app": "db", "io.kubernetes.pod.namespace": "shop"], ingress: true, egress: false)],
                        ns: nil, kind: .ciliumClusterwideNetworkPolicy),
        ])))
        let by = Dictionary(uniqueKeysWithValues: rows.map { ($0.workload.name, $0) })
        #expect(by["web"]?.ingress == ["web-in", "tiers"])
        #expect(by["web"]?.egress == ["tiers", "not-db", "has-app", "all-egress"])
        #expect(by["db"]?.ingress == ["cw-db"])
        #expect(by["db"]?.egress == ["has-app", "no-tier", "all-egress"])
        // A namespaced policy never selects pods of another namespace; a clusterwide one scoped to shop neither.
        #expect(by["other"]?.ingress == [] && by["other"]?.egress == [])
        #expect(by["job"]?.labelsKnown == false && by["job"]?.ingress == [])
    }

    @Test("uncovered workloads with traffic are warnings with the connections received; unknown labels and quiet workloads are not")
    func findings() {
        let env = Self.env([
            Self.workload("web", ["app": "web"], received: 100),
            Self.workload("db", ["app": "db"], received: 40, dropped: 4),
            Self.workload("idle", ["app": "idle"], received: 0),
            Self.workload("job", [:], received: 7),
        ], [Self.policy("web-in", [PodSelectorTrait(matchLabels: ["app": "web"], ingress: true, egress: false)])])
        let f = PolicyCoverageFindings.findings(for: env)
        #expect(f.map(\.subject) == ["db"])
        #expect(f.first?.id == "policies.uncovered_workload" && f.first?.severity == .warning && f.first?.value == 40)
        #expect(f.first?.title == "Workload db received 40 connections and no policy selects it for ingress")
        #expect(f.first?.guidance.contains("(36 forwarded, 4 dropped)") == true)
        #expect(f.first?.guidance.contains("--endpoint app=db") == true)
    }

    @Test("next step: the policy this report suggests for the workload (its file, explain, enable with a server dry run); policy new when it suggests none")
    func nextStepNamesSuggestedPolicy() throws {
        var env = Self.env([
            Self.workload("db", ["app": "db"], received: 40),
            Self.workload("cache", ["app": "cache"], received: 12),
        ], [Self.policy("web-in", [PodSelectorTrait(matchLabels: ["app": "web"], ingress: true, egress: false)])])
        var flows = try #require(env.flows.value)
        flows.suggestions = PolicySuggestions(items: [
            .init(file: "suggested-policies/production/db.yaml", name: "suggested-db", workloads: ["db"], explanation: [], manifest: ""),
        ], flowsUsed: 40)
        env.flows = .ok(flows)
        let f = PolicyCoverageFindings.findings(for: env)
        let db = try #require(f.first { $0.subject == "db" }), cache = try #require(f.first { $0.subject == "cache" })
        #expect(db.guidance.contains("`suggested-policies/production/db.yaml`"))
        #expect(db.guidance.contains("`threat-report policy explain suggested-policies/production/db.yaml`"))
        #expect(db.guidance.contains("`threat-report policy enable suggested-policies/production/db.yaml --apply --dry-run=server`"))
        #expect(!db.guidance.contains("policy new") && !db.guidance.contains("app=CLIENT"))
        // No suggestion for cache (none of its flows became rules): write one for its clients.
        #expect(cache.guidance.contains("`threat-report policy new --name cache-ingress --namespace shop --endpoint app=cache"))
        #expect(!cache.guidance.contains("suggested-policies/"))
    }

    @Test("per-pod labels (pod-template-hash, controller-revision-hash) are not shown as a workload's, nor proposed as its selector; selectors still match them")
    func perPodLabelsHidden() throws {
        let env = Self.env([
            Self.workload("cart", ["app": "cart", "pod-template-hash": "7d9f8c6b5"], received: 30),
            Self.workload("worker", ["controller-revision-hash": "5c4b", "tier": "jobs"], received: 20),
        ], [Self.policy("by-hash", [PodSelectorTrait(matchLabels: ["pod-template-hash": "nope"], ingress: true, egress: false)])])
        let f = PolicyCoverageFindings.findings(for: env)
        #expect(f.map(\.subject) == ["cart", "worker"])
        #expect(f.allSatisfy { !$0.guidance.contains("pod-template-hash") && !$0.guidance.contains("controller-revision-hash") })
        #expect(f.first?.guidance.contains("(labels app=cart)") == true)
        #expect(f.last?.guidance.contains("--endpoint tier=jobs") == true && f.last?.guidance.contains("(labels tier=jobs)") == true)
        #expect(WorkloadLabels.shown(["b": "2", "pod-template-hash": "x", "a": "1"]) == "a=1, b=2")
        // Matching keeps every label: a selector naming the hash still selects the pod that has it.
        let rows = try #require(WorkloadCoverage.rows(Self.env([Self.workload("cart", ["app": "cart", "pod-template-hash": "h1"], received: 1)],
            [Self.policy("hash", [PodSelectorTrait(matchLabels: ["pod-template-hash": "h1"], ingress: true, egress: false)])])))
        #expect(rows.first?.ingress == ["hash"])
    }

    @Test("no finding without an enforced policy (policies.none says it), without workloads, or with policies lacking selectors")
    func quiet() {
        let w = [Self.workload("db", ["app": "db"], received: 40)]
        #expect(PolicyCoverageFindings.findings(for: Self.env(w, [])).isEmpty)
        #expect(PolicyCoverageFindings.findings(for: Self.env(w, [Self.policy("off", [], enabled: false)])).isEmpty)
        #expect(PolicyCoverageFindings.findings(for: Self.env(nil, [Self.policy("p", [])])).isEmpty)
        var old = Self.policy("old", [])
        old.podSelectors = nil
        #expect(WorkloadCoverage.rows(Self.env(w, [old])) == nil)
    }

    @Test("more than ten uncovered workloads: ten findings and one summary")
    func many() {
        let ws = (0..<13).map { Self.workload("w\($0)", ["app": "w\($0)"], received: 100 - $0) }
        let f = PolicyCoverageFindings.findings(for: Self.env(ws, [Self.policy("p", [PodSelectorTrait(matchLabels: ["app": "x"], ingress: true, egress: false)])]))
        #expect(f.count == 11)
        #expect(f.prefix(10).map(\.subject) == (0..<10).map { "w\($0)" })
        #expect(f.last?.title == "3 more workloads in shop received connections and no policy selects them for ingress")
    }
}
