import Foundation
import ThreatModel
import Yams

// The enable/disable operation on a composed YAML tree. It is the fallback when a document cannot
// be edited in place (anchors, tags, block scalars), and, with `canonical`, the yardstick the
// in-place edits are checked against: two documents mean the same when their canonical trees match.

/// What `policy enable` / `policy disable` do to a policy.
public enum PolicyEnforcementAction: String, Sendable, CaseIterable {
    /// Remove GitLab's disabled_by label from the selectors' matchLabels.
    case enable
    /// Add `network-policy.gitlab.com/disabled_by: gitlab` to the selectors' matchLabels.
    case disable
}

/// A policy object found in a document.
struct PolicyNodeRef {
    var node: Node
    var kind: PolicyKind
    var name: String?
}

enum PolicyNodeEdits {
    static let labelValue = "gitlab"

    /// The policy objects of a document (a policy, a `kind: List` or an `XxxList`), in order.
    static func policies(in node: Node, inheritedKind: String? = nil, depth: Int = 0) -> [PolicyNodeRef] {
        guard node.mapping != nil else { return [] }
        let kind = node["kind"]?.scalar?.string ?? inheritedKind
        guard let kind else { return [] }
        if kind == "List" || (kind.hasSuffix("List") && kind.count > 4) {
            guard depth < 4, let items = node["items"]?.sequence else { return [] }
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            return items.flatMap { policies(in: $0, inheritedKind: itemKind, depth: depth + 1) }
        }
        guard let k = PolicyKind(rawValue: kind) else { return [] }
        return [PolicyNodeRef(node: node, kind: k, name: node["metadata"]?["name"]?.scalar?.string)]
    }

    /// The selector keys of a spec: `podSelector` (NetworkPolicy), `endpointSelector` or
    /// `nodeSelector` (Cilium).
    static func selectorKeys(_ kind: PolicyKind) -> [String] {
        kind == .networkPolicy ? ["podSelector"] : ["endpointSelector", "nodeSelector"]
    }

    /// The spec mappings of a policy: `spec`, then every `specs[i]` (Cilium).
    static func specs(of policy: Node, kind: PolicyKind) -> [Node] {
        var out: [Node] = []
        if let spec = policy["spec"], spec.mapping != nil { out.append(spec) }
        if kind != .networkPolicy, let list = policy["specs"]?.sequence {
            out += list.filter { $0.mapping != nil }
        }
        return out
    }

    /// The selectors of a policy (nil value = written without a value).
    static func selectors(of policy: Node, kind: PolicyKind) -> [Node] {
        specs(of: policy, kind: kind).flatMap { spec in selectorKeys(kind).compactMap { spec[$0] } }
    }

    static func isLabelKey(_ key: Node) -> Bool {
        key.scalar.map { LabelSelector.bareKey($0.string) == gitlabDisabledByLabel } ?? false
    }

    /// Whether a selector's matchLabels carries the label.
    static func carriesLabel(_ selector: Node) -> Bool {
        guard let ml = selector["matchLabels"]?.mapping else { return false }
        return ml.contains { isLabelKey($0.key) }
    }

    /// GitLab's reading: disabled when every selector carries the label (and there is one).
    static func isDisabled(_ policy: PolicyNodeRef) -> Bool {
        let sels = selectors(of: policy.node, kind: policy.kind)
        return !sels.isEmpty && sels.allSatisfy(carriesLabel)
    }

    // MARK: - Editing the tree

    /// The tree with the action applied to the policies named in `names` (all when nil). With
    /// `canonical`, also: empty or null matchLabels removed, a null selector written `{}`, so two
    /// spellings of the same selector compare equal.
    static func edited(_ node: Node, _ action: PolicyEnforcementAction, names: Set<String>?, canonical: Bool,
                       inheritedKind: String? = nil, depth: Int = 0) -> Node {
        guard case let .mapping(map) = node else { return node }
        let kind = node["kind"]?.scalar?.string ?? inheritedKind
        guard let kind else { return node }
        if kind == "List" || (kind.hasSuffix("List") && kind.count > 4) {
            guard depth < 4 else { return node }
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            return mapValues(map) { key, value in
                guard key == "items", case let .sequence(seq) = value else { return value }
                let items = seq.map { edited($0, action, names: names, canonical: canonical, inheritedKind: itemKind, depth: depth + 1) }
                return .sequence(Node.Sequence(items, seq.tag, seq.style, seq.mark))
            }
        }
        guard let k = PolicyKind(rawValue: kind) else { return node }
        if let names, !names.contains(node["metadata"]?["name"]?.scalar?.string ?? "") { return node }
        return mapValues(map) { key, value in
            switch (key, value) {
            case ("spec", .mapping):
                return editedSpec(value, k, action, canonical: canonical)
            case let ("specs", .sequence(seq)) where k != .networkPolicy:
                let items = seq.map { $0.mapping != nil ? editedSpec($0, k, action, canonical: canonical) : $0 }
                return .sequence(Node.Sequence(items, seq.tag, seq.style, seq.mark))
            default:
                return value
            }
        }
    }

