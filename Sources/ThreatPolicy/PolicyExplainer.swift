import Foundation
import ThreatModel

/// Plain-language sentences about what a network policy does.
///
/// Semantics followed:
/// - Kubernetes: a direction is restricted when it is in `policyTypes` (default: Ingress, plus Egress
///   when egress rules exist). Then only what the rules allow passes; no rules = everything denied.
///   A rule without `from`/`to` matches every peer, without `ports` every port. Selectors inside ONE
///   `from`/`to` element are ANDed; separate elements are ORed.
/// - Cilium: a direction goes into default-deny when the spec has allow or deny rules for it
///   (`enableDefaultDeny` overrides). An empty rule `{}` allows nothing, so `egress: [{}]` denies
///   all egress; an L4-only rule matches every peer. Deny rules win over allow rules.
public enum PolicyExplainer {
    /// The first sentence of a policy that GitLab disabled.
    public static let disabledSentence =
        "Not enforced: the selector carries \(gitlabDisabledByLabel), so it selects no pods."

    public static func explain(_ model: NetworkPolicyModel, namespace: String) -> [String] {
        let ns = model.namespace ?? (namespace.isEmpty ? nil : namespace)
        let ctx = Context(model: model, namespace: ns)
        guard !model.specs.isEmpty else { return ["This policy has no rules."] }
        if model.specs.count == 1 {
            let spec = model.specs[0]
            let sentences = specSentences(spec, ctx)
            guard spec.isDisabledByGitLab else { return sentences }
            return [disabled(spec)] + sentences.map { "When enabled, " + lowerFirst($0) }
        }
        var out: [String] = []
        let allDisabled = model.specs.allSatisfy(\.isDisabledByGitLab)
        if allDisabled { out.append(disabledSentence) }
        out.append("This policy has \(model.specs.count) rule sets, each with its own selector.")
        for spec in model.specs {
            let sentences = specSentences(spec, ctx)
            if spec.isDisabledByGitLab {
                if !allDisabled { out.append("\(spec.path): " + disabled(spec)) }
                out += sentences.map { "\(spec.path), when enabled: " + lowerFirst($0) }
            } else {
                out += sentences.map { "\(spec.path): \($0)" }
            }
        }
        return out
    }

    // MARK: - Sentences

    struct Context {
        var model: NetworkPolicyModel
        var namespace: String?
        var clusterwide: Bool { model.isClusterwide }
        var isK8s: Bool { model.kind == .networkPolicy }
    }

    static func disabled(_ spec: PolicySpecModel) -> String {
        if case .nodes = spec.subject {
            return "Not enforced: the selector carries \(gitlabDisabledByLabel), so it selects no nodes."
        }
        return disabledSentence
    }

    static func specSentences(_ spec: PolicySpecModel, _ ctx: Context) -> [String] {
        var out: [String] = []
        for d in PolicyDirection.allCases { out += direction(d, spec, ctx) }
        for d in PolicyDirection.allCases {
            let reqs = (spec.allowRules(d) + spec.denyRules(d)).flatMap(\.requires)
            guard !reqs.isEmpty else { continue }
            let key = d == .ingress ? "fromRequires" : "toRequires"
            let who = d == .ingress ? "source" : "destination"
            out.append("Every \(who) of \(word(d)) traffic must also match \(join(reqs.map(labels), "and")) (\(key)).")
        }
        return out
    }

    static func word(_ d: PolicyDirection) -> String { d == .ingress ? "inbound" : "outbound" }

