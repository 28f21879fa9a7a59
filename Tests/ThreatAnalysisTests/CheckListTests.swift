import Foundation
import Testing
@testable import ThreatAnalysis
import ThreatModel

/// Environments that between them fire every check of `Checks.all` at least once.
enum CheckCorpus {
    static func counts(_ forwarded: Int, _ dropped: Int, audit: Int = 0) -> FlowCounts {
        FlowCounts(forwarded: forwarded, dropped: dropped, audit: audit)
    }

    /// Attacks, drops, a policy set with every flaw, a previous window, and inputs read in part.
    static var troubled: EnvironmentReport {
        var waf = WAFStatistics(totalRequests: 1000, anomalousRequests: 300)
        waf.categories = [RankedCount(key: "sqli", count: 300, label: "SQL injection")]
        waf.engineModes = [RankedCount(key: "DetectionOnly", count: 300)]
        waf.criticalAttackRequests = 300
        waf.crsUnconfiguredRequests = 5
        waf.topClients = [RankedCount(key: "203.0.113.7", count: 250)]
        // A rule firing on many clients answered 200 on one target: a false-positive candidate.
        var fp = WAFTargetStats(ruleID: "942230", path: "/comments", target: "ARGS:comment", firstSeen: window.from, lastSeen: window.from)
        fp.count = 10
        fp.clients = 9
        for _ in 0..<10 { fp.statuses.add(200) }
        fp.attackMatches = 10
        var tuning = WAFTuningInput()
        tuning.rows = [fp]
        waf.tuningAdvice = WAFTuning.advise(tuning, environment: "production", header: WAFExclusionFile.Header(
            environment: "production", generatedAt: window.from, from: window.from, to: window.to))
        let times = (0..<5).map { window.from.addingTimeInterval(Double($0) * 3600) }
        let dropped = [0.3, 0.4, 0.3, 249, 0.4]
        var flows = FlowStatistics(counts: counts(500, 500, audit: 10), inbound: counts(500, 500), outbound: counts(0, 0),
                                   forwardedRate: times.map { SeriesPoint($0, 10) },
                                   droppedRate: zip(times, dropped).map { SeriesPoint($0.0, $0.1) },
                                   topDropReasons: [RankedCount(key: "POLICY_DENIED", count: 500)])
        flows.topAuditPairs = [RankedCount(key: "a → b:80/TCP", count: 10)]
        let item = PolicyItems.item
        let policies = [
            item("broken", .networkPolicy, true, false, [], false, [], "policies/broken.yaml:1"),
            item("off", .ciliumNetworkPolicy, false, true, [], false, [], "policies/off.yaml:1"),
            item("web-allow-all", .networkPolicy, true, true,
                 [WorldIngressRule(path: "spec.ingress[0]", peer: "anywhere", anyPort: true, ports: "traffic on any port")], false,
                 ["kind NetworkPolicy: the rule mode edits CiliumNetworkPolicy only"], "policies/web.yaml:1"),
            item("twice", .networkPolicy, true, true, [], false, [], "policies/a.yaml:1"),
            item("twice", .networkPolicy, true, true, [], false, [], "policies/b.yaml:1"),
        ]
        var env = EnvironmentReport(name: "production", namespace: "shop-production", thresholds: .defaults,
                                    waf: .ok(waf), flows: .ok(flows), policies: .ok(PolicySet(items: policies)))
        var previousWAF = WAFStatistics(totalRequests: 1000, anomalousRequests: 10)
        previousWAF.topClients = [RankedCount(key: "198.51.100.1", count: 10)]
        env.previous = PreviousWindow(window: window.previous, waf: previousWAF,
                                      flows: FlowStatistics(counts: counts(990, 10), inbound: counts(990, 10), outbound: counts(0, 0)))
        var access = InputCoverage(name: "access log", unit: "lines", files: 1, read: 455, parsed: 0)
        access.skip("not an ingress-nginx or combined access line", count: 455, place: "/logs/access.log:1", value: "x")
        var audit = InputCoverage(name: "audit log", unit: "lines", files: 1, read: 1000, parsed: 900, inWindow: 900, attributed: 900)
        audit.skip("not JSON", count: 100, place: "/logs/audit.log:7")
        env.waf.coverage = SourceCoverage(source: "files", inputs: [access, audit])
        // A policy gone and one switched off since the previous report; a workload no policy selects.
        env.policyDrift = PolicyDrift(status: .compared,
                                      removed: [PolicyDriftEntry(kind: "CiliumNetworkPolicy", name: "gone", namespace: nil, enabled: true)],
                                      enforcement: [PolicyEnforcementChange(kind: "NetworkPolicy", name: "off", namespace: nil, from: .enforced, to: .disabled)])
        // The enforced policies select app=web for ingress: the api workload is left uncovered.
        if var set = env.policies.value {
            for k in set.items.indices where set.items[k].valid && set.items[k].enabled {
                set.items[k].podSelectors = [PodSelectorTrait(matchLabels: ["app": "web"], ingress: true, egress: false)]
            }
            env.policies = .ok(set)
        }
        env.flows.value?.workloads = [WorkloadTraffic(name: "api", namespace: "shop-production", labels: ["app": "api"],
                                                      received: counts(40, 0), sent: counts(0, 0))]
        return env
    }

