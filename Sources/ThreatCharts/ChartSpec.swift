import CCairo

/// A chart description that can be drawn onto any cairo surface: the same specs the PNG and SVG
/// files come from, drawn as vectors into a rectangle of a PDF page.
public enum ChartSpec: Sendable {
    case timeSeries(TimeSeriesChart)
    case bar(BarChart)
    case trafficMap(TrafficMapChart)

    public var width: Int {
        switch self {
        case let .timeSeries(c): c.width
        case let .bar(c): c.width
        case let .trafficMap(c): c.width
        }
    }

    public var height: Int {
        switch self {
        case let .timeSeries(c): c.height
        case let .bar(c): c.height
        case let .trafficMap(c): c.height
        }
    }

    /// The same chart laid out for another size (a bar chart keeps its own height).
    public func resized(width: Int, height: Int) -> ChartSpec {
        switch self {
        case var .timeSeries(c):
            c.width = width
            c.height = height
            return .timeSeries(c)
        case var .bar(c):
            c.width = width
            return .bar(c)
        case var .trafficMap(c):
            c.width = width
            return .trafficMap(c)
        }
    }

    /// Draws the chart as vectors into `cr` (any cairo surface: a PDF page, a test's image),
    /// scaled uniformly to fit `width` × `height` at (`x`, `y`) and clipped to its own area. The
    /// context's state is restored afterwards. Returns the size drawn, in the context's units.
    public func draw(into cr: OpaquePointer, x: Double, y: Double, width: Double, height: Double) -> (width: Double, height: Double) {
        let scale = min(width / Double(self.width), height / Double(self.height))
        cairo_save(cr)
        cairo_translate(cr, x, y)
        cairo_scale(cr, scale, scale)
        cairo_rectangle(cr, 0, 0, Double(self.width), Double(self.height))
        cairo_clip(cr)
        draw(on: Painter(cr: cr))
        cairo_restore(cr)
        return (Double(self.width) * scale, Double(self.height) * scale)
    }

    func draw(on p: Painter) {
        switch self {
        case let .timeSeries(c): c.draw(on: p)
        case let .bar(c): c.draw(on: p)
        case let .trafficMap(c): c.draw(on: p)
        }
    }
}
