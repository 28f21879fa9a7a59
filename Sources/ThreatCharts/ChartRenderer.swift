/// Draws charts to PNG and SVG with cairo.
///
/// Output is deterministic: the same chart gives byte-identical PNG and SVG on every run.
/// PNGs are drawn at `pngScale` image pixels per CSS pixel (1 by default; 2 gives crisp images on
/// high-density screens — the PNG header then says 2 × width by 2 × height, and the page should
/// show it at `width` × `height`).
public enum ChartRenderer {
    /// Largest width or height accepted, in CSS pixels.
    public static let maxSide = 8192

    public static func render(_ chart: TimeSeriesChart) throws(ChartError) -> RenderedChart {
        try render(chart, pngScale: 1)
    }

    public static func render(_ chart: TimeSeriesChart, pngScale: Int) throws(ChartError) -> RenderedChart {
        try Canvas.render(width: chart.width, height: chart.height, pngScale: pngScale,
                          idPrefix: idPrefix(for: chart.id)) { chart.draw(on: $0) }
    }

    public static func render(_ chart: BarChart) throws(ChartError) -> RenderedChart {
        try render(chart, pngScale: 1)
    }

    public static func render(_ chart: BarChart, pngScale: Int) throws(ChartError) -> RenderedChart {
        try Canvas.render(width: chart.width, height: chart.height, pngScale: pngScale,
                          idPrefix: idPrefix(for: chart.id)) { chart.draw(on: $0) }
    }

    /// The prefix put before every id in a chart's SVG: the chart id reduced to `[a-z0-9-]`
    /// (anything else becomes "-"; "chart" when nothing is left; a leading "c" when it would
    /// not start with a letter), then "-". `"waf-total"` → `"waf-total-"`.
    public static func idPrefix(for id: String) -> String {
        var slug = String(id.lowercased().unicodeScalars.map { u -> Character in
            ("a"..."z").contains(u) || ("0"..."9").contains(u) || u == "-" ? Character(u) : "-"
        })
        if slug.isEmpty { slug = "chart" }
        if let f = slug.unicodeScalars.first, !("a"..."z").contains(f) { slug = "c" + slug }
        return slug + "-"
    }
}
