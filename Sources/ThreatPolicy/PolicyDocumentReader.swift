import Foundation
import ThreatModel
import Yams

// MARK: - One document

/// Reads one document of a stream: its policies (parsed, or invalid with located problems) and
/// notes about what was skipped.
struct DocumentLoader {
    let origin: String
    let chunk: DocumentChunk
    let lineOffset: Int
    let namespace: String?
    var policies: [LoadedPolicy] = []
    var notes: [String] = []

    init(origin: String, chunk: DocumentChunk, lineOffset: Int, namespace: String?) {
        self.origin = origin
        self.chunk = chunk
        self.lineOffset = lineOffset
        self.namespace = namespace
    }

    /// Added to a Yams line (1-based within the chunk) to get the line in the file.
    var shift: Int { chunk.firstLine - 1 + lineOffset }
    var reader: YAMLReader { YAMLReader(file: origin, lineOffset: shift) }

    func fileLine(_ node: Node?) -> Int {
        node?.mark.map { $0.line + shift } ?? (chunk.contentLine ?? chunk.firstLine) + lineOffset
    }

    /// JSON (a Kubernetes API answer) rather than hand-written YAML.
    var isJSON: Bool {
        guard let first = chunk.lines.first(where: DocumentSplitter.isContent) else { return false }
        let t = first.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix("{") || t.hasPrefix("[")
    }

    mutating func run() {
        let root: Node?
        do throws(LocatedError) {
            // Past a limit (size, depth, alias expansion) the document is not parsed at all.
            try YAMLLimits.check(chunk.text, reader: reader)
        } catch {
            unparsed(error)
            return
        }
        do {
            root = try Yams.compose(yaml: chunk.text)
        } catch {
            // libyaml refuses some valid JSON (surrogate-pair escapes like \ud83d\ude00): read those
            // with the JSON parser, without line numbers inside the document.
            if isJSON, let value = try? JSONValue.parse(chunk.text) {
                handle(Self.node(value), manifest: nil, inheritedKind: nil, inheritedAPIVersion: nil, depth: 0)
            } else {
                unparsed(error)
            }
            return
        }
        guard let root else { return }
        handle(root, manifest: isJSON ? nil : chunk.manifest, inheritedKind: nil, inheritedAPIVersion: nil, depth: 0)
    }

    // MARK: Broken documents

    mutating func unparsed(_ error: Error) {
        let line = (chunk.contentLine ?? chunk.firstLine) + lineOffset
        let problem: PolicyProblem
        if let y = error as? YamlError, case let .reader(p, _, _, _) = y {
            problem = PolicyProblem("YAML cannot be read: \(p)", location: "\(origin):\(line):1")
        } else if let y = error as? YamlError, case let .duplicatedKeysInMapping(keys, context) = y {
            let list = keys.map { "'\($0)'" }.joined(separator: ", ")
            problem = PolicyProblem("duplicate key\(keys.count == 1 ? "" : "s") \(list) in one mapping",
                                    location: "\(origin):\(context.mark.line + shift):\(context.mark.column)")
        } else {
            let e = reader.error(from: error)
            problem = PolicyProblem(e.message, location: e.line == nil ? "\(origin):\(line):1" : e.location)
        }
        let text = chunk.manifest
        let kindText = Self.scanKind(chunk.lines) ?? "?"
        if kindText != "?", PolicyKind(rawValue: kindText) == nil, !kindText.hasSuffix("List"), Self.nearPolicyKind(kindText) == nil {
            notes.append("\(origin):\(line): skipped a broken document of kind \(kindText) (\(problem))")
            return
        }
        let name = Self.scanName(chunk.lines) ?? "(unparsed document at \(origin):\(line))"
        let item = PolicyItem(kind: PolicyKind(rawValue: kindText), kindText: kindText, name: name, namespace: nil,
                              enabled: !text.contains(gitlabDisabledByLabel), predefined: PredefinedPolicies.isPredefined(name),
                              valid: false, problems: [problem],
                              description: [PolicyDocumentLoader.unparsedSentence],
                              manifest: text, origin: "\(origin):\(line)")
        policies.append(LoadedPolicy(item: item, model: nil))
    }

