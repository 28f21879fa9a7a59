import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

/// Writes sample charts for a visual check, and times large renders. Both only run when asked:
///   THREAT_CHARTS_SAMPLES=/tmp/charts-check swift test --filter ThreatChartsTests.SampleOutput
///   THREAT_CHARTS_TIMING=1 swift test -c release --filter ThreatChartsTests.SampleOutput
@Suite struct SampleOutput {
    static let samplesDir = ProcessInfo.processInfo.environment["THREAT_CHARTS_SAMPLES"]
    static let timing = ProcessInfo.processInfo.environment["THREAT_CHARTS_TIMING"] != nil

    @Test(.enabled(if: samplesDir != nil)) func writeSamples() throws {
        let dir = URL(fileURLWithPath: try #require(Self.samplesDir))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func write(_ name: String, _ out: RenderedChart) throws {
            try Data(out.png).write(to: dir.appendingPathComponent(name + ".png"))
            try out.svg.write(to: dir.appendingPathComponent(name + ".svg"), atomically: true, encoding: .utf8)
        }
        try write("day-utc", ChartRenderer.render(dayChart()))
        try write("day-berlin", ChartRenderer.render(dayChart(timeZone: berlin)))
        try write("day-utc-2x", ChartRenderer.render(dayChart(), pngScale: 2))
        try write("empty", ChartRenderer.render(dayChart(series: [])))
        try write("bars", ChartRenderer.render(barChart(count: 8)))
        try write("bars-empty", ChartRenderer.render(BarChart(id: "e", title: "Top rules", bars: [],
                                                              emptyNote: "No anomalous requests")))
        var flows = TimeSeriesChart(
            id: "flows", title: "Network policy flows", yLabel: "flows/s", window: dayWindow.previous,
            timeZone: TimeZone(identifier: "America/New_York")!, series: [], width: 640, height: 240)
        let from = flows.window.from
        let forwarded = generated(100_000, from: from) { (i: Int) -> Double in 0.4 + 0.3 * sin(Double(i) / 4000) }
        let dropped = generated(100_000, from: from) { (i: Int) -> Double in
            i % 20_000 == 7 ? .nan : (i % 997 == 0 ? 0.35 : 0.05)
        }
        flows.series = [
            ChartSeries(name: "Forwarded", color: ChartPalette.forwarded, style: .area, points: forwarded),
            ChartSeries(name: "Dropped", color: ChartPalette.dropped, style: .line, points: dropped),
        ]
        try write("flows-100k", ChartRenderer.render(flows))
        var zeros = dayChart(series: [ChartSeries(name: "Total", color: ChartPalette.total, style: .area,
                                                  points: hourlyPoints().map { SeriesPoint($0.time, 0) })])
        zeros.title = "All zero"
        try write("zeros", ChartRenderer.render(zeros))
        let week = TimeSeriesChart(
            id: "week", title: "Requests, last 7 days", yLabel: "requests per day",
            window: TimeWindow(from: nov19, to: nov19.addingTimeInterval(7 * 86400), interval: .day),
            series: [ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: (0..<7).map {
                SeriesPoint(nov19.addingTimeInterval(Double($0) * 86400), Double(1_200_000 + $0 * 310_000))
            })])
        try write("week", ChartRenderer.render(week))
        var narrow = dayChart(timeZone: TimeZone(identifier: "Asia/Kolkata")!)
        narrow.width = 420
        narrow.height = 220
        narrow.title = "Requests to the production ingress of a very long environment name"
        narrow.series[1].name = "Total requests seen by the web application firewall"
        try write("narrow", ChartRenderer.render(narrow))
    }

    @Test(.enabled(if: timing)) func timeTwoHundredThousandPointSeries() throws {
        let a = generated(100_000) { (i: Int) -> Double in 500 + 400 * sin(Double(i) / 300) }
        let b = generated(100_000) { (i: Int) -> Double in Double(i % 1000) }
        let chart = dayChart(series: [
            ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: a),
            ChartSeries(name: "Anomalous", color: ChartPalette.anomalous, style: .line, points: b),
        ])
        let clock = ContinuousClock()
        _ = try ChartRenderer.render(chart)  // warm up fonts
        var out: RenderedChart?
        let runs = 5
        let total = try clock.measure { for _ in 0..<runs { out = try ChartRenderer.render(chart) } }
        let reduce = clock.measure {
            for _ in 0..<runs { _ = SeriesReduction.reduce(a, from: dayWindow.from, to: dayWindow.to, columns: 740) }
        }
        let pngOnly = try clock.measure {
            for _ in 0..<runs { _ = try Canvas.renderPNG(width: 800, height: 280, scale: 1) { chart.draw(on: $0) } }
        }
        let short = dayChart(series: [
            ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: hourlyPoints()),
            ChartSeries(name: "Anomalous", color: ChartPalette.anomalous, style: .line, points: hourlyPoints(base: 12)),
        ])
        let shortTotal = try clock.measure { for _ in 0..<runs { _ = try ChartRenderer.render(short) } }
        print("2×24 points → PNG+SVG: \(shortTotal / runs) per chart")
        print("2×100k points → PNG+SVG: \(total / runs) per chart (PNG only \(pngOnly / runs));",
              "reduce one 100k series: \(reduce / runs); PNG \(out?.png.count ?? 0) B, SVG \(out?.svg.utf8.count ?? 0) B")
    }
}
