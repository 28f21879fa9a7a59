import Foundation
import ThreatModel

/// The part of a `TrafficMap` a drawing shows: connection edges only (an edge that carries only
/// replies is left out), at most `maxNodes` nodes. Past that the busiest edges keep their nodes
/// and every other node is folded into one `other` node, its edges merged. Independent of the
/// order of the map's nodes and edges.
public struct TrafficMapGraph: Sendable, Equatable {
    public static let maxNodes = 30

    /// In drawing order around the circle: own workloads, namespaces, entities, then `other`;
    /// by label, then id, within a kind.
    public var nodes: [TrafficMap.Node]
    /// Busiest first (`TrafficMap.busierFirst`).
    public var edges: [TrafficMap.Edge]
    /// Nodes folded into `other` (0 when nothing was folded).
    public var foldedNodes: Int
    /// The environment's namespace (its node and workloads are labelled in bold).
    public var namespace: String
    public var flows: Int
    public var replyFlows: Int

    public init(_ map: TrafficMap, namespace: String, maxNodes: Int = TrafficMapGraph.maxNodes) {
        self.namespace = namespace
        let live = map.edges.filter { $0.flows > 0 }.sorted(by: TrafficMap.busierFirst)
        let known = Dictionary(map.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, b in a.kind.rawValue <= b.kind.rawValue ? a : b })
        var ids = Set<String>()
        for e in live { ids.insert(e.source); ids.insert(e.destination) }
        var keep = ids
        if ids.count > max(2, maxNodes) {
            keep = []
            for e in live {
                let add = Set([e.source, e.destination]).subtracting(keep)
                if keep.count + add.count <= max(2, maxNodes) - 1 { keep.formUnion(add) }
            }
        }
        foldedNodes = ids.count - keep.count
        var merged: [String: TrafficMap.Edge] = [:]
        var order: [String] = []
        for e in live {
            var f = e
            if !keep.contains(f.source) { f.source = TrafficMap.Node.other.id }
            if !keep.contains(f.destination) { f.destination = TrafficMap.Node.other.id }
            let key = f.source + "\u{0}" + f.destination
            if merged[key] == nil {
                merged[key] = f
                order.append(key)
            } else {
                merged[key]!.merge(f)
            }
        }
        edges = order.compactMap { merged[$0] }.sorted(by: TrafficMap.busierFirst)
        var nodeList = keep.map { id in known[id] ?? TrafficMap.Node(id: id, kind: .namespace, label: id) }
        if foldedNodes > 0 { nodeList.append(.other) }
        let rank: [TrafficMap.NodeKind: Int] = [.workload: 0, .namespace: 1, .entity: 2, .other: 3]
        nodes = nodeList.sorted { a, b in
            (rank[a.kind]!, a.label, a.id) < (rank[b.kind]!, b.label, b.id)
        }
        flows = map.flows
        replyFlows = map.replyFlows
    }

    /// Whether a node belongs to the environment's own namespace.
    public func isOwn(_ n: TrafficMap.Node) -> Bool {
        n.kind == .workload || n.id == TrafficMap.Node.namespace(namespace).id
    }
}

/// A rectangle in chart pixels.
struct MapRect: Equatable, Sendable {
    var x, y, width, height: Double
    func intersects(_ o: MapRect) -> Bool {
        x < o.x + o.width && o.x < x + width && y < o.y + o.height && o.y < y + height
    }
}

/// Where everything of a traffic map goes: nodes on a circle in graph order, labels in two
/// columns outside it (right half left-aligned, left half right-aligned), pushed apart vertically
/// so that no two share a line, each measured with Cairo and cut with "…" to the label column.
struct TrafficMapLayout {
    struct PlacedNode {
        var node: TrafficMap.Node
        var x, y: Double
        var label: String
        var bold: Bool
        /// On the inner ring (the environment's own nodes).
        var inner: Bool
        /// Where the label's text starts (left-aligned) and its baseline.
        var textX, baseline: Double
        var labelRect: MapRect
        /// Where the leader line from the node ends (at the label).
        var anchorX, anchorY: Double
    }

