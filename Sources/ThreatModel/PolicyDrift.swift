import Foundation

/// How an environment's policy set changed since the previous report in the output folder
/// (docs/policies.md, "Policy drift"): the audit trail between two runs.
public struct PolicyDrift: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Both sets were read and compared.
        case compared
        /// The output folder holds no previous `report.json` (a first run).
        case noPreviousReport = "no_previous_report"
        /// A comparison could not be made; `note` says why (a corrupt previous report, a policy
        /// section that was not read in one of the two runs, an environment that is new).
        case notCompared = "not_compared"
    }

    public var status: Status
    /// Why not compared, or a caveat about the comparison (older report without rule summaries).
    public var note: String?
    /// `generated_at` of the previous report, when it had one.
    public var previousGeneratedAt: Date?
    /// SHA-256 of the previous `report.json` as read.
    public var previousSHA256: String?
    public var added: [PolicyDriftEntry]
    public var removed: [PolicyDriftEntry]
    /// Rules or selectors changed (enforcement changes are in `enforcement`).
    public var changed: [PolicyDriftEntry]
    public var enforcement: [PolicyEnforcementChange]
    /// Policies present in both runs with the same content and enforcement.
    public var unchanged: Int

    public init(status: Status, note: String? = nil, previousGeneratedAt: Date? = nil, previousSHA256: String? = nil,
                added: [PolicyDriftEntry] = [], removed: [PolicyDriftEntry] = [], changed: [PolicyDriftEntry] = [],
                enforcement: [PolicyEnforcementChange] = [], unchanged: Int = 0) {
        self.status = status
        self.note = note
        self.previousGeneratedAt = previousGeneratedAt
        self.previousSHA256 = previousSHA256
        self.added = added
        self.removed = removed
        self.changed = changed
        self.enforcement = enforcement
        self.unchanged = unchanged
    }

    /// Nothing added, removed, changed or switched (only meaningful when `status == .compared`).
    public var isUnchanged: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && enforcement.isEmpty }
}

/// A policy added, removed or changed, with the rule and selector lines that differ.
public struct PolicyDriftEntry: Sendable, Equatable, Codable {
    public var kind: String
    public var name: String
    public var namespace: String?
    /// Enforcement in the run it is seen in (the previous run for removed policies).
    public var enabled: Bool
    /// `ingress from app=frontend port 8080/TCP removed`, `selects app=web added`…
    public var details: [String]
    /// False when a rule summary was cut or missing, so `details` may not list every difference.
    public var detailsComplete: Bool
    public init(kind: String, name: String, namespace: String?, enabled: Bool, details: [String] = [], detailsComplete: Bool = true) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.enabled = enabled
        self.details = details
        self.detailsComplete = detailsComplete
    }
}

/// A policy whose enforcement changed between the two runs.
public struct PolicyEnforcementChange: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case enforced
        /// GitLab's disabled_by label: it selects no pods.
        case disabled
        /// The manifest is not valid: not enforced as written.
        case invalid
    }
    public var kind: String
    public var name: String
    public var namespace: String?
    public var from: State
    public var to: State
    public init(kind: String, name: String, namespace: String?, from: State, to: State) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.from = from
        self.to = to
    }
}
