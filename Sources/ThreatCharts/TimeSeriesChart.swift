import CCairo
import Foundation
import ThreatModel

/// How a series is drawn.
public enum SeriesStyle: Sendable {
    /// Translucent filled area with a 1.5 px line on top.
    case area
    /// A 1.5 px line.
    case line
    /// A faint dashed line, for the previous window shown for comparison.
    case dashedLine
}

/// One named series of a time-series chart.
public struct ChartSeries: Sendable {
    public var name: String
    public var color: RGB
    public var style: SeriesStyle
    /// Points in time order. NaN/∞ values are gaps (the line breaks there).
    public var points: [SeriesPoint<Double>]

    public init(name: String, color: RGB, style: SeriesStyle = .line, points: [SeriesPoint<Double>]) {
        self.name = name
        self.color = color
        self.style = style
        self.points = points
    }
}

/// A time-series chart: title top left, legend top right, y axis from 0 to a nice ceiling of the
/// data, x axis pinned to exactly [window.from, window.to] with ticks on the wall clock of
/// `timeZone`. Series are drawn in the given order (put a comparison series first to draw it
/// underneath). Long series are thinned with `SeriesReduction` to the plot's pixel columns.
public struct TimeSeriesChart: Sendable {
    /// `[a-z0-9-]` slug; prefixes every id in the SVG.
    public var id: String
    public var title: String
    /// Unit of the y axis, e.g. "requests per hour", "flows/s"; written above the axis.
    public var yLabel: String
    public var window: TimeWindow
    public var timeZone: TimeZone
    public var series: [ChartSeries]
    /// Drawn centred in the plot when no series has a finite point inside the window.
    public var emptyNote: String
    public var width: Int = 800
    public var height: Int = 280

    public init(id: String, title: String, yLabel: String, window: TimeWindow,
                timeZone: TimeZone = TimeZone(secondsFromGMT: 0)!, series: [ChartSeries],
                emptyNote: String = "No data for this period", width: Int = 800, height: Int = 280) {
        self.id = id
        self.title = title
        self.yLabel = yLabel
        self.window = window
        self.timeZone = timeZone
        self.series = series
        self.emptyNote = emptyNote
        self.width = width
        self.height = height
    }

    /// Largest finite value inside the window over all series; nil when there is none.
    var dataMax: Double? {
        let from = window.from, to = max(window.from, window.to)
        var top: Double?
        for s in series {
            for p in s.points where p.value.isFinite && p.time >= from && p.time <= to {
                top = Swift.max(top ?? p.value, p.value)
            }
        }
        return top
    }
}

extension TimeSeriesChart {
    /// Space around the chart's contents, in pixels.
    static let pad = 10.0

    /// The plot rectangle and its scales, in chart pixels.
    struct PlotArea {
        var top: Double
        var bottom: Double
        var left: Double
        var width: Double
        var yMax: Double
        var from: Date
        var span: Double
        var height: Double { max(1, bottom - top) }

        func x(_ t: Date) -> Double { span > 0 ? left + t.timeIntervalSince(from) / span * width : left + width / 2 }
        func y(_ v: Double) -> Double { bottom - v / yMax * height }
    }

    /// Background, header (title, y label, legend), axes, then the series or the empty note.
    func draw(on p: Painter) {
        let top = dataMax
        p.fillRect(x: 0, y: 0, width: Double(width), height: Double(height), ChartPalette.background)
        drawHeader(p, hasData: top != nil)
        let (plot, ticks) = layoutPlot(p, dataMax: top)
        drawAxes(p, plot, ticks: top == nil ? [] : ticks)
        guard top != nil else {
            drawEmptyNote(p, plot)
            return
        }
        drawSeries(p, plot)
    }

