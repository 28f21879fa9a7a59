import CCairo
import Foundation
import ThreatModel

/// The legend under a traffic map: verdict colours, coverage line styles, line widths and node
/// kinds, then one line saying what the map holds.
extension TrafficMapChart {
    func drawLegend(_ l: TrafficMapLayout, on p: Painter) {
        let pad = TrafficMapLayout.pad, row = TrafficMapLayout.legendRow
        var y = l.legendTop + row / 2
        p.font(size: 10.5)
        var x = pad

        /// A swatch (drawn by `swatch` in a 24 px box) and its text; wraps to the next row.
        func item(_ text: String, swatch: (Double, Double) -> Void) {
            let w = 24 + 5 + p.width(text)
            if x > pad, x + w > Double(width) - pad { x = pad; y += row }
            swatch(x, y)
            p.color(ChartPalette.mutedText)
            p.text(text, x: x + 29, y: y + 4)
            x += w + 16
        }
        func line(color: RGB, width lw: Double, covered: Bool?) -> (Double, Double) -> Void {
            { sx, sy in
                p.color(color, alpha: 0.85)
                cairo_set_line_width(p.cr, lw)
                Self.dash(covered, width: lw, on: p)
                cairo_move_to(p.cr, sx + 1, sy)
                cairo_line_to(p.cr, sx + 23, sy)
                cairo_stroke(p.cr)
                cairo_set_dash(p.cr, nil, 0, 0)
                cairo_set_line_cap(p.cr, CAIRO_LINE_CAP_BUTT)
            }
        }
        for v in Self.verdicts { item(v.name, swatch: line(color: v.color, width: 3, covered: true)) }
        x = pad; y += row
        let grey = ChartPalette.mutedText
        item("policy covers destination", swatch: line(color: grey, width: 2, covered: true))
        item("no policy covers destination", swatch: line(color: grey, width: 2, covered: false))
        item("coverage unknown", swatch: line(color: grey, width: 2, covered: nil))
        x = pad; y += row
        for (n, text) in [(1, "1"), (100, "100"), (10_000, "10k flows")] {
            item(text, swatch: line(color: grey, width: Self.strokeWidth(n), covered: true))
        }
        let own = ChartText.sanitize(graph.namespace, maxCharacters: 32)
        let kinds: [(TrafficMap.NodeKind, String)] = [(.workload, "workload of \(own)"), (.namespace, "namespace"), (.entity, "entity"),
                                                      (.other, "other")]
        for (kind, text) in kinds where kind != .other || graph.foldedNodes > 0 {
            item(text) { sx, sy in drawNode(TrafficMap.Node(id: "", kind: kind, label: ""), x: sx + 12, y: sy, on: p) }
        }

        var parts = ["\(CountText.of(graph.flows, "connection flow"))", CountText.of(graph.edges.count, "edge"),
                     CountText.of(graph.nodes.count, "node")]
        if graph.replyFlows > 0 { parts.append("\(CountText.of(graph.replyFlows, "reply flow")) not drawn (counted on their connections)") }
        if graph.foldedNodes > 0 { parts.append("\(graph.foldedNodes) nodes folded into “other”") }
        // Up to two lines, broken between parts.
        p.font(size: 10.5)
        p.color(ChartPalette.mutedText)
        let room = Double(width) - 2 * pad
        var lines = [""]
        for part in parts {
            let joined = lines[lines.count - 1].isEmpty ? part : lines[lines.count - 1] + " · " + part
            if p.width(joined) <= room || lines[lines.count - 1].isEmpty || lines.count == 2 {
                lines[lines.count - 1] = joined
            } else {
                lines.append(part)
            }
        }
        for (k, line) in lines.enumerated() {
            p.text(p.fit(line, maxWidth: room), x: pad, y: y + row / 2 + 10 + Double(k) * 14)
        }
    }
}

enum CountText {
    /// "1 edge", "12 edges", "1,234 connection flows".
    static func of(_ n: Int, _ noun: String) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.locale = Locale(identifier: "en_US_POSIX")
        f.usesGroupingSeparator = true
        f.groupingSeparator = ","
        f.groupingSize = 3
        return "\(f.string(from: NSNumber(value: n)) ?? String(n)) \(noun)\(n == 1 ? "" : "s")"
    }
}