    static func editedSpec(_ spec: Node, _ kind: PolicyKind, _ action: PolicyEnforcementAction, canonical: Bool) -> Node {
        guard case let .mapping(map) = spec else { return spec }
        let keys = selectorKeys(kind)
        return mapValues(map) { key, value in
            keys.contains(key) ? editedSelector(value, action, canonical: canonical) : value
        }
    }

    static func editedSelector(_ selector: Node, _ action: PolicyEnforcementAction, canonical: Bool) -> Node {
        var pairs: [(Node, Node)]
        var tag = Tag(.map), style = Node.Mapping.Style.any
        var mark: Mark?
        switch selector {
        case let .mapping(m):
            pairs = m.map { ($0.key, $0.value) }
            tag = m.tag
            style = m.style
            mark = m.mark
        case let .scalar(s) where s.style == .plain && selector.null != nil:
            pairs = []
        default:
            return selector
        }
        let label = (Node(gitlabDisabledByLabel), Node(labelValue))
        let mlIndex = pairs.firstIndex { $0.0.scalar?.string == "matchLabels" }
        switch action {
        case .disable:
            if let i = mlIndex, case let .mapping(ml) = pairs[i].1 {
                if !ml.contains(where: { isLabelKey($0.key) }) {
                    pairs[i].1 = .mapping(Node.Mapping(ml.map { ($0.key, $0.value) } + [label], ml.tag, ml.style, ml.mark))
                }
            } else if let i = mlIndex {
                pairs[i].1 = .mapping(Node.Mapping([label]))
            } else {
                pairs.append((Node("matchLabels"), .mapping(Node.Mapping([label]))))
            }
        case .enable:
            if let i = mlIndex, case let .mapping(ml) = pairs[i].1 {
                let kept = ml.filter { !isLabelKey($0.key) }.map { ($0.key, $0.value) }
                if kept.isEmpty && (kept.count != ml.count || canonical) {
                    pairs.remove(at: i)
                } else {
                    pairs[i].1 = .mapping(Node.Mapping(kept, ml.tag, ml.style, ml.mark))
                }
            } else if let i = mlIndex, canonical, pairs[i].1.null != nil {
                pairs.remove(at: i)
            }
        }
        if pairs.isEmpty && !canonical, case .scalar = selector, action == .enable { return selector }
        return .mapping(Node.Mapping(pairs, tag, style, mark))
    }

    static func mapValues(_ map: Node.Mapping, _ f: (String, Node) -> Node) -> Node {
        let pairs = map.map { ($0.key, f($0.key.scalar?.string ?? "", $0.value)) }
        return .mapping(Node.Mapping(pairs, map.tag, map.style, map.mark))
    }

    // MARK: - Comparing

    /// A document as a JSON tree with every policy's selectors made canonical and the label removed:
    /// two documents mean the same, GitLab's label aside, when these are equal. Keys are sorted.
    static func canonicalJSON(_ node: Node) -> JSONValue {
        json(edited(node, .enable, names: nil, canonical: true))
    }

    static func json(_ node: Node) -> JSONValue {
        switch node {
        case let .scalar(s):
            if s.style == .plain {
                if node.null != nil { return .null }
                if let b = node.bool { return .bool(b) }
                if let i = node.int { return .number(Double(i)) }
                if let d = node.float { return .number(d) }
            }
            return .string(s.string)
        case let .mapping(m):
            let pairs = m.map { ($0.key.scalar?.string ?? "\(json($0.key))", json($0.value)) }
            return .object(pairs.sorted { $0.0 < $1.0 })
        case let .sequence(s):
            return .array(s.map(json))
        case .alias:
            return .null
        }
    }
}
