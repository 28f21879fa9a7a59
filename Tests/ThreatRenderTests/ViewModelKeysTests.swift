import Foundation
import Mustache
import Testing
import ThreatModel
@testable import ThreatRender

/// The typed view model: every key the built-in templates read is a stored property of a view
/// type (a misspelt property would render as nothing, silently), and the values come out as the
/// templates expect them.
@Suite("Typed view model")
struct ViewModelKeysTests {
    /// `ciReport` with every optional part filled: engine modes, blocked counts, categories and
    /// scores, skipped lines, drop reasons and denying policies, coverage with skipped places, a
    /// previous window that could not be compared, evidence, and suggested policies.
    static func richReport() -> Report {
        var report = ciReport()
        var env = report.environments[0]
        env.waf.value?.engineModes = [RankedCount(key: "DetectionOnly", count: 900)]
        env.waf.value?.blockedRequests = 10
        env.waf.value?.detectionOnlyRequests = 890
        env.waf.value?.categories = [RankedCount(key: "sqli", count: 900, label: "SQL injection")]
        env.waf.value?.anomalyScores = [RankedCount(key: "5", count: 900)]
        env.waf.value?.topClients = [RankedCount(key: "203.0.113.7", count: 900)]
        env.waf.value?.topURIs = [RankedCount(key: "/login", count: 900)]
        env.waf.value?.skippedLines = 3
        var advice = WAFTuningAdvice(fileName: "waf-tuning/production.conf")
        var row = WAFTargetStats(ruleID: "942100", path: "/search", target: "ARGS:q", firstSeen: ciWindow.from, lastSeen: ciWindow.to)
        row.count = 40
        advice.candidates = [WAFTuningCandidate(row: row, score: 0.9, decision: .excludeOnPath, explanation: "many clients", reason: "no attack", exclusionID: 10000)]
        var campaign = WAFCampaign(id: "c-1", client: "203.0.113.7", start: ciWindow.from, end: ciWindow.to)
        campaign.successfulHighSeverity = 1
        advice.campaigns = [campaign]
        env.waf.value?.tuningAdvice = advice
        env.policyDrift = PolicyDrift(status: .compared, note: "partial", previousSHA256: "ab",
                                      removed: [PolicyDriftEntry(kind: "NetworkPolicy", name: "gone", namespace: nil, enabled: true, details: ["selects app=web"])])
        if var set = env.policies.value {
            for k in set.items.indices where set.items[k].valid && set.items[k].enabled {
                set.items[k].podSelectors = [PodSelectorTrait(matchLabels: ["app": "api"], ingress: true, egress: false)]
            }
            env.policies = .ok(set)
        }
        env.flows.value?.workloads = [WorkloadTraffic(name: "web", namespace: "shop-production", labels: ["app": "web"],
                                                      received: FlowCounts(forwarded: 5, dropped: 1), sent: FlowCounts(forwarded: 0, dropped: 0))]
        env.flows.value?.topDropReasons = [RankedCount(key: "POLICY_DENIED", count: 1700)]
        env.flows.value?.topDroppedPairs = [RankedCount(key: "a → b:80/TCP", count: 1700)]
        env.flows.value?.topDenyingPolicies = [RankedCount(key: "shop-production/web", count: 1600, label: "CiliumNetworkPolicy")]
        env.policies.value?.notes = ["read 3 manifests"]
        env.flows.value?.suggestions = PolicySuggestions(
            items: [.init(file: "suggested-policies/production/web.yaml", name: "suggested-web", workloads: ["web"],
                          explanation: ["When enabled, pods with app=web accept inbound TCP/80 from the entity world."],
                          manifest: "kind: CiliumNetworkPolicy\n")],
            flowsUsed: 12, notes: ["From 12 allowed flow(s); left out 1 replies."])
        var access = InputCoverage(name: "access log", unit: "lines", files: 1, read: 10, parsed: 9)
        access.skip("not an access line", count: 1, place: "/logs/access.log:4", value: "garbage")
        env.waf.coverage = SourceCoverage(source: "files", inputs: [access], notes: ["one note"])
        env.previous = PreviousWindow(window: ciWindow.previous, wafUnavailable: "the audit log does not reach back")
        env.evidence = [EvidenceItem(section: "waf", source: "/logs/access.log", query: "GET /_msearch", sha256: "ab")]
        report.environments[0] = env
        return report
    }

