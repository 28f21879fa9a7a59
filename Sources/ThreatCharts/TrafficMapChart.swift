import CCairo
import Foundation
import ThreatModel

/// The traffic map of one environment (docs/flows.md, "Traffic map"): nodes on a circle, one
/// curved arrow per verdict class from source to destination, its width the flows on a log scale
/// and its colour the verdict (forwarded blue, dropped red, audit amber, other grey). The line is
/// solid where a policy covers the destination, dashed where none does, dotted where the report
/// cannot tell. Deterministic: the same graph gives the same bytes.
public struct TrafficMapChart: Sendable {
    public var id: String
    public var title: String
    public var graph: TrafficMapGraph
    public var width: Int

    public init(id: String, title: String, graph: TrafficMapGraph, width: Int = 800) {
        self.id = id
        self.title = title
        self.graph = graph
        self.width = width
    }

    public var height: Int { Int(TrafficMapLayout.height(width: Double(width), nodes: graph.nodes.count).rounded(.up)) }

    /// Stroke width of `flows` flows: 1.5 px for one flow, 1.5 px more per power of ten, at most 12.
    static func strokeWidth(_ flows: Int) -> Double { min(12, 1.5 + 1.5 * log10(Double(max(1, flows)))) }

    static let verdicts: [(name: String, color: RGB, count: @Sendable (TrafficMap.Edge) -> Int)] = [
        ("forwarded", ChartPalette.forwarded, { $0.forwarded }), ("dropped", ChartPalette.dropped, { $0.dropped }),
        ("audit", ChartPalette.audit, { $0.audit }), ("other verdicts", ChartPalette.previous, { $0.other }),
    ]
    static let workloadFill = ChartPalette.bar, namespaceFill = RGB(hex: 0x303030), otherFill = RGB(hex: 0xBDBDBD)
}

extension ChartRenderer {
    public static func render(_ chart: TrafficMapChart, pngScale: Int = 1) throws(ChartError) -> RenderedChart {
        try Canvas.render(width: chart.width, height: chart.height, pngScale: pngScale,
                          idPrefix: idPrefix(for: chart.id)) { chart.draw(on: $0) }
    }
}

extension TrafficMapChart {
    /// The layout `draw` uses, measured on a scratch Cairo surface (for tests and callers that
    /// place things around the map).
    func layout() -> TrafficMapLayout? {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        defer { cairo_destroy(cr) }
        let p = Painter(cr: cr)
        p.setUp()
        return TrafficMapLayout(graph, width: Double(width), painter: p)
    }