    /// Flow traffic and no policy at all.
    static var unprotected: EnvironmentReport {
        EnvironmentReport(name: "staging", namespace: "shop-staging", thresholds: .defaults, waf: .notConfigured,
                          flows: .ok(FlowStatistics(counts: counts(1000, 0), inbound: counts(1000, 0), outbound: counts(0, 0))),
                          policies: .ok(PolicySet(items: [])))
    }

    /// Enforced policies and no flow metrics; audit entries and no counted request.
    static var unmeasured: EnvironmentReport {
        EnvironmentReport(name: "review", namespace: "shop-review", thresholds: .defaults,
                          waf: .ok(WAFStatistics(totalRequests: 0, anomalousRequests: 5)),
                          flows: .ok(FlowStatistics(counts: counts(0, 0), inbound: counts(0, 0), outbound: counts(0, 0))),
                          policies: .ok(PolicySet(items: [PolicyItems.denyAllEgress])))
    }

    static var all: [EnvironmentReport] { [troubled, unprotected, unmeasured] }
}

extension PolicyItems {
    /// `item` with its arguments in order (name, kind, enabled, valid, world, egress, rule-mode gaps, origin).
    static func item(_ name: String, _ kind: PolicyKind, _ enabled: Bool, _ valid: Bool, _ world: [WorldIngressRule],
                     _ egress: Bool, _ ruleMode: [String], _ origin: String) -> PolicyItem {
        item(name, kind: kind, enabled: enabled, valid: valid, world: world, egress: egress, ruleMode: ruleMode, origin: origin)
    }
}

/// A check with an empty description and one that reuses another's id: what the list test must catch.
private enum UndescribedCheck: Check {
    static let description = CheckDescription(id: "waf.undescribed", name: "", shortDescription: "", fullDescription: " ",
                                              help: "", section: "waf", defaultSeverity: .warning)
    static func findings(in context: CheckContext) -> [Finding] { [] }
}

private enum SameIDCheck: Check {
    static let description = CheckDescription(id: AnomalousRatioCheck.id, name: "AnotherRatio", shortDescription: "s",
                                              fullDescription: "f", help: "run `x`", section: "waf", defaultSeverity: .info)
    static func findings(in context: CheckContext) -> [Finding] { [] }
}

@Suite("Check list: each check is one type with its description")
struct CheckListTests {
    @Test("every check of the list is fully described, and ids and names are unique")
    func listIsDescribed() {
        #expect(Checks.problems(Checks.all) == [])
        #expect(Checks.all.count == 27)
        #expect(Set(Checks.all.map { $0.id }).count == Checks.all.count)
        #expect(Checks.descriptions.map(\.id) == Checks.all.map { $0.id })
    }

