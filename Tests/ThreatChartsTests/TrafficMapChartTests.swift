import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts
import TestSupport

/// A generated map: the environment's namespace `shop` (its workloads when `workloads` is not
/// empty, else its namespace node), `peers` other namespaces calling it (the k-th with 1000/k
/// flows), and the given entities.
func generatedMap(peers: Int, workloads: [String] = [], entities: [String] = [], covered: Bool? = false) -> TrafficMap {
    let own = workloads.isEmpty ? [TrafficMap.Node.namespace("shop")] : workloads.map { TrafficMap.Node.workload(namespace: "shop", name: $0) }
    var nodes = own, edges: [TrafficMap.Edge] = []
    for k in 1...max(1, peers) where peers > 0 {
        let peer = TrafficMap.Node.namespace(String(format: "team-%02d-payments-processing", k))
        nodes.append(peer)
        let dst = own[k % own.count]
        edges.append(TrafficMap.Edge(source: peer.id, destination: dst.id, forwarded: 1000 / k, dropped: k % 5 == 0 ? 7 : 0,
                                     audit: k % 7 == 0 ? 3 : 0, replies: 1000 / k, covered: covered))
    }
    for e in entities {
        let n = TrafficMap.Node.entity(e)
        nodes.append(n)
        edges.append(TrafficMap.Edge(source: own[0].id, destination: n.id, forwarded: 50, covered: nil))
    }
    if own.count > 1 { edges.append(TrafficMap.Edge(source: own[0].id, destination: own[1].id, forwarded: 400, covered: covered)) }
    return TrafficMap(nodes: nodes.sorted { $0.id < $1.id }, edges: edges.sorted(by: TrafficMap.busierFirst),
                      flows: edges.reduce(0) { $0 + $1.flows }, replyFlows: edges.reduce(0) { $0 + $1.replies }, edgeCap: 4096)
}

func mapChart(_ map: TrafficMap, width: Int = 800) -> TrafficMapChart {
    TrafficMapChart(id: "shop-map", title: "Traffic map (shop)", graph: TrafficMapGraph(map, namespace: "shop"), width: width)
}

