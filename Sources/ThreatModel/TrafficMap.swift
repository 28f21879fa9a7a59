import Foundation

/// Who talks to whom in one environment's flows (docs/flows.md, "Traffic map"): a bounded edge
/// table between nodes that are namespaces, the environment's own workloads, and Cilium's reserved
/// entities. Built by flow-file sources; nil where a source cannot see endpoints (Prometheus).
public struct TrafficMap: Sendable, Equatable, Codable {
    public enum NodeKind: String, Sendable, Codable, CaseIterable {
        /// A workload of the environment's own namespace (its app label or workload name).
        case workload
        /// A namespace (another one, or the environment's own when its flows name no workload).
        case namespace
        /// A reserved identity (`world`, `host`, `kube-apiserver`, …) or `kube-dns`.
        case entity
        /// Nodes folded together when a drawing keeps only the busiest part of the map.
        case other
    }

    public struct Node: Sendable, Equatable, Codable, Hashable {
        /// `workload:NS/NAME`, `namespace:NS`, `entity:NAME` or `other`: unique across kinds, so
        /// a namespace called `world` stays apart from the world entity.
        public var id: String
        public var kind: NodeKind
        /// What a drawing shows: the workload, namespace or entity name.
        public var label: String

        public init(id: String, kind: NodeKind, label: String) {
            self.id = id
            self.kind = kind
            self.label = label
        }

        public static func workload(namespace: String, name: String) -> Node {
            Node(id: "workload:\(namespace)/\(name)", kind: .workload, label: name)
        }
        public static func namespace(_ ns: String) -> Node { Node(id: "namespace:\(ns)", kind: .namespace, label: ns) }
        public static func entity(_ name: String) -> Node { Node(id: "entity:\(name)", kind: .entity, label: name) }
        public static let other = Node(id: "other", kind: .other, label: "other")
    }

    /// Flows from one node to another, by verdict class. REDIRECTED (to an L7 proxy) counts as
    /// forwarded; TRACED, ERROR, TRANSLATED and unknown verdicts as `other`. Reply flows are not
    /// connections: they are counted in `replies` of the edge of the connection they answer
    /// (reply destination → reply source), never in the verdict counts.
    public struct Edge: Sendable, Equatable, Codable {
        public var source: String
        public var destination: String
        public var forwarded = 0, dropped = 0, audit = 0, other = 0
        public var replies = 0
        /// Whether an enforced policy selects the destination for ingress: true, false (no policy
        /// restricts its inbound traffic: default allow), nil when the report cannot tell
        /// (`TrafficMap.withCoverage`).
        public var covered: Bool?

        public init(source: String, destination: String, forwarded: Int = 0, dropped: Int = 0, audit: Int = 0,
                    other: Int = 0, replies: Int = 0, covered: Bool? = nil) {
            self.source = source
            self.destination = destination
            self.forwarded = forwarded
            self.dropped = dropped
            self.audit = audit
            self.other = other
            self.replies = replies
            self.covered = covered
        }

        /// Connection flows (replies left out).
        public var flows: Int { forwarded &+ dropped &+ audit &+ other }

        public mutating func add(verdict: String, _ n: Int = 1) {
            switch verdict {
            case "FORWARDED", "REDIRECTED": forwarded = NumberLimits.clampedAdd(forwarded, n)
            case "DROPPED": dropped = NumberLimits.clampedAdd(dropped, n)
            case "AUDIT": audit = NumberLimits.clampedAdd(audit, n)
            default: other = NumberLimits.clampedAdd(other, n)
            }
        }

        public mutating func merge(_ e: Edge) {
            forwarded = NumberLimits.clampedAdd(forwarded, e.forwarded)
            dropped = NumberLimits.clampedAdd(dropped, e.dropped)
            audit = NumberLimits.clampedAdd(audit, e.audit)
            other = NumberLimits.clampedAdd(other, e.other)
            replies = NumberLimits.clampedAdd(replies, e.replies)
            if covered != e.covered { covered = nil }
        }
    }

    /// Every node an edge names, sorted by id.
    public var nodes: [Node]
    /// Busiest first (connection flows, then replies), ties by source and destination id.
    public var edges: [Edge]
    /// Connection flows counted on the edges.
    public var flows: Int
    /// Reply flows counted as `replies` on the edges.
    public var replyFlows: Int
    /// Flows (connections and replies) of edges that found no room in the table (its cap).
    public var unmappedFlows: Int
    /// The table's cap in edges.
    public var edgeCap: Int

