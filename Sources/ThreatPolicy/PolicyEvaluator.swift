import Foundation
import ThreatModel

/// The rule that decided a connection: `namespace/name` of the policy, its kind and the rule's path.
public struct PolicyRuleRef: Sendable, Hashable, CustomStringConvertible {
    public var kind: PolicyKind
    /// `namespace/name`, or `name` for a clusterwide policy.
    public var policy: String
    /// `spec.ingress[0]`, `specs[1].egressDeny[2]`; empty when the whole policy decided (default deny).
    public var rule: String

    public init(kind: PolicyKind, policy: String, rule: String) {
        self.kind = kind
        self.policy = policy
        self.rule = rule
    }

    public var description: String { rule.isEmpty ? "\(kind.rawValue) \(policy)" : "\(kind.rawValue) \(policy) \(rule)" }
}

/// What the policies decide for one connection in one direction.
public struct PolicyDecision: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// No policy selects the endpoint in this direction (or none puts it in default deny):
        /// everything is allowed.
        case notSelected
        /// An allow rule matches.
        case allowedBy(PolicyRuleRef)
        /// A deny rule matches; deny wins over every allow.
        case deniedBy(PolicyRuleRef)
        /// The endpoint is in default deny (these policies select it) and no allow rule matches.
        case defaultDeny([PolicyRuleRef])
        /// A Cilium `fromRequires`/`toRequires` constraint of this policy is not met by the peer.
        case requirementNotMet(PolicyRuleRef)
        /// Policies do not apply: the endpoint is not a pod (world, host, a node), or out of scope.
        case notApplicable
    }

    public var allowed: Bool
    public var reason: Reason
    /// Rule parts the engine cannot decide from what a flow carries (services, cloud groups, node
    /// selectors, unknown named ports): they were taken as not matching.
    public var unresolved: [String]

    public init(allowed: Bool, reason: Reason, unresolved: [String] = []) {
        self.allowed = allowed
        self.reason = reason
        self.unresolved = unresolved
    }

    /// The policy that decided, when one did.
    public var deciding: [PolicyRuleRef] {
        switch reason {
        case let .allowedBy(r), let .deniedBy(r), let .requirementNotMet(r): [r]
        case let .defaultDeny(rs): rs
        case .notSelected, .notApplicable: []
        }
    }

    /// A short phrase: `allowed by CiliumNetworkPolicy shop/web spec.ingress[0]`.
    public var summary: String {
        switch reason {
        case .notSelected: "allowed (no policy selects the endpoint in this direction)"
        case let .allowedBy(r): "allowed by \(r)"
        case let .deniedBy(r): "denied by \(r)"
        case let .defaultDeny(rs): "denied by default (selected by \(rs.map(\.description).joined(separator: ", ")); no rule allows it)"
        case let .requirementNotMet(r): "denied: the peer does not meet the requirement of \(r)"
        case .notApplicable: "not evaluated (not a pod)"
        }
    }
}

/// The decision at both ends of a connection.
public struct ConnectionDecision: Sendable, Equatable {
    /// At the source's egress.
    public var egress: PolicyDecision
    /// At the destination's ingress.
    public var ingress: PolicyDecision
    /// The connection goes through when both ends allow it.
    public var allowed: Bool { egress.allowed && ingress.allowed }
}

/// Decides whether a set of network policies allows a connection, with Cilium and Kubernetes
/// semantics (docs/policies.md, "How simulate decides"):
/// - a policy applies to the pods its selector picks (in its namespace; everywhere for a clusterwide
///   policy); GitLab's disabled_by label in the selector means no pod is picked;
/// - a deny rule that matches wins over every allow;
/// - once a policy puts an endpoint in default deny for a direction (Kubernetes `policyTypes`, after
///   defaulting; Cilium: any rule in that direction unless `enableDefaultDeny` says false), only
///   what some allow rule matches goes through;
/// - peers: endpoint and pod/namespace selectors, entities, CIDRs with `except`, FQDNs (by the names
///   a flow carries); ports with ranges and named ports, protocols.
public struct PolicyEvaluator: Sendable {
    public let policies: [NetworkPolicyModel]
    /// The namespace of policies that name none (kubectl's current namespace when applied).
    public let defaultNamespace: String?

    public init(policies: [NetworkPolicyModel], defaultNamespace: String? = nil) {
        self.policies = policies
        self.defaultNamespace = defaultNamespace
    }

    /// Both ends: the source's egress and the destination's ingress.
    public func evaluate(_ c: PolicyConnection) -> ConnectionDecision {
        ConnectionDecision(egress: verdict(for: c, direction: .egress), ingress: verdict(for: c, direction: .ingress))
    }

