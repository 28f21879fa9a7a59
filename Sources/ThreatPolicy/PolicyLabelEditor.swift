import Foundation
import ThreatModel
import Yams

/// One policy that `policy enable` / `policy disable` met.
public struct PolicyLabelChange: Sendable, Equatable {
    public var name: String
    public var kind: PolicyKind
    /// `origin:line` of the policy object.
    public var location: String
    /// False when the policy already was in the state asked for (the text is left as it was).
    public var changed: Bool
}

/// The edited stream and what happened to each policy.
public struct PolicyLabelResult: Sendable {
    /// The whole stream: every document, edited or not, in order.
    public var text: String
    public var changes: [PolicyLabelChange]
    /// Documents that could not be edited in place and were written anew by Yams (their comments
    /// and layout are lost), one sentence each.
    public var notes: [String]
}

/// Why a stream could not be edited; the description names origin:line:column where it can.
public enum PolicyLabelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A policy document does not parse.
    case unreadable(String)
    /// The stream holds no network policy.
    case noPolicies(origin: String)
    /// `--name` asked for policies the stream does not have.
    case unknownNames([String], origin: String, known: [String])
    /// A policy has nothing to put the label on (no spec, no selector), or editing failed.
    case cannotEdit(String)

    public var description: String {
        switch self {
        case let .unreadable(m): m
        case let .noPolicies(origin): "\(origin): no network policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy) in it"
        case let .unknownNames(names, origin, known):
            "\(origin): no policy named \(names.map { "'\($0)'" }.joined(separator: ", ")) (it has: \(known.joined(separator: ", ")))"
        case let .cannotEdit(m): m
        }
    }
}

/// Adds or removes GitLab's `network-policy.gitlab.com/disabled_by: gitlab` label in a manifest
/// stream, and leaves everything else as written.
///
/// The label goes into the selector's matchLabels (`podSelector` for NetworkPolicy,
/// `endpointSelector` — or `nodeSelector` for host policies — for Cilium, in `spec` and every
/// `specs[i]`). The edit is made in the text, at the places Yams marks, so comments, quoting and
/// layout stay. Disabling creates matchLabels when the selector has none; enabling removes a
/// matchLabels that the removal left empty (disabling created it, or GitLab did), and writes a
/// selector left without keys as `{}`. Every edited document is parsed again and compared with the
/// original (canonical trees, label aside); a document that cannot be edited in place (anchors,
/// tags) is written anew by Yams instead, and a note says so.
public enum PolicyLabelEditor {
    public static func apply(_ action: PolicyEnforcementAction, to text: String, origin: String,
                             names: [String] = []) throws(PolicyLabelError) -> PolicyLabelResult {
        let loaded = PolicyDocumentLoader.loadDetailed(text: text, origin: origin)
        if let broken = loaded.items.first(where: { $0.description == [PolicyDocumentLoader.unparsedSentence] }) {
            throw .unreadable(broken.problems.first?.description ?? "\(broken.origin): the document is not valid YAML")
        }
        guard !loaded.items.isEmpty else { throw .noPolicies(origin: origin) }
        let filter: Set<String>? = names.isEmpty ? nil : Set(names)
        let unknown = names.filter { n in !loaded.items.contains { $0.name == n } }
        guard unknown.isEmpty else {
            throw .unknownNames(unknown, origin: origin, known: loaded.items.map(\.name))
        }
        let pos = TextPositions(text)
        var edits: [TextEdit] = []
        var changes: [PolicyLabelChange] = []
        var notes: [String] = []
        for chunk in DocumentSplitter.split(text) {
            guard (try? YAMLLimits.check(chunk.text, reader: YAMLReader(file: origin))) != nil,
                  let root = try? Yams.compose(yaml: chunk.text) else { continue }
            var doc = DocumentEdit(pos: pos, chunk: chunk, origin: origin, action: action)
            let refs = PolicyNodeEdits.policies(in: root).filter { filter?.contains($0.name ?? "") ?? true }
            guard !refs.isEmpty else { continue }
            var inPlace = true
            for ref in refs {
                let location = "\(origin):\((ref.node.mark?.line ?? 1) + doc.shift)"
                let name = ref.name ?? "(unnamed)"
                let sels = try selectors(of: ref, name: name, location: location)
                let labelled = sels.map { PolicyNodeEdits.carriesLabel($0.value) }
                let willChange = action == .disable ? labelled.contains(false) : labelled.contains(true)
                changes.append(PolicyLabelChange(name: name, kind: ref.kind, location: location, changed: willChange))
                for (key, value) in sels where inPlace {
                    do {
                        try doc.edit(selectorKey: key, value: value)
                    } catch {
                        inPlace = false
                    }
                }
            }
            let span = doc.span
            let local = TextPositions(pos.text(span))
            if inPlace, let edited = local.applying(doc.edits.map { $0.shifted(by: -span.lowerBound) }),
               verify(original: root, edited: edited, action: action, filter: filter) {
                edits += doc.edits
                continue
            }
            let place = "\(origin):\(chunk.contentLine ?? chunk.firstLine)"
            edits.append(try writtenAnew(root, doc: doc, local: local, place: place, action: action, filter: filter))
            notes.append("\(place): written anew by Yams (anchors, tags or a layout that cannot be edited in place), so this document's comments and layout are not kept")
        }
        try checkEveryPolicyEdited(loaded.items, filter: filter, changes: changes)
        guard let out = pos.applying(edits) else {
            throw .cannotEdit("\(origin): overlapping edits; please report this with the manifest")
        }
        return PolicyLabelResult(text: out, changes: changes, notes: notes)
    }