    static func direction(_ d: PolicyDirection, _ spec: PolicySpecModel, _ ctx: Context) -> [String] {
        let subj = subject(spec, ctx)
        let w = word(d)
        let W = upperFirst(w)
        let allows = spec.allowRules(d)
        let denies = spec.denyRules(d)
        let enforced = ctx.model.isDefaultDeny(spec, d)
        if ctx.isK8s && !enforced {
            if !allows.isEmpty {
                return ["\(W) traffic is not restricted by this policy: policyTypes does not include \(d.rawValue), so its \(d == .ingress ? "ingress" : "egress") rules are ignored."]
            }
            return ["\(W) traffic is not restricted by this policy."]
        }
        var out: [String] = []
        let effective = allows.filter { $0.peers != .nothing }
        let clauses = effective.map { clause($0, d, ctx) }
        let toThem = d == .ingress ? "to them" : "from them"
        if enforced {
            if effective.isEmpty {
                var sentence = "All \(w) traffic \(d == .ingress ? "to" : "from") \(lowerFirst(subj)) is denied"
                if !ctx.isK8s && !denies.isEmpty && allows.isEmpty {
                    sentence += " (the policy has \(w) deny rules but no allow rules, so Cilium denies everything else too)"
                }
                out.append(sentence + ".")
            } else if effective.contains(where: isAllowAll) {
                out.append(d == .ingress
                    ? "\(subj) accept all inbound traffic, from anywhere and on any port."
                    : "\(subj) may send all outbound traffic, to anywhere and on any port.")
            } else {
                let verb = d == .ingress ? "accept inbound" : "may send outbound"
                out.append("\(subj) \(verb) \(joinClauses(clauses)); all other \(w) traffic \(toThem) is denied.")
            }
        } else {
            let flag = "enableDefaultDeny.\(d == .ingress ? "ingress" : "egress") is false"
            if !effective.isEmpty {
                out.append("\(W) traffic is not restricted by this policy, because \(flag); its allow rules only add to what other policies allow: \(w) \(joinClauses(clauses)).")
            } else if !denies.isEmpty {
                out.append("\(W) traffic is not restricted by this policy apart from its deny rules, because \(flag).")
            } else {
                out.append("\(W) traffic is not restricted by this policy.")
            }
        }
        let denyRules = denies.filter { $0.peers != .nothing }
        if !denyRules.isEmpty {
            let what = denyRules.contains(where: isAllowAll)
                ? "any \(w) traffic"
                : "\(w) " + joinClauses(denyRules.map { clause($0, d, ctx) })
            let verb = d == .ingress ? "never accept" : "may never send"
            out.append("Deny rules win over allow rules: \(lowerFirst(subj)) \(verb) \(what), even if this or another policy allows it.")
        }
        return out
    }

    /// A rule letting every peer through on every port.
    static func isAllowAll(_ r: PolicyRule) -> Bool {
        guard r.allowsAnyPort, r.requires.isEmpty else { return false }
        switch r.peers {
        case .anywhere: return true
        case .nothing: return false
        case let .some(peers): return peers.contains(.entity("all"))
        }
    }

    static func clause(_ r: PolicyRule, _ d: PolicyDirection, _ ctx: Context) -> String {
        "\(portsText(r)) \(d == .ingress ? "from" : "to") \(peersText(r.peers, ctx))"
    }

    static func joinClauses(_ clauses: [String]) -> String {
        switch clauses.count {
        case 0: ""
        case 1: clauses[0]
        default: clauses.dropLast().joined(separator: ", ") + ", and " + clauses[clauses.count - 1]
        }
    }

