import Foundation

/// The least-privilege policies suggested from an environment's flow files or Hubble workload metrics (docs/policies.md,
/// "Suggested policies in the report"): one per workload of the environment's namespace, built
/// by the same code as `threat-report policy suggest`, written beside the report as
/// `suggested-policies/<environment>/<workload>.yaml`. Nothing is applied: each manifest carries
/// GitLab's disabled_by label.
public struct PolicySuggestions: Sendable, Equatable, Codable {
    public struct Item: Sendable, Equatable, Codable {
        /// The file below the report folder (`suggested-policies/<environment>/<workload>.yaml`);
        /// the source sets `<workload>.yaml`, the pipeline the folders.
        public var file: String
        /// The policy's name (`suggested-<workload>`).
        public var name: String
        /// The workloads whose pods the policy selects (one, or several sharing their labels).
        public var workloads: [String]
        /// The plain-language explanation `policy explain` gives the manifest.
        public var explanation: [String]
        /// The manifest, with its opening comment.
        public var manifest: String

        public init(file: String, name: String, workloads: [String], explanation: [String], manifest: String) {
            self.file = file
            self.name = name
            self.workloads = workloads
            self.explanation = explanation
            self.manifest = manifest
        }
    }

    public var items: [Item] = []
    /// Allowed new-connection flows of the window that became rules.
    public var flowsUsed = 0
    /// What was left out, one sentence each (replies, drops, ICMP, ends without labels, …).
    public var notes: [String] = []
    /// True when the source gives no ports (Hubble metrics): every rule allows every port of its
    /// protocol. Nil for flow files, whose rules carry the ports observed.
    public var portsUnknown: Bool? = nil
    /// True when the source could give no suggestions at all (metrics without a workload context,
    /// a failed query); the notes say why. Nil otherwise.
    public var unavailable: Bool? = nil

    public init(items: [Item] = [], flowsUsed: Int = 0, notes: [String] = [], portsUnknown: Bool? = nil) {
        self.items = items
        self.flowsUsed = flowsUsed
        self.notes = notes
        self.portsUnknown = portsUnknown
    }
}