    static func unquote(_ s: Substring) -> String {
        var v = s.trimmingCharacters(in: .whitespaces)
        if let hash = v.range(of: " #") { v = String(v[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
        if v.count >= 2, let f = v.first, let l = v.last, (f == "\"" && l == "\"") || (f == "'" && l == "'") {
            v = String(v.dropFirst().dropLast())
        }
        return v
    }

    /// `kind: X` at column 1, or `"kind": "X"` anywhere (JSON).
    static func scanKind(_ lines: [Substring]) -> String? {
        for line in lines where line.hasPrefix("kind:") {
            let v = unquote(line.dropFirst(5))
            if !v.isEmpty { return v }
        }
        for line in lines {
            if let r = line.range(of: "\"kind\"") {
                let after = line[r.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
                if after.first == "\"", let end = after.dropFirst().firstIndex(of: "\"") {
                    return String(after[after.index(after: after.startIndex)..<end])
                }
            }
        }
        return nil
    }

    /// The first `name:` directly under a column-1 `metadata:`.
    static func scanName(_ lines: [Substring]) -> String? {
        guard let m = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "metadata:" && $0.hasPrefix("m") }) else {
            return nil
        }
        var childIndent: Int?
        for line in lines[(m + 1)...] {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let indent = line.prefix { $0 == " " }.count
            if indent == 0 { break }
            if childIndent == nil { childIndent = indent }
            guard indent == childIndent, t.hasPrefix("name:") else { continue }
            let v = unquote(Substring(t).dropFirst(5))
            return v.isEmpty ? nil : v
        }
        return nil
    }

    // MARK: Parsed documents

    mutating func note(_ node: Node?, _ text: String) {
        notes.append("\(origin):\(fileLine(node)): \(text)")
    }

    mutating func handle(_ node: Node, manifest: String?, inheritedKind: String?, inheritedAPIVersion: String?, depth: Int) {
        guard node.mapping != nil else {
            note(node, "skipped a document that is not a mapping")
            return
        }
        let kindNode = node["kind"]
        let kind = kindNode?.scalar?.string ?? inheritedKind
        let apiVersion = node["apiVersion"]?.scalar?.string ?? inheritedAPIVersion
        guard let kind, !kind.isEmpty else {
            if Self.looksLikePolicy(node) {
                addPolicy(node, kind: nil, kindText: "?", kindNode: nil, apiVersion: apiVersion, manifest: manifest,
                          kindProblem: "kind is missing (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy)")
            } else {
                note(node, "skipped a document without kind")
            }
            return
        }
        if kind == "List" || (kind.hasSuffix("List") && kind.count > 4) {
            guard depth < 4 else {
                note(node, "skipped \(kind) nested too deep")
                return
            }
            guard let items = node["items"], let seq = items.sequence else {
                if let items = node["items"], PolicyParser.isNull(items) { return }
                note(node, "skipped \(kind) without an items list")
                return
            }
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            let listVersion = kind == "List" ? nil : apiVersion
            for item in seq {
                handle(item, manifest: nil, inheritedKind: itemKind, inheritedAPIVersion: listVersion, depth: depth + 1)
            }
            return
        }
        guard let policyKind = PolicyKind(rawValue: kind) else {
            if let near = Self.nearPolicyKind(kind) {
                addPolicy(node, kind: nil, kindText: kind, kindNode: kindNode, apiVersion: apiVersion, manifest: manifest,
                          kindProblem: "kind '\(kind)' is not a network-policy kind; did you mean \(near.rawValue)?")
            } else {
                note(node, "skipped kind \(kind) (not a network policy)")
            }
            return
        }
        if let apiVersion, !Self.apiVersionFits(policyKind, apiVersion) {
            note(node, "skipped \(kind) of apiVersion \(apiVersion) (not \(policyKind == .networkPolicy ? "networking.k8s.io" : "cilium.io"))")
            return
        }
        addPolicy(node, kind: policyKind, kindText: kind, kindNode: kindNode, apiVersion: apiVersion, manifest: manifest,
                  addTypeHeader: depth > 0)
    }

    /// A policy kind within two edits of `kind` (case ignored): a typo rather than another kind.
    static func nearPolicyKind(_ kind: String) -> PolicyKind? {
        let k = Array(kind.lowercased())
        return PolicyKind.allCases.first { editDistance(Array($0.rawValue.lowercased()), k) <= 2 }
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if abs(a.count - b.count) > 2 { return 3 }
        var prev = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var cur = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                cur[j + 1] = min(prev[j + 1] + 1, cur[j] + 1, prev[j] + (ca == cb ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }

    static func apiVersionFits(_ kind: PolicyKind, _ apiVersion: String) -> Bool {
        switch kind {
        case .networkPolicy: ["networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"].contains(apiVersion)
        default: apiVersion.hasPrefix("cilium.io/")
        }
    }

    static func looksLikePolicy(_ node: Node) -> Bool {
        guard let spec = node["spec"], spec.mapping != nil else { return node["specs"]?.sequence != nil }
        return ["endpointSelector", "nodeSelector", "podSelector"].contains { spec[$0] != nil }
    }

    mutating func addPolicy(_ node: Node, kind: PolicyKind?, kindText: String, kindNode: Node?, apiVersion: String?,
                            manifest: String?, kindProblem: String? = nil, addTypeHeader: Bool = false) {
        var parser = PolicyParser(reader: reader)
        parser.fallbackLocation = "\(origin):\(fileLine(node)):1"
        var model: NetworkPolicyModel?
        if let kind {
            model = parser.parse(node, kind: kind, apiVersion: apiVersion)
        } else {
            parser.problem(kindNode ?? node, kindProblem ?? "kind is missing")
        }
        let line = fileLine(node)
        let text = manifest ?? Self.yamlManifest(node, kind: addTypeHeader ? kind : nil, apiVersion: addTypeHeader ? apiVersion : nil)
        let problems = parser.problems
        let name = model.flatMap { $0.name.isEmpty ? nil : $0.name }
            ?? node["metadata"]?["name"]?.scalar?.string
            ?? "(unnamed policy at \(origin):\(line))"
        var item = PolicyItem(kind: kind, kindText: kindText, name: name,
                              namespace: model?.namespace, enabled: model?.enabled ?? !text.contains(gitlabDisabledByLabel),
                              predefined: PredefinedPolicies.isPredefined(name), valid: problems.isEmpty && model != nil,
                              problems: problems, rules: model?.ruleCounts ?? PolicyRuleCounts(), manifest: text,
                              origin: "\(origin):\(line)")
        if item.valid, let model {
            item.description = PolicyExplainer.explain(model, namespace: namespace ?? "")
            item.ruleModeUnsupported = model.unsupportedInRuleMode()
            item.addTraits(from: model)
        } else {
            let n = problems.count
            item.description = ["Not described: the manifest has \(n) problem\(n == 1 ? "" : "s")."]
        }
        policies.append(LoadedPolicy(item: item, model: item.valid ? model : nil))
    }

    static func node(_ v: JSONValue) -> Node {
        switch v {
        case .null: Node("null")
        case let .bool(b): Node(b ? "true" : "false")
        case let .number(d): Node(JSONValue.formatNumber(d))
        case let .string(s): Node(s, Tag(.str), .doubleQuoted)
        case let .array(a): .sequence(Node.Sequence(a.map(node)))
        case let .object(o): .mapping(Node.Mapping(o.map { (Node($0.0, Tag(.str), .doubleQuoted), node($0.1)) }))
        }
    }

    // MARK: Manifests of API answers

    /// Block-style YAML of one object (JSON answers and List items), without server bookkeeping
    /// (`metadata.managedFields`, the last-applied-configuration annotation).
    static func yamlManifest(_ node: Node, kind: PolicyKind?, apiVersion: String?) -> String {
        var n = blockStyle(node)
        if case var .mapping(m) = n {
            var pairs = Array(m)
            if let meta = pairs.firstIndex(where: { $0.key.scalar?.string == "metadata" }), case var .mapping(md) = pairs[meta].value {
                var mdPairs = Array(md).filter { $0.key.scalar?.string != "managedFields" }
                if let ann = mdPairs.firstIndex(where: { $0.key.scalar?.string == "annotations" }), case let .mapping(a) = mdPairs[ann].value {
                    let kept = Array(a).filter { $0.key.scalar?.string != "kubectl.kubernetes.io/last-applied-configuration" }
                    if kept.isEmpty { mdPairs.remove(at: ann) } else { mdPairs[ann].value = .mapping(Node.Mapping(kept, a.tag, .block)) }
                }
                md = Node.Mapping(mdPairs, md.tag, .block)
                pairs[meta].value = .mapping(md)
            }
            var header: [(Node, Node)] = []
            if let apiVersion, !pairs.contains(where: { $0.key.scalar?.string == "apiVersion" }) {
                header.append((Node("apiVersion"), Node(apiVersion)))
            }
            if let kind, !pairs.contains(where: { $0.key.scalar?.string == "kind" }) {
                header.append((Node("kind"), Node(kind.rawValue)))
            }
            m = Node.Mapping(header + pairs.map { ($0.key, $0.value) }, m.tag, .block)
            n = .mapping(m)
        }
        let yaml = (try? Yams.serialize(node: n, width: -1, allowUnicode: true)) ?? ""
        return yaml.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The same tree with block collections and plain scalars wherever plain keeps the type.
    static func blockStyle(_ node: Node) -> Node {
        switch node {
        case let .mapping(m):
            return .mapping(Node.Mapping(m.map { (blockStyle($0.key), blockStyle($0.value)) }, m.tag, .block))
        case let .sequence(s):
            return .sequence(Node.Sequence(s.map(blockStyle), s.tag, .block))
        case var .scalar(s):
            let isString = s.tag.rawValue == Tag.Name.str.rawValue
            if isString {
                let staysString = PlainScalar.readsAsText(s.string, timestamp: true)
                s.style = staysString && !s.string.isEmpty && !s.string.contains("\n") ? .any : .singleQuoted
                if s.string.contains("\n") { s.style = .literal }
            } else {
                s.style = .any
            }
            return .scalar(s)
        default:
            return node
        }
    }
}