    /// Row 1: title left, legend right. Row 2: y label left, and the legend when row 1 is full.
    func drawHeader(_ p: Painter, hasData: Bool) {
        let w = Double(width), pad = Self.pad
        p.font(size: 14, bold: true)
        var title = ChartText.sanitize(self.title, maxCharacters: 160)
        let titleW = p.width(title)
        p.font(size: 10)
        let yLabel = ChartText.sanitize(self.yLabel, maxCharacters: 80)
        let yLabelW = p.width(yLabel)
        p.font(size: 11)
        let swatch = 16.0, swatchGap = 5.0, itemGap = 16.0
        var names = hasData ? series.map { ChartText.sanitize($0.name) } : []
        func legendWidth() -> Double {
            names.reduce(0) { $0 + swatch + swatchGap + p.width($1) } + itemGap * Double(max(0, names.count - 1))
        }
        let onTitleRow = titleW + 24 + legendWidth() <= w - 2 * pad
        if !onTitleRow, !names.isEmpty, legendWidth() > w - 2 * pad - yLabelW - 24 {
            let n = Double(names.count)
            let each = max(24, (w - 2 * pad - yLabelW - 24 - itemGap * (n - 1)) / n - swatch - swatchGap)
            names = names.map { p.fit($0, maxWidth: each) }
        }
        p.font(size: 14, bold: true)
        title = p.fit(title, maxWidth: w - 2 * pad)
        p.color(ChartPalette.text)
        p.text(title, x: pad, y: 20)
        p.font(size: 10)
        p.color(ChartPalette.mutedText)
        p.text(yLabel, x: pad, y: 41)
        p.font(size: 11)
        var lx = w - pad - legendWidth()
        let ly = onTitleRow ? 19.0 : 40.0
        for (s, name) in zip(series, names) {
            drawSwatch(p, s, x: lx, y: ly - 4, width: swatch)
            p.color(ChartPalette.text)
            p.text(name, x: lx + swatch + swatchGap, y: ly)
            lx += swatch + swatchGap + p.width(name) + itemGap
        }
    }

    /// The y scale (nice ticks up to the data's maximum) and the plot rectangle left of the tick
    /// labels' width. Leaves the font at the tick labels' size.
    func layoutPlot(_ p: Painter, dataMax top: Double?) -> (PlotArea, [(value: Double, label: String)]) {
        let w = Double(width), h = Double(height), pad = Self.pad
        let plotTop = 52.0, plotBottom = (h - 34).rounded()
        let plotH = max(1, plotBottom - plotTop)
        let ticks = AxisLabels.niceTicks(max: top.map { $0 > 0 ? $0 : 1 } ?? 1,
                                         count: max(2, min(5, Int(plotH / 36))))
        let tickLabels = ticks.map(AxisLabels.compact)
        p.font(size: 10)
        let labelW = top == nil ? 0 : tickLabels.map(p.width).max() ?? 0
        let left = (pad + labelW + 6).rounded(), right = (w - 22).rounded()
        let from = window.from, to = max(window.from, window.to)
        let plot = PlotArea(top: plotTop, bottom: plotBottom, left: left, width: max(1, right - left),
                            yMax: ticks.last ?? 1, from: from, span: to.timeIntervalSince(from))
        return (plot, Array(zip(ticks, tickLabels)).map { ($0.0, $0.1) })
    }

    /// Grid lines and labels of `ticks`, the two axis lines and the time axis.
    func drawAxes(_ p: Painter, _ plot: PlotArea, ticks: [(value: Double, label: String)]) {
        for (v, label) in ticks {
            let ty = plot.y(v).rounded()
            if v > 0 { p.hairline(x0: plot.left, y0: ty, x1: plot.left + plot.width, y1: ty, ChartPalette.grid) }
            p.color(ChartPalette.mutedText)
            p.text(label, x: plot.left - 6, y: ty + 3.5, align: .right)
        }
        p.hairline(x0: plot.left, y0: plot.top, x1: plot.left, y1: plot.bottom, ChartPalette.axis)
        p.hairline(x0: plot.left, y0: plot.bottom, x1: plot.left + plot.width, y1: plot.bottom, ChartPalette.axis)
        drawTimeAxis(p, left: plot.left, plotW: plot.width, bottom: plot.bottom, x: plot.x)
    }