    /// The decision at one end: `.ingress` at the destination, `.egress` at the source.
    public func verdict(for c: PolicyConnection, direction d: PolicyDirection) -> PolicyDecision {
        let subject = c.subject(d), peer = c.peer(d)
        guard subject.isPod else { return PolicyDecision(allowed: true, reason: .notApplicable) }
        var unresolved: [String] = []
        var selecting: [(NetworkPolicyModel, PolicySpecModel)] = []
        for p in policies {
            for s in p.specs where selects(p, s, subject) { selecting.append((p, s)) }
        }
        // Deny rules first: a match wins.
        for (p, s) in selecting {
            for r in s.denyRules(d) where ruleMatches(r, p, peer: peer, c, unresolved: &unresolved) {
                return PolicyDecision(allowed: false, reason: .deniedBy(ref(p, r.path)), unresolved: unresolved)
            }
        }
        // Cilium requirements: every one must hold for the peer.
        for (p, s) in selecting where p.isCilium {
            for r in s.allowRules(d) {
                for req in r.requires where !endpointSelectorMatches(req, scope: .anyNamespace, p, peer) {
                    return PolicyDecision(allowed: false, reason: .requirementNotMet(ref(p, r.path)), unresolved: unresolved)
                }
            }
        }
        for (p, s) in selecting {
            for r in s.allowRules(d) where ruleMatches(r, p, peer: peer, c, unresolved: &unresolved) {
                return PolicyDecision(allowed: true, reason: .allowedBy(ref(p, r.path)), unresolved: unresolved)
            }
        }
        var enforcing: [PolicyRuleRef] = []
        for (p, s) in selecting where p.isDefaultDeny(s, d) {
            let r = ref(p, "")
            if !enforcing.contains(r) { enforcing.append(r) }
        }
        if enforcing.isEmpty { return PolicyDecision(allowed: true, reason: .notSelected, unresolved: unresolved) }
        return PolicyDecision(allowed: false, reason: .defaultDeny(enforcing), unresolved: unresolved)
    }

    /// The policies that select an endpoint, with whether each puts it in default deny per direction.
    public func selecting(_ endpoint: PolicyEndpoint) -> [(policy: NetworkPolicyModel, spec: PolicySpecModel)] {
        guard endpoint.isPod else { return [] }
        var out: [(policy: NetworkPolicyModel, spec: PolicySpecModel)] = []
        for p in policies { for s in p.specs where selects(p, s, endpoint) { out.append((p, s)) } }
        return out
    }

    func ref(_ p: NetworkPolicyModel, _ rule: String) -> PolicyRuleRef {
        let ns = p.isClusterwide ? nil : (p.namespace ?? defaultNamespace)
        return PolicyRuleRef(kind: p.kind, policy: ns.map { "\($0)/\(p.name)" } ?? p.name, rule: rule)
    }

    func policyNamespace(_ p: NetworkPolicyModel) -> String? { p.namespace ?? defaultNamespace }

    /// Whether a spec's subject selector picks the endpoint.
    func selects(_ p: NetworkPolicyModel, _ s: PolicySpecModel, _ e: PolicyEndpoint) -> Bool {
        guard case let .pods(sel) = s.subject else { return false }
        if !p.isClusterwide {
            guard let ns = policyNamespace(p), e.namespace == ns else { return false }
        }
        return p.isCilium ? sel.matches(e.ciliumLabels, entities: e.entities) : sel.matches(e.labels)
    }

    func ruleMatches(_ r: PolicyRule, _ p: NetworkPolicyModel, peer: PolicyEndpoint, _ c: PolicyConnection,
                     unresolved: inout [String]) -> Bool {
        let peerOK: Bool
        switch r.peers {
        case .anywhere: peerOK = true
        case .nothing: peerOK = false
        case let .some(peers): peerOK = peers.contains { peerMatches($0, p, peer, path: r.path, unresolved: &unresolved) }
        }
        return peerOK && PortMatch.rule(r, c, unresolved: &unresolved)
    }

