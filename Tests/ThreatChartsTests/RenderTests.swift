import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

@Suite struct RenderTests {
    @Test func pngHasSignatureAndDeclaredSize() throws {
        let chart = dayChart()
        let out = try ChartRenderer.render(chart)
        let size = try #require(pngSize(out.png))
        #expect(size == [800, 280])
        #expect(out.width == 800 && out.height == 280 && out.pngScale == 1)

        var small = chart
        small.width = 420
        small.height = 200
        #expect(try pngSize(ChartRenderer.render(small).png) == [420, 200])
    }

    @Test func pngScaleTwoDoublesThePixelSizeButNotTheSVG() throws {
        let out = try ChartRenderer.render(dayChart(), pngScale: 2)
        #expect(pngSize(out.png) == [1600, 560])
        #expect(out.svg.contains("width=\"800") && out.svg.contains("height=\"280"))
    }

    @Test func barChartPNGHeightFollowsBarCount() throws {
        let eight = barChart(count: 8), three = barChart(count: 3)
        #expect(eight.height > three.height)
        #expect(try pngSize(ChartRenderer.render(eight).png) == [800, eight.height])
        #expect(try pngSize(ChartRenderer.render(three).png) == [800, three.height])
    }

    @Test func renderingIsDeterministic() throws {
        let a = try ChartRenderer.render(dayChart(timeZone: berlin))
        let b = try ChartRenderer.render(dayChart(timeZone: berlin))
        #expect(a.png == b.png)
        #expect(a.svg == b.svg)
        let c = try ChartRenderer.render(barChart())
        let d = try ChartRenderer.render(barChart())
        #expect(c.png == d.png)
        #expect(c.svg == d.svg)
    }

    @Test func emptyChartDrawsItsNote() throws {
        let withNote = try ChartRenderer.render(dayChart(series: [], note: "No requests in this period"))
        let withoutNote = try ChartRenderer.render(dayChart(series: [], note: ""))
        #expect(pngSize(withNote.png) != nil)
        #expect(!withNote.svg.isEmpty && withNote.svg.contains("<svg"))
        #expect(withNote.png != withoutNote.png)
        // The note is drawn as glyphs: the SVG uses more of them than without it.
        #expect(withNote.svg.components(separatedBy: "<use").count > withoutNote.svg.components(separatedBy: "<use").count)
    }

    @Test func seriesWithoutPointsCountAsEmpty() throws {
        let emptySeries = dayChart(series: [ChartSeries(name: "Total", color: ChartPalette.total, points: [])])
        let noSeries = dayChart(series: [])
        #expect(emptySeries.dataMax == nil)
        // No legend for an empty chart: the two render the same.
        #expect(try ChartRenderer.render(emptySeries).png == ChartRenderer.render(noSeries).png)
        let data = try ChartRenderer.render(dayChart())
        #expect(try ChartRenderer.render(noSeries).png != data.png)
    }

    @Test func pointsOutsideTheWindowDoNotSetTheScale() {
        var points = hourlyPoints(spike: 50)
        points.insert(SeriesPoint(nov19.addingTimeInterval(-7200), 1e9), at: 0)
        points.append(SeriesPoint(nov19.addingTimeInterval(90000), .infinity))
        let chart = dayChart(series: [ChartSeries(name: "x", color: ChartPalette.total, points: points)])
        #expect(chart.dataMax == 160)
    }