    /// The note centred in an empty plot.
    func drawEmptyNote(_ p: Painter, _ plot: PlotArea) {
        p.font(size: 12)
        p.color(ChartPalette.mutedText)
        let note = p.fit(ChartText.sanitize(emptyNote, maxCharacters: 200), maxWidth: plot.width - 16)
        p.text(note, x: plot.left + plot.width / 2, y: plot.top + plot.height / 2 + 4, align: .center)
    }

    /// Every series, reduced to the plot's pixel columns and cut into segments at gaps (non-finite
    /// values), clipped to the plot.
    func drawSeries(_ p: Painter, _ plot: PlotArea) {
        let from = window.from, to = max(window.from, window.to)
        p.save()
        p.clip(x: plot.left, y: plot.top - 2, width: plot.width, height: plot.height + 3)
        cairo_set_line_join(p.cr, CAIRO_LINE_JOIN_ROUND)
        for s in series {
            let reduced = SeriesReduction.reduce(s.points, from: from, to: to, columns: Int(plot.width))
            var segments: [[(Double, Double)]] = [[]]
            for pt in reduced {
                if pt.value.isFinite {
                    segments[segments.count - 1].append((plot.x(pt.time), plot.y(pt.value)))
                } else if !segments[segments.count - 1].isEmpty {
                    segments.append([])
                }
            }
            for seg in segments where !seg.isEmpty { drawSegment(p, seg, s, bottom: plot.bottom) }
        }
        p.restore()
    }

    /// Snaps a segment to the device grid and keeps, of each run of points in one pixel column,
    /// only those that change what is drawn (the first, the lowest, the highest and the last, in
    /// order): a vertical run draws the same line and encloses the same area with these four.
    /// After `SeriesReduction` a dense series has up to four points per column at scattered
    /// sub-pixel x; snapping x to the column centre and y to a quarter pixel keeps the look (the
    /// line still spans the column's range) and roughly halves the SVG path text and the
    /// rasterizer's work.
    static func snapped(_ seg: [(Double, Double)]) -> [(Double, Double)] {
        guard seg.count > 2 else { return seg }
        var out: [(Double, Double)] = []
        out.reserveCapacity(seg.count)
        func emit(_ x: Double, _ y: Double) {
            let q = ((y * 4).rounded() / 4)
            if let last = out.last, last.0 == x, last.1 == q { return }
            out.append((x, q))
        }
        var i = 0
        while i < seg.count {
            let column = seg[i].0.rounded(.down)
            var j = i, lo = i, hi = i
            while j + 1 < seg.count, seg[j + 1].0.rounded(.down) == column {
                j += 1
                if seg[j].1 < seg[lo].1 { lo = j }
                if seg[j].1 > seg[hi].1 { hi = j }
            }
            let x = column + 0.5
            if i == j {
                emit(x, seg[i].1)
            } else {
                for k in [i, min(lo, hi), max(lo, hi), j] { emit(x, seg[k].1) }
            }
            i = j + 1
        }
        return out
    }

