import Foundation
import ThreatCharts
import ThreatModel

/// One drawn chart of the report, with the file names it is written under.
public struct ReportChart: Sendable {
    public var environmentIndex: Int
    /// `waf`, `flows`, …
    public var kind: String
    public var title: String
    /// Relative path without extension, e.g. `charts/production-waf`.
    public var fileBase: String
    public var rendered: RenderedChart
    /// What was drawn, so that vector formats (PDF) can draw the same chart again at their own size.
    public var spec: ChartSpec? = nil
}

/// Decides which charts the report has and draws them (Cairo, PNG + SVG).
public enum ReportCharts {
    /// File-name-safe, unique slugs for environment names (which come from config and may hold anything).
    public static func slugs(_ names: [String]) -> [String] { FileNameSlug.slugs(names) }

    /// `until`: looked at before each environment's charts; once true, the environments not begun
    /// are left out (the run's deadline passed while drawing).
    public static func build(_ report: Report, until stop: @Sendable () -> Bool = { false }) throws(ChartError) -> [ReportChart] {
        let tz = TimeZone(identifier: report.timezone) ?? TimeZone(identifier: "UTC")!
        let slugs = slugs(report.environments.map(\.name))
        let perHour = "per \(report.window.interval.rawValue)"
        let shift = Double(report.window.seconds)
        let previousName = "previous \(WindowText.human(report.window))"
        // Environments are drawn in parallel (each chart on its own cairo surfaces), then put
        // back in environment order, so the result is the same as drawing them one by one.
        let envs = report.environments
        let results: Locked<[Result<[ReportChart], ChartError>?]> = .slots(envs.count)
        DispatchQueue.concurrentPerform(iterations: envs.count) { i in
            if stop() { return }
            results.set(i, Result { () throws(ChartError) -> [ReportChart] in
                try charts(env: envs[i], index: i, slug: slugs[i], report: report, tz: tz, perHour: perHour,
                           shift: shift, previousName: previousName)
            })
        }
        var out: [ReportChart] = []
        for r in results.current { out += try r?.get() ?? [] }
        return out
    }

    /// One environment's charts, in the report's order.
    private static func charts(env: EnvironmentReport, index i: Int, slug: String, report: Report, tz: TimeZone,
                               perHour: String, shift: Double, previousName: String) throws(ChartError) -> [ReportChart] {
        var out: [ReportChart] = []
        do {
            if let waf = env.waf.value {
                let chart = TimeSeriesChart(
                    id: "\(slug)-waf", title: "Requests (\(Sanitize.text(env.name, max: 40)))", yLabel: "requests \(perHour)",
                    window: report.window, timeZone: tz,
                    series: previousSeries(env.previous?.waf.map { w in
                        ChartSeries(name: "Anomalous, \(previousName)", color: ChartPalette.previous, style: .dashedLine,
                                    points: shifted(w.anomalousHistory.map { SeriesPoint($0.time, Double($0.value)) }, by: shift))
                    }) + [
                        ChartSeries(name: "Total requests", color: ChartPalette.total, style: .area,
                                    points: waf.totalHistory.map { SeriesPoint($0.time, Double($0.value)) }),
                        ChartSeries(name: "Anomalous requests", color: ChartPalette.anomalous, style: .area,
                                    points: waf.anomalousHistory.map { SeriesPoint($0.time, Double($0.value)) }),
                    ],
                    emptyNote: "No requests in this window")
                out.append(ReportChart(environmentIndex: i, kind: "waf", title: chart.title, fileBase: "charts/\(slug)-waf",
                                       rendered: try ChartRenderer.render(chart), spec: .timeSeries(chart)))
            }
            if let waf = env.waf.value, !waf.categories.isEmpty {
                let bars = BarChart(id: "\(slug)-waf-categories", title: "Attack categories (\(Sanitize.text(env.name, max: 40)))",
                                    bars: waf.categories.map { BarChart.Bar(label: $0.label ?? $0.key, value: Double($0.count)) },
                                    color: ChartPalette.anomalous, emptyNote: "No rule matched in this window")
                out.append(ReportChart(environmentIndex: i, kind: "waf-categories", title: bars.title,
                                       fileBase: "charts/\(slug)-waf-categories", rendered: try ChartRenderer.render(bars), spec: .bar(bars)))
            }
            if let flows = env.flows.value {
                let chart = TimeSeriesChart(
                    id: "\(slug)-flows", title: "Flows (\(Sanitize.text(env.name, max: 40)))", yLabel: "flows/s",
                    window: report.window, timeZone: tz,
                    series: previousSeries(env.previous?.flows.map { f in
                        ChartSeries(name: "Dropped, \(previousName)", color: ChartPalette.previous, style: .dashedLine,
                                    points: shifted(f.droppedRate, by: shift))
                    }) + [
                        ChartSeries(name: "Forwarded", color: ChartPalette.forwarded, style: .area, points: flows.forwardedRate),
                        ChartSeries(name: "Dropped", color: ChartPalette.dropped, style: .area, points: flows.droppedRate),
                    ],
                    emptyNote: "No flow metrics for this namespace")
                out.append(ReportChart(environmentIndex: i, kind: "flows", title: chart.title, fileBase: "charts/\(slug)-flows",
                                       rendered: try ChartRenderer.render(chart), spec: .timeSeries(chart)))
            }
            if let flows = env.flows.value, !flows.topDropReasons.isEmpty {
                let chart = BarChart(id: "\(slug)-drops", title: "Drop reasons (\(Sanitize.text(env.name, max: 40)))",
                                     bars: flows.topDropReasons.map { BarChart.Bar(label: $0.key, value: Double($0.count)) },
                                     color: ChartPalette.dropped, emptyNote: "No drops in this window")
                out.append(ReportChart(environmentIndex: i, kind: "drops", title: chart.title, fileBase: "charts/\(slug)-drops",
                                       rendered: try ChartRenderer.render(chart), spec: .bar(chart)))
            }
            if let map = TrafficMapView.chart(env, slug: slug) {
                out.append(ReportChart(environmentIndex: i, kind: "map", title: map.title, fileBase: "charts/\(slug)-map",
                                       rendered: try ChartRenderer.render(map), spec: .trafficMap(map)))
            }
        }
        return out
    }

    /// The previous window's series comes first, so it is drawn underneath.
    static func previousSeries(_ s: ChartSeries?) -> [ChartSeries] { s.map { [$0] } ?? [] }

    /// Moves the previous window's points forward by one window length, onto the report's x range.
    static func shifted(_ points: [SeriesPoint<Double>], by seconds: Double) -> [SeriesPoint<Double>] {
        points.map { SeriesPoint($0.time.addingTimeInterval(seconds), $0.value) }
    }
}