    @Test func allZeroSeriesStillDraws() throws {
        let zeros = hourlyPoints().map { SeriesPoint($0.time, 0.0) }
        let chart = dayChart(series: [ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: zeros)])
        #expect(chart.dataMax == 0)
        let out = try ChartRenderer.render(chart)
        #expect(try out.png != ChartRenderer.render(dayChart(series: [])).png)
    }

    @Test func nanAndInfinitePointsDoNotCrash() throws {
        var points = hourlyPoints()
        points[3].value = .nan
        points[4].value = .infinity
        points[10].value = -.infinity
        let allNaN = hourlyPoints().map { SeriesPoint($0.time, Double.nan) }
        let chart = dayChart(series: [
            ChartSeries(name: "gappy", color: ChartPalette.total, style: .area, points: points),
            ChartSeries(name: "nan", color: ChartPalette.dropped, points: allNaN),
        ])
        let out = try ChartRenderer.render(chart)
        #expect(pngSize(out.png) != nil)
        #expect(chart.dataMax == 4800)
        let onlyNaN = dayChart(series: [ChartSeries(name: "nan", color: ChartPalette.dropped, points: allNaN)])
        #expect(onlyNaN.dataMax == nil)
        #expect(try pngSize(ChartRenderer.render(onlyNaN).png) != nil)
    }

    @Test func zeroWidthAndReversedWindowsRender() throws {
        for to in [nov19, nov19.addingTimeInterval(-3600)] {
            var chart = dayChart()
            chart.window = TimeWindow(from: nov19, to: to, interval: .hour)
            chart.series[1].points = [SeriesPoint(nov19, 5)]
            let out = try ChartRenderer.render(chart)
            #expect(pngSize(out.png) != nil)
            #expect(!out.svg.isEmpty)
        }
    }

    @Test func hundredThousandPointsRender() throws {
        let points = generated(100_000) { (i: Int) -> Double in 50 + 40 * sin(Double(i) / 500) + (i == 61_234 ? 900 : 0) }
        let chart = dayChart(series: [ChartSeries(name: "Flows", color: ChartPalette.forwarded, style: .area, points: points)])
        let out = try ChartRenderer.render(chart)
        #expect(pngSize(out.png) != nil)
        #expect(chart.dataMax == points.map(\.value).max())
        // Thinned before drawing: the SVG is nowhere near 100k path commands.
        #expect(out.svg.utf8.count < 400_000)
    }

    @Test func denseSegmentsKeepEachColumnsRangeWithFewerPoints() {
        // Three columns: 10 points in column 35, one in 36, 5 in 37.
        var seg: [(Double, Double)] = (0..<10).map { (35 + Double($0) / 10, [140, 152.3, 118.1, 130, 131, 129, 150, 121, 133, 137.6][$0]) }
        seg.append((36.2, 100.13))
        seg += (0..<5).map { (37 + Double($0) / 5, 90 + Double($0)) }
        let out = TimeSeriesChart.snapped(seg)
        // Column 35: first, lowest y (118.1), highest y (152.3), last; in path order.
        #expect(out.prefix(4).map(\.0) == [35.5, 35.5, 35.5, 35.5])
        #expect(out.prefix(4).map(\.1) == [140, 152.25, 118, 137.5])
        #expect(out[4] == (36.5, 100.25))
        // Column 37 is monotonic: first and last only (the lowest and highest are those).
        #expect(out.dropFirst(5).map(\.1) == [90, 94])
        // Every column's vertical range survives (within the quarter-pixel snap).
        for c in [35.0, 36, 37] {
            let before = seg.filter { $0.0.rounded(.down) == c }.map(\.1)
            let after = out.filter { $0.0 == c + 0.5 }.map(\.1)
            #expect(abs(before.min()! - after.min()!) <= 0.125 && abs(before.max()! - after.max()!) <= 0.125)
        }
        #expect(TimeSeriesChart.snapped([(1.3, 2.7), (1.4, 3.1)]).count == 2)  // short: unchanged
    }

    @Test func twoDenseSeriesGiveASmallSVG() throws {
        let a = generated(100_000) { (i: Int) -> Double in 120 + 80 * sin(Double(i) / 1600) + Double((i &* 7919) % 40) }
        let b = generated(100_000) { (i: Int) -> Double in 60 + 30 * sin(Double(i) / 900) + Double((i &* 104_729) % 25) }
        let chart = dayChart(series: [
            ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: a),
            ChartSeries(name: "Anomalous", color: ChartPalette.anomalous, style: .line, points: b),
        ])
        let out = try ChartRenderer.render(chart)
        #expect(out.svg.utf8.count <= 200_000, "SVG \(out.svg.utf8.count) bytes")
        #expect(pngSize(out.png) != nil)
    }

    @Test func invalidSizesThrow() {
        var chart = dayChart()
        chart.width = 0
        #expect(throws: ChartError.invalidSize(width: 0, height: 280, scale: 1)) { try ChartRenderer.render(chart) }
        chart.width = 800
        #expect(throws: ChartError.self) { try ChartRenderer.render(chart, pngScale: 9) }
        var bars = barChart()
        bars.width = 100_000
        #expect(throws: ChartError.self) { try ChartRenderer.render(bars) }
        #expect(ChartError.cairo(operation: "x", status: "no memory").description.contains("no memory"))
    }

    @Test func emptyBarChartAndManyBars() throws {
        let empty = BarChart(id: "top-rules", title: "Top rules", bars: [], emptyNote: "No anomalous requests")
        let out = try ChartRenderer.render(empty)
        #expect(pngSize(out.png)?.last == empty.height)
        var blank = empty
        blank.emptyNote = ""
        #expect(try ChartRenderer.render(blank).png != out.png)

        let many = BarChart(id: "many", title: "Many", bars: (0..<250).map { .init(label: "client-\($0)", value: Double(250 - $0)) })
        #expect(many.height == BarChart(id: "x", title: "", bars: Array(many.bars.prefix(101))).height)
        #expect(try pngSize(ChartRenderer.render(many).png) != nil)

        let odd = BarChart(id: "odd", title: "Odd values", bars: [
            .init(label: "zero", value: 0), .init(label: "negative", value: -5), .init(label: "nan", value: .nan),
            .init(label: "inf", value: .infinity), .init(label: "huge", value: 1e300),
        ])
        #expect(try pngSize(ChartRenderer.render(odd).png) != nil)
    }

    @Test func untrustedLabelsAreCleanedAndCut() {
        let long = String(repeating: "x", count: 300)
        let cut = ChartText.sanitize(long)
        #expect(cut.count == 48 && cut.hasSuffix("…"))
        #expect(ChartText.sanitize(String(repeating: "y", count: 48)) == String(repeating: "y", count: 48))
        #expect(ChartText.sanitize("a\u{0}b\u{1B}c\u{202E}d\te\nf") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d e f")
        let zalgo = "Z" + String(repeating: "\u{0301}", count: 40)
        #expect(ChartText.sanitize(zalgo).unicodeScalars.count == 3)
        #expect(ChartText.sanitize("/wp-login.php?x=1") == "/wp-login.php?x=1")
    }
}
