import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

/// The gallery of hard cases (time zones, empty, all-zero, 100k points with NaN, a week, a narrow
/// chart with long titles) drawn on every run. Each chart must come out as a PNG of its size and
/// an SVG with its own id prefix. `scripts/chart-samples.sh DIR` keeps the files for a look:
/// it runs this test with THREAT_CHARTS_SAMPLES=DIR, which only chooses where they are written.
@Suite("Chart gallery")
struct SampleOutput {
    @Test("Every hard case draws: a PNG of the chart's size (2x when asked) and an SVG whose ids carry the chart's prefix")
    func gallery() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["THREAT_CHARTS_SAMPLES"]
                      ?? NSTemporaryDirectory() + "threat-charts-gallery-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var drawn = 0
        func write(_ name: String, _ out: RenderedChart, scale: Int = 1) throws {
            #expect(Array(out.png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(name): PNG signature")
            // IHDR width and height, big-endian, right after the signature and the chunk header.
            let be = { (o: Int) -> Int in out.png[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
            #expect(be(16) == out.width * scale && be(20) == out.height * scale, "\(name): PNG size")
            #expect(out.svg.hasPrefix("<svg") && out.svg.contains("</svg>"), "\(name): SVG")
            #expect(!out.svg.contains("id=\"glyph0-"), "\(name): SVG ids are prefixed")
            try Data(out.png).write(to: dir.appendingPathComponent(name + ".png"))
            try out.svg.write(to: dir.appendingPathComponent(name + ".svg"), atomically: true, encoding: .utf8)
            drawn += 1
        }
        try write("day-utc", ChartRenderer.render(dayChart()))
        try write("day-berlin", ChartRenderer.render(dayChart(timeZone: berlin)))
        try write("day-utc-2x", ChartRenderer.render(dayChart(), pngScale: 2), scale: 2)
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
        #expect(drawn == 10)
    }
}