    /// "A", "A or B", "A, B or C".
    static func join(_ items: [String], _ conj: String) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " \(conj) " + items[items.count - 1]
        }
    }

    // MARK: - Subjects and peers

    static func subject(_ spec: PolicySpecModel, _ ctx: Context) -> String {
        switch spec.subject {
        case let .nodes(sel):
            let s = sel.withoutGitLabDisabledBy
            return s.isEmpty ? "All nodes" : "Nodes with \(labels(s))"
        case let .pods(sel):
            var s = sel.withoutGitLabDisabledBy
            let place: String
            if ctx.clusterwide {
                if let n = s.value(of: PolicyParser.namespaceKey) {
                    s.matchLabels.removeAll { LabelSelector.bareKey($0.key) == PolicyParser.namespaceKey }
                    place = n
                } else {
                    place = "all namespaces"
                }
            } else {
                place = ctx.namespace ?? "the policy's namespace"
            }
            return s.isEmpty ? "All pods in \(place)" : "Pods with \(labels(s)) in \(place)"
        }
    }

    static func peersText(_ peers: PeerSet, _ ctx: Context) -> String {
        switch peers {
        case .anywhere: "anywhere"
        case .nothing: "nowhere"
        case let .some(list): list.isEmpty ? "nowhere" : join(list.map { peerText($0, ctx) }, "or")
        }
    }

    static func peerText(_ peer: PolicyPeer, _ ctx: Context) -> String {
        switch peer {
        case let .endpoints(sel, scope):
            let who = sel.isEmpty ? "all pods" : "pods with \(labels(sel))"
            switch scope {
            case .policyNamespace: return ctx.clusterwide ? "\(who) in all namespaces" : "\(who) in the same namespace"
            case .anyNamespace: return "\(who) in all namespaces"
            case let .named(n): return "\(who) in namespace \(n)"
            case let .labelled(l): return "\(who) in namespaces with \(join(l.map(labelText), "and"))"
            case .selectorDefined: return who
            }
        case let .pods(pod, ns):
            let who = (pod?.isEmpty ?? true) ? "all pods" : "pods with \(labels(pod!))"
            guard let ns else { return "\(who) in the same namespace" }
            if ns.isEmpty { return "\(who) in all namespaces" }
            if ns.matchExpressions.isEmpty, ns.matchLabels.count == 1, ns.matchLabels[0].key == "kubernetes.io/metadata.name" {
                return "\(who) in namespace \(ns.matchLabels[0].value)"
            }
            return "\(who) in namespaces with \(labels(ns))"
        case let .entity(e):
            let gloss = [
                "world": "anything outside the cluster", "all": "anywhere", "cluster": "anything inside the cluster",
                "host": "the local node", "remote-node": "the other nodes", "kube-apiserver": "the Kubernetes API server",
            ][e]
            return gloss.map { "the entity \(e) (\($0))" } ?? "the entity \(e)"
        case let .cidr(c, except, _):
            return except.isEmpty ? "addresses in \(c)" : "addresses in \(c) except \(join(except, "and"))"
        case let .cidrGroup(g):
            return "addresses in CIDR group \(g)"
        case let .fqdn(name, pattern):
            if let name { return "the host \(name)" }
            return "hosts matching \(pattern ?? "*")"
        case let .service(name, ns):
            return ns.map { "the service \(name) in namespace \($0)" } ?? "the service \(name) in the same namespace"
        case let .serviceSelector(sel, ns):
            let who = sel.isEmpty ? "all services" : "services with \(labels(sel))"
            return ns.map { "\(who) in namespace \($0)" } ?? "\(who) in the same namespace"
        case let .nodes(sel):
            return sel.isEmpty ? "all nodes" : "nodes with \(labels(sel))"
        case let .groups(provider):
            return "the \(provider) groups"
        }
    }

    static func labelText(_ l: LabelPair) -> String {
        let key = LabelSelector.bareKey(l.key)
        return l.value.isEmpty ? key : "\(key)=\(l.value)"
    }

    /// `app=web and role=api and tier in (a, b)`.
    public static func labels(_ sel: LabelSelector) -> String {
        var parts = sel.matchLabels.map(labelText)
        for x in sel.matchExpressions {
            let key = LabelSelector.bareKey(x.key)
            switch x.operator {
            case "In": parts.append("\(key) in (\(x.values.joined(separator: ", ")))")
            case "NotIn": parts.append("\(key) not in (\(x.values.joined(separator: ", ")))")
            case "Exists": parts.append("the label \(key)")
            default: parts.append("no label \(key)")
            }
        }
        return parts.isEmpty ? "any labels" : parts.joined(separator: " and ")
    }

    // MARK: - Ports

    static func portsText(_ r: PolicyRule) -> String {
        if r.allowsAnyPort { return "traffic on any port" }
        var items: [String] = []
        for pr in r.ports {
            let ports = pr.ports.isEmpty ? ["traffic on any port"] : pr.ports.map(portText)
            var text = join(ports, "and")
            if let l7 = pr.l7 { text += " " + l7Text(l7) }
            items.append(text)
        }
        for ic in r.icmps {
            items.append("\(ic.family == "IPv6" ? "ICMPv6" : "ICMP") type \(ic.type)")
        }
        return join(items, "and")
    }

    /// `TCP/80`, `TCP/8000-9000`, `TCP port named http`, `all UDP ports`, `port 80 (any protocol)`,
    /// `VRRP traffic` (an IP protocol without ports).
    public static func portText(_ p: PolicyPort) -> String {
        guard let proto = p.protocolName else {
            guard let port = p.port else { return "any port" }
            if let end = p.endPort { return "ports \(port)-\(end) (any protocol)" }
            return Int(port) == nil ? "the port named \(port) (any protocol)" : "port \(port) (any protocol)"
        }
        guard let port = p.port else {
            return PolicyParser.portlessProtocols.contains(proto) ? "\(proto) traffic" : "all \(proto) ports"
        }
        if let end = p.endPort { return "\(proto)/\(port)-\(end)" }
        return Int(port) == nil ? "\(proto) port named \(port)" : "\(proto)/\(port)"
    }

    static func l7Text(_ l7: L7Rules) -> String {
        let shown = l7.rules.prefix(4)
        var list = join(Array(shown), "or")
        if l7.rules.count > shown.count { list += " or \(l7.rules.count - shown.count) more" }
        let what = switch l7.kind {
        case "HTTP": "HTTP requests"
        case "DNS": "DNS lookups of"
        case "Kafka": "Kafka requests"
        default: "\(l7.kind) requests"
        }
        return l7.rules.isEmpty ? "(\(l7.kind) rules, none listed)" : "(only \(what) \(list))"
    }

    // MARK: - Text helpers

    static func lowerFirst(_ s: String) -> String {
        guard let f = s.first else { return s }
        return f.lowercased() + s.dropFirst()
    }

    static func upperFirst(_ s: String) -> String {
        guard let f = s.first else { return s }
        return f.uppercased() + s.dropFirst()
    }
}