    func draw(on p: Painter) {
        let l = TrafficMapLayout(graph, width: Double(width), painter: p)
        let w = Double(width), h = Double(height), pad = TrafficMapLayout.pad
        p.fillRect(x: 0, y: 0, width: w, height: h, ChartPalette.background)
        p.font(size: 14, bold: true)
        p.color(ChartPalette.text)
        p.text(p.fit(ChartText.sanitize(title, maxCharacters: 160), maxWidth: w - 2 * pad), x: pad, y: 20)

        let index = Dictionary(l.nodes.enumerated().map { ($1.node.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Thick edges first, so thin ones stay visible on top.
        for e in graph.edges {
            guard let a = index[e.source], let b = index[e.destination] else { continue }
            drawEdge(e, from: l.nodes[a], to: l.nodes[b], layout: l, on: p)
        }
        p.font(size: TrafficMapLayout.fontSize)
        for n in l.nodes {
            drawNode(n.node, x: n.x, y: n.y, on: p)
            if n.inner {
                // A white halo keeps the label readable over the spokes.
                let r = n.labelRect
                p.fillRect(x: r.x - 2, y: r.y, width: r.width + 4, height: r.height, ChartPalette.background, alpha: 0.85)
                p.font(size: TrafficMapLayout.fontSize, bold: n.bold)
                p.color(ChartPalette.text)
                p.text(n.label, x: n.textX, y: n.baseline)
                continue
            }
            // A leader line where the label had to move away from its node.
            let nx = n.x + (n.x - l.cx) / l.radius * (TrafficMapLayout.nodeRadius + 2)
            let ny = n.y + (n.y - l.cy) / l.radius * (TrafficMapLayout.nodeRadius + 2)
            if hypot(n.anchorX - nx, n.anchorY - ny) > TrafficMapLayout.labelGap + 2 {
                p.color(ChartPalette.mutedText)
                cairo_set_line_width(p.cr, 0.75)
                cairo_set_dash(p.cr, nil, 0, 0)
                cairo_move_to(p.cr, nx, ny)
                cairo_line_to(p.cr, n.anchorX, n.anchorY)
                cairo_stroke(p.cr)
            }
            p.font(size: TrafficMapLayout.fontSize, bold: n.bold)
            p.color(ChartPalette.text)
            p.text(n.label, x: n.textX, y: n.baseline)
        }
        drawLegend(l, on: p)
    }

    func drawNode(_ node: TrafficMap.Node, x: Double, y: Double, on p: Painter) {
        let r = TrafficMapLayout.nodeRadius
        cairo_set_dash(p.cr, nil, 0, 0)
        cairo_new_path(p.cr)
        cairo_arc(p.cr, x, y, r, 0, 2 * Double.pi)
        switch node.kind {
        case .workload: p.color(Self.workloadFill)
        case .namespace: p.color(Self.namespaceFill)
        case .entity: p.color(ChartPalette.background)
        case .other: p.color(Self.otherFill)
        }
        cairo_fill_preserve(p.cr)
        p.color(Self.namespaceFill)
        cairo_set_line_width(p.cr, node.kind == .entity ? 1.5 : 1)
        cairo_stroke(p.cr)
    }

    /// Sets the dash of an edge line of width `lw` by its coverage.
    static func dash(_ covered: Bool?, width lw: Double, on p: Painter) {
        switch covered {
        case true?:
            cairo_set_dash(p.cr, nil, 0, 0)
            cairo_set_line_cap(p.cr, CAIRO_LINE_CAP_BUTT)
        case false?:
            var d = [6 + lw, 4 + lw]
            cairo_set_dash(p.cr, &d, 2, 0)
            cairo_set_line_cap(p.cr, CAIRO_LINE_CAP_BUTT)
        case nil:
            var d = [0.01, 2.5 + lw]
            cairo_set_dash(p.cr, &d, 2, 0)
            cairo_set_line_cap(p.cr, CAIRO_LINE_CAP_ROUND)
        }
    }

    func drawEdge(_ e: TrafficMap.Edge, from a: TrafficMapLayout.PlacedNode, to b: TrafficMapLayout.PlacedNode,
                  layout l: TrafficMapLayout, on p: Painter) {
        let strands = Self.verdicts.compactMap { v -> (RGB, Double)? in
            let c = v.count(e)
            return c > 0 ? (v.color, Self.strokeWidth(c)) : nil
        }
        let r = TrafficMapLayout.nodeRadius
        if a.node.id == b.node.id {
            // A loop inside the circle, one ring per verdict.
            let away = hypot(a.x - l.cx, a.y - l.cy)
            let ux = a.inner ? (away > 1 ? (a.x - l.cx) / away : 0) : (l.cx - a.x) / l.radius
            let uy = a.inner ? (away > 1 ? (a.y - l.cy) / away : -1) : (l.cy - a.y) / l.radius
            var ring = 9.0
            for (color, lw) in strands {
                p.color(color, alpha: 0.85)
                cairo_set_line_width(p.cr, lw)
                Self.dash(e.covered, width: lw, on: p)
                cairo_new_path(p.cr)
                cairo_arc(p.cr, a.x + ux * (r + ring), a.y + uy * (r + ring), ring, 0, 2 * Double.pi)
                cairo_stroke(p.cr)
                ring += lw + 2
            }
            return
        }
        let dx = b.x - a.x, dy = b.y - a.y, len = max(1, hypot(dx, dy))
        // Perpendicular to the right of a → b: the two directions of a pair bend apart.
        let nx = -dy / len, ny = dx / len
        let mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2
        let total = strands.reduce(0) { $0 + $1.1 + 2 }
        var offset = 10 - total / 2
        for (color, lw) in strands {
            let o = offset + lw / 2
            offset += lw + 2
            // Between outer nodes the curve bends towards the centre; a spoke to or from the inner
            // ring only bends aside.
            let pull = a.inner || b.inner ? 0.0 : 0.5
            let c = (x: mx + (l.cx - mx) * pull + nx * (o + 6), y: my + (l.cy - my) * pull + ny * (o + 6))
            // Unit tangents at both ends of the quadratic curve a → c → b.
            let t0 = Self.unit(c.x - a.x, c.y - a.y), t1 = Self.unit(b.x - c.x, b.y - c.y)
            let arrowLength = 6 + lw, arrowHalf = 3 + lw / 2
            let start = (x: a.x + t0.x * (r + 1), y: a.y + t0.y * (r + 1))
            let tip = (x: b.x - t1.x * (r + 1.5), y: b.y - t1.y * (r + 1.5))
            let end = (x: tip.x - t1.x * arrowLength * 0.8, y: tip.y - t1.y * arrowLength * 0.8)
            p.color(color, alpha: 0.85)
            cairo_set_line_width(p.cr, lw)
            Self.dash(e.covered, width: lw, on: p)
            cairo_move_to(p.cr, start.x, start.y)
            cairo_curve_to(p.cr, start.x + 2 / 3 * (c.x - start.x), start.y + 2 / 3 * (c.y - start.y),
                           end.x + 2 / 3 * (c.x - end.x), end.y + 2 / 3 * (c.y - end.y), end.x, end.y)
            cairo_stroke(p.cr)
            cairo_set_dash(p.cr, nil, 0, 0)
            let base = (x: tip.x - t1.x * arrowLength, y: tip.y - t1.y * arrowLength)
            cairo_move_to(p.cr, tip.x, tip.y)
            cairo_line_to(p.cr, base.x - t1.y * arrowHalf, base.y + t1.x * arrowHalf)
            cairo_line_to(p.cr, base.x + t1.y * arrowHalf, base.y - t1.x * arrowHalf)
            cairo_close_path(p.cr)
            cairo_fill(p.cr)
        }
        cairo_set_line_cap(p.cr, CAIRO_LINE_CAP_BUTT)
    }

    static func unit(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let n = hypot(x, y)
        return n > 0 ? (x / n, y / n) : (1, 0)
    }
}