    public init(nodes: [Node], edges: [Edge], flows: Int, replyFlows: Int = 0, unmappedFlows: Int = 0, edgeCap: Int) {
        self.nodes = nodes
        self.edges = edges
        self.flows = flows
        self.replyFlows = replyFlows
        self.unmappedFlows = unmappedFlows
        self.edgeCap = edgeCap
    }

    /// The order `edges` is kept in: busiest first, ties by ids.
    public static func busierFirst(_ a: Edge, _ b: Edge) -> Bool {
        if a.flows != b.flows { return a.flows > b.flows }
        if a.replies != b.replies { return a.replies > b.replies }
        if a.source != b.source { return a.source < b.source }
        return a.destination < b.destination
    }
}

extension TrafficMap {
    /// The map with `covered` set on every edge from the environment's policy set (docs/flows.md):
    /// the report keeps policy traits, not selectors, so it decides per namespace. A destination
    /// in the environment's namespace (the namespace node or one of its workloads) is covered when
    /// a valid, enabled policy of the namespace (or a clusterwide one) restricts ingress and selects
    /// every pod; not covered when no such policy restricts ingress at all; unknown (nil) when only
    /// policies with narrower selectors restrict it. A clusterwide policy restricting ingress of
    /// every pod covers every namespace and workload. Other destinations, and every destination
    /// when the policy section has no value, are unknown.
    ///
    /// With the coverage rows (`WorkloadCoverage.rows`), a workload of the environment's namespace
    /// is decided on its own, with the selector logic of the coverage table: covered when a policy
    /// selects it for ingress, not covered when none does. The node is matched to the rows by its
    /// label, which is the workload's `app.kubernetes.io/name`, `app` or `k8s-app` label, else its
    /// workload name; rows that disagree, or whose labels are unknown, leave the namespace's answer.
    public func withCoverage(_ policies: PolicySet?, namespace: String, workloads: [WorkloadCoverageRow]? = nil) -> TrafficMap {
        var out = self
        guard let policies else {
            for i in out.edges.indices { out.edges[i].covered = nil }
            return out
        }
        let enforced = policies.items.filter { $0.valid && $0.enabled && $0.selectsNodes != true }
        let clusterwide = enforced.filter { $0.kind == .ciliumClusterwideNetworkPolicy }
        let own = enforced.filter { $0.kind != .ciliumClusterwideNetworkPolicy && $0.namespace == namespace }
        let clusterCovers = clusterwide.contains { $0.restrictsIngress == true && $0.selectsAllPods == true }
        let ownCovered: Bool? = {
            let all = own + clusterwide
            if clusterCovers || all.contains(where: { $0.restrictsIngress == true && $0.selectsAllPods == true }) { return true }
            if all.allSatisfy({ $0.restrictsIngress == false }) { return false }
            return nil
        }()
        let kinds = Dictionary(nodes.map { ($0.id, $0.kind) }, uniquingKeysWith: { a, _ in a })
        for i in out.edges.indices {
            let d = out.edges[i].destination
            switch kinds[d] {
            case .workload?:
                guard d.hasPrefix("workload:\(namespace)/") else {
                    out.edges[i].covered = clusterCovers ? true : nil
                    continue
                }
                out.edges[i].covered = Self.workloadCovered(String(d.dropFirst("workload:\(namespace)/".count)), rows: workloads) ?? ownCovered
            case .namespace?: out.edges[i].covered = d == Node.namespace(namespace).id ? ownCovered : (clusterCovers ? true : nil)
            default: out.edges[i].covered = nil
            }
        }
        return out
    }

    /// Whether a policy selects the workload drawn as `label` for ingress, from the coverage rows;
    /// nil when no row matches, a matching row's labels are unknown, or the matching rows disagree.
    static func workloadCovered(_ label: String, rows: [WorkloadCoverageRow]?) -> Bool? {
        guard let rows else { return nil }
        let matching = rows.filter { r in
            let app = ["app.kubernetes.io/name", "app", "k8s-app"].lazy.compactMap { r.workload.labels[$0] }.first
            return app.map { $0 == label } ?? (r.workload.name == label)
        }
        guard !matching.isEmpty, matching.allSatisfy(\.labelsKnown) else { return nil }
        let answers = Set(matching.map { !$0.ingress.isEmpty })
        return answers.count == 1 ? answers.first : nil
    }
}
