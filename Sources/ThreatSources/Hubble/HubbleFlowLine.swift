import Foundation
import ThreatModel

extension HubbleFlowSource {
    /// One flow as the statistics need it.
    public struct Flow: Equatable, Sendable {
        public var time: Date
        public var verdict: String
        public var sourceNamespace: String?
        public var destinationNamespace: String?
        public var sourcePod: String?
        public var destinationPod: String?
        public var destinationPort: Int?
        public var proto: String?
        public var dropReason: String?
        /// The policies named in `ingress_denied_by` and `egress_denied_by` (Cilium ≥ 1.17): the
        /// policy that dropped the flow, or for AUDIT the one that would have.
        public var deniedBy: [DenyingPolicy] = []
        /// The two sides as the traffic map names them.
        public var source = Endpoint(), destination = Endpoint()
        public var isReply = false

        /// The endpoints' `labels` (`k8s:app=web`…) and workload names (`workloads[0].name`), for coverage.
        public var sourceLabels: [String] = []
        public var destinationLabels: [String] = []
        public var sourceWorkload: String?
        public var destinationWorkload: String?
    }

    /// One entry of `ingress_denied_by` / `egress_denied_by` (flow.proto's `Policy`: name, namespace,
    /// labels, revision, kind).
    public struct DenyingPolicy: Equatable, Sendable {
        public var name: String
        /// Empty for clusterwide policies.
        public var namespace: String
        public var kind: String
        public var direction: String

        /// `namespace/name`, or `name` for a clusterwide policy.
        public var key: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
    }

    /// Parses one line: `{"flow": {...}, "node_name": ..., "time": ...}` (hubble ≥ 0.8) or the bare
    /// flow object (older). Nil for anything else.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Flow? {
        guard let json = try? JSONValue.parse(bytes: Array(bytes), maxDepth: InputLimits.jsonDepth) else { return nil }
        return parse(json: json)
    }

    /// One line already parsed as JSON (the report reads each line once for its counts, map and
    /// suggestions).
    public static func parse(json: JSONValue) -> Flow? {
        let flow = json["flow"] ?? json
        guard let verdict = flow["verdict"]?.stringValue ?? flow["verdict"]?.intValue.map(verdictName),
              let timeText = flow["time"]?.stringValue ?? json["time"]?.stringValue,
              let time = RFC3339.parse(timeText) else { return nil }
        func ns(_ side: String) -> String? { flow.at("\(side).namespace")?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        var port: Int?, proto: String?
        for p in ["TCP", "UDP", "SCTP"] {
            if let l4 = flow.at("l4.\(p)") {
                proto = p
                port = l4["destination_port"]?.intValue
            }
        }
        if flow.at("l4.ICMPv4") != nil || flow.at("l4.ICMPv6") != nil { proto = "ICMP" }
        for p in ["VRRP", "IGMP"] where flow.at("l4.\(p)") != nil { proto = p }
        let reason = flow["drop_reason_desc"]?.stringValue ?? flow["drop_reason_desc"]?.intValue.map { "REASON_\($0)" }
        var denied: [DenyingPolicy] = []
        for (field, direction) in [("ingress_denied_by", "ingress"), ("egress_denied_by", "egress")] {
            for p in flow[field]?.arrayValue ?? [] {
                guard let name = p["name"]?.stringValue, !name.isEmpty else { continue }
                denied.append(DenyingPolicy(name: name, namespace: p["namespace"]?.stringValue ?? "",
                                            kind: p["kind"]?.stringValue ?? "", direction: direction))
            }
        }
        func labels(_ side: String) -> [String] { flow.at("\(side).labels")?.arrayValue?.compactMap(\.stringValue) ?? [] }
        func workload(_ side: String) -> String? {
            flow.at("\(side).workloads")?.arrayValue?.first?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        }
        return Flow(time: time, verdict: verdict, sourceNamespace: ns("source"), destinationNamespace: ns("destination"),
                    sourcePod: flow.at("source.pod_name")?.stringValue, destinationPod: flow.at("destination.pod_name")?.stringValue,
                    destinationPort: port, proto: proto, dropReason: reason, deniedBy: denied,
                    source: endpoint(flow["source"]), destination: endpoint(flow["destination"]), isReply: isReply(flow),
                    sourceLabels: labels("source"), destinationLabels: labels("destination"),
                    sourceWorkload: workload("source"), destinationWorkload: workload("destination"))
    }

    /// flow.proto's `Verdict` enum, for lines that carry the number.
    static func verdictName(_ v: Int) -> String {
        ["VERDICT_UNKNOWN", "FORWARDED", "DROPPED", "ERROR", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"][safe: v] ?? "VERDICT_\(v)"
    }

    /// `source → destination:port/proto`, with namespace/pod on each side (`world` when outside).
    static func pairKey(_ f: Flow) -> String {
        pairKey(f.sourceNamespace, f.sourcePod, f.destinationNamespace, f.destinationPod, port: f.destinationPort, proto: f.proto)
    }

    static func pairKey(_ sourceNamespace: String?, _ sourcePod: String?, _ destinationNamespace: String?, _ destinationPod: String?,
                        port: Int?, proto: String?) -> String {
        // "ns/pod → ns/pod:port/proto", appended in place.
        var out = sourceNamespace ?? "world"
        if let sourcePod {
            out += "/"
            out += sourcePod
        }
        out += " → "
        out += destinationNamespace ?? "world"
        if let destinationPod {
            out += "/"
            out += destinationPod
        }
        if let port {
            out += ":"
            out += String(port)
        }
        out += "/"
        out += proto ?? "?"
        return out
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
