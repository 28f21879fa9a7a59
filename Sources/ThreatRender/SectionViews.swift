import Foundation
import ThreatModel

/// The WAF section's values (when the source answered).
struct WAFView: Sendable {
    let total: String
    let anomalous: String
    let ratio: String
    let chart: ChartView?
    let top_rules: [RuleView]
    let top_clients: [RankedView]
    let top_uris: [RankedView]
    let engine_modes: String?
    /// Engine, CRS version and the log formats read ("Coraza · CRS 4.7.0 · …"), when known.
    let engine_line: String?
    let has_rules: Bool
    let has_clients: Bool
    let has_uris: Bool
    /// Absent, not "nil", when unknown.
    let blocked: String?
    let detection_only: String?
    let categories: [CategoryView]
    let has_categories: Bool
    let categories_chart: ChartView?
    let anomaly_scores: [ScoreView]
    let has_scores: Bool
    let skipped: String?
    /// Tuning candidates and campaigns, nil when the source gave no tuning input.
    let tuning: TuningView.Section?

    struct RuleView: Sendable {
        let id: String
        let category: String
        let message: String
        let count: String
    }

    struct CategoryView: Sendable {
        let title: String
        let key: String
        let count: String
        let share: String
    }

    struct ScoreView: Sendable {
        let score: String
        let count: String
    }

    init(_ w: WAFStatistics, chart: ChartView?, categoriesChart: ChartView?) {
        total = NumberText.grouped(w.totalRequests)
        anomalous = NumberText.grouped(w.anomalousRequests)
        ratio = RatioText.anomalous(w)
        self.chart = chart
        top_rules = w.topRules.map { r in
            RuleView(id: Sanitize.text(r.key, max: 20), category: CRSCategory(ruleID: r.key).title,
                     message: Sanitize.text(r.label ?? "", max: 160), count: NumberText.grouped(r.count))
        }
        top_clients = w.topClients.map { RankedView($0, max: 64) }
        top_uris = w.topURIs.map { RankedView($0, max: 160) }
        engine_modes = w.engineModes.isEmpty ? nil
            : w.engineModes.map { "\(Sanitize.text($0.key, max: 32)) (\(NumberText.grouped($0.count)))" }.joined(separator: ", ")
        engine_line = WAFEngineView.line(w)
        has_rules = !w.topRules.isEmpty
        has_clients = !w.topClients.isEmpty
        has_uris = !w.topURIs.isEmpty
        blocked = w.blockedRequests.map(NumberText.grouped)
        detection_only = w.detectionOnlyRequests.map(NumberText.grouped)
        categories = w.categories.map { c in
            CategoryView(title: Sanitize.text(c.label ?? c.key, max: 60), key: Sanitize.text(c.key, max: 20), count: NumberText.grouped(c.count),
                         share: Percent.whole(safeRatio(Double(c.count), Double(w.anomalousRequests))))
        }
        has_categories = !w.categories.isEmpty
        categories_chart = categoriesChart
        anomaly_scores = w.anomalyScores.map { ScoreView(score: Sanitize.text($0.key, max: 12), count: NumberText.grouped($0.count)) }
        has_scores = !w.anomalyScores.isEmpty
        skipped = w.skippedLines > 0 ? NumberText.grouped(w.skippedLines) : nil
        tuning = TuningView.section(w)
    }
}

/// The flows section's values (when the source answered).
struct FlowsView: Sendable {
    let total: String
    let forwarded: String
    let dropped: String
    let ratio: String
    let in_total: String
    let in_dropped: String
    let in_ratio: String
    let out_total: String
    let out_dropped: String
    let out_ratio: String
    let chart: ChartView?
    let drops_chart: ChartView?
    /// The traffic map (flow files only).
    let map_chart: ChartView?
    let top_drop_reasons: [RankedView]
    let top_dropped_pairs: [RankedView]
    let verdicts: [VerdictView]
    let top_denying_policies: [DenyingPolicyView]
    let has_denying_policies: Bool
    let unattributed_drops: String
    let no_metrics: Bool
    let has_drop_reasons: Bool
    let has_dropped_pairs: Bool

