import Foundation
import Mustache
import ThreatModel

/// One environment's line of the summary table (also read inside its own section).
struct SummaryRow: Sendable {
    let name: String
    let anchor: String
    let badge_class: String
    let badge_text: String
    let findings: Int
    let requests: String
    let anomalous: String
    let flows: String
    let dropped: String
    /// The "Change vs previous window" cell: `has_previous`, `change` (one line, e.g. "requests
    /// +9%; anomalous 9% (was <1%); dropped 17% (was <1%); new top clients: 203.0.113.7"),
    /// `previous_length`, and `previous_note` when a comparison could not be made.
    let has_previous: Bool
    let change: String
    let previous_length: String?
    let previous_note: String?
    /// Files that do not reach back that far are an expected state, not a failure.
    let previous_calm: Bool?
    let policies: String

    init(_ env: EnvironmentReport, report: Report, anchor: String) {
        let worst = report.worstSeverity(for: env.name)
        let badge = report.isPartial(env) ? ("partial", "Partial data") : worst.map { ($0.rawValue, $0.rawValue.capitalized) } ?? ("ok", "OK")
        name = Sanitize.text(env.name, max: 80)
        self.anchor = anchor
        badge_class = badge.0
        badge_text = badge.1
        findings = report.findings(for: env.name).count
        requests = env.waf.value.map { NumberText.grouped($0.totalRequests) } ?? "–"
        anomalous = env.waf.value.map(RatioText.anomalous) ?? "–"
        flows = env.flows.value.map { NumberText.grouped($0.counts.total) } ?? "–"
        dropped = env.flows.value.map { RatioText.dropped($0.counts) } ?? "–"
        policies = env.policies.value.map { "\($0.items.filter { $0.valid && $0.enabled }.count) of \($0.items.count) enforced" } ?? "–"
        guard let previous = env.previous else {
            (has_previous, change, previous_length, previous_note, previous_calm) = (false, "–", nil, nil, nil)
            return
        }
        has_previous = true
        change = Self.changes(env.deltas)
        previous_length = WindowText.human(previous.window)
        if let why = previous.unavailableReason {
            previous_note = previous.notCovered ? "previous window: not compared (\(Sanitize.text(why, max: 300)))"
                : "previous window: not available (\(Sanitize.text(why, max: 300)))"
            previous_calm = previous.notCovered
        } else {
            (previous_note, previous_calm) = (nil, nil)
        }
    }

    static func changes(_ deltas: TrendDeltas?) -> String {
        var parts: [String] = []
        if let d = deltas {
            if let w = d.waf {
                let pct = w.previousRequests > 0 ? Double(w.requestsChange) / Double(w.previousRequests) : 0
                parts.append("requests \(signed(pct)) (was \(NumberText.grouped(w.previousRequests)))")
                parts.append("anomalous \(Percent.whole(w.anomalousRatio)) (was \(Percent.whole(w.previousAnomalousRatio)))")
                if !w.newTopRules.isEmpty { parts.append("new top rules: " + w.newTopRules.prefix(5).map { Sanitize.text($0, max: 20) }.joined(separator: ", ")) }
                if !w.newTopClients.isEmpty { parts.append("new top clients: " + w.newTopClients.prefix(5).map { Sanitize.text($0, max: 64) }.joined(separator: ", ")) }
            }
            if let f = d.flows {
                parts.append("dropped \(Percent.whole(f.droppedRatio)) (was \(Percent.whole(f.previousDroppedRatio)))")
            }
        }
        return parts.isEmpty ? "–" : parts.joined(separator: "; ")
    }

    /// "+9%", "−3%", "±0%".
    static func signed(_ ratio: Double) -> String {
        let p = Int((ratio * 100).rounded())
        return p > 0 ? "+\(p)%" : p < 0 ? "−\(-p)%" : "±0%"
    }
}

/// One environment's section: its summary row's keys, and its WAF, flows, policies and evidence.
struct EnvironmentView: Sendable, MustacheParent {
    let row: SummaryRow
    let detail: Detail

    struct Detail: Sendable {
        let namespace: String
        /// Absent when there are none ("· hosts" alone says nothing).
        let hosts: String?
        let waf: SectionView<WAFView>
        let flows: SectionView<FlowsView>
        let policies: SectionView<PoliciesView>
        /// Least-privilege policies suggested from the flow files (nil: the source gives none).
        let suggestions: SuggestionsView?
        let thresholds: String
        let coverage: [CoverageView]
        let has_coverage: Bool
        let evidence: [EvidenceView]
        /// Policy changes since the previous report in the output folder (nil with `--policy-drift off`).
        let policy_drift: PolicyDriftView.Section?
        /// Which policy selects each workload seen in the flow files (nil without them).
        let workload_coverage: PolicyCoverageView.Section?
    }

