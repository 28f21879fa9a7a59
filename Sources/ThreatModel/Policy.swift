import Foundation

/// The kinds of network policy the report reads.
public enum PolicyKind: String, Sendable, Codable, CaseIterable {
    case ciliumNetworkPolicy = "CiliumNetworkPolicy"
    case ciliumClusterwideNetworkPolicy = "CiliumClusterwideNetworkPolicy"
    case networkPolicy = "NetworkPolicy"
}

/// A problem found in a policy document, with its place in the source.
public struct PolicyProblem: Sendable, Equatable, Codable, CustomStringConvertible {
    public var message: String
    /// `file:line:column`, or `source:line:column`.
    public var location: String?
    public init(_ message: String, location: String? = nil) {
        self.message = message
        self.location = location
    }
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// Rule counts per section of a policy.
public struct PolicyRuleCounts: Sendable, Equatable, Codable {
    public var ingress = 0, egress = 0, ingressDeny = 0, egressDeny = 0
    public init(ingress: Int = 0, egress: Int = 0, ingressDeny: Int = 0, egressDeny: Int = 0) {
        self.ingress = ingress
        self.egress = egress
        self.ingressDeny = ingressDeny
        self.egressDeny = egressDeny
    }
    public var total: Int { ingress + egress + ingressDeny + egressDeny }
}

/// One deployed (or attempted) network policy, as the report shows it.
public struct PolicyItem: Sendable, Equatable, Codable {
    public var kind: PolicyKind?
    /// The kind as written, when it is not one of ours (invalid documents).
    public var kindText: String
    public var name: String
    public var namespace: String?
    /// GitLab's enforcement status: false when the selector's matchLabels carries
    /// `network-policy.gitlab.com/disabled_by`.
    public var enabled: Bool
    public var predefined: Bool
    public var valid: Bool
    public var problems: [PolicyProblem]
    public var description: [String]
    public var rules: PolicyRuleCounts
    /// The manifest as YAML text, for the report's details block.
    public var manifest: String
    /// Where the document came from (`file:line`, or an API path).
    public var origin: String
    /// What GitLab's policy editor "rule mode" cannot show (deny rules, L7 rules, CIDR sets, services,
    /// matchExpressions, NetworkPolicy kind…), one entry per place; empty when everything fits; nil
    /// when not checked (invalid documents, older recordings).
    public var ruleModeUnsupported: [String]? = nil

    public init(kind: PolicyKind?, kindText: String, name: String, namespace: String?, enabled: Bool,
                predefined: Bool = false, valid: Bool, problems: [PolicyProblem] = [], description: [String] = [],
                rules: PolicyRuleCounts = PolicyRuleCounts(), manifest: String, origin: String) {
        self.kind = kind
        self.kindText = kindText
        self.name = name
        self.namespace = namespace
        self.enabled = enabled
        self.predefined = predefined
        self.valid = valid
        self.problems = problems
        self.description = description
        self.rules = rules
        self.manifest = manifest
        self.origin = origin
    }
}

/// The label GitLab put into a policy selector's matchLabels to disable enforcement.
public let gitlabDisabledByLabel = "network-policy.gitlab.com/disabled_by"

/// The deployed policy set of one environment.
public struct PolicySet: Sendable, Equatable, Codable {
    public var items: [PolicyItem]
    /// Notes about the set as a whole (e.g. "Cilium is not installed").
    public var notes: [String]
    public init(items: [PolicyItem], notes: [String] = []) {
        self.items = items
        self.notes = notes
    }
}
