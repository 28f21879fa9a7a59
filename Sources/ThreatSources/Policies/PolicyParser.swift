import Foundation
import ThreatConfig
import ThreatModel
import Yams

/// Turns one composed policy object (a YAML/JSON mapping) into a `NetworkPolicyModel`, collecting
/// every schema problem with its file:line:column instead of stopping at the first.
struct PolicyParser {
    let reader: YAMLReader
    private(set) var problems: [PolicyProblem] = []
    /// Used when a node has no mark (trees built from JSON without line numbers).
    var fallbackLocation: String?

    init(reader: YAMLReader) {
        self.reader = reader
    }

    // MARK: - Problems and generic accessors

    mutating func problem(_ node: Node?, _ message: String) {
        let e = reader.error(node, message)
        problems.append(PolicyProblem(message, location: e.line == nil ? fallbackLocation : e.location))
    }

    static func isNull(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        return s.style == .plain && node.null != nil
    }

    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// The entries of a mapping; null counts as an empty mapping (Kubernetes decodes `null` into a
    /// zero struct). Unknown keys (when `allowed` is given) and repeated keys are problems.
    mutating func mapping(_ node: Node, path: String, allowed: [String]?) -> [Entry]? {
        if PolicyParser.isNull(node) { return [] }
        guard let map = node.mapping else {
            problem(node, "\(path) must be a mapping")
            return nil
        }
        var out: [Entry] = []
        for (k, v) in map {
            guard let key = k.scalar?.string else {
                problem(k, "keys of \(path) must be plain strings")
                continue
            }
            let full = "\(path).\(key)"
            if let allowed, !allowed.contains(key) {
                problem(k, "unknown key '\(full)' (allowed: \(allowed.joined(separator: ", ")))")
                continue
            }
            if out.contains(where: { $0.key == key }) {
                problem(k, "duplicate key '\(full)'")
                continue
            }
            out.append(Entry(key: key, keyNode: k, value: v))
        }
        return out
    }

    /// A list; null = not written (nil).
    mutating func list(_ node: Node, path: String) -> [Node]? {
        if PolicyParser.isNull(node) { return nil }
        guard let seq = node.sequence else {
            problem(node, "\(path) must be a list")
            return nil
        }
        return Array(seq)
    }

    /// A scalar that YAML resolves as a string (numbers and booleans written bare are rejected by
    /// the Kubernetes API for string fields).
    mutating func string(_ node: Node, path: String) -> String? {
        guard let s = node.scalar else {
            problem(node, "\(path) must be a string")
            return nil
        }
        if s.style == .plain, node.int != nil || node.float != nil || node.bool != nil || node.null != nil {
            problem(node, "\(path) must be a string (quote it)")
            return nil
        }
        return s.string
    }

    mutating func stringList(_ node: Node, path: String) -> [String]? {
        stringItems(node, path: path)?.map(\.text)
    }

    /// The strings of a list with their nodes and indexes (for located problems about one entry).
    mutating func stringItems(_ node: Node, path: String) -> [(text: String, node: Node, index: Int)]? {
        guard let items = list(node, path: path) else { return nil }
        var out: [(text: String, node: Node, index: Int)] = []
        for (i, item) in items.enumerated() {
            if let s = string(item, path: "\(path)[\(i)]") { out.append((s, item, i)) }
        }
        return out
    }

    mutating func int(_ node: Node, path: String) -> Int? {
        guard node.scalar != nil, let i = node.int else {
            problem(node, "\(path) must be a whole number")
            return nil
        }
        return i
    }

    mutating func bool(_ node: Node, path: String) -> Bool? {
        guard node.scalar != nil, let b = node.bool else {
            problem(node, "\(path) must be true or false")
            return nil
        }
        return b
    }

    // MARK: - Selectors

    static let expressionOperators = ["In", "NotIn", "Exists", "DoesNotExist"]

