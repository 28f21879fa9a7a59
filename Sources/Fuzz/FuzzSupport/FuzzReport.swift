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
