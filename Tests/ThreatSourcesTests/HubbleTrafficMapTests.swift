import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// The traffic map's edge table from Hubble flow files: nodes from labels, replies on their
/// connection, the caps, and the real captures against recount_map.py.
@Suite("Hubble flows: the traffic map's edge table")
struct HubbleTrafficMapTests {
    static let folder = repoRoot + "/Tests/Fixtures/realworld/hubble"
    static let files = ["gke-istio-bookinfo-10-flows.json", "kind-bookinfo-l7-redirected-head.json", "kind-flux-audit.json",
                        "cilium-1.18-denied-by.json", "gke-kube-dns-5-flows.json"].map { folder + "/" + $0 }
    static let from = "2020-01-01T00:00:00Z", to = "2027-01-01T00:00:00Z"
    static let window = TimeWindow(from: RFC3339.parse(from)!, to: RFC3339.parse(to)!, interval: .day)

    func fetch(_ namespace: String, files: [String] = Self.files, window: TimeWindow = Self.window) throws -> SourceOutput<FlowStatistics> {
        let env = EnvironmentConfig(name: namespace, namespace: namespace, hosts: [], thresholds: .defaults)
        return try HubbleFlowSource(settings: HubbleSettings(flowLogs: files))
            .fetch(SourceContext(window: window, environment: env, redactor: SecretRedactor()))
    }

    @Test("Edge counts of the real captures equal recount_map.py's, in every namespace",
          arguments: ["bookinfo", "kube-system", "istio-system", "flux-system", "net-lab"])
    func edgesMatchRecount(namespace: String) throws {
        let map = try #require(try fetch(namespace).value.map)
        let out = try runTool("/usr/bin/python3", [Self.folder + "/recount_map.py", namespace, Self.from, Self.to] + Self.files)
        let r = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let edges = try #require(r["edges"] as? [String: [String: Int]])
        var mine: [String: [String: Int]] = [:]
        for e in map.edges {
            mine["\(e.source) -> \(e.destination)"] = ["forwarded": e.forwarded, "dropped": e.dropped, "audit": e.audit,
                                                        "other": e.other, "replies": e.replies]
        }
        #expect(mine == edges)
        #expect(map.flows == r["flows"] as? Int && map.replyFlows == r["reply_flows"] as? Int)
        #expect(map.unmappedFlows == 0 && !edges.isEmpty)
        // Every edge names nodes the map lists.
        let ids = Set(map.nodes.map(\.id))
        #expect(map.edges.allSatisfy { ids.contains($0.source) && ids.contains($0.destination) })
    }