@Suite("Traffic map chart: layout, labels, folding, determinism, line styles")
struct TrafficMapChartTests {
    /// Every label rectangle against every other, against every node disc, and inside the canvas
    /// and the plot band (so never over the title or the legend).
    func expectNoOverlap(_ chart: TrafficMapChart, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let l = try #require(chart.layout())
        let labels = l.nodes.map(\.labelRect)
        for i in labels.indices {
            let r = labels[i]
            #expect(r.width > 0, "label \(l.nodes[i].label) is empty", sourceLocation: sourceLocation)
            #expect(r.x >= 0 && r.x + r.width <= Double(chart.width), "label \(l.nodes[i].label) leaves the canvas", sourceLocation: sourceLocation)
            #expect(r.y >= l.plotTop && r.y + r.height <= l.plotBottom, "label \(l.nodes[i].label) leaves the plot band", sourceLocation: sourceLocation)
            for j in labels.indices where j > i {
                #expect(!r.intersects(labels[j]), "labels \(l.nodes[i].label) and \(l.nodes[j].label) overlap", sourceLocation: sourceLocation)
            }
            for (j, disc) in l.nodeRects.enumerated() {
                #expect(!r.intersects(disc), "label \(l.nodes[i].label) covers node \(l.nodes[j].label)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("No overlapping labels: 30 namespaces, each label measured with Cairo")
    func noOverlapThirtyNamespaces() throws {
        let chart = mapChart(generatedMap(peers: 29))
        #expect(chart.graph.nodes.count == 30 && chart.graph.foldedNodes == 0)
        try expectNoOverlap(chart)
    }

    @Test("No overlapping labels: workloads on the inner ring, namespaces and entities outside, 30 nodes")
    func noOverlapWorkloadsAndEntities() throws {
        let chart = mapChart(generatedMap(peers: 22, workloads: ["web", "api", "db", "worker"],
                                          entities: ["world", "host", "kube-apiserver", "kube-dns"]))
        #expect(chart.graph.nodes.count == 30)
        try expectNoOverlap(chart)
        let l = try #require(chart.layout())
        #expect(l.nodes.filter(\.inner).map(\.node.label).sorted() == ["api", "db", "web", "worker"])
    }

    @Test("No overlapping labels at every size from 1 to 30 nodes and at narrow widths",
          arguments: [1, 2, 3, 5, 8, 13, 21, 29])
    func noOverlapAnySize(peers: Int) throws {
        try expectNoOverlap(mapChart(generatedMap(peers: peers)))
        try expectNoOverlap(mapChart(generatedMap(peers: peers, workloads: ["web", "api"]), width: 500))
    }

    @Test("Past 30 nodes the busiest edges keep their nodes and the rest fold into other, flows kept")
    func foldPastThirty() throws {
        let map = generatedMap(peers: 60, workloads: ["web", "api"])
        let g = TrafficMapGraph(map, namespace: "shop")
        #expect(g.nodes.count == 30)
        #expect(g.nodes.last == .other)
        #expect(g.foldedNodes == 62 - 29)
        #expect(g.edges.reduce(0) { $0 + $1.flows } == map.edges.reduce(0) { $0 + $1.flows })
        // The busiest peers (team-01 … ) stay; the quietest are folded.
        let labels = Set(g.nodes.map(\.label))
        #expect(labels.contains("team-01-payments-processing") && !labels.contains("team-60-payments-processing"))
        #expect(g.edges.contains { $0.source == "other" })
        try expectNoOverlap(mapChart(map))
        // At 30 nodes exactly nothing is folded.
        #expect(TrafficMapGraph(generatedMap(peers: 29), namespace: "shop").foldedNodes == 0)
    }

    @Test("Deterministic: the same graph twice gives the same SVG and PNG bytes")
    func sameBytesTwice() throws {
        let map = generatedMap(peers: 25, workloads: ["web", "api"], entities: ["world"])
        let a = try ChartRenderer.render(mapChart(map)), b = try ChartRenderer.render(mapChart(map))
        #expect(a.svg == b.svg)
        #expect(a.png == b.png)
    }

    @Test("Deterministic: nodes and edges in another order give the same bytes")
    func sameBytesPermuted() throws {
        let map = generatedMap(peers: 40, workloads: ["web", "api", "db"], entities: ["world", "host"])
        var shuffled = map
        var rng = SplitMix(seed: 42)
        shuffled.nodes.shuffle(using: &rng)
        shuffled.edges.shuffle(using: &rng)
        #expect(shuffled.edges != map.edges)
        let a = try ChartRenderer.render(mapChart(map)), b = try ChartRenderer.render(mapChart(shuffled))
        #expect(a.svg == b.svg)
        #expect(a.png == b.png)
    }

    @Test("Dashed where no policy covers the destination, solid where one does, dotted when unknown")
    func dashedWhenUncovered() throws {
        // One edge of 1000 flows: stroke width 1.5 + 1.5 × 3 = 6.
        func svg(_ covered: Bool?) throws -> String {
            let map = TrafficMap(nodes: [.namespace("shop"), .namespace("web")],
                                 edges: [TrafficMap.Edge(source: "namespace:web", destination: "namespace:shop", forwarded: 1000, covered: covered)],
                                 flows: 1000, edgeCap: 10)
            return try ChartRenderer.render(mapChart(map)).svg
        }
        #expect(TrafficMapChart.strokeWidth(1000) == 6)
        #expect(try svg(false).contains("dasharray:12,10"))
        #expect(try !svg(true).contains("dasharray:12,10") && !svg(true).contains("dasharray:0.01,8.5"))
        #expect(try svg(nil).contains("dasharray:0.01,8.5"))
        #expect(try !svg(nil).contains("dasharray:12,10"))
    }

    @Test("Edge width grows with the log of the flows and is capped")
    func widthLogScale() {
        #expect(TrafficMapChart.strokeWidth(1) == 1.5)
        #expect(TrafficMapChart.strokeWidth(100) == 4.5)
        #expect(TrafficMapChart.strokeWidth(10) < TrafficMapChart.strokeWidth(100))
        #expect(TrafficMapChart.strokeWidth(Int.max) == 12)
        #expect(TrafficMapChart.strokeWidth(0) == 1.5)
    }

    @Test("Hostile labels are cleaned and cut before they are measured and drawn")
    func hostileLabels() throws {
        let evil = "ns\u{202E}gnp.exe\u{1B}[31m" + String(repeating: "W", count: 400)
        let map = TrafficMap(nodes: [.namespace("shop"), .namespace(evil)],
                             edges: [TrafficMap.Edge(source: "namespace:\(evil)", destination: "namespace:shop", forwarded: 3)],
                             flows: 3, edgeCap: 10)
        let chart = mapChart(map)
        let l = try #require(chart.layout())
        #expect(l.nodes.allSatisfy { !$0.label.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{1B}" } })
        #expect(l.nodes.allSatisfy { $0.labelRect.width <= TrafficMapLayout.labelColumn(width: 800) })
        try expectNoOverlap(chart)
        _ = try ChartRenderer.render(chart)
    }
}