    func peerMatches(_ peer: PolicyPeer, _ p: NetworkPolicyModel, _ e: PolicyEndpoint, path: String,
                     unresolved: inout [String]) -> Bool {
        switch peer {
        case let .endpoints(sel, scope):
            return endpointSelectorMatches(sel, scope: scope, p, e)
        case let .pods(podSelector, namespaceSelector):
            guard e.isPod else { return false }
            if let namespaceSelector {
                guard namespaceSelector.matches(e.namespaceLabels) else { return false }
            } else {
                guard let ns = policyNamespace(p), e.namespace == ns else { return false }
            }
            return podSelector?.matches(e.labels) ?? true
        case let .entity(name):
            return PolicyEvaluator.entityMatches(name, e)
        case let .cidr(range, except, source):
            // Cilium's CIDR rules select addresses outside the cluster; a Kubernetes ipBlock is matched
            // against any address (the upstream conformance tests use pod addresses).
            if source != .ipBlock && !e.isWorld { return false }
            guard let ip = e.ip, let addr = IPRange.address(ip), let r = IPRange(range), r.contains(addr) else { return false }
            return !except.contains { IPRange($0)?.contains(addr) ?? false }
        case let .fqdn(name, pattern):
            return e.dnsNames.contains { FQDNMatch.matches(name: name, pattern: pattern, $0) }
        case let .service(name, ns):
            unresolved.append("\(path): toServices \(ns.map { "\($0)/" } ?? "")\(name) (service backends are not in flows)")
            return false
        case .serviceSelector:
            unresolved.append("\(path): toServices selector (service backends are not in flows)")
            return false
        case let .cidrGroup(name):
            unresolved.append("\(path): cidrGroupRef \(name) (CiliumCIDRGroup objects are not read)")
            return false
        case let .groups(provider):
            unresolved.append("\(path): cloud groups (\(provider))")
            return false
        case .nodes:
            unresolved.append("\(path): node selector (node labels are not in flows)")
            return false
        }
    }

    /// A Cilium endpoint selector in a rule: pods of the scope's namespaces whose labels match; a
    /// selector naming `reserved:` labels matches those identities instead.
    func endpointSelectorMatches(_ sel: LabelSelector, scope: NamespaceScope, _ p: NetworkPolicyModel,
                                 _ e: PolicyEndpoint) -> Bool {
        if sel.matchLabels.contains(where: { $0.key.hasPrefix("reserved:") }) {
            return sel.matches(e.ciliumLabels, entities: e.entities)
        }
        guard e.isPod, e.entities.isEmpty else { return false }
        switch scope {
        case .policyNamespace:
            if !p.isClusterwide { guard let ns = policyNamespace(p), e.namespace == ns else { return false } }
        case .anyNamespace, .selectorDefined: break
        case let .named(ns): guard e.namespace == ns else { return false }
        case let .labelled(pairs): guard pairs.allSatisfy({ e.namespaceLabels[$0.key] == $0.value }) else { return false }
        }
        return sel.matches(e.ciliumLabels, entities: e.entities)
    }

    /// Cilium's entities (docs: Policy Language, "Entities Based").
    public static func entityMatches(_ name: String, _ e: PolicyEndpoint) -> Bool {
        switch name {
        case "all": return true
        case "none": return false
        case "world": return e.isWorld
        case "world-ipv4": return e.isWorld && (e.ip.map { !$0.contains(":") } ?? true)
        case "world-ipv6": return e.isWorld && (e.ip.map { $0.contains(":") } ?? true)
        case "cluster": return !e.isWorld
        default: return e.entities.contains(name)
        }
    }
}

/// Cilium `toFQDNs` names: `matchName` exact (case-insensitive, trailing dot ignored); in
/// `matchPattern` a `*` matches DNS characters within one label, and a lone `*` matches every name.
public enum FQDNMatch {
    public static func matches(name: String?, pattern: String?, _ observed: String) -> Bool {
        let seen = normalize(observed)
        if let name, normalize(name) == seen { return true }
        guard let pattern else { return false }
        let pat = normalize(pattern)
        if pat == "*" { return true }
        return glob(Array(pat.utf8), Array(seen.utf8))
    }

    /// Lower case, without trailing dots.
    public static func normalize(_ s: String) -> String {
        var t = s.lowercased()
        while t.hasSuffix(".") { t.removeLast() }
        return t
    }

    static func glob(_ p: [UInt8], _ s: [UInt8]) -> Bool {
        // `*` never crosses a dot. DNS names are at most 253 bytes; longer input never matches
        // (and keeps the recursion shallow).
        guard p.count <= 255, s.count <= 255 else { return false }
        var memo = [[Bool?]](repeating: [Bool?](repeating: nil, count: s.count + 1), count: p.count + 1)
        func go(_ i: Int, _ j: Int) -> Bool {
            if let m = memo[i][j] { return m }
            var r: Bool
            if i == p.count {
                r = j == s.count
            } else if p[i] == UInt8(ascii: "*") {
                r = go(i + 1, j) || (j < s.count && s[j] != UInt8(ascii: ".") && go(i, j + 1))
            } else {
                r = j < s.count && p[i] == s[j] && go(i + 1, j + 1)
            }
            memo[i][j] = r
            return r
        }
        return go(0, 0)
    }
}