    @Test("The bookinfo capture: workloads by app label, kube-dns and host as entities, istio-system as a namespace")
    func bookinfoNodes() throws {
        let map = try #require(try fetch("bookinfo").value.map)
        #expect(map.nodes.map(\.id) == ["entity:host", "entity:kube-dns", "namespace:istio-system", "workload:bookinfo/details",
                                        "workload:bookinfo/productpage", "workload:bookinfo/reviews", "workload:bookinfo/ratings"].sorted())
        // REDIRECTED counts as forwarded: productpage asked kube-dns twice.
        let dns = try #require(map.edges.first { $0.source == "workload:bookinfo/productpage" && $0.destination == "entity:kube-dns" })
        #expect(dns.forwarded == 2 && dns.dropped == 0)
        // The AUDIT flow to the API server (reserved:kube-apiserver wins over reserved:host).
        let flux = try #require(try fetch("flux-system").value.map)
        #expect(flux.edges == [TrafficMap.Edge(source: "workload:flux-system/source-controller", destination: "entity:kube-apiserver", audit: 1)])
        // The Cilium 1.18 drop: app labels, never the pod's hash.
        let lab = try #require(try fetch("net-lab").value.map)
        #expect(lab.edges.map(\.dropped) == [1] && lab.nodes.map(\.label) == ["echo-server", "traffic-generator"])
    }

    @Test("Endpoints: reserved identities, kube-dns, app labels before workload names, the namespace label as fallback")
    func endpoints() throws {
        func side(_ json: String) throws -> HubbleFlowSource.Endpoint {
            HubbleFlowSource.endpoint(try JSONValue.parse(json))
        }
        #expect(try side(#"{"labels":["reserved:host","reserved:kube-apiserver"]}"#).entity == "kube-apiserver")
        #expect(try side(#"{"labels":["reserved:world-ipv4"]}"#).entity == "world")
        #expect(try side(#"{"namespace":"shop","labels":["reserved:world"],"pod_name":"x"}"#).entity == "world")
        #expect(try side(#"{"namespace":"kube-system","labels":["k8s:k8s-app=kube-dns"]}"#) == .init(namespace: "kube-system", entity: "kube-dns"))
        #expect(try side(#"{"namespace":"shop","labels":["k8s:pod-template-hash=7d9f8c6b5","k8s:app=web","k8s:app.kubernetes.io/name=shop-web"]}"#).workload == "shop-web")
        #expect(try side(#"{"namespace":"shop","labels":["k8s:pod-template-hash=7d9f8c6b5"],"pod_name":"web-7d9f8c6b5-x","workloads":[{"name":"web","kind":"Deployment"}]}"#).workload == "web")
        #expect(try side(#"{"namespace":"shop","labels":["k8s:pod-template-hash=7d9f8c6b5"],"pod_name":"web-7d9f8c6b5-x"}"#).workload == nil)
        #expect(try side(#"{"labels":["k8s:app=ratings","k8s:io.kubernetes.pod.namespace=bookinfo"]}"#) == .init(namespace: "bookinfo", workload: "ratings"))
        #expect(try side(#"{"identity":0}"#) == .init())
        let b = TrafficMapBuilder(namespace: "shop")
        #expect(b.node(.init(namespace: "shop", workload: "web")) == .workload(namespace: "shop", name: "web"))
        #expect(b.node(.init(namespace: "shop")) == .namespace("shop"))
        #expect(b.node(.init(namespace: "other", workload: "web")) == .namespace("other"))
        #expect(b.node(.init()) == .entity("unknown"))
        // A namespace called "world" stays apart from the world entity.
        #expect(b.node(.init(namespace: "world")).id != b.node(.init(entity: "world")).id)
    }

    @Test("Reply flows are not connections: counted as replies on the edge of the connection they answer")
    func repliesOnTheirConnection() {
        var b = TrafficMapBuilder(namespace: "shop")
        let web = HubbleFlowSource.Endpoint(namespace: "shop", workload: "web"), db = HubbleFlowSource.Endpoint(namespace: "shop", workload: "db")
        b.add(source: web, destination: db, verdict: "FORWARDED", isReply: false)
        b.add(source: db, destination: web, verdict: "FORWARDED", isReply: true)
        b.add(source: db, destination: web, verdict: "DROPPED", isReply: true)
        let m = b.map()
        #expect(m.edges == [TrafficMap.Edge(source: "workload:shop/web", destination: "workload:shop/db", forwarded: 1, replies: 2)])
        #expect(m.flows == 1 && m.replyFlows == 2)
        // `reply` (older Hubble) when `is_reply` is absent; `is_reply` wins when both are there.
        #expect(HubbleFlowSource.isReply(.object([("reply", .bool(true))])))
        #expect(!HubbleFlowSource.isReply(.object([("reply", .bool(true)), ("is_reply", .bool(false))])))
        #expect(!HubbleFlowSource.isReply(.object([])))
    }

    @Test("The edge table is capped: flows on edges beyond the cap are counted as unmapped and warned about")
    func capped() throws {
        var b = TrafficMapBuilder(namespace: "shop", cap: 100)
        let web = HubbleFlowSource.Endpoint(namespace: "shop", workload: "web")
        for k in 0..<5000 {
            b.add(source: .init(namespace: "ns-\(k)"), destination: web, verdict: "FORWARDED", isReply: false)
            b.add(source: .init(namespace: "ns-\(k % 50)"), destination: web, verdict: "FORWARDED", isReply: false)
        }
        let m = b.map()
        #expect(m.edges.count == 100 && m.nodes.count == 101)
        #expect(m.flows + m.unmappedFlows == 10_000)
        #expect(m.edges.reduce(0) { $0 + $1.flows } == m.flows)
        #expect(b.warning()?.contains("beyond the table cap of 100 edges") == true)
        // The byte cap too: long names fill it before the edge cap.
        var long = TrafficMapBuilder(namespace: "shop", cap: 100_000, byteCap: 64 << 10)
        for k in 0..<1000 {
            long.add(source: .init(namespace: String(repeating: "n", count: 1000) + "\(k)"), destination: web, verdict: "DROPPED", isReply: false)
        }
        #expect(long.map().edges.count < 70 && long.map().unmappedFlows > 900)
    }

    @Test("Through the source: many peers past the cap give a warning and the coverage note says what the map holds")
    func sourceCapWarning() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("map-cap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = ""
        for k in 0..<4200 {
            text += #"{"flow":{"time":"2026-11-19T12:00:00Z","verdict":"FORWARDED","source":{"namespace":"ns-\#(k)"},"destination":{"namespace":"shop","labels":["k8s:app=web"]}}}"# + "\n"
        }
        let path = dir.appendingPathComponent("flows.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let out = try fetch("shop", files: [path])
        let map = try #require(out.value.map)
        #expect(map.edges.count == 4096 && map.unmappedFlows == 104 && map.flows == 4096)
        #expect(out.value.counts.total == 4200)
        #expect(out.warnings.contains { $0.contains("104 flow(s) on traffic-map edges beyond the table cap of 4096 edges") })
        #expect(out.coverage?.notes.contains { $0.hasPrefix("traffic map: 4096 connection flow(s) and 0 reply flow(s) on 4096 edge(s)") } == true)
    }
}