    static let pad = 10.0, titleHeight = 34.0, lineHeight = 15.0, labelGap = 16.0, nodeRadius = 6.0
    static let legendRow = 18.0, legendRows = 3, noteHeight = 34.0, fontSize = 11.0

    var width: Double
    var height: Double
    var cx: Double, cy: Double, radius: Double
    var nodes: [PlacedNode]
    var plotTop: Double, plotBottom: Double

    /// The label column: 22% of the width, 90…180 pixels.
    static func labelColumn(width: Double) -> Double { min(180, max(90, (width * 0.22).rounded())) }

    static func radius(width: Double) -> Double {
        max(50, min(230, (width - 2 * pad - 2 * (labelColumn(width: width) + labelGap + 4)) / 2))
    }

    /// Height of the plot band (circle plus room for the labels above and below it, or for the
    /// taller label column).
    static func plotHeight(width: Double, nodes: Int) -> Double {
        let perSide = Double((nodes + 1) / 2)
        return max(2 * radius(width: width) + 2 * labelGap + 2 * lineHeight, perSide * lineHeight + 2 * lineHeight)
    }

    static func height(width: Double, nodes: Int) -> Double {
        titleHeight + plotHeight(width: width, nodes: nodes) + Double(legendRows) * legendRow + 8 + noteHeight
    }

    /// Own nodes drawn on the inner ring at most; with more, every node goes on the outer ring.
    static let maxInner = 10

