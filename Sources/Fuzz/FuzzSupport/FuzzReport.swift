// Shared by the libFuzzer targets: decoded statistics go on through what the report does with
// them, so a number that decodes but traps later (an axis taking log10(0), a sum past Int.max) is a
// finding too. See docs/fuzzing.md.
import Foundation
import ThreatAnalysis
import ThreatCharts
import ThreatModel
import ThreatRender

public enum FuzzReport {
    /// The report window of every fuzz target (one day, hourly buckets).
    public static let window = TimeWindow(from: Date(timeIntervalSince1970: 1_795_046_400), to: Date(timeIntervalSince1970: 1_795_132_800),
                                          interval: .hour)

    /// As the pipeline: statistics past the range gate (`rangeProblem`) make the section
    /// unavailable; the others go through the findings and every chart, twice (report and
    /// previous window). Checks that findings are finite and every chart is drawn.
    public static func analyzeAndDraw(waf: WAFStatistics?, flows: FlowStatistics?) {
        let wafSection: Section<WAFStatistics> = waf.map { w in w.rangeProblem().map { .unavailable($0.description) } ?? .ok(w) } ?? .notConfigured
        let flowSection: Section<FlowStatistics> = flows.map { f in f.rangeProblem().map { .unavailable($0.description) } ?? .ok(f) } ?? .notConfigured
        var env = EnvironmentReport(name: "fuzz", namespace: "shop-production", hosts: ["shop.example.com"], thresholds: Thresholds(),
                                    waf: wafSection, flows: flowSection, policies: .notConfigured)
        env.previous = PreviousWindow(window: window.previous, waf: wafSection.value, flows: flowSection.value)
        let findings = FindingAnalyzer.analyze([env], window: window)
        for f in findings {
            precondition(f.value.map { $0.isFinite } ?? true, "finding \(f.id) has a non-finite value")
            precondition(!f.title.isEmpty, "finding without a title")
        }
        // The charts' numbers on every input: the y axis of each series and bar list (as the
        // charts take them), its labels, the reduction to pixel columns, and the time axis.
        var series: [[SeriesPoint<Double>]] = []
        var bars: [[RankedCount]] = []
        if let w = wafSection.value {
            series += [w.totalHistory, w.anomalousHistory].map { $0.map { SeriesPoint($0.time, Double($0.value)) } }
            bars += [w.topRules, w.topClients, w.topURIs, w.categories, w.anomalyScores]
        }
        if let f = flowSection.value {
            series += [f.forwardedRate, f.droppedRate]
            bars += [f.topDropReasons, f.topDroppedPairs]
        }
        for points in series {
            let top = points.map(\.value).filter(\.isFinite).max()
            let ticks = AxisLabels.niceTicks(max: top.map { $0 > 0 ? $0 : 1 } ?? 1)
            precondition(ticks.allSatisfy(\.isFinite) && ticks.count >= 2, "axis ticks \(ticks) for a maximum of \(String(describing: top))")
            _ = ticks.map(AxisLabels.compact)
            _ = SeriesReduction.reduce(points, from: window.from, to: window.to, columns: 600)
        }
        for list in bars { _ = list.map { AxisLabels.compact(Double($0.count)) } }
        _ = AxisLabels.timeTicks(window: window, timeZone: TimeZone(identifier: "UTC")!, maxTicks: 8)
        // Drawing every chart (Cairo, PNG and SVG) costs about a second under ASan: it runs for one
        // input in 64, chosen by the statistics, so the drawing code still sees fuzzed values.
        var h = Hasher()
        h.combine(series.count)
        for points in series { for p in points { h.combine(p.value.bitPattern) } }
        for list in bars { for r in list { h.combine(r.count) } }
        guard h.finalize() & 63 == 0 else { return }
        let report = Report(title: "fuzz", toolVersion: "fuzz", generatedAt: window.to, window: window, timezone: "UTC",
                            environments: [env], findings: findings)
        do {
            let charts = try ReportCharts.build(report)
            for c in charts { precondition(!c.rendered.svg.isEmpty && !c.rendered.png.isEmpty, "empty chart \(c.fileBase)") }
        } catch {
            preconditionFailure("a chart failed: \(error)")
        }
    }
}