    /// One verdict's counts: all, inbound (`in`), outbound (`out`).
    struct VerdictView: Sendable {
        let verdict: String
        let total: String
        let `in`: String
        let out: String
    }

    struct DenyingPolicyView: Sendable {
        let key: String
        let kind: String
        let count: String
    }

    init(_ f: FlowStatistics, chart: ChartView?, dropsChart: ChartView?, mapChart: ChartView? = nil) {
        total = NumberText.grouped(f.counts.total)
        forwarded = NumberText.grouped(f.counts.forwarded)
        dropped = NumberText.grouped(f.counts.dropped)
        ratio = RatioText.dropped(f.counts)
        in_total = NumberText.grouped(f.inbound.total)
        in_dropped = NumberText.grouped(f.inbound.dropped)
        in_ratio = RatioText.dropped(f.inbound)
        out_total = NumberText.grouped(f.outbound.total)
        out_dropped = NumberText.grouped(f.outbound.dropped)
        out_ratio = RatioText.dropped(f.outbound)
        self.chart = chart
        drops_chart = dropsChart
        map_chart = mapChart
        top_drop_reasons = f.topDropReasons.map { RankedView($0, max: 64) }
        top_dropped_pairs = f.topDroppedPairs.map { RankedView($0, max: 160) }
        verdicts = zip(zip(f.counts.byVerdict, f.inbound.byVerdict), f.outbound.byVerdict).map { pair, out in
            VerdictView(verdict: pair.0.verdict, total: NumberText.grouped(pair.0.count),
                        in: NumberText.grouped(pair.1.count), out: NumberText.grouped(out.count))
        }
        top_denying_policies = f.topDenyingPolicies.map {
            DenyingPolicyView(key: Sanitize.text($0.key, max: 160), kind: Sanitize.text($0.label ?? "", max: 64), count: NumberText.grouped($0.count))
        }
        has_denying_policies = !f.topDenyingPolicies.isEmpty
        unattributed_drops = NumberText.grouped(f.unattributedDrops)
        no_metrics = f.counts.total == 0 && f.forwardedRate.isEmpty && f.droppedRate.isEmpty
        has_drop_reasons = !f.topDropReasons.isEmpty
        has_dropped_pairs = !f.topDroppedPairs.isEmpty
    }
}

/// The coverage of an environment's sections for the evidence appendix: one row per section and
/// window, with the first skipped places and their values (sanitised here, escaped by each format).
struct CoverageView: Sendable {
    let section: String
    let line: String
    let notes: [String]
    let examples: [ExampleView]
    let has_examples: Bool

    struct ExampleView: Sendable {
        let place: String
        let reason: String
        let value: String
        let has_value: Bool
    }

    static func rows(_ env: EnvironmentReport) -> [CoverageView] {
        let sections: [(String, SourceCoverage?)] = [
            ("waf", env.waf.coverage), ("flows", env.flows.coverage), ("policies", env.policies.coverage),
            ("waf (previous window)", env.previous?.wafCoverage), ("flows (previous window)", env.previous?.flowsCoverage),
        ]
        return sections.compactMap { name, coverage in
            guard let c = coverage else { return nil }
            let examples = c.inputs.flatMap { i in
                i.examples.map { e in
                    ExampleView(place: Sanitize.text(e.place, max: 300), reason: Sanitize.text(e.reason, max: 120),
                                value: Sanitize.text(e.value ?? "", max: SkipExample.valueLength + 40), has_value: e.value != nil)
                }
            }
            return CoverageView(section: name, line: Sanitize.text(CoverageText.line(c), max: 1200),
                                notes: c.notes.map { Sanitize.text($0, max: 400) }, examples: examples, has_examples: !examples.isEmpty)
        }
    }
}