    /// Lays the graph out, measuring labels with `p` (DejaVu Sans 11, bold for own nodes). The
    /// environment's own nodes (its workloads, or its namespace) sit on an inner ring (one alone
    /// in the centre), every other node on the outer ring, so traffic to and from the namespace
    /// runs inwards like spokes.
    init(_ graph: TrafficMapGraph, width: Double, painter p: Painter) {
        self.width = width
        height = Self.height(width: width, nodes: graph.nodes.count)
        radius = Self.radius(width: width)
        cx = (width / 2).rounded()
        plotTop = Self.titleHeight
        plotBottom = plotTop + Self.plotHeight(width: width, nodes: graph.nodes.count)
        cy = ((plotTop + plotBottom) / 2).rounded()
        let column = Self.labelColumn(width: width)
        let ownCount = graph.nodes.filter(graph.isOwn).count
        let useInner = ownCount > 0 && ownCount <= Self.maxInner && ownCount < graph.nodes.count
        let outerCount = useInner ? graph.nodes.count - ownCount : graph.nodes.count
        let innerRadius = ownCount <= 1 ? 0 : radius * (ownCount <= 4 ? 0.26 : 0.38)
        var placed: [PlacedNode] = []
        var right: [Int] = [], left: [Int] = [], inner: [Int] = []
        var outerIndex = 0, innerIndex = 0
        for node in graph.nodes {
            let isInner = useInner && graph.isOwn(node)
            let k = isInner ? innerIndex : outerIndex
            let count = isInner ? ownCount : outerCount
            // The inner ring starts a half step off the top, so its labels clear the spokes from the top node.
            // An even outer ring starts a half step off the top too, so no node sits at the very top
            // or bottom, where labels crowd.
            let half = isInner || count % 2 == 0 ? Double.pi / Double(max(1, count)) : 0
            let start = -Double.pi / 2 + half
            let angle = start + 2 * Double.pi * Double(k) / Double(max(1, count))
            if isInner { innerIndex += 1 } else { outerIndex += 1 }
            let c = cos(angle), s = sin(angle)
            let r = isInner ? innerRadius : radius
            let x = cx + r * c, y = cy + r * s
            let bold = graph.isOwn(node)
            p.font(size: Self.fontSize, bold: bold)
            var text = ChartText.sanitize(node.label)
            if node.kind == .other { text = "other (\(graph.foldedNodes))" }
            let label = p.fit(text, maxWidth: isInner ? min(column, 130) : column)
            let w = p.width(label)
            let desired = cy + (radius + Self.labelGap) * s
            placed.append(PlacedNode(node: node, x: x, y: y, label: label, bold: bold, inner: isInner, textX: 0, baseline: desired,
                                     labelRect: MapRect(x: 0, y: desired, width: w, height: Self.lineHeight - 1),
                                     anchorX: 0, anchorY: desired))
            // The top node goes right, the bottom node left, so each column runs top to bottom.
            if isInner { inner.append(placed.count - 1) } else if c > 1e-9 || (abs(c) <= 1e-9 && s < 0) {
                right.append(placed.count - 1)
            } else {
                left.append(placed.count - 1)
            }
        }
        let top = plotTop + Self.lineHeight / 2, bottom = plotBottom - Self.lineHeight / 2
        for (side, isRight) in [(right, true), (left, false)] {
            let order = side.sorted { (placed[$0].anchorY, $0) < (placed[$1].anchorY, $1) }
            var ys = order.map { placed[$0].anchorY }
            // Down, then up: neighbours at least a line apart, all inside the plot band.
            for k in ys.indices {
                ys[k] = max(ys[k], top)
                if k > 0 { ys[k] = max(ys[k], ys[k - 1] + Self.lineHeight) }
            }
            for k in ys.indices.reversed() {
                ys[k] = min(ys[k], bottom)
                if k < ys.count - 1 { ys[k] = min(ys[k], ys[k + 1] - Self.lineHeight) }
            }
            for (k, i) in order.enumerated() {
                let dy = ys[k] - cy, r = radius + Self.labelGap
                let dx = max(6, (max(0, r * r - dy * dy)).squareRoot())
                let ax = isRight ? cx + dx : cx - dx
                let w = placed[i].labelRect.width
                let tx = isRight ? ax + 3 : ax - 3 - w
                placed[i].anchorX = ax
                placed[i].anchorY = ys[k]
                placed[i].textX = tx
                placed[i].baseline = ys[k] + 4
                placed[i].labelRect = MapRect(x: tx, y: ys[k] - Self.lineHeight / 2 + 0.5, width: w, height: Self.lineHeight - 1)
            }
        }
        // Inner labels: the first of right, left, above, below (away from the centre first) that
        // touches no node and no label placed before it.
        let discs = placed.map { MapRect(x: $0.x - Self.nodeRadius - 1, y: $0.y - Self.nodeRadius - 1,
                                         width: 2 * Self.nodeRadius + 2, height: 2 * Self.nodeRadius + 2) }
        var taken = right.map { placed[$0].labelRect } + left.map { placed[$0].labelRect }
        for i in inner {
            let n = placed[i], w = n.labelRect.width, h = Self.lineHeight - 1, g = Self.nodeRadius + 4
            let rightFirst = n.x >= cx
            var spots = [(n.x + g, n.y - h / 2), (n.x - g - w, n.y - h / 2)]
            if !rightFirst { spots.swapAt(0, 1) }
            let vertical = [(n.x - w / 2, n.y - g - h), (n.x - w / 2, n.y + g)]
            spots += n.y <= cy ? vertical : vertical.reversed()
            let rects = spots.map { MapRect(x: $0.0, y: $0.1, width: w, height: h) }
            let free = rects.first { r in !taken.contains { $0.intersects(r) } && !discs.contains { $0.intersects(r) } }
            let r = free ?? rects.min { a, b in
                taken.filter { $0.intersects(a) }.count + discs.filter { $0.intersects(a) }.count
                    < taken.filter { $0.intersects(b) }.count + discs.filter { $0.intersects(b) }.count
            }!
            placed[i].labelRect = r
            placed[i].textX = r.x
            placed[i].baseline = r.y + h / 2 + 4
            placed[i].anchorX = n.x
            placed[i].anchorY = n.y
            taken.append(r)
        }
        nodes = placed
    }

    /// The legend's rows start here.
    var legendTop: Double { plotBottom + 4 }

    /// The rectangles of every node disc.
    var nodeRects: [MapRect] {
        nodes.map { MapRect(x: $0.x - Self.nodeRadius - 1, y: $0.y - Self.nodeRadius - 1, width: 2 * Self.nodeRadius + 2,
                            height: 2 * Self.nodeRadius + 2) }
    }
}
