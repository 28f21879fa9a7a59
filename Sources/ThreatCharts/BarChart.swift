import Foundation

/// A horizontal bar chart (top rules, clients, URIs, drop reasons), one row per bar in the given
/// order (pass them largest first). Labels may come from attackers: they are cleaned with
/// control characters replaced, cut to 48 characters, fitted to a label column measured from the
/// text, and clipped to their row, so they can never run into the bars or each other.
public struct BarChart: Sendable {
    /// One bar: its label and value (negative and non-finite values draw as an empty bar).
    public struct Bar: Sendable, Equatable {
        public var label: String
        public var value: Double
        public init(label: String, value: Double) {
            self.label = label
            self.value = value
        }
    }

    /// Bars drawn at most; further bars are summarised as "+N more".
    public static let maxBars = 100

    /// `[a-z0-9-]` slug; prefixes every id in the SVG.
    public var id: String
    public var title: String
    public var bars: [Bar]
    public var color: RGB
    /// Drawn centred when there are no bars.
    public var emptyNote: String
    public var width: Int = 800

    public init(id: String, title: String, bars: [Bar], color: RGB = ChartPalette.bar,
                emptyNote: String = "No data for this period", width: Int = 800) {
        self.id = id
        self.title = title
        self.bars = bars
        self.color = color
        self.emptyNote = emptyNote
        self.width = width
    }

    static let top = 34.0, rowHeight = 24.0, barHeight = 15.0, bottom = 10.0, emptyHeight = 60.0

    var shownBars: ArraySlice<Bar> { bars.prefix(Self.maxBars) }
    var hiddenCount: Int { max(0, bars.count - Self.maxBars) }

    /// Height in pixels: a title row, then one row per bar (plus a "+N more" row), or a short
    /// panel for the empty note.
    public var height: Int {
        let rows = Double(shownBars.count + (hiddenCount > 0 ? 1 : 0))
        return Int(Self.top + (bars.isEmpty ? Self.emptyHeight : rows * Self.rowHeight) + Self.bottom)
    }
}

extension BarChart {
    func draw(on p: Painter) {
        let w = Double(width), h = Double(height), pad = 10.0
        p.fillRect(x: 0, y: 0, width: w, height: h, ChartPalette.background)
        p.font(size: 14, bold: true)
        p.color(ChartPalette.text)
        p.text(p.fit(ChartText.sanitize(title, maxCharacters: 160), maxWidth: w - 2 * pad), x: pad, y: 20)

        guard !bars.isEmpty else {
            p.font(size: 12)
            p.color(ChartPalette.mutedText)
            let note = p.fit(ChartText.sanitize(emptyNote, maxCharacters: 200), maxWidth: w - 2 * pad)
            p.text(note, x: w / 2, y: Self.top + Self.emptyHeight / 2 + 4, align: .center)
            return
        }

        let shown = Array(shownBars)
        let values = shown.map { $0.value.isFinite ? max(0, $0.value) : 0 }
        let maxValue = values.max() ?? 0
        p.font(size: 11)
        let valueLabels = shown.map { AxisLabels.compact($0.value.isFinite ? $0.value : 0) }
        let valueW = valueLabels.map(p.width).max() ?? 0
        // The label column is as wide as the widest label, but at most 45% of the chart.
        let rawLabels = shown.map { ChartText.sanitize($0.label) }
        let labelColumn = min((rawLabels.map(p.width).max() ?? 0).rounded(.up), (w * 0.45).rounded())
        let labels = rawLabels.map { p.fit($0, maxWidth: labelColumn) }
        let barX = (pad + labelColumn + 10).rounded()
        let barMax = max(1, w - pad - valueW - 6 - barX)

        p.hairline(x0: barX, y0: Self.top, x1: barX, y1: Self.top + Double(shown.count) * Self.rowHeight,
                   ChartPalette.axis)
        for (i, label) in labels.enumerated() {
            let rowY = Self.top + Double(i) * Self.rowHeight
            let baseline = rowY + Self.rowHeight / 2 + 4
            // Labels are clipped to their cell: no glyph can reach a bar or another row.
            p.save()
            p.clip(x: 0, y: rowY, width: barX - 4, height: Self.rowHeight)
            p.color(ChartPalette.text)
            p.text(label, x: pad, y: baseline)
            p.restore()

            var length = maxValue > 0 ? values[i] / maxValue * barMax : 0
            if values[i] > 0 { length = max(1, length) }
            if length > 0 {
                p.fillRect(x: barX, y: (rowY + (Self.rowHeight - Self.barHeight) / 2).rounded(),
                           width: length, height: Self.barHeight, color)
            }
            p.color(ChartPalette.mutedText)
            p.text(valueLabels[i], x: barX + length + 5, y: baseline)
        }
        if hiddenCount > 0 {
            p.color(ChartPalette.mutedText)
            p.text("+\(hiddenCount) more", x: pad,
                   y: Self.top + Double(shown.count) * Self.rowHeight + Self.rowHeight / 2 + 4)
        }
    }
}
