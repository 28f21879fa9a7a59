import Foundation
import ThreatModel

extension HubbleFlowSource {
    /// What one side of a flow is, as far as the traffic map needs it (docs/flows.md).
    public struct Endpoint: Equatable, Sendable {
        /// `namespace`, else the `k8s:io.kubernetes.pod.namespace` label.
        public var namespace: String?
        /// The app label (`app.kubernetes.io/name`, `app`, `k8s-app`), else the first workload
        /// name; never a pod name or a pod-template-hash.
        public var workload: String?
        /// A reserved identity (`reserved:world` → `world`, …) or `kube-dns` (`k8s-app=kube-dns`).
        public var entity: String?

        public init(namespace: String? = nil, workload: String? = nil, entity: String? = nil) {
            self.namespace = namespace
            self.workload = workload
            self.entity = entity
        }
    }

    /// Reserved identities in the order one wins over another when a side carries several
    /// (Cilium gives the API server `reserved:kube-apiserver` with `reserved:host` or `world`).
    static let entityOrder = ["kube-apiserver", "host", "remote-node", "health", "ingress", "init", "unmanaged",
                              "world", "world-ipv4", "world-ipv6"]
    /// App labels in the order they name a workload.
    static let appLabels = ["k8s:app.kubernetes.io/name=", "k8s:app=", "k8s:k8s-app="]

    static func endpoint(_ side: JSONValue?) -> Endpoint {
        guard let side else { return Endpoint() }
        var e = Endpoint()
        if let ns = side["namespace"]?.stringValue, !ns.isEmpty { e.namespace = ns }
        var app: [String?] = [nil, nil, nil]
        var reserved: String?
        var rank = Int.max
        for l in side["labels"]?.arrayValue ?? [] {
            guard let s = l.stringValue else { continue }
            if s.hasPrefix("reserved:") {
                let name = String(s.dropFirst(9))
                let r = entityOrder.firstIndex(of: name) ?? entityOrder.count
                if r < rank || reserved == nil { rank = r; reserved = name.hasPrefix("world") ? "world" : name }
            } else if s == "k8s:k8s-app=kube-dns" {
                e.entity = "kube-dns"
            } else if e.namespace == nil, s.hasPrefix("k8s:io.kubernetes.pod.namespace=") {
                let ns = String(s.dropFirst(32))
                if !ns.isEmpty { e.namespace = ns }
            } else {
                for (i, p) in appLabels.enumerated() where app[i] == nil && s.hasPrefix(p) {
                    let v = String(s.dropFirst(p.count))
                    if !v.isEmpty { app[i] = v }
                }
            }
        }
        if let reserved { e.entity = reserved }
        e.workload = app.compactMap { $0 }.first
            ?? side["workloads"]?.arrayValue?.first?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        if e.entity == "kube-dns" { e.workload = nil }
        return e
    }

    /// `is_reply` (Hubble ≥ 1.9, a BoolValue), else the older `reply`; absent means a new
    /// connection.
    static func isReply(_ flow: JSONValue) -> Bool {
        flow["is_reply"]?.boolValue ?? flow["reply"]?.boolValue ?? false
    }
}

/// Builds one environment's `TrafficMap` from its flows, in a table capped in edges and in the
/// bytes of the node ids it holds. An edge that finds no room is counted in `unmappedFlows` and
/// named in a warning; whatever the input, memory stays within the caps.
public struct TrafficMapBuilder: Sendable {
    public let namespace: String
    public let cap: Int
    public let byteCap: Int
    private var edges: [String: TrafficMap.Edge] = [:]
    private var bytes = 0
    private var nodes: [String: TrafficMap.Node] = [:]
    private(set) var flows = 0, replyFlows = 0, unmapped = 0

    public init(namespace: String, cap: Int = 4096, byteCap: Int = 1 << 20) {
        self.namespace = namespace
        self.cap = cap
        self.byteCap = byteCap
    }

    /// The node an endpoint is drawn as: an entity wins; then a workload of the environment's own
    /// namespace; then the namespace; `unknown` when the flow says nothing of the side.
    public func node(_ e: HubbleFlowSource.Endpoint) -> TrafficMap.Node {
        if let entity = e.entity { return .entity(InputLimits.keyPrefix(entity)) }
        guard let ns = e.namespace else { return .entity("unknown") }
        if ns == namespace, let w = e.workload { return .workload(namespace: ns, name: InputLimits.keyPrefix(w)) }
        return .namespace(InputLimits.keyPrefix(ns))
    }

    /// Counts one flow of the environment: a connection on source → destination, a reply on the
    /// edge of the connection it answers (destination → source).
    public mutating func add(source: HubbleFlowSource.Endpoint, destination: HubbleFlowSource.Endpoint,
                             verdict: String, isReply: Bool) {
        add(from: node(source), to: node(destination), verdict: verdict, isReply: isReply)
    }

    /// The same for `n` flows alike, with the two sides' nodes already known.
    mutating func add(from s: TrafficMap.Node, to d: TrafficMap.Node, verdict: String, isReply: Bool, n: Int = 1) {
        let (from, to) = isReply ? (d, s) : (s, d)
        let key = from.id + "\u{0}" + to.id
        // One lookup for an edge already kept: its value is changed in place.
        var found = edges.index(forKey: key)
        if found == nil {
            guard edges.count < cap, bytes + key.utf8.count <= byteCap else {
                unmapped = NumberLimits.clampedAdd(unmapped, n)
                return
            }
            bytes += key.utf8.count
            nodes[from.id] = from
            nodes[to.id] = to
            edges[key] = TrafficMap.Edge(source: from.id, destination: to.id)
            found = edges.index(forKey: key)
        }
        guard let i = found else { return }
        if isReply {
            edges.values[i].replies = NumberLimits.clampedAdd(edges.values[i].replies, n)
            replyFlows = NumberLimits.clampedAdd(replyFlows, n)
        } else {
            edges.values[i].add(verdict: verdict, n)
            flows = NumberLimits.clampedAdd(flows, n)
        }
    }

    public func map() -> TrafficMap {
        TrafficMap(nodes: nodes.values.sorted { $0.id < $1.id }, edges: edges.values.sorted(by: TrafficMap.busierFirst),
                   flows: flows, replyFlows: replyFlows, unmappedFlows: unmapped, edgeCap: cap)
    }

    /// A warning when edges found no room, else nil.
    public func warning() -> String? {
        guard unmapped > 0 else { return nil }
        return "\(unmapped) flow(s) on traffic-map edges beyond the table cap of \(cap) edges or \(InputLimits.describe(bytes: byteCap)) were left off the map (they are in the totals)"
    }

    /// The coverage note: what the map holds.
    public func note() -> String {
        "traffic map: \(flows) connection flow(s) and \(replyFlows) reply flow(s) on \(edges.count) edge(s) between \(nodes.count) node(s)"
            + (unmapped > 0 ? "; \(unmapped) flow(s) beyond the edge cap left off" : "")
    }
}
