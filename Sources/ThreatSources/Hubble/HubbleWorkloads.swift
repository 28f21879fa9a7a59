import Foundation
import ThreatModel

/// The workloads of an environment's namespace seen in flow files, for policy coverage: each with
/// its Kubernetes labels and the new connections it received and sent (reply flows left out). The
/// table is capped; past the cap, flows of other workloads are counted and a warning says so.
struct WorkloadTally {
    static let cap = 5_000
    let namespace: String
    var table: [String: WorkloadTraffic] = [:]
    var beyondCap = 0

    init(namespace: String) { self.namespace = namespace }

    /// A workload's key and shown name: Hubble's workload name; else, pods being replaceable, its
    /// label set (Cilium's identity), named after its `app`-like label; else the pod name.
    static func key(workload: String?, pod: String?, labels: [String: String]) -> (key: String, name: String)? {
        if let w = workload, !w.isEmpty { return ("w/" + InputLimits.keyPrefix(w), InputLimits.keyPrefix(w)) }
        let own = labels
        if !own.isEmpty {
            let text = own.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let name = ["app.kubernetes.io/name", "app", "k8s-app", "name"].lazy.compactMap { own[$0] }.first ?? pod ?? text
            return ("l/" + InputLimits.keyPrefix(text), InputLimits.keyPrefix(name))
        }
        guard let pod, !pod.isEmpty else { return nil }
        return ("p/" + InputLimits.keyPrefix(pod), InputLimits.keyPrefix(pod))
    }

    /// `k8s:app=web` → `app: web` (other label sources, `reserved:` and the like, are not pod labels).
    static func labels(_ list: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for l in list.prefix(64) {
            var text = Substring(l)
            if text.hasPrefix("k8s:") { text = text.dropFirst(4) }
            guard let eq = text.firstIndex(of: "="), !text[..<eq].contains(":") else { continue }
            // The namespace and Cilium's own labels are not the pod's: the namespace is kept apart.
            if text[..<eq] == "io.kubernetes.pod.namespace" || text.hasPrefix("io.cilium.") { continue }
            out[InputLimits.keyPrefix(String(text[..<eq]))] = InputLimits.keyPrefix(String(text[text.index(after: eq)...]))
        }
        return out
    }

    /// One side's labels and key, worked out once per distinct side (`HubbleLineDecoder` keeps
    /// them with the side).
    struct Prepared {
        var labels: [String: String]
        var key: (key: String, name: String)?

        init(workload: String?, pod: String?, labels list: [String]) {
            labels = WorkloadTally.labels(list)
            key = WorkloadTally.key(workload: workload, pod: pod, labels: labels)
        }
    }

    mutating func add(_ f: HubbleFlowSource.Flow, source: Prepared? = nil, destination: Prepared? = nil, n: Int = 1) {
        guard !f.isReply else { return }
        if f.destinationNamespace == namespace {
            update(destination ?? Prepared(workload: f.destinationWorkload, pod: f.destinationPod, labels: f.destinationLabels), n: n) {
                $0.received.add(verdict: f.verdict, n)
            }
        }
        if f.sourceNamespace == namespace {
            update(source ?? Prepared(workload: f.sourceWorkload, pod: f.sourcePod, labels: f.sourceLabels), n: n) { $0.sent.add(verdict: f.verdict, n) }
        }
    }

    mutating func update(_ prepared: Prepared, n: Int, _ change: (inout WorkloadTraffic) -> Void) {
        let labels = prepared.labels
        guard let (key, name) = prepared.key else { return }
        if table[key] == nil {
            guard table.count < Self.cap else {
                beyondCap += n
                return
            }
            table[key] = WorkloadTraffic(name: name, namespace: namespace, labels: labels,
                                         received: FlowCounts(forwarded: 0, dropped: 0), sent: FlowCounts(forwarded: 0, dropped: 0))
        }
        if table[key]!.labels.isEmpty, !labels.isEmpty { table[key]!.labels = labels }
        change(&table[key]!)
    }

    /// Most traffic first, then by name.
    var workloads: [WorkloadTraffic] {
        table.values.sorted { a, b in
            let x = a.received.total + a.sent.total, y = b.received.total + b.sent.total
            return x != y ? x > y : a.name < b.name
        }
    }

    var warning: String? {
        beyondCap == 0 ? nil : "policy coverage: more than \(Self.cap) workloads in the flows; \(beyondCap) flow(s) of further workloads are not in the coverage table"
    }
}