    init(_ env: EnvironmentReport, report: Report, anchor: String, charts: [ReportChart], time: (Date) -> String) {
        row = SummaryRow(env, report: report, anchor: anchor)
        let chart = { (kind: String) in charts.first { $0.kind == kind }.map(ChartView.init) }
        let coverage = CoverageView.rows(env)
        detail = Detail(
            namespace: Sanitize.text(env.namespace, max: 80),
            hosts: env.hosts.isEmpty ? nil : env.hosts.map { Sanitize.text($0, max: 120) }.joined(separator: ", "),
            waf: SectionView(env.waf, empty: "Web application firewall not detected: no WAF source is configured for this environment.") {
                WAFView($0, chart: chart("waf"), categoriesChart: chart("waf-categories"))
            },
            flows: SectionView(env.flows, empty: "No flow source is configured for this environment.") {
                FlowsView($0, chart: chart("flows"), dropsChart: chart("drops"), mapChart: chart("map"))
            },
            policies: SectionView(env.policies, empty: "No policy source is configured for this environment.") {
                PoliciesView($0, namespace: env.namespace)
            },
            suggestions: SuggestionsView(env),
            thresholds: Self.thresholdsText(env.thresholds),
            coverage: coverage, has_coverage: !coverage.isEmpty,
            evidence: env.evidence.map(EvidenceView.init),
            policy_drift: PolicyDriftView.section(env, time: time),
            workload_coverage: PolicyCoverageView.section(env))
    }

    /// The section's own keys first (`flows` and `policies` are sections here, not the summary's
    /// cells), then the summary row's.
    func child(named key: String) -> Any? {
        TemplateKeys.value(detail, key) ?? TemplateKeys.value(row, key)
    }

    static func thresholdsText(_ t: Thresholds) -> String {
        "anomalous ratio warning \(Percent.whole(t.anomalousRatio.warning)), critical \(Percent.whole(t.anomalousRatio.critical)); "
            + "dropped ratio warning \(Percent.whole(t.droppedRatio.warning)), critical \(Percent.whole(t.droppedRatio.critical)); "
            + "volume guard \(NumberText.grouped(t.minRequests)) requests, \(NumberText.grouped(t.minFlows)) flows; "
            + "attack burst: one client with \(Percent.whole(t.attackBurstShare)) of at least \(NumberText.grouped(t.attackBurstMinRequests)) anomalous requests"
    }
}

/// A record of what a source read or asked, for the evidence appendix.
struct EvidenceView: Sendable {
    let section: String
    let source: String
    let query: String
    let has_query: Bool
    let sha256: String

    init(_ ev: EvidenceItem) {
        section = ev.section
        source = Sanitize.text(ev.source, max: 400)
        query = Sanitize.text(ev.query ?? "", max: 6000, keepNewlines: true)
        has_query = ev.query != nil
        sha256 = ev.sha256 ?? "–"
    }
}

/// A report section's state (ok, not configured, unavailable, partial) with what the source read,
/// and, when the source answered, the section's own values.
struct SectionView<Body: Sendable>: Sendable, MustacheParent {
    let common: Common
    let body: Body?

    struct Common: Sendable {
        let ok: Bool
        let not_configured: Bool
        let unavailable: Bool
        let partial: Bool
        let empty_text: String
        let error: String
        let warnings: [String]
        let has_warnings: Bool
        let coverage: String?
    }

    init<V>(_ s: Section<V>, empty: String, _ make: (V) -> Body) {
        common = Common(ok: s.value != nil, not_configured: s.status == .notConfigured, unavailable: s.status == .unavailable,
                        partial: s.status == .partial, empty_text: empty, error: Sanitize.text(s.error ?? "", max: 600),
                        warnings: s.warnings.map { Sanitize.text($0, max: 400) }, has_warnings: !s.warnings.isEmpty,
                        coverage: s.coverage.map { Sanitize.text(CoverageText.line($0), max: 1000) })
        body = s.value.map(make)
    }

    func child(named key: String) -> Any? {
        TemplateKeys.value(common, key) ?? body.flatMap { TemplateKeys.value($0, key) }
    }
}
