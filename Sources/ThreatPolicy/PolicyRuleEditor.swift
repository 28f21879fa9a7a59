import Foundation
import ThreatModel
import Yams

/// What `policy edit` changes: peers (and the ports of the rules it adds) in GitLab's rule mode.
public struct RuleModeEdit: Sendable, Equatable {
    /// Peers to allow, each direction one rule per peer type with `ports` (as `policy new` writes them).
    public var add = RuleModePolicy(name: "edit")
    /// Peers to take out of every rule that names them (ports are not read).
    public var remove = RuleModePolicy(name: "edit")
    public init() {}

    public var isEmpty: Bool { !add.hasIngress && !add.hasEgress && !remove.hasIngress && !remove.hasEgress }
}

/// Why `policy edit` refused; nothing was written.
public struct PolicyRuleEditError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The edited manifest and what was done.
public struct PolicyRuleEditResult: Sendable, Equatable {
    public var text: String
    /// One line per change (`spec.ingress: added fromEndpoints app=frontend`), then notes.
    public var notes: [String]
}

/// `threat-report policy edit FILE`: applies rule-mode changes to one CiliumNetworkPolicy in place,
/// as `enable`/`disable` do: rules are added after the last rule of their section, in the
/// section's own indentation, and removed line by line, so comments and layout elsewhere stay as
/// written. A policy that rule mode cannot show (deny rules, L7 rules, CIDR sets, several peer types
/// in one rule, `specs`…) is refused: it has to be edited as YAML. The result is read back and
/// checked against the edit before it is returned.
public enum PolicyRuleEditor {
    public static func apply(_ edit: RuleModeEdit, to text: String, origin: String) throws(PolicyRuleEditError) -> PolicyRuleEditResult {
        guard !edit.isEmpty else { throw PolicyRuleEditError("nothing to change: give at least one --allow-* or --remove-* flag") }
        let loaded = PolicyDocumentLoader.loadDetailed(text: text, origin: origin)
        guard loaded.policies.count == 1, let policy = loaded.policies.first else {
            throw PolicyRuleEditError("\(origin): holds \(loaded.policies.count) policies; edit changes a file with exactly one CiliumNetworkPolicy")
        }
        guard policy.item.valid, let model = policy.model else {
            throw PolicyRuleEditError("\(origin): the policy is not valid (\(policy.item.problems.first?.description ?? "it does not fit the schema")); fix it first, `threat-report policy explain \(origin)` shows where")
        }
        let gaps = model.unsupportedInRuleMode()
        guard model.kind == .ciliumNetworkPolicy, gaps.isEmpty else {
            let shown = gaps.prefix(4).joined(separator: "; ") + (gaps.count > 4 ? "; and \(gaps.count - 4) more" : "")
            throw PolicyRuleEditError("\(origin): \(model.kind.rawValue) \(model.name) uses constructs outside rule mode (\(shown)); switch to YAML mode: edit the file by hand, then check it with `threat-report policy explain \(origin)`")
        }
        guard let chunk = DocumentSplitter.split(text).first(where: { isPolicy($0) }), let root = try? Yams.compose(yaml: chunk.text) else {
            throw PolicyRuleEditError("\(origin): the policy document could not be read again")
        }
        var doc = RuleEditDocument(pos: TextPositions(text), shift: chunk.firstLine - 1, origin: origin)
        var notes: [String] = []
        do {
            guard !DocumentEdit(pos: doc.pos, chunk: chunk, origin: origin, action: .enable).isJSON else { throw RuleEditRefusal("the manifest is JSON") }
            guard let specKey = root.mapping?.first(where: { $0.key.string == "spec" })?.key, let spec = root["spec"], spec.mapping != nil else {
                throw RuleEditRefusal("no spec mapping")
            }
            for direction in [PolicyDirection.ingress, .egress] {
                notes += try doc.edit(direction, spec: spec, specKey: specKey, add: generated(edit.add, direction),
                                      remove: targets(edit.remove, direction))
            }
        } catch let e as RuleEditRefusal {
            throw PolicyRuleEditError("\(origin): \(e.reason); switch to YAML mode: edit the file by hand, then check it with `threat-report policy explain \(origin)`")
        } catch let e as PolicyRuleEditError {
            throw e
        } catch {
            throw PolicyRuleEditError("\(origin): \(error)")
        }
        guard let edited = doc.pos.applying(doc.allEdits) else { throw PolicyRuleEditError("\(origin): the edits overlap; please report this") }
        try verify(edited, edit: edit, origin: origin, name: model.name)
        return PolicyRuleEditResult(text: edited, notes: notes)
    }

    static func isPolicy(_ chunk: DocumentChunk) -> Bool {
        guard let root = try? Yams.compose(yaml: chunk.text) else { return false }
        return root["kind"]?.string == PolicyKind.ciliumNetworkPolicy.rawValue
    }