    @Test("the list check fails on a check without a description and on two checks sharing an id")
    func listCheckCanFail() {
        let missing = Checks.problems(Checks.all + [UndescribedCheck.self])
        #expect(missing.contains { $0.contains("waf.undescribed") && $0.hasSuffix("has no name") })
        #expect(missing.contains { $0.contains("waf.undescribed") && $0.hasSuffix("has no full description") })
        #expect(missing.contains { $0.contains("waf.undescribed") && $0.hasSuffix("has no help") })
        let shared = Checks.problems(Checks.all + [SameIDCheck.self])
        #expect(shared == ["check 28 (SameIDCheck, id \"waf.anomalous_ratio\") has the id of check 1"])
    }

    @Test("every check fires on the corpus; each finding carries its own check's id and a declared level")
    func everyCheckEmitsItsOwnID() {
        for check in Checks.all {
            let found = CheckCorpus.all.flatMap { check.findings(in: CheckContext(environment: $0, window: window)) }
            #expect(!found.isEmpty, "\(check.id) fires on no environment of the corpus")
            #expect(found.allSatisfy { $0.id == check.id }, "\(check.id) emitted \(Set(found.map(\.id)).sorted())")
            #expect(found.allSatisfy { check.description.severities.contains($0.severity) })
        }
    }

    @Test("a finding whose id is not in the list is reported; the analyzer emits none")
    func emittedIDsAreListed() {
        let emitted = FindingAnalyzer.analyze(CheckCorpus.all, window: window)
        #expect(Set(emitted.map(\.id)) == Set(Checks.all.map { $0.id }))
        #expect(Checks.problems(Checks.all, emitted: emitted) == [])
        let stray = Finding(id: "waf.stray", severity: .warning, environment: "production", title: "Stray", guidance: "g")
        #expect(Checks.problems(Checks.all, emitted: emitted + [stray])
            == ["finding \"waf.stray\" (Stray) is emitted by no check of the list"])
        var loud = emitted.first { $0.id == BlockingDisabledCheck.id }!
        loud.severity = .critical
        #expect(Checks.problems(Checks.all, emitted: [loud]) == ["finding \"waf.blocking_disabled\" has level critical, which its check does not declare"])
    }

    @Test("no finding id is written as a string in the analysis: every finding takes its check's id")
    func noLiteralFindingIDs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Sources/ThreatAnalysis")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }
        #expect(names.count >= 8)
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            // Only descriptions spell an id; findings say `id: id`.
            for line in text.split(separator: "\n") where line.contains("Finding(") && line.contains("id: \"") {
                Issue.record("\(name): a finding with a literal id: \(line)")
            }
            let spelled = text.components(separatedBy: "id: \"").count - 1
            let described = text.components(separatedBy: "CheckDescription(").count - 1
            #expect(spelled <= described, "\(name): \(spelled) literal ids for \(described) descriptions")
        }
    }

    @Test("the section groups run checks of the list, in their order")
    func groupsAreSublists() {
        let listed = Checks.all.map { $0.id }
        for group in [WAFFindings.checks, FlowFindings.checks, PolicyFindings.checks, TrendFindings.checks, InputFindings.checks] {
            let ids = group.map { $0.id }
            #expect(ids.allSatisfy(listed.contains))
        }
        let grouped = [WAFFindings.checks, FlowFindings.checks, PolicyFindings.checks, TrendFindings.checks, InputFindings.checks]
            .flatMap { $0 }.map { $0.id } + [AnomalousRatioCheck.id, DroppedRatioCheck.id, FalsePositiveCandidatesCheck.id,
               PolicyRemovedSinceLastRunCheck.id, PolicyDisabledSinceLastRunCheck.id, UncoveredWorkloadCheck.id]
        #expect(Set(grouped) == Set(listed))
    }
}