    /// The names of stored properties reachable from `value` (through arrays, optionals and the
    /// two-part views).
    static func labels(_ value: Any, into out: inout Set<String>) {
        let mirror = Mirror(reflecting: value)
        for child in mirror.children {
            if let label = child.label, mirror.displayStyle == .struct, !["row", "detail", "common", "body"].contains(label) {
                out.insert(label)
            }
            labels(child.value, into: &out)
        }
    }

    /// Every name in a `{{…}}` tag of a template, dotted names split.
    static func templateKeys(_ source: String) throws -> Set<String> {
        let regex = try NSRegularExpression(pattern: #"\{\{\{?[#^/]?\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}?\}\}"#)
        var out = Set<String>()
        for m in regex.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
            for part in source[Range(m.range(at: 1), in: source)!].split(separator: ".") { out.insert(String(part)) }
        }
        return out
    }

    @Test("every key the built-in HTML and Markdown templates read is a property of the view")
    func templateKeysExist() throws {
        let report = Self.richReport()
        let view = ReportViewModel.build(report, charts: try ReportCharts.build(report), dataDigest: "cd")
        var labels = Set<String>()
        Self.labels(view, into: &labels)
        #expect(labels.contains("badge_class") && labels.contains("in") && labels.contains("code_md") && labels.contains("has_value"))
        for name in TemplateSet.names {
            let keys = try Self.templateKeys(try #require(TemplateSet.defaults.sources[name]))
            #expect(keys.count > 60, "\(name): \(keys.count) keys")
            #expect(keys.subtracting(labels).isEmpty, "\(name) reads keys the view does not have: \(keys.subtracting(labels).sorted())")
        }
    }

    @Test("an environment reads its section's keys first, then its summary row's; an absent value climbs to the enclosing section")
    func environmentKeys() throws {
        let report = Self.richReport()
        let view = ReportViewModel.build(report, charts: [], dataDigest: nil)
        let env = view.environments[0]
        #expect(env.child(named: "flows") is SectionView<FlowsView>)
        #expect(view.summary[0].flows == "10,000" && env.child(named: "anomalous") as? String == view.summary[0].anomalous)
        #expect(env.child(named: "previous_note") as? String == "previous window: not available (WAF: the audit log does not reach back)")
        #expect(env.child(named: "hosts") as? String == "shop.example.com")
        #expect(view.environments[1].child(named: "hosts") == nil)
        let template = try MustacheTemplate(string: "{{#environments}}[{{name}}:{{#hosts}}{{.}}{{/hosts}}{{^hosts}}{{title}}{{/hosts}}:{{waf.total}}:{{#waf.ok}}{{#waf.blocked}}b{{waf.blocked}}{{/waf.blocked}}{{/waf.ok}}]{{/environments}}")
        #expect(template.render(view) == "[production:shop.example.com:24,000:b10][staging:Shop threat report:24,000:][bare:Shop threat report::]")
    }

    @Test("a section without a value has only its state keys; a chart that was not drawn renders no figure")
    func sectionKeys() throws {
        let report = Self.richReport()
        let view = ReportViewModel.build(report, charts: [], dataDigest: nil)
        let bare = try #require(view.environments.last?.detail)
        #expect(bare.flows.child(named: "unavailable") as? Bool == true && bare.flows.child(named: "ok") as? Bool == false)
        #expect(bare.flows.child(named: "total") == nil && bare.waf.child(named: "not_configured") as? Bool == true)
        let html = try TemplateSet.defaults.render("report.html", view)
        #expect(!html.contains("<figure"))
    }
}
