import Foundation
import ThreatModel
import Yams

/// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy specs (the `cilium.io/v2` CRD schema).
extension PolicyParser {
    // MARK: - Cilium

    static let ciliumSpecKeys = ["endpointSelector", "nodeSelector", "ingress", "ingressDeny", "egress", "egressDeny",
                                 "labels", "description", "enableDefaultDeny", "log"]
    static let ingressKeys = ["fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet", "fromEntities", "fromGroups",
                              "fromNodes", "toPorts", "icmps", "authentication"]
    static let ingressDenyKeys = ["fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet", "fromEntities",
                                  "fromGroups", "fromNodes", "toPorts", "icmps"]
    static let egressKeys = ["toEndpoints", "toRequires", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs",
                             "toGroups", "toNodes", "toPorts", "icmps", "authentication"]
    static let egressDenyKeys = ["toEndpoints", "toRequires", "toCIDR", "toCIDRSet", "toEntities", "toServices",
                                 "toGroups", "toNodes", "toPorts", "icmps"]
    static let entities = ["all", "world", "cluster", "host", "remote-node", "kube-apiserver", "health", "init",
                           "ingress", "unmanaged", "none", "world-ipv4", "world-ipv6"]
    /// `toPorts[].ports[].protocol` of the CRD (Cilium 1.18/1.19): the L4 protocols, ANY, and the IP
    /// protocols without ports. Case-sensitive, as the CRD enum is.
    static let ciliumProtocols = ["TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "VRRP", "IGMP", "GRE", "IPIP", "ESP", "AH", "ANY"]
    /// IP protocols that carry no transport port (Cilium's `isExtendedIPProtocol`): the port is left
    /// out, or empty or 0.
    static let portlessProtocols: Set<String> = ["VRRP", "IGMP", "GRE", "IPIP", "ESP", "AH"]

    mutating func ciliumSpec(_ node: Node, path: String, kind: PolicyKind) -> PolicySpecModel? {
        guard let entries = mapping(node, path: path, allowed: PolicyParser.ciliumSpecKeys) else { return nil }
        var spec = PolicySpecModel(path: path, subject: .pods(LabelSelector()), keys: entries.map(\.key))
        let es = entries.first { $0.key == "endpointSelector" }
        let ns = entries.first { $0.key == "nodeSelector" }
        switch (es, ns) {
        case let (es?, nil): spec.subject = .pods(selector(es.value, path: "\(path).endpointSelector"))
        case let (nil, ns?):
            spec.subject = .nodes(selector(ns.value, path: "\(path).nodeSelector"))
            if kind == .ciliumNetworkPolicy {
                problem(ns.keyNode, "\(path).nodeSelector is only allowed in a CiliumClusterwideNetworkPolicy")
            }
        case (_?, _?): problem(node, "\(path) may have endpointSelector or nodeSelector, not both")
        case (nil, nil): problem(node, "\(path).endpointSelector is missing (write endpointSelector: {} to select every pod)")
        }
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "ingress": spec.ingress = ciliumRules(e.value, path: p, allowed: PolicyParser.ingressKeys)
            case "ingressDeny": spec.ingressDeny = ciliumRules(e.value, path: p, allowed: PolicyParser.ingressDenyKeys)
            case "egress": spec.egress = ciliumRules(e.value, path: p, allowed: PolicyParser.egressKeys)
            case "egressDeny": spec.egressDeny = ciliumRules(e.value, path: p, allowed: PolicyParser.egressDenyKeys)
            case "description": spec.specDescription = string(e.value, path: p)
            case "log":
                // `log: {value: …}`: a string Hubble copies into the flows' policy_log.
                guard let fields = mapping(e.value, path: p, allowed: ["value"]) else { continue }
                for f in fields { _ = string(f.value, path: "\(p).value") }
            case "enableDefaultDeny":
                guard let fields = mapping(e.value, path: p, allowed: ["ingress", "egress"]) else { continue }
                for f in fields {
                    let b = bool(f.value, path: "\(p).\(f.key)")
                    if f.key == "ingress" { spec.enableDefaultDenyIngress = b } else { spec.enableDefaultDenyEgress = b }
                }
            default: break
            }
        }
        return spec
    }

    /// A Cilium rule list; an empty list counts as not written ("If omitted or empty, this rule does
    /// not apply").
    mutating func ciliumRules(_ node: Node, path: String, allowed: [String]) -> [PolicyRule]? {
        guard let items = list(node, path: path), !items.isEmpty else { return nil }
        var rules: [PolicyRule] = []
        for (i, item) in items.enumerated() {
            let rp = "\(path)[\(i)]"
            guard let entries = mapping(item, path: rp, allowed: allowed) else { continue }
            var rule = PolicyRule(peers: .nothing, keys: entries.map(\.key), path: rp)
            var peers: [PolicyPeer] = []
            var hasL3 = false
            for e in entries {
                let p = "\(rp).\(e.key)"
                if let found = ciliumPeers(e, path: p) {
                    hasL3 = true
                    peers += found
                } else {
                    ciliumRulePart(e, path: p, into: &rule)
                }
            }
            if hasL3 {
                rule.peers = .some(peers)
            } else {
                // No L3 selector: an L4-only rule applies to every peer; a rule with neither selects nothing.
                rule.peers = rule.allowsAnyPort ? .nothing : .anywhere
            }
            rules.append(rule)
        }
        return rules
    }

    /// The peers of an L3 key of a Cilium rule (`fromEndpoints`, `toCIDRSet`, `toFQDNs`, …); nil
    /// when the key is not an L3 key or its list is empty or not written (then it selects nothing).
    mutating func ciliumPeers(_ e: Entry, path p: String) -> [PolicyPeer]? {
        var peers: [PolicyPeer] = []
        switch e.key {
        case "fromEndpoints", "toEndpoints":
            guard let sels = list(e.value, path: p), !sels.isEmpty else { return nil }
            for (j, s) in sels.enumerated() { peers.append(endpointPeer(selector(s, path: "\(p)[\(j)]"))) }
        case "fromCIDR", "toCIDR":
            guard let cidrs = stringItems(e.value, path: p), !cidrs.isEmpty else { return nil }
            for c in cidrs {
                if !CIDR.isValid(c.text, requirePrefix: false) {
                    problem(c.node, "\(p)[\(c.index)] '\(c.text)' is not a CIDR or an IP address")
                }
                peers.append(.cidr(c.text, except: [], source: .cidr))
            }
        case "fromCIDRSet", "toCIDRSet":
            guard let sets = list(e.value, path: p), !sets.isEmpty else { return nil }
            for (j, s) in sets.enumerated() { if let peer = cidrSet(s, path: "\(p)[\(j)]") { peers.append(peer) } }
        case "fromEntities", "toEntities":
            guard let ents = stringItems(e.value, path: p), !ents.isEmpty else { return nil }
            for ent in ents {
                if !PolicyParser.entities.contains(ent.text) {
                    problem(ent.node,
                            "\(p)[\(ent.index)] '\(ent.text)' is not a Cilium entity (\(PolicyParser.entities.joined(separator: ", ")))")
                }
                peers.append(.entity(ent.text))
            }
        case "toServices":
            guard let svcs = list(e.value, path: p), !svcs.isEmpty else { return nil }
            for (j, s) in svcs.enumerated() { if let peer = service(s, path: "\(p)[\(j)]") { peers.append(peer) } }
        case "toFQDNs":
            guard let fqdns = list(e.value, path: p), !fqdns.isEmpty else { return nil }
            for (j, f) in fqdns.enumerated() { if let peer = fqdn(f, path: "\(p)[\(j)]") { peers.append(peer) } }
        case "fromNodes", "toNodes":
            guard let sels = list(e.value, path: p), !sels.isEmpty else { return nil }
            for (j, s) in sels.enumerated() { peers.append(.nodes(selector(s, path: "\(p)[\(j)]"))) }
        case "fromGroups", "toGroups":
            guard let groups = list(e.value, path: p), !groups.isEmpty else { return nil }
            for (j, g) in groups.enumerated() {
                let providers = mapping(g, path: "\(p)[\(j)]", allowed: nil)?.map(\.key) ?? []
                peers.append(.groups(providers.isEmpty ? "unknown provider" : providers.joined(separator: ", ")))
            }
        default:
            return nil
        }
        return peers
    }

    /// The other keys of a Cilium rule: required selectors, ports (L4/L7), ICMP and authentication.
    mutating func ciliumRulePart(_ e: Entry, path p: String, into rule: inout PolicyRule) {
        switch e.key {
        case "fromRequires", "toRequires":
            guard let sels = list(e.value, path: p) else { return }
            for (j, s) in sels.enumerated() { rule.requires.append(selector(s, path: "\(p)[\(j)]")) }
        case "toPorts":
            guard let entries = list(e.value, path: p) else { return }
            for (j, tp) in entries.enumerated() { if let pr = toPorts(tp, path: "\(p)[\(j)]") { rule.ports.append(pr) } }
        case "icmps":
            guard let entries = list(e.value, path: p) else { return }
            for (j, ic) in entries.enumerated() { rule.icmps += icmp(ic, path: "\(p)[\(j)]") }
        case "authentication":
            guard let fields = mapping(e.value, path: p, allowed: ["mode"]) else { return }
            if let m = fields.first(where: { $0.key == "mode" }) { rule.authentication = string(m.value, path: "\(p).mode") }
        default: break
        }
    }

    static let namespaceKey = "io.kubernetes.pod.namespace"
    static let namespaceLabelsPrefix = "io.cilium.k8s.namespace.labels."

    /// Moves the namespace labels of a Cilium endpoint selector into a `NamespaceScope`.
    func endpointPeer(_ sel: LabelSelector) -> PolicyPeer {
        var rest = sel
        var scope: NamespaceScope = .policyNamespace
        var nsLabels: [LabelPair] = []
        rest.matchLabels = []
        for l in sel.matchLabels {
            let key = LabelSelector.bareKey(l.key)
            if key == PolicyParser.namespaceKey {
                scope = .named(l.value)
            } else if key.hasPrefix(PolicyParser.namespaceLabelsPrefix) {
                nsLabels.append(LabelPair(String(key.dropFirst(PolicyParser.namespaceLabelsPrefix.count)), l.value))
            } else {
                rest.matchLabels.append(l)
            }
        }
        if case .policyNamespace = scope, !nsLabels.isEmpty {
            scope = .labelled(nsLabels)
        } else if !nsLabels.isEmpty {
            for l in nsLabels { rest.matchLabels.append(LabelPair(PolicyParser.namespaceLabelsPrefix + l.key, l.value)) }
        }
        if case .policyNamespace = scope,
           sel.matchExpressions.contains(where: { LabelSelector.bareKey($0.key) == PolicyParser.namespaceKey }) {
            scope = .selectorDefined
        }
        return .endpoints(rest, namespace: scope)
    }

    mutating func cidrSet(_ node: Node, path: String) -> PolicyPeer? {
        guard let fields = mapping(node, path: path, allowed: ["cidr", "except", "cidrGroupRef", "cidrGroupSelector"]) else {
            return nil
        }
        var cidr: String?, except: [String] = [], group: String?
        for f in fields {
            let p = "\(path).\(f.key)"
            switch f.key {
            case "cidr":
                cidr = string(f.value, path: p)
                if let c = cidr, !CIDR.isValid(c, requirePrefix: true) { problem(f.value, "\(p) '\(c)' is not a CIDR") }
            case "except":
                let items = stringItems(f.value, path: p) ?? []
                except = items.map(\.text)
                for x in items where !CIDR.isValid(x.text, requirePrefix: true) {
                    problem(x.node, "\(p)[\(x.index)] '\(x.text)' is not a CIDR")
                }
            case "cidrGroupRef": group = string(f.value, path: p)
            default: group = "selected by cidrGroupSelector"
            }
        }
        if let cidr { return .cidr(cidr, except: except, source: .cidrSet) }
        if let group { return .cidrGroup(group) }
        problem(node, "\(path) needs cidr, cidrGroupRef or cidrGroupSelector")
        return nil
    }

    mutating func service(_ node: Node, path: String) -> PolicyPeer? {
        guard let fields = mapping(node, path: path, allowed: ["k8sService", "k8sServiceSelector"]) else { return nil }
        guard let f = fields.first else {
            problem(node, "\(path) needs k8sService or k8sServiceSelector")
            return nil
        }
        let p = "\(path).\(f.key)"
        if f.key == "k8sService" {
            guard let sf = mapping(f.value, path: p, allowed: ["serviceName", "namespace"]) else { return nil }
            var name: String?, ns: String?
            for x in sf {
                if x.key == "serviceName" { name = string(x.value, path: "\(p).serviceName") } else { ns = string(x.value, path: "\(p).namespace") }
            }
            guard let name else {
                problem(f.value, "\(p).serviceName is missing")
                return nil
            }
            return .service(name: name, namespace: ns)
        }
        guard let sf = mapping(f.value, path: p, allowed: ["selector", "namespace"]) else { return nil }
        var sel = LabelSelector(), ns: String?
        for x in sf {
            if x.key == "selector" { sel = selector(x.value, path: "\(p).selector") } else { ns = string(x.value, path: "\(p).namespace") }
        }
        return .serviceSelector(sel, namespace: ns)
    }

    mutating func fqdn(_ node: Node, path: String) -> PolicyPeer? {
        guard let fields = mapping(node, path: path, allowed: ["matchName", "matchPattern"]) else { return nil }
        var name: String?, pattern: String?
        for f in fields {
            if f.key == "matchName" { name = string(f.value, path: "\(path).matchName") } else { pattern = string(f.value, path: "\(path).matchPattern") }
        }
        if name == nil && pattern == nil {
            problem(node, "\(path) needs matchName or matchPattern")
            return nil
        }
        return .fqdn(matchName: name, matchPattern: pattern)
    }

    mutating func toPorts(_ node: Node, path: String) -> PortRule? {
        let allowed = ["ports", "rules", "terminatingTLS", "originatingTLS", "serverNames", "listener"]
        guard let fields = mapping(node, path: path, allowed: allowed) else { return nil }
        var rule = PortRule(ports: [])
        for f in fields {
            let p = "\(path).\(f.key)"
            switch f.key {
            case "ports":
                guard let ports = list(f.value, path: p) else { continue }
                for (i, pn) in ports.enumerated() { if let port = ciliumPort(pn, path: "\(p)[\(i)]") { rule.ports.append(port) } }
            case "rules":
                rule.l7 = l7Rules(f.value, path: p)
            default:
                rule.extras.append(f.key)
            }
        }
        return rule
    }

    mutating func ciliumPort(_ node: Node, path: String) -> PolicyPort? {
        guard let fields = mapping(node, path: path, allowed: ["port", "protocol", "endPort"]) else { return nil }
        var port: String?, proto: String?, endPort: Int?
        for f in fields {
            let p = "\(path).\(f.key)"
            switch f.key {
            case "port":
                // The CRD types port as a string; a bare number is what people write, so both are read.
                guard let s = f.value.scalar?.string, !PolicyParser.isNull(f.value) else {
                    problem(f.value, "\(p) must be a port number or name")
                    continue
                }
                if let n = Int(s) {
                    if !(0...65535).contains(n) { problem(f.value, "\(p) must be between 0 and 65535") }
                    port = n == 0 ? nil : String(n)
                } else {
                    port = s
                }
            case "protocol":
                if let s = string(f.value, path: p) {
                    if !PolicyParser.ciliumProtocols.contains(s) {
                        problem(f.value, "\(p) must be one of \(PolicyParser.ciliumProtocols.joined(separator: ", ")), not '\(s)'")
                    }
                    proto = s == "ANY" ? nil : s
                }
            default:
                endPort = int(f.value, path: p)
            }
        }
        if let proto, PolicyParser.portlessProtocols.contains(proto) {
            // VRRP, IGMP, GRE, IPIP, ESP, AH: an IP protocol, not a port.
            if let port { problem(node, "\(path).port must be empty or 0 for \(proto), which has no ports (not '\(port)')") }
            if endPort != nil { problem(node, "\(path).endPort is not allowed for \(proto), which has no ports") }
            return PolicyPort(port: nil, endPort: nil, protocolName: proto)
        }
        if !fields.contains(where: { $0.key == "port" }) { problem(node, "\(path).port is missing") }
        if let endPort, let port, let start = Int(port), endPort < start {
            problem(node, "\(path).endPort \(endPort) is below port \(start)")
        }
        return PolicyPort(port: port, endPort: endPort, protocolName: proto)
    }

    mutating func icmp(_ node: Node, path: String) -> [ICMPMatch] {
        guard let fields = mapping(node, path: path, allowed: ["fields"]),
              let list = fields.first.flatMap({ self.list($0.value, path: "\(path).fields") }) else { return [] }
        var out: [ICMPMatch] = []
        for (i, item) in list.enumerated() {
            let p = "\(path).fields[\(i)]"
            guard let f = mapping(item, path: p, allowed: ["type", "family"]) else { continue }
            guard let t = f.first(where: { $0.key == "type" })?.value.scalar?.string else {
                problem(item, "\(p).type is missing")
                continue
            }
            out.append(ICMPMatch(type: t, family: f.first { $0.key == "family" }?.value.scalar?.string))
        }
        return out
    }

    mutating func l7Rules(_ node: Node, path: String) -> L7Rules? {
        guard let fields = mapping(node, path: path, allowed: ["http", "kafka", "dns", "l7proto", "l7"]) else { return nil }
        var kind = "L7"
        var rules: [String] = []
        for f in fields {
            let p = "\(path).\(f.key)"
            switch f.key {
            case "http", "kafka", "dns", "l7":
                kind = ["http": "HTTP", "kafka": "Kafka", "dns": "DNS"][f.key] ?? kind
                guard let items = list(f.value, path: p) else { continue }
                for (i, item) in items.enumerated() {
                    let entries = mapping(item, path: "\(p)[\(i)]", allowed: nil) ?? []
                    rules.append(PolicyParser.summarizeL7(f.key, entries))
                }
            default:
                if let s = string(f.value, path: p) { kind = s }
            }
        }
        return L7Rules(kind: kind, rules: rules)
    }

    static func summarizeL7(_ kind: String, _ entries: [Entry]) -> String {
        func v(_ key: String) -> String? { entries.first { $0.key == key }?.value.scalar?.string }
        switch kind {
        case "http":
            var parts = [v("method") ?? "any method", v("path") ?? "any path"]
            if let host = v("host") { parts.append("on host \(host)") }
            if entries.contains(where: { $0.key == "headers" || $0.key == "headerMatches" }) { parts.append("with header checks") }
            return parts.joined(separator: " ")
        case "dns":
            if let n = v("matchName") { return "name \(n)" }
            if let p = v("matchPattern") { return "pattern \(p)" }
            return "any name"
        case "kafka":
            let what = v("role") ?? v("apiKey") ?? "any request"
            return v("topic").map { "\(what) on topic \($0)" } ?? what
        default:
            return entries.map { "\($0.key)=\($0.value.scalar?.string ?? "…")" }.joined(separator: " ")
        }
    }
}
