import Foundation

/// One workload seen in the flows of an environment's namespace, with the traffic it received and
/// sent in the window (docs/policies.md, "Policy coverage").
public struct WorkloadTraffic: Sendable, Equatable, Codable {
    /// The workload's name (Hubble's `workloads[0].name`), else the pod name.
    public var name: String
    public var namespace: String
    /// The endpoint's Kubernetes labels, keys without Cilium's `k8s:` prefix; empty when the flows
    /// carried none (then no selector can be matched).
    public var labels: [String: String]
    /// New connections to it (reply flows left out), by verdict.
    public var received: FlowCounts
    /// New connections from it, by verdict.
    public var sent: FlowCounts
    public init(name: String, namespace: String, labels: [String: String], received: FlowCounts, sent: FlowCounts) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.received = received
        self.sent = sent
    }
}

/// A pod selector of a policy spec, with the directions the spec puts its pods in default-deny for:
/// what coverage needs to say which policy selects a workload.
public struct PodSelectorTrait: Sendable, Equatable, Codable {
    public struct Expression: Sendable, Equatable, Codable {
        public var key: String
        /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
        public var op: String
        public var values: [String]
        public init(key: String, op: String, values: [String]) {
            self.key = key
            self.op = op
            self.values = values
        }
    }

    /// Keys without Cilium's source prefix; the namespace label of a clusterwide selector included.
    public var matchLabels: [String: String]
    public var matchExpressions: [Expression]
    public var ingress: Bool
    public var egress: Bool

    public init(matchLabels: [String: String], matchExpressions: [Expression] = [], ingress: Bool, egress: Bool) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
        self.ingress = ingress
        self.egress = egress
    }

    /// Kubernetes label-selector semantics: every matchLabels pair present, every expression true.
    /// `io.kubernetes.pod.namespace` is matched against `namespace`.
    public func matches(labels: [String: String], namespace: String) -> Bool {
        var all = labels
        all["io.kubernetes.pod.namespace"] = namespace
        for (k, v) in matchLabels where all[k] != v { return false }
        for e in matchExpressions {
            let value = all[e.key]
            switch e.op {
            case "In": if !(value.map { e.values.contains($0) } ?? false) { return false }
            case "NotIn": if let value, e.values.contains(value) { return false }
            case "Exists": if value == nil { return false }
            case "DoesNotExist": if value != nil { return false }
            default: return false
            }
        }
        return true
    }
}

/// Which enforced policies select each workload for ingress and for egress.
public struct WorkloadCoverageRow: Sendable, Equatable {
    public var workload: WorkloadTraffic
    /// Names of the valid, enabled policies whose selector picks it and that restrict the direction.
    public var ingress: [String]
    public var egress: [String]
    /// False when the flows gave no labels: no selector can be matched, coverage is unknown.
    public var labelsKnown: Bool
}

public enum WorkloadCoverage {
    /// The rows of an environment: nil when the flows gave no workloads (a Prometheus source, or
    /// flows not read) or the policies were not read; policies read without selectors (older
    /// recordings) leave the rows out too, rather than call every workload uncovered.
    public static func rows(_ env: EnvironmentReport) -> [WorkloadCoverageRow]? {
        guard let workloads = env.flows.value?.workloads, let set = env.policies.value else { return nil }
        let enforced = set.items.filter { $0.valid && $0.enabled }
        guard enforced.allSatisfy({ $0.podSelectors != nil || $0.selectsNodes == true }) else { return nil }
        return workloads.map { w in
            func names(_ ingress: Bool) -> [String] {
                enforced.filter { p in
                    // A namespaced policy selects pods of its own namespace only.
                    if p.kind != .ciliumClusterwideNetworkPolicy, (p.namespace ?? env.namespace) != w.namespace { return false }
                    return (p.podSelectors ?? []).contains { s in (ingress ? s.ingress : s.egress) && s.matches(labels: w.labels, namespace: w.namespace) }
                }.map(\.name)
            }
            let known = !w.labels.isEmpty
            return WorkloadCoverageRow(workload: w, ingress: known ? names(true) : [], egress: known ? names(false) : [], labelsKnown: known)
        }
    }
}