    mutating func selector(_ node: Node, path: String) -> LabelSelector {
        var sel = LabelSelector()
        guard let entries = mapping(node, path: path, allowed: ["matchLabels", "matchExpressions"]) else { return sel }
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "matchLabels":
                guard let labels = mapping(e.value, path: p, allowed: nil) else { continue }
                for l in labels {
                    if let v = string(l.value, path: "\(p).\(l.key)") { sel.matchLabels.append(LabelPair(l.key, v)) }
                }
            default:
                guard let exprs = list(e.value, path: p) else { continue }
                for (i, x) in exprs.enumerated() {
                    let xp = "\(p)[\(i)]"
                    guard let fields = mapping(x, path: xp, allowed: ["key", "operator", "values"]) else { continue }
                    var key: String?, op: String?, values: [String] = []
                    for f in fields {
                        switch f.key {
                        case "key": key = string(f.value, path: "\(xp).key")
                        case "operator": op = string(f.value, path: "\(xp).operator")
                        default: values = stringList(f.value, path: "\(xp).values") ?? []
                        }
                    }
                    guard let key else {
                        problem(x, "\(xp).key is missing")
                        continue
                    }
                    guard let op else {
                        problem(x, "\(xp).operator is missing")
                        continue
                    }
                    guard PolicyParser.expressionOperators.contains(op) else {
                        problem(fields.first { $0.key == "operator" }?.value ?? x,
                                "\(xp).operator must be one of \(PolicyParser.expressionOperators.joined(separator: ", ")), not '\(op)'")
                        continue
                    }
                    if (op == "In" || op == "NotIn") && values.isEmpty {
                        problem(x, "\(xp).values must not be empty for operator \(op)")
                    }
                    if (op == "Exists" || op == "DoesNotExist") && !values.isEmpty {
                        problem(x, "\(xp).values must be empty for operator \(op)")
                    }
                    sel.matchExpressions.append(LabelExpression(key: key, operator: op, values: values))
                }
            }
        }
        return sel
    }

    // MARK: - Whole objects

    /// Parses a policy object whose kind is already known. Returns nil only when nothing usable was
    /// found (the problems say why).
    mutating func parse(_ root: Node, kind: PolicyKind, apiVersion: String?) -> NetworkPolicyModel? {
        guard let top = mapping(root, path: "the document", allowed: nil) else { return nil }
        let keys = top.map(\.key)
        let known = ["apiVersion", "kind", "metadata", "spec", "specs", "status", "description"]
        for e in top where !known.contains(e.key) {
            problem(e.keyNode, "unknown key '\(e.key)' (allowed: \(known.joined(separator: ", ")))")
        }
        // metadata
        var name: String?
        var namespace: String?
        if let meta = top.first(where: { $0.key == "metadata" }) {
            if let fields = mapping(meta.value, path: "metadata", allowed: nil) {
                for f in fields {
                    switch f.key {
                    case "name": name = string(f.value, path: "metadata.name")
                    case "namespace": namespace = string(f.value, path: "metadata.namespace")
                    default: break
                    }
                }
                if name == nil, !fields.contains(where: { $0.key == "name" }) {
                    problem(meta.value, "metadata.name is missing")
                } else if name?.isEmpty == true {
                    problem(fields.first { $0.key == "name" }?.value, "metadata.name must not be empty")
                    name = nil
                }
            }
        } else {
            problem(root, "metadata is missing (a policy needs metadata.name)")
        }
        if kind == .ciliumClusterwideNetworkPolicy { namespace = nil }

        var specs: [PolicySpecModel] = []
        let spec = top.first { $0.key == "spec" }
        let specList = top.first { $0.key == "specs" }
        if kind == .networkPolicy, let specList {
            problem(specList.keyNode, "specs is a Cilium field; a NetworkPolicy has a single spec")
        }
        if let spec, !(PolicyParser.isNull(spec.value) && specList != nil) {
            if let s = kind == .networkPolicy ? k8sSpec(spec.value, path: "spec") : ciliumSpec(spec.value, path: "spec", kind: kind) {
                specs.append(s)
            }
        }
        if kind != .networkPolicy, let specList, let items = list(specList.value, path: "specs") {
            for (i, item) in items.enumerated() {
                if let s = ciliumSpec(item, path: "specs[\(i)]", kind: kind) { specs.append(s) }
            }
            if items.isEmpty, spec == nil { problem(specList.value, "specs is empty: the policy has no rules") }
        }
        if spec == nil && specList == nil {
            problem(root, kind == .networkPolicy ? "spec is missing" : "spec (or specs) is missing")
        }
        return NetworkPolicyModel(kind: kind, apiVersion: apiVersion, name: name ?? "", namespace: namespace,
                                  specs: specs, topLevelKeys: keys)
    }

    // MARK: - Kubernetes NetworkPolicy

    mutating func k8sSpec(_ node: Node, path: String) -> PolicySpecModel? {
        guard let entries = mapping(node, path: path, allowed: ["podSelector", "policyTypes", "ingress", "egress"]) else {
            return nil
        }
        var spec = PolicySpecModel(path: path, subject: .pods(LabelSelector()), keys: entries.map(\.key))
        if let ps = entries.first(where: { $0.key == "podSelector" }) {
            spec.subject = .pods(selector(ps.value, path: "\(path).podSelector"))
        } else {
            problem(node, "\(path).podSelector is missing (write podSelector: {} to select every pod)")
        }
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "policyTypes":
                guard let types = stringItems(e.value, path: p) else { continue }
                var out: [PolicyDirection] = []
                for t in types {
                    if let d = PolicyDirection(rawValue: t.text) {
                        out.append(d)
                    } else {
                        problem(t.node, "\(p)[\(t.index)] must be Ingress or Egress, not '\(t.text)'")
                    }
                }
                spec.policyTypes = out
            case "ingress":
                spec.ingress = k8sRules(e.value, path: p, peerKey: "from")
            case "egress":
                spec.egress = k8sRules(e.value, path: p, peerKey: "to")
            default: break
            }
        }
        return spec
    }

    mutating func k8sRules(_ node: Node, path: String, peerKey: String) -> [PolicyRule]? {
        guard let items = list(node, path: path) else { return nil }
        var rules: [PolicyRule] = []
        for (i, item) in items.enumerated() {
            let rp = "\(path)[\(i)]"
            guard let entries = mapping(item, path: rp, allowed: [peerKey, "ports"]) else { continue }
            var rule = PolicyRule(peers: .anywhere, keys: entries.map(\.key), path: rp)
            for e in entries {
                let p = "\(rp).\(e.key)"
                if e.key == "ports" {
                    guard let ports = list(e.value, path: p) else { continue }
                    var out: [PolicyPort] = []
                    for (j, pn) in ports.enumerated() {
                        if let port = k8sPort(pn, path: "\(p)[\(j)]") { out.append(port) }
                    }
                    if !out.isEmpty { rule.ports = [PortRule(ports: out)] }
                } else {
                    guard let peers = list(e.value, path: p), !peers.isEmpty else { continue }
                    var out: [PolicyPeer] = []
                    for (j, pn) in peers.enumerated() {
                        if let peer = k8sPeer(pn, path: "\(p)[\(j)]") { out.append(peer) }
                    }
                    rule.peers = .some(out)
                }
            }
            rules.append(rule)
        }
        return rules
    }

    mutating func k8sPeer(_ node: Node, path: String) -> PolicyPeer? {
        guard let entries = mapping(node, path: path, allowed: ["podSelector", "namespaceSelector", "ipBlock"]) else {
            return nil
        }
        var pod: LabelSelector?, ns: LabelSelector?
        var block: PolicyPeer?
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "podSelector": pod = selector(e.value, path: p)
            case "namespaceSelector": ns = selector(e.value, path: p)
            default:
                guard let fields = mapping(e.value, path: p, allowed: ["cidr", "except"]) else { continue }
                var cidr: String?, except: [String] = []
                for f in fields {
                    if f.key == "cidr" {
                        cidr = string(f.value, path: "\(p).cidr")
                        if let c = cidr, !CIDR.isValid(c, requirePrefix: true) {
                            problem(f.value, "\(p).cidr '\(c)' is not a CIDR (like 10.0.0.0/8)")
                        }
                    } else {
                        let items = stringItems(f.value, path: "\(p).except") ?? []
                        except = items.map(\.text)
                        for x in items where !CIDR.isValid(x.text, requirePrefix: true) {
                            problem(x.node, "\(p).except[\(x.index)] '\(x.text)' is not a CIDR")
                        }
                    }
                }
                if let cidr { block = .cidr(cidr, except: except, source: .ipBlock) } else { problem(e.value, "\(p).cidr is missing") }
            }
        }
        if (node.mapping?.count ?? 0) == 0 {
            problem(node, "\(path) must have podSelector, namespaceSelector or ipBlock")
            return nil
        }
        if let block {
            if pod != nil || ns != nil {
                problem(node, "\(path) may not combine ipBlock with podSelector or namespaceSelector")
            }
            return block
        }
        if pod == nil && ns == nil { return nil }
        return .pods(podSelector: pod, namespaceSelector: ns)
    }

    static let k8sProtocols = ["TCP", "UDP", "SCTP"]

    mutating func k8sPort(_ node: Node, path: String) -> PolicyPort? {
        guard let entries = mapping(node, path: path, allowed: ["port", "protocol", "endPort"]) else { return nil }
        var port: String?, proto = "TCP", endPort: Int?
        var portNode: Node?
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "port":
                portNode = e.value
                if PolicyParser.isNull(e.value) { continue }
                if let n = e.value.int, e.value.scalar?.style == .plain {
                    if !(1...65535).contains(n) { problem(e.value, "\(p) must be between 1 and 65535") }
                    port = String(n)
                } else if let s = e.value.scalar?.string, !s.isEmpty {
                    port = s
                } else {
                    problem(e.value, "\(p) must be a port number or a port name")
                }
            case "protocol":
                if let s = string(e.value, path: p) {
                    if PolicyParser.k8sProtocols.contains(s) {
                        proto = s
                    } else {
                        problem(e.value, "\(p) must be TCP, UDP or SCTP, not '\(s)'")
                    }
                }
            default:
                endPort = int(e.value, path: p)
            }
        }
        if let endPort {
            if let port, let start = Int(port) {
                if endPort < start { problem(node, "\(path).endPort \(endPort) is below port \(start)") }
            } else {
                problem(portNode ?? node, "\(path).endPort needs a numeric port")
            }
        }
        return PolicyPort(port: port, endPort: endPort, protocolName: proto)
    }

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
    static let ciliumProtocols = ["TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "ANY"]

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
                switch e.key {
                case "fromEndpoints", "toEndpoints":
                    guard let sels = list(e.value, path: p), !sels.isEmpty else { continue }
                    hasL3 = true
                    for (j, s) in sels.enumerated() { peers.append(endpointPeer(selector(s, path: "\(p)[\(j)]"))) }
                case "fromRequires", "toRequires":
                    guard let sels = list(e.value, path: p) else { continue }
                    for (j, s) in sels.enumerated() { rule.requires.append(selector(s, path: "\(p)[\(j)]")) }
                case "fromCIDR", "toCIDR":
                    guard let cidrs = stringItems(e.value, path: p), !cidrs.isEmpty else { continue }
                    hasL3 = true
                    for c in cidrs {
                        if !CIDR.isValid(c.text, requirePrefix: false) {
                            problem(c.node, "\(p)[\(c.index)] '\(c.text)' is not a CIDR or an IP address")
                        }
                        peers.append(.cidr(c.text, except: [], source: .cidr))
                    }
                case "fromCIDRSet", "toCIDRSet":
                    guard let sets = list(e.value, path: p), !sets.isEmpty else { continue }
                    hasL3 = true
                    for (j, s) in sets.enumerated() { if let peer = cidrSet(s, path: "\(p)[\(j)]") { peers.append(peer) } }
                case "fromEntities", "toEntities":
                    guard let ents = stringItems(e.value, path: p), !ents.isEmpty else { continue }
                    hasL3 = true
                    for ent in ents {
                        if !PolicyParser.entities.contains(ent.text) {
                            problem(ent.node,
                                    "\(p)[\(ent.index)] '\(ent.text)' is not a Cilium entity (\(PolicyParser.entities.joined(separator: ", ")))")
                        }
                        peers.append(.entity(ent.text))
                    }
                case "toServices":
                    guard let svcs = list(e.value, path: p), !svcs.isEmpty else { continue }
                    hasL3 = true
                    for (j, s) in svcs.enumerated() { if let peer = service(s, path: "\(p)[\(j)]") { peers.append(peer) } }
                case "toFQDNs":
                    guard let fqdns = list(e.value, path: p), !fqdns.isEmpty else { continue }
                    hasL3 = true
                    for (j, f) in fqdns.enumerated() { if let peer = fqdn(f, path: "\(p)[\(j)]") { peers.append(peer) } }
                case "fromNodes", "toNodes":
                    guard let sels = list(e.value, path: p), !sels.isEmpty else { continue }
                    hasL3 = true
                    for (j, s) in sels.enumerated() { peers.append(.nodes(selector(s, path: "\(p)[\(j)]"))) }
                case "fromGroups", "toGroups":
                    guard let groups = list(e.value, path: p), !groups.isEmpty else { continue }
                    hasL3 = true
                    for (j, g) in groups.enumerated() {
                        let providers = mapping(g, path: "\(p)[\(j)]", allowed: nil)?.map(\.key) ?? []
                        peers.append(.groups(providers.isEmpty ? "unknown provider" : providers.joined(separator: ", ")))
                    }
                case "toPorts":
                    guard let entries = list(e.value, path: p) else { continue }
                    for (j, tp) in entries.enumerated() { if let pr = toPorts(tp, path: "\(p)[\(j)]") { rule.ports.append(pr) } }
                case "icmps":
                    guard let entries = list(e.value, path: p) else { continue }
                    for (j, ic) in entries.enumerated() { rule.icmps += icmp(ic, path: "\(p)[\(j)]") }
                case "authentication":
                    guard let fields = mapping(e.value, path: p, allowed: ["mode"]) else { continue }
                    if let m = fields.first(where: { $0.key == "mode" }) { rule.authentication = string(m.value, path: "\(p).mode") }
                default: break
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

/// CIDR syntax checks (IPv4 and IPv6, with or without a prefix length).
enum CIDR {
    static func isValid(_ text: String, requirePrefix: Bool) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return false }
        if parts.count == 1 && requirePrefix { return false }
        let addr = String(parts[0])
        var max = 0
        var buf = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, addr, &buf) == 1 {
            max = 32
        } else if inet_pton(AF_INET6, addr, &buf) == 1 {
            max = 128
        } else {
            return false
        }
        guard parts.count == 2 else { return true }
        guard let n = Int(parts[1]), String(n) == parts[1], (0...max).contains(n) else { return false }
        return true
    }
}
