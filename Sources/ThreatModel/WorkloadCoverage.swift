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

/// Where a workload of the coverage table was seen.
public enum WorkloadSource: String, Sendable, Equatable, Codable {
    case flows
    case podList = "pod_list"
    case both

    /// As the tables say it.
    public var text: String {
        switch self {
        case .flows: "flows"
        case .podList: "pod list"
        case .both: "flows and pod list"
        }
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
    /// The flow files, the Kubernetes pod list, or both.
    public var source: WorkloadSource = .flows
    /// False when no flow file gave workloads (Prometheus flows, or none configured): the traffic of
    /// a workload from the pod list is then not known, rather than zero.
    public var trafficKnown: Bool = true

    /// No policy selects it for ingress while it received connections, or while it runs (a
    /// workload of the pod list, whatever its traffic): `policies.uncovered_workload`.
    public var isOpen: Bool { labelsKnown && ingress.isEmpty && (workload.received.total > 0 || source != .flows) }
}

public enum WorkloadCoverage {
    /// The rows of an environment: the workloads of the flow files (most traffic first), then those
    /// only in the pod list (by name). Nil when neither gave workloads (a Prometheus source, or flows
    /// not read, and no pod list) or the policies were not read; policies read without selectors
    /// (older recordings) leave the rows out too, rather than call every workload uncovered.
    public static func rows(_ env: EnvironmentReport) -> [WorkloadCoverageRow]? {
        guard let set = env.policies.value else { return nil }
        let fromFlows = env.flows.value?.workloads
        let fromPods = set.podList.flatMap { $0.notRead == nil ? $0.workloads : nil }
        guard fromFlows != nil || fromPods != nil else { return nil }
        let enforced = set.items.filter { $0.valid && $0.enabled }
        guard enforced.allSatisfy({ $0.podSelectors != nil || $0.selectsNodes == true }) else { return nil }
        let pods = fromPods ?? []
        var byName: [String: Int] = [:]
        for (i, p) in pods.enumerated() where byName[p.name] == nil { byName[p.name] = i }
        var matched = Set<Int>()
        var listed: [(WorkloadTraffic, WorkloadSource)] = []
        for var w in fromFlows ?? [] {
            // The same workload: the same name (Hubble's workload name is the owner's), else the
            // one pod-list workload whose labels include every label the flows gave.
            var index = byName[w.name]
            if index == nil, !w.labels.isEmpty {
                let candidates = pods.indices.filter { i in w.labels.allSatisfy { pods[i].labels[$0.key] == $0.value } }
                if candidates.count == 1 { index = candidates[0] }
            }
            guard let index else {
                listed.append((w, .flows))
                continue
            }
            matched.insert(index)
            if w.labels.isEmpty { w.labels = pods[index].labels }
            listed.append((w, .both))
        }
        let zero = FlowCounts(forwarded: 0, dropped: 0)
        for (i, p) in pods.enumerated() where !matched.contains(i) {
            listed.append((WorkloadTraffic(name: p.name, namespace: env.namespace, labels: p.labels, received: zero, sent: zero), .podList))
        }
        return listed.map { w, source in
            func names(_ ingress: Bool) -> [String] {
                enforced.filter { p in
                    // A namespaced policy selects pods of its own namespace only.
                    if p.kind != .ciliumClusterwideNetworkPolicy, (p.namespace ?? env.namespace) != w.namespace { return false }
                    return (p.podSelectors ?? []).contains { s in (ingress ? s.ingress : s.egress) && s.matches(labels: w.labels, namespace: w.namespace) }
                }.map(\.name)
            }
            // A pod-list workload's labels are its pods' labels, even when there are none.
            let known = !w.labels.isEmpty || source != .flows
            return WorkloadCoverageRow(workload: w, ingress: known ? names(true) : [], egress: known ? names(false) : [], labelsKnown: known,
                                       source: source, trafficKnown: fromFlows != nil)
        }
    }
}

/// Labels as the tables and findings show a workload's.
public enum WorkloadLabels {
    /// Labels that differ from pod to pod of one workload (a ReplicaSet's hash, a StatefulSet
    /// pod's name): not the workload's, so never shown as its labels.
    public static let perPod: Set<String> = ["pod-template-hash", "controller-revision-hash", "pod-template-generation",
                                            "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index"]

    /// `app=web, tier=front`: the workload's labels by key, without the per-pod ones.
    public static func shown(_ labels: [String: String]) -> String {
        labels.filter { !perPod.contains($0.key) }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}