    /// The rule lines `policy new` writes for the peers of `p` in one direction (dash at column 2).
    static func generated(_ p: RuleModePolicy, _ d: PolicyDirection) -> [String] {
        var only = p
        if d == .ingress { (only.toLabels, only.toEntities, only.toCIDRs, only.toFQDNs) = ([], [], [], []) } else {
            (only.fromLabels, only.fromEntities, only.fromCIDRs) = ([], [], [])
        }
        guard d == .ingress ? only.hasIngress : only.hasEgress else { return [] }
        let lines = only.yaml().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "  \(d == .ingress ? "ingress" : "egress"):") else { return [] }
        return Array(lines[(start + 1)...]).filter { !$0.isEmpty }
    }

    /// What to take out in one direction: (peer key, matcher text) pairs.
    static func targets(_ p: RuleModePolicy, _ d: PolicyDirection) -> [RuleEditTarget] {
        if d == .ingress {
            return p.fromLabels.map { .labels("fromEndpoints", $0) } + p.fromEntities.map { .scalar("fromEntities", $0) }
                + p.fromCIDRs.map { .scalar("fromCIDR", $0) }
        }
        return p.toLabels.map { .labels("toEndpoints", $0) } + p.toEntities.map { .scalar("toEntities", $0) }
            + p.toCIDRs.map { .scalar("toCIDR", $0) } + p.toFQDNs.map { .fqdn($0) }
    }

    /// The result must read back as one valid rule-mode policy with every added line and none of the
    /// removed peers; anything else is a bug, and nothing is written.
    static func verify(_ edited: String, edit: RuleModeEdit, origin: String, name: String) throws(PolicyRuleEditError) {
        let back = PolicyDocumentLoader.loadDetailed(text: edited, origin: origin)
        guard back.policies.count == 1, let model = back.policies[0].model, back.policies[0].item.valid, model.name == name else {
            throw PolicyRuleEditError("\(origin): the edited manifest does not read back as a valid policy (\(back.policies.first?.item.problems.first?.description ?? "no policy")); nothing was written, please report this")
        }
        let lines = Set(model.ruleSummaryLines())
        var expected = RuleModePolicy(name: name)
        expected.fromLabels = edit.add.fromLabels
        expected.fromEntities = edit.add.fromEntities
        expected.fromCIDRs = edit.add.fromCIDRs
        expected.toLabels = edit.add.toLabels
        expected.toEntities = edit.add.toEntities
        expected.toCIDRs = edit.add.toCIDRs
        expected.toFQDNs = edit.add.toFQDNs
        expected.ports = edit.add.ports
        if expected.hasIngress || expected.hasEgress, let added = PolicyDocumentLoader.loadDetailed(text: expected.yaml(), origin: "added").policies.first?.model {
            for line in added.ruleSummaryLines() where !line.hasPrefix("selects ") && !lines.contains(line) {
                throw PolicyRuleEditError("\(origin): the edited manifest lacks '\(line)'; nothing was written, please report this")
            }
        }
        let gone = targets(edit.remove, .ingress).map { ("ingress from ", $0) } + targets(edit.remove, .egress).map { ("egress to ", $0) }
        for (prefix, t) in gone where lines.contains(where: { $0.hasPrefix(prefix + t.summaryPeer + " ") }) {
            throw PolicyRuleEditError("\(origin): the edited manifest still allows \(t.summaryPeer); nothing was written, please report this")
        }
    }
}

/// A peer to remove, as the manifest writes it.
enum RuleEditTarget: Equatable {
    /// A `matchLabels` selector under this key (bare keys compared, no matchExpressions).
    case labels(String, [LabelPair])
    /// A scalar entity or CIDR under this key.
    case scalar(String, String)
    /// A `toFQDNs` entry by `matchName` or `matchPattern`.
    case fqdn(String)

    var key: String {
        switch self {
        case let .labels(k, _), let .scalar(k, _): k
        case .fqdn: "toFQDNs"
        }
    }

    /// The flag-like text naming it in messages.
    var shown: String {
        switch self {
        case let .labels(_, l): l.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        case let .scalar(_, v), let .fqdn(v): v
        }
    }

    /// The peer as the rule summary writes it.
    var summaryPeer: String {
        switch self {
        case let .labels(_, l): l.isEmpty ? "all pods" : l.map { "\(LabelSelector.bareKey($0.key))=\($0.value)" }.joined(separator: ",")
        case let .scalar(k, v): k.hasSuffix("Entities") ? "entity \(v)" : "cidr \(v)"
        case let .fqdn(v): v.contains("*") ? "fqdn pattern \(v)" : "fqdn \(v)"
        }
    }

    func matches(_ node: Node) -> Bool {
        switch self {
        case let .labels(_, labels):
            guard node["matchExpressions"] == nil, let m = node["matchLabels"]?.mapping else { return false }
            let have = Set(m.compactMap { k, v in k.string.flatMap { key in v.string.map { "\(LabelSelector.bareKey(key))=\($0)" } } })
            return m.count == have.count && have == Set(labels.map { "\(LabelSelector.bareKey($0.key))=\($0.value)" })
        case let .scalar(_, v):
            return node.string == v
        case let .fqdn(v):
            return node[v.contains("*") ? "matchPattern" : "matchName"]?.string == v && node.mapping?.count == 1
        }
    }
}
