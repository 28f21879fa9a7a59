import Foundation
import ThreatModel

/// How flows name workloads and which labels identify them in a selector.
public enum WorkloadIdentity {
    /// Labels that differ between pods of one workload or that Kubernetes and Cilium add on their
    /// own: never used in a suggested selector.
    public static let volatileKeys: Set<String> = WorkloadLabels.perPod.union([
        "controller-uid", "batch.kubernetes.io/controller-uid", "job-name",
        "batch.kubernetes.io/job-name", "job-index", "batch.kubernetes.io/job-completion-index",
        "security.istio.io/tlsMode", "service.istio.io/canonical-revision",
    ])
    /// Keys that name an application; when a pod has any, only these are used.
    public static let identifyingKeys = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
                                         "app", "k8s-app", "name", "component"]

    /// The labels that identify a pod's workload, sorted by key: the application keys when present,
    /// else every label that is not volatile or added by Cilium. Labels that are not valid
    /// Kubernetes label keys or values (hostile flow input) are never used.
    public static func labels(_ all: [String: String]) -> [LabelPair] {
        let usable = all.filter { k, v in
            !volatileKeys.contains(k) && !k.hasPrefix("io.cilium.k8s.") && !k.hasPrefix("io.kubernetes.")
                && k.utf8.count <= 317 && RuleModeValues.labelKeyProblem(k) == nil && RuleModeValues.labelValueProblem(v) == nil
        }
        let identifying = usable.filter { identifyingKeys.contains($0.key) }
        let chosen = identifying.isEmpty ? usable : identifying
        return chosen.map { LabelPair($0.key, $0.value) }.sorted { $0.key < $1.key }
    }

    /// A workload name: Hubble's workload name when given, else the pod name without the
    /// ReplicaSet hash and pod suffix (`web-7d9f8b6c5d-x2k9p` → `web`, `agent-x2k9p` → `agent`).
    public static func name(pod: String?, workload: String?) -> String? {
        if let workload, !workload.isEmpty { return workload }
        guard let pod, !pod.isEmpty else { return nil }
        var parts = pod.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        func isSuffix(_ s: String, _ lengths: ClosedRange<Int>) -> Bool {
            lengths.contains(s.count) && s.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") }
        }
        if parts.count >= 3, isSuffix(parts[parts.count - 1], 5...5), isSuffix(parts[parts.count - 2], 6...10) {
            parts.removeLast(2)
        } else if parts.count >= 2, isSuffix(parts[parts.count - 1], 5...5) {
            parts.removeLast()
        } else if parts.count >= 2, let last = parts.last, !last.isEmpty, last.allSatisfy(\.isNumber) {
            parts.removeLast()
        }
        return parts.joined(separator: "-")
    }

    /// A short name for one side of a flow: `namespace/workload`, the entity, or the address.
    public static func display(_ e: PolicyEndpoint, pod: String?, workload: String?) -> String {
        if let ns = e.namespace {
            let w = name(pod: pod, workload: workload) ?? labels(e.labels).first.map { "\($0.key)=\($0.value)" } ?? "?"
            return "\(ns)/\(w)"
        }
        if let ent = ["kube-apiserver", "host", "remote-node", "health", "init", "ingress", "unmanaged"].first(where: e.entities.contains) {
            return ent
        }
        if e.isWorld { return "world" + (e.ip.map { " \($0)" } ?? "") }
        return e.ip ?? "?"
    }
}
