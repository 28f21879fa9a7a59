import Foundation
import ThreatModel

// A typed model of the three network-policy kinds the report reads (CiliumNetworkPolicy,
// CiliumClusterwideNetworkPolicy, networking.k8s.io/v1 NetworkPolicy). It keeps what the
// explainer and the GitLab "rule mode" check need; L7 rules are listed, not modelled deeply.

/// One `key: value` pair of a `matchLabels` mapping, in the order written.
public struct LabelPair: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// One `matchExpressions` entry.
public struct LabelExpression: Sendable, Equatable, Hashable {
    public var key: String
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    public var `operator`: String
    public var values: [String]
    public init(key: String, operator: String, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

/// A Kubernetes label selector (also Cilium's EndpointSelector / NodeSelector).
public struct LabelSelector: Sendable, Equatable, Hashable {
    public var matchLabels: [LabelPair]
    public var matchExpressions: [LabelExpression]
    public init(matchLabels: [LabelPair] = [], matchExpressions: [LabelExpression] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// An empty selector selects everything in its scope.
    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    /// The value of a matchLabels key; Cilium source prefixes (`k8s:`, `any:`) are ignored.
    public func value(of key: String) -> String? {
        matchLabels.first { LabelSelector.bareKey($0.key) == key }?.value
    }

    /// True when matchLabels carries GitLab's `network-policy.gitlab.com/disabled_by` key.
    public var carriesGitLabDisabledBy: Bool { value(of: gitlabDisabledByLabel) != nil }

    /// The selector without GitLab's disabled_by label (what the policy selects once enabled).
    public var withoutGitLabDisabledBy: LabelSelector {
        var s = self
        s.matchLabels.removeAll { LabelSelector.bareKey($0.key) == gitlabDisabledByLabel }
        return s
    }

    /// A Cilium label key without its source prefix (`k8s:app` → `app`, `any:app` → `app`).
    public static func bareKey(_ key: String) -> String {
        for prefix in ["k8s:", "any:"] where key.hasPrefix(prefix) { return String(key.dropFirst(prefix.count)) }
        return key
    }
}

/// Traffic direction.
public enum PolicyDirection: String, Sendable, Equatable, CaseIterable {
    case ingress = "Ingress"
    case egress = "Egress"
}

/// One L4 port match.
public struct PolicyPort: Sendable, Equatable {
    /// A number or a named port; nil (or Cilium's "0") = every port.
    public var port: String?
    public var endPort: Int?
    /// `TCP`, `UDP`, `SCTP`, `ICMP`…; nil = any protocol (Cilium without `protocol`, or `ANY`).
    public var protocolName: String?
    public init(port: String?, endPort: Int? = nil, protocolName: String?) {
        self.port = port
        self.endPort = endPort
        self.protocolName = protocolName
    }
}

/// L7 rules attached to a Cilium `toPorts` entry (listed, not modelled deeply).
public struct L7Rules: Sendable, Equatable {
    /// `HTTP`, `DNS`, `Kafka`, or the `l7proto` name.
    public var kind: String
    /// One short description per rule (`GET /api/.*`, `matchPattern *.example.com`).
    public var rules: [String]
    public init(kind: String, rules: [String]) {
        self.kind = kind
        self.rules = rules
    }
}

/// One Cilium `toPorts` entry, or the `ports` list of a Kubernetes rule.
public struct PortRule: Sendable, Equatable {
    public var ports: [PolicyPort]
    public var l7: L7Rules?
    /// Other keys written in the entry (`terminatingTLS`, `originatingTLS`, `serverNames`, `listener`).
    public var extras: [String]
    public init(ports: [PolicyPort], l7: L7Rules? = nil, extras: [String] = []) {
        self.ports = ports
        self.l7 = l7
        self.extras = extras
    }
}

/// How a Cilium endpoint selector is scoped to namespaces.
public enum NamespaceScope: Sendable, Equatable {
    /// No namespace label: the policy's own namespace (CiliumNetworkPolicy).
    case policyNamespace
    /// No namespace label in a clusterwide policy: every namespace.
    case anyNamespace
    /// `k8s:io.kubernetes.pod.namespace: <name>` (or without the `k8s:` prefix).
    case named(String)
    /// `io.cilium.k8s.namespace.labels.<key>: <value>` labels: namespaces carrying these labels.
    case labelled([LabelPair])
    /// A matchExpressions entry on the namespace label decides; the selector text says which.
    case selectorDefined
}

/// Where a CIDR peer was written.
public enum CIDRSource: String, Sendable, Equatable {
    /// Cilium `fromCIDR` / `toCIDR`.
    case cidr
    /// Cilium `fromCIDRSet` / `toCIDRSet`.
    case cidrSet
    /// Kubernetes `ipBlock`.
    case ipBlock
}

/// A peer (source for ingress, destination for egress).
public enum PolicyPeer: Sendable, Equatable {
    /// Cilium `fromEndpoints` / `toEndpoints` (the namespace labels moved into `namespace`).
    case endpoints(LabelSelector, namespace: NamespaceScope)
    /// Kubernetes `podSelector` and/or `namespaceSelector` of ONE `from`/`to` element (ANDed).
    case pods(podSelector: LabelSelector?, namespaceSelector: LabelSelector?)
    /// Cilium `fromEntities` / `toEntities`.
    case entity(String)
    /// An address range with exceptions.
    case cidr(String, except: [String], source: CIDRSource)
    /// Cilium `cidrGroupRef` inside a CIDRSet.
    case cidrGroup(String)
    /// Cilium `toFQDNs`.
    case fqdn(matchName: String?, matchPattern: String?)
    /// Cilium `toServices.k8sService`.
    case service(name: String, namespace: String?)
    /// Cilium `toServices.k8sServiceSelector`.
    case serviceSelector(LabelSelector, namespace: String?)
    /// Cilium `fromNodes` / `toNodes`.
    case nodes(LabelSelector)
    /// Cilium `fromGroups` / `toGroups` (cloud provider groups), described by provider.
    case groups(String)
}

/// Which peers a rule lets through.
public enum PeerSet: Sendable, Equatable {
    /// No L3 restriction (Kubernetes rule without `from`/`to`, Cilium rule with only L4 parts).
    case anywhere
    /// Nothing (Cilium's empty rule `{}`).
    case nothing
    case some([PolicyPeer])
}

/// An ICMP match (Cilium `icmps[].fields[]`).
public struct ICMPMatch: Sendable, Equatable {
    public var type: String
    public var family: String?
    public init(type: String, family: String?) {
        self.type = type
        self.family = family
    }
}

/// One rule of an ingress/egress/ingressDeny/egressDeny section.
public struct PolicyRule: Sendable, Equatable {
    public var peers: PeerSet
    /// Empty = every port (unless `icmps` restricts L4 to ICMP).
    public var ports: [PortRule]
    public var icmps: [ICMPMatch]
    /// Cilium `fromRequires` / `toRequires`.
    public var requires: [LabelSelector]
    /// Cilium `authentication.mode`.
    public var authentication: String?
    /// Keys written in the rule mapping, in order.
    public var keys: [String]
    /// Path of the rule (`spec.ingress[0]`).
    public var path: String

    public init(peers: PeerSet, ports: [PortRule] = [], icmps: [ICMPMatch] = [], requires: [LabelSelector] = [],
                authentication: String? = nil, keys: [String] = [], path: String = "") {
        self.peers = peers
        self.ports = ports
        self.icmps = icmps
        self.requires = requires
        self.authentication = authentication
        self.keys = keys
        self.path = path
    }

    /// True when the rule restricts nothing at L4 (all ports, all protocols).
    public var allowsAnyPort: Bool { ports.isEmpty && icmps.isEmpty }
}

/// What a policy (spec) applies to.
public enum PolicySubject: Sendable, Equatable {
    /// Pods: Cilium `endpointSelector` or Kubernetes `podSelector`.
    case pods(LabelSelector)
    /// Nodes: Cilium clusterwide `nodeSelector` (host policies).
    case nodes(LabelSelector)

    public var selector: LabelSelector {
        switch self {
        case let .pods(s), let .nodes(s): s
        }
    }
}

/// One rule set: a Cilium `spec` / `specs[i]`, or a Kubernetes `spec`.
public struct PolicySpecModel: Sendable, Equatable {
    /// `spec` or `specs[i]`.
    public var path: String
    public var subject: PolicySubject
    /// nil = the section is not written (Cilium: an empty list counts as not written).
    public var ingress: [PolicyRule]?
    public var egress: [PolicyRule]?
    public var ingressDeny: [PolicyRule]?
    public var egressDeny: [PolicyRule]?
    /// Kubernetes `policyTypes` as written (nil or empty = defaulted).
    public var policyTypes: [PolicyDirection]?
    /// Cilium `enableDefaultDeny.ingress` / `.egress` as written.
    public var enableDefaultDenyIngress: Bool?
    public var enableDefaultDenyEgress: Bool?
    /// Keys written in the spec mapping, in order.
    public var keys: [String]
    /// Cilium `spec.description`.
    public var specDescription: String?

    public init(path: String, subject: PolicySubject, ingress: [PolicyRule]? = nil, egress: [PolicyRule]? = nil,
                ingressDeny: [PolicyRule]? = nil, egressDeny: [PolicyRule]? = nil, policyTypes: [PolicyDirection]? = nil,
                enableDefaultDenyIngress: Bool? = nil, enableDefaultDenyEgress: Bool? = nil, keys: [String] = [],
                specDescription: String? = nil) {
        self.path = path
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
        self.ingressDeny = ingressDeny
        self.egressDeny = egressDeny
        self.policyTypes = policyTypes
        self.enableDefaultDenyIngress = enableDefaultDenyIngress
        self.enableDefaultDenyEgress = enableDefaultDenyEgress
        self.keys = keys
        self.specDescription = specDescription
    }

    /// True when the selector carries GitLab's disabled_by label.
    public var isDisabledByGitLab: Bool { subject.selector.carriesGitLabDisabledBy }

    public func allowRules(_ direction: PolicyDirection) -> [PolicyRule] {
        (direction == .ingress ? ingress : egress) ?? []
    }

    public func denyRules(_ direction: PolicyDirection) -> [PolicyRule] {
        (direction == .ingress ? ingressDeny : egressDeny) ?? []
    }
}

/// A parsed network policy of any of the three kinds.
public struct NetworkPolicyModel: Sendable, Equatable {
    public var kind: PolicyKind
    public var apiVersion: String?
    public var name: String
    /// `metadata.namespace` as written (nil for clusterwide policies and when not written).
    public var namespace: String?
    /// One entry for `spec`, plus one per `specs[i]` (Cilium).
    public var specs: [PolicySpecModel]
    /// Top-level keys written (`apiVersion`, `kind`, `metadata`, `spec`…), in order.
    public var topLevelKeys: [String]

    public init(kind: PolicyKind, apiVersion: String?, name: String, namespace: String?, specs: [PolicySpecModel],
                topLevelKeys: [String] = []) {
        self.kind = kind
        self.apiVersion = apiVersion
        self.name = name
        self.namespace = namespace
        self.specs = specs
        self.topLevelKeys = topLevelKeys
    }

    public var isCilium: Bool { kind != .networkPolicy }
    public var isClusterwide: Bool { kind == .ciliumClusterwideNetworkPolicy }

    /// GitLab's enforcement status: false when the selector's matchLabels carries
    /// `network-policy.gitlab.com/disabled_by` (with several `specs`, when every one does).
    public var enabled: Bool { !(!specs.isEmpty && specs.allSatisfy(\.isDisabledByGitLab)) }

    /// True when the name is one of GitLab's predefined policies.
    public var isPredefined: Bool { PredefinedPolicies.names.contains(name) }

    /// Rules per section, over every spec.
    public var ruleCounts: PolicyRuleCounts {
        var c = PolicyRuleCounts()
        for s in specs {
            c.ingress += s.ingress?.count ?? 0
            c.egress += s.egress?.count ?? 0
            c.ingressDeny += s.ingressDeny?.count ?? 0
            c.egressDeny += s.egressDeny?.count ?? 0
        }
        return c
    }

    /// Whether the policy puts its pods into default-deny for a direction (in that spec):
    /// Kubernetes: the direction is in the (defaulted) policyTypes. Cilium: `enableDefaultDeny` when
    /// written, else whether the spec has allow or deny rules for that direction.
    public func isDefaultDeny(_ spec: PolicySpecModel, _ direction: PolicyDirection) -> Bool {
        if kind == .networkPolicy { return effectivePolicyTypes(spec).contains(direction) }
        let written = direction == .ingress ? spec.enableDefaultDenyIngress : spec.enableDefaultDenyEgress
        return written ?? (!spec.allowRules(direction).isEmpty || !spec.denyRules(direction).isEmpty)
    }

    /// Kubernetes policyTypes after defaulting: as written, else Ingress plus Egress when egress rules exist.
    public func effectivePolicyTypes(_ spec: PolicySpecModel) -> [PolicyDirection] {
        if let written = spec.policyTypes, !written.isEmpty { return written }
        return (spec.egress?.isEmpty ?? true) ? [.ingress] : [.ingress, .egress]
    }
}
