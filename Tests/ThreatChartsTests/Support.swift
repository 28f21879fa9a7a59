import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

/// 2026-11-19T00:00:00Z
let nov19 = Date(timeIntervalSince1970: 1_795_046_400)
let dayWindow = TimeWindow(from: nov19, to: nov19.addingTimeInterval(86400), interval: .hour)
let utc = TimeZone(identifier: "UTC")!
let berlin = TimeZone(identifier: "Europe/Berlin")!

/// Hourly points over the day window with a spike at 14:00.
func hourlyPoints(base: Double = 120, spikeAt: Int = 14, spike: Double = 4800) -> [SeriesPoint<Double>] {
    (0..<24).map { h in
        let wave = base + 40 * sin(Double(h) / 24 * 2 * .pi)
        return SeriesPoint(nov19.addingTimeInterval(Double(h * 3600)), h == spikeAt ? spike : wave.rounded())
    }
}

func dayChart(id: String = "waf-requests", series: [ChartSeries]? = nil, note: String = "No requests in this period",
              timeZone: TimeZone = utc) -> TimeSeriesChart {
    TimeSeriesChart(
        id: id, title: "Requests", yLabel: "requests per hour", window: dayWindow, timeZone: timeZone,
        series: series ?? [
            ChartSeries(name: "Previous 24 h", color: ChartPalette.previous, style: .dashedLine,
                        points: hourlyPoints(base: 100, spike: 150).map {
                            SeriesPoint($0.time, $0.value)
                        }),
            ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: hourlyPoints()),
            ChartSeries(name: "Anomalous", color: ChartPalette.anomalous, style: .line,
                        points: hourlyPoints(base: 12, spike: 1900)),
        ],
        emptyNote: note)
}

func barChart(id: String = "top-uris", count: Int = 8) -> BarChart {
    let labels = [
        "/api/v4/projects/1/repository/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd/raw?ref=main&x=" + String(repeating: "A", count: 300),
        "/wp-login.php", "/.env", "/admin\u{0}\u{1B}[31mred\u{202E}gnp.exe", "/cgi-bin/luci",
        "/index.php?s=/Index/\\think\\app/invokefunction", "/", "/robots.txt", "/a", "/b", "/c",
    ]
    let bars = (0..<count).map { i in
        BarChart.Bar(label: labels[i % labels.count], value: Double(15_400 / (i + 1)))
    }
    return BarChart(id: id, title: "Top requested URIs", bars: bars, emptyNote: "No anomalous requests")
}

/// [width, height] from the IHDR chunk, after checking the PNG signature.
func pngSize(_ png: [UInt8]) -> [Int]? {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard png.count > 24, Array(png[0..<8]) == signature, String(decoding: png[12..<16], as: UTF8.self) == "IHDR"
    else { return nil }
    func be32(_ at: Int) -> Int { png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    return [be32(16), be32(20)]
}

/// Every value of `id="…"` in the SVG.
func svgIDs(_ svg: String) -> [String] { captures(svg, after: " id=\"", until: "\"") }

/// Every id referenced as `href="#…"` or `url(#…)`.
func svgReferences(_ svg: String) -> [String] {
    captures(svg, after: "href=\"#", until: "\"") + captures(svg, after: "url(#", until: ")")
}

func captures(_ s: String, after open: String, until close: Character) -> [String] {
    var out: [String] = []
    var rest = Substring(s)
    while let r = rest.range(of: open) {
        rest = rest[r.upperBound...]
        guard let end = rest.firstIndex(of: close) else { break }
        out.append(String(rest[..<end]))
        rest = rest[end...]
    }
    return out
}

/// `n` evenly spaced points over `span` seconds from `from`, valued `f(i)`.
func generated(_ n: Int, from: Date = nov19, span: Double = 86400, _ f: (Int) -> Double) -> [SeriesPoint<Double>] {
    let step = span / Double(n)
    return (0..<n).map { SeriesPoint(from.addingTimeInterval(Double($0) * step), f($0)) }
}
