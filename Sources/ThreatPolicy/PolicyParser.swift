import Foundation
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
        if s.style == .plain, !PlainScalar.readsAsText(node) {
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
