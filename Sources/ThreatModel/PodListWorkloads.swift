import Foundation

/// The workloads of an environment's namespace from the Kubernetes API's pod list (docs/policies.md,
/// "Policy coverage"): read with the policies when they come from the API (`policies: kubernetes:`,
/// `pods: true`, the default). Only what coverage needs is kept: each workload's name and labels
/// and how many running or pending pods it has.
public struct PodListWorkloads: Sendable, Equatable, Codable {
    public struct Workload: Sendable, Equatable, Codable {
        /// The owner's name: a ReplicaSet's name without the pod-template-hash (the Deployment),
        /// the StatefulSet, DaemonSet, Job or ReplicationController; else the pod name.
        public var name: String
        /// The labels of its first pod (by name), volatile ones (pod-template-hash…) left out.
        public var labels: [String: String]
        public var pods: Int
        public init(name: String, labels: [String: String], pods: Int) {
            self.name = name
            self.labels = labels
            self.pods = pods
        }
    }

    /// Sorted by name; empty when the list was not read.
    public var workloads: [Workload]
    /// Pods kept (not Succeeded or Failed).
    public var pods: Int
    /// Pods left out because they have finished (phase Succeeded or Failed).
    public var finished: Int
    /// List items that are not pods of the namespace (no name, another namespace): counted, not used.
    public var unreadable: Int = 0
    /// Why the list was not read (`403 Forbidden — grant pods list, see docs/ci.md`); nil when read.
    public var notRead: String?

    public init(workloads: [Workload], pods: Int, finished: Int, notRead: String? = nil) {
        self.workloads = workloads
        self.pods = pods
        self.finished = finished
        self.notRead = notRead
    }

    public static func notRead(_ why: String) -> PodListWorkloads {
        PodListWorkloads(workloads: [], pods: 0, finished: 0, notRead: why)
    }

    /// What the report says about the list, in one sentence.
    public var statement: String {
        if let notRead { return "workloads from the pod list: not read (\(notRead))" }
        return "workloads from the pod list: \(workloads.count) from \(pods) running or pending pod(s)"
            + (finished > 0 ? "; \(finished) finished pod(s) left out" : "")
            + (unreadable > 0 ? "; \(unreadable) list item(s) that are not pods of the namespace skipped" : "")
    }
}