    /// The selectors of `ref` that carry the label (`spec.podSelector`, `spec.endpointSelector` or
    /// `nodeSelector`, in `spec` and each of `specs`); each must be a mapping, as its `matchLabels`.
    static func selectors(of ref: PolicyNodeRef, name: String, location: String) throws(PolicyLabelError) -> [(key: Node, value: Node)] {
        let sels = PolicyNodeEdits.specs(of: ref.node, kind: ref.kind)
            .flatMap { spec in PolicyNodeEdits.selectorKeys(ref.kind).compactMap { k in spec.mapping?.first { $0.key.scalar?.string == k } } }
        guard !sels.isEmpty else {
            let key = ref.kind == .networkPolicy ? "spec.podSelector" : "spec.endpointSelector"
            throw .cannotEdit("\(location): \(ref.kind.rawValue) \(name) has no \(key) to carry the \(gitlabDisabledByLabel) label")
        }
        for (k, v) in sels {
            let path = "\(k.scalar?.string ?? "selector")"
            let isMap = v.mapping != nil || (v.scalar?.style == .plain && v.null != nil)
            let ml = v["matchLabels"]
            guard isMap, ml.map({ $0.mapping != nil || ($0.scalar?.style == .plain && $0.null != nil) }) ?? true else {
                throw .cannotEdit("\(location): \(ref.kind.rawValue) \(name): \(path)\(isMap ? ".matchLabels" : "") is not a mapping; fix the manifest first (`threat-report policy explain` lists its problems)")
            }
        }
        return sels
    }

    /// The fallback for what cannot be edited in place: the document's content replaced by the
    /// edited tree written by Yams, checked like an in-place edit.
    static func writtenAnew(_ root: Node, doc: DocumentEdit, local: TextPositions, place: String,
                            action: PolicyEnforcementAction, filter: Set<String>?) throws(PolicyLabelError) -> TextEdit {
        let tree = PolicyNodeEdits.edited(root, action, names: filter, canonical: false)
        let content = doc.contentRange
        guard let yaml = try? Yams.serialize(node: tree, width: -1, allowUnicode: true) else {
            throw .cannotEdit("\(place): the document could not be written; please report this with the manifest")
        }
        let replacement = TextEdit(start: content.lowerBound, end: content.upperBound, text: yaml.trimmingCharacters(in: .newlines))
        guard let edited = local.applying([replacement.shifted(by: -doc.span.lowerBound)]),
              verify(original: root, edited: edited, action: action, filter: filter) else {
            throw .cannotEdit("\(place): the document could not be edited; please report this with the manifest")
        }
        return replacement
    }

    /// Every policy asked for was found in a document that could be edited.
    static func checkEveryPolicyEdited(_ items: [PolicyItem], filter: Set<String>?, changes: [PolicyLabelChange]) throws(PolicyLabelError) {
        let missing = items.filter { i in (filter?.contains(i.name) ?? true) && !changes.contains { $0.name == i.name } }
        guard let m = missing.first else { return }
        if !m.valid, let problem = m.problems.first {
            throw .cannotEdit("\(m.origin): policy \(m.name) is not valid (\(problem)); fix the manifest first")
        }
        throw .cannotEdit("\(m.origin): policy \(m.name) could be read only as JSON, not as YAML to edit in place; edit it by hand")
    }

    /// The edited document means the same as the original, GitLab's label aside, and every policy
    /// asked for is in the state asked for while the others kept theirs.
    static func verify(original: Node, edited: String, action: PolicyEnforcementAction, filter: Set<String>?) -> Bool {
        guard (try? YAMLLimits.check(edited, reader: YAMLReader(file: ""))) != nil,
              let new = try? Yams.compose(yaml: edited) else { return false }
        guard PolicyNodeEdits.canonicalJSON(new) == PolicyNodeEdits.canonicalJSON(original) else { return false }
        let before = PolicyNodeEdits.policies(in: original)
        let after = PolicyNodeEdits.policies(in: new)
        guard before.count == after.count else { return false }
        for (b, a) in zip(before, after) {
            let asked = filter?.contains(b.name ?? "") ?? true
            let want = asked ? action == .disable : PolicyNodeEdits.isDisabled(b)
            guard PolicyNodeEdits.isDisabled(a) == want else { return false }
            if asked && action == .enable && PolicyNodeEdits.selectors(of: a.node, kind: a.kind).contains(where: PolicyNodeEdits.carriesLabel) {
                return false
            }
        }
        return true
    }
}

extension TextEdit {
    func shifted(by d: Int) -> TextEdit { TextEdit(start: start + d, end: end + d, text: text) }
}