    private func drawSegment(_ p: Painter, _ points: [(Double, Double)], _ s: ChartSeries, bottom: Double) {
        let cr = p.cr
        let dense = points.count > width
        let seg = dense ? Self.snapped(points) : points
        if seg.count == 1 {
            p.color(s.color, alpha: s.style == .dashedLine ? 0.7 : 1)
            cairo_arc(cr, seg[0].0, seg[0].1, 2, 0, 2 * Double.pi)
            cairo_fill(cr)
            return
        }
        // A dense series is a ~3,000-vertex zigzag: cairo's fast rasterizer draws it in a quarter
        // of the time, and at one vertex per pixel column the edges look the same (vector output
        // ignores the setting).
        if dense { cairo_set_antialias(cr, CAIRO_ANTIALIAS_FAST) }
        defer { if dense { cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT) } }
        if s.style == .area {
            cairo_move_to(cr, seg[0].0, bottom)
            for (k, (px, py)) in seg.enumerated() {
                // Inside a vertical run only its two ends bound the area (the rest is zero-width).
                if k > 0, k < seg.count - 1, seg[k - 1].0 == px, seg[k + 1].0 == px { continue }
                cairo_line_to(cr, px, py)
            }
            cairo_line_to(cr, seg[seg.count - 1].0, bottom)
            cairo_close_path(cr)
            p.color(s.color, alpha: 0.16)
            cairo_fill(cr)
        }
        cairo_move_to(cr, seg[0].0, seg[0].1)
        for (px, py) in seg.dropFirst() { cairo_line_to(cr, px, py) }
        setStroke(p, s.style, s.color)
        // A dense line turns at every point; bevel joins look the same at 1.5 px and spare the
        // stroker an arc per point.
        if dense { cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL) }
        cairo_stroke(cr)
        if dense { cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND) }
        cairo_set_dash(cr, nil, 0, 0)
    }

    private func setStroke(_ p: Painter, _ style: SeriesStyle, _ color: RGB) {
        if style == .dashedLine {
            p.color(color, alpha: 0.85)
            cairo_set_line_width(p.cr, 1.25)
            let dashes: [Double] = [5, 4]
            cairo_set_dash(p.cr, dashes, 2, 0)
        } else {
            p.color(color)
            cairo_set_line_width(p.cr, 1.5)
            cairo_set_dash(p.cr, nil, 0, 0)
        }
    }

    private func drawSwatch(_ p: Painter, _ s: ChartSeries, x: Double, y: Double, width: Double) {
        if s.style == .area { p.fillRect(x: x, y: y - 4, width: width, height: 8, s.color, alpha: 0.16) }
        cairo_move_to(p.cr, x, s.style == .area ? y - 4 : y)
        cairo_line_to(p.cr, x + width, s.style == .area ? y - 4 : y)
        setStroke(p, s.style, s.color)
        cairo_set_line_width(p.cr, s.style == .dashedLine ? 1.5 : 2)
        cairo_stroke(p.cr)
        cairo_set_dash(p.cr, nil, 0, 0)
    }

    /// Tick marks and labels under the plot: time of day on the first line, the date (first tick
    /// and midnights) on the second, and the time zone at the right end of the second line.
    private func drawTimeAxis(_ p: Painter, left: Double, plotW: Double, bottom: Double, x: (Date) -> Double) {
        let w = Double(width)
        let ticks = AxisLabels.ticks(window: window, timeZone: timeZone, maxTicks: max(2, Int(plotW / 75)))
        p.font(size: 10)
        let zone = AxisLabels.zoneLabel(window: window, timeZone: timeZone)
        let zoneLeft = w - 10 - p.width(zone)
        p.color(ChartPalette.mutedText)
        p.text(zone, x: w - 10, y: bottom + 27, align: .right)
        var lastTimeEnd = -Double.infinity, lastDayEnd = -Double.infinity
        for tick in ticks {
            let tx = x(tick.date).rounded()
            p.hairline(x0: tx, y0: bottom, x1: tx, y1: bottom + 4, ChartPalette.axis)
            p.color(ChartPalette.mutedText)
            let first = tick.time ?? tick.day ?? ""
            let fw = p.width(first)
            let fx = min(max(tx - fw / 2, 2), w - 2 - fw)
            if fx >= lastTimeEnd + 6 {
                p.text(first, x: fx, y: bottom + 15)
                lastTimeEnd = fx + fw
            }
            if tick.time != nil, let day = tick.day {
                let dw = p.width(day)
                let dx = min(max(tx - dw / 2, 2), w - 2 - dw)
                if dx >= lastDayEnd + 6, dx + dw <= zoneLeft - 8 {
                    p.text(day, x: dx, y: bottom + 27)
                    lastDayEnd = dx + dw
                }
            }
        }
    }
}
