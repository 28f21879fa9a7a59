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
    /// Allow rules that let traffic from outside the cluster in (the `world`/`all` entities,
    /// 0.0.0.0/0 or ::/0, or any peer at all); empty when none; nil when not checked.
    public var worldIngress: [WorldIngressRule]? = nil
    /// Whether the policy puts the pods it selects into default-deny for inbound / outbound traffic
    /// (Kubernetes: the direction is in the defaulted policyTypes; Cilium: the spec has rules for it,
    /// or `enableDefaultDeny` says so); nil when not checked.
    public var restrictsIngress: Bool? = nil
    public var restrictsEgress: Bool? = nil
    /// Whether a selector (GitLab's disabled_by label aside) is empty, so the policy applies to every
    /// pod of its namespace (every pod of the cluster for a clusterwide policy); nil when not checked.
    public var selectsAllPods: Bool? = nil
    /// Whether the policy selects nodes (a Cilium host policy, `nodeSelector`), not pods: its
    /// advice then speaks of nodes and host traffic; nil when not checked.
    public var selectsNodes: Bool? = nil
    /// The policy's content in normalized form (selectors and rules, one line per peer and port),
    /// kept in `report.json` so the next run can say what changed (docs/policies.md, "Policy
    /// drift"); nil when not computed (invalid documents).
    public var fingerprint: PolicyFingerprint? = nil
    /// The pod selectors of its specs with the directions each restricts (GitLab's disabled_by label
    /// left out), for workload coverage; nil when not computed. Node selectors are not listed.
    public var podSelectors: [PodSelectorTrait]? = nil

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

/// A policy's selectors and rules as sorted, normalized lines (`ingress from app=frontend port
/// 8080/TCP`), and the SHA-256 of all of them: two policies with the same digest select the same
/// pods and have the same rules, whatever their layout, comments or rule order.
public struct PolicyFingerprint: Sendable, Equatable, Codable {
    /// SHA-256 (hex) of every line, sorted, each followed by a newline.
    public var digest: String
    /// The lines, sorted; at most `maxLines` are kept.
    public var lines: [String]
    /// How many lines there are in all (more than `lines.count` when cut).
    public var total: Int
    public static let maxLines = 500
    public init(digest: String, lines: [String], total: Int) {
        self.digest = digest
        self.lines = lines
        self.total = total
    }
    /// False when some lines were left out (the digest still covers them all).
    public var isComplete: Bool { total <= lines.count }
}

/// One allow rule letting traffic from outside the cluster in.
public struct WorldIngressRule: Sendable, Equatable, Codable {
    /// Where the rule is written (`spec.ingress[0]`).
    public var path: String
    /// The peer that admits the outside world: `anywhere`, `entity world`, `entity all`, `0.0.0.0/0`…
    public var peer: String
    /// True when the rule admits every port and protocol.
    public var anyPort: Bool
    /// The ports as a sentence fragment (`TCP/80 and TCP/443`, `traffic on any port`).
    public var ports: String
    public init(path: String, peer: String, anyPort: Bool, ports: String) {
        self.path = path
        self.peer = peer
        self.anyPort = anyPort
        self.ports = ports
    }
}

/// GitLab's predefined network policies (Threat Monitoring, 12.9–13.x). GitLab listed them
/// "disabled by default unless a deployed policy has the same name"; `threat-report policy
/// predefined` prints their manifests.
public enum GitLabPredefinedPolicy: String, Sendable, Codable, CaseIterable {
    /// Every pod, egress with no allowed peer: all outbound traffic is dropped.
    case dropOutbound = "drop-outbound"
    /// Every pod, inbound allowed only on TCP 80 and 443.
    case allowInboundHTTP = "allow-inbound-http"

    public var name: String { rawValue }

    /// GitLab shipped them last as CiliumNetworkPolicy.
    public var kind: PolicyKind { .ciliumNetworkPolicy }

    public var rules: PolicyRuleCounts {
        switch self {
        case .dropOutbound: PolicyRuleCounts(egress: 1)
        case .allowInboundHTTP: PolicyRuleCounts(ingress: 1)
        }
    }

    /// The CiliumNetworkPolicy manifest, enforced (`threat-report policy predefined` adds GitLab's
    /// disabled_by label unless --enabled). `drop-outbound`: every pod, one empty egress rule —
    /// Cilium puts the pods in egress default-deny and the empty rule allows nothing, so all outbound
    /// traffic is dropped. `allow-inbound-http`: every pod, inbound allowed only on TCP 80 and 443,
    /// from any source (an L4-only rule matches every peer). GitLab's own manifest left `protocol`
    /// out, which in Cilium means any protocol; TCP is written here, as the policy's name promises.
    public var ciliumManifest: String {
        switch self {
        case .dropOutbound: """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: drop-outbound
            spec:
              endpointSelector: {}
              egress:
              - {}
            """
        case .allowInboundHTTP: """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: allow-inbound-http
            spec:
              endpointSelector: {}
              ingress:
              - toPorts:
                - ports:
                  - port: "80"
                    protocol: TCP
                  - port: "443"
                    protocol: TCP
            """
        }
    }

    /// The explainer's sentences for the Cilium manifest (a ThreatSources test keeps the two equal).
    public func description(namespace: String) -> [String] {
        let place = namespace.isEmpty ? "the policy's namespace" : namespace
        return switch self {
        case .dropOutbound: [
            "Inbound traffic is not restricted by this policy.",
            "All outbound traffic from all pods in \(place) is denied.",
        ]
        case .allowInboundHTTP: [
            "All pods in \(place) accept inbound TCP/80 and TCP/443 from anywhere; all other inbound traffic to them is denied.",
            "Outbound traffic is not restricted by this policy.",
        ]
        }
    }
}

/// The label GitLab put into a policy selector's matchLabels to disable enforcement.
public let gitlabDisabledByLabel = "network-policy.gitlab.com/disabled_by"

/// The deployed policy set of one environment.
public struct PolicySet: Sendable, Equatable, Codable {
    public var items: [PolicyItem]
    /// Notes about the set as a whole (e.g. "Cilium is not installed").
    public var notes: [String]
    /// The namespace's workloads from the pod list, read beside the policies from the Kubernetes
    /// API; nil when not read from there (other sources, or `pods: false`).
    public var podList: PodListWorkloads? = nil
    public init(items: [PolicyItem], notes: [String] = [], podList: PodListWorkloads? = nil) {
        self.items = items
        self.notes = notes
        self.podList = podList
    }
}

extension PolicySet {
    /// GitLab's predefined policies that no policy of the set is named after ("listed disabled by
    /// default unless a deployed policy has the same name").
    public var predefinedNotDeployed: [GitLabPredefinedPolicy] {
        GitLabPredefinedPolicy.allCases.filter { p in !items.contains { $0.name == p.name } }
    }
}
