import Foundation
import ThreatModel

/// The policies section's values (when the source answered): the policies read, and GitLab's
/// predefined policies that are not deployed.
struct PoliciesView: Sendable {
    let count: Int
    let empty: Bool
    let notes: [String]
    let items: [ItemView]
    /// GitLab listed its predefined policies "disabled by default unless a deployed policy has the same name".
    let predefined_missing: [PredefinedView]
    let has_predefined_missing: Bool
    let predefined_command: String
    /// A code span only for a namespace the config accepts (a DNS label): other text stays escaped data.
    let predefined_command_md: String

    struct ItemView: Sendable {
        let kind: String
        let name: String
        let namespace: String
        let status: String
        let enabled: String
        let traits: String
        let has_traits: Bool
        let status_class: String
        let rules: String
        let predefined: Bool
        let description: [String]
        let problems: [String]
        let manifest: String
        let origin: String

        init(_ item: PolicyItem) {
            let traits = PoliciesView.traits(item)
            kind = Sanitize.text(item.kind?.rawValue ?? item.kindText, max: 64)
            name = Sanitize.text(item.name, max: 120)
            namespace = Sanitize.text(item.namespace ?? "", max: 80)
            status = !item.valid ? "Invalid" : item.enabled ? "Enforced" : "Disabled"
            enabled = !item.valid ? "–" : item.enabled ? "yes" : "no"
            self.traits = traits.joined(separator: "; ")
            has_traits = !traits.isEmpty
            status_class = !item.valid ? "critical" : item.enabled ? "ok" : "warning"
            let deny = item.rules.ingressDeny + item.rules.egressDeny
            rules = "\(item.rules.ingress) in / \(item.rules.egress) out" + (deny > 0 ? " / \(deny) deny" : "")
            predefined = item.predefined
            description = item.description.map { Sanitize.text($0, max: 600) }
            problems = item.problems.map { Sanitize.text($0.description, max: 400) }
            manifest = Sanitize.text(item.manifest, max: 20000, keepNewlines: true)
            origin = Sanitize.text(item.origin, max: 300)
        }
    }

    struct PredefinedView: Sendable {
        let kind: String
        let name: String
        let rules: String
        let description: [String]
        let manifest: String
    }

    init(_ p: PolicySet, namespace: String) {
        let ns = Sanitize.text(namespace, max: 80)
        count = p.items.count
        empty = p.items.isEmpty
        notes = p.notes.map { Sanitize.text($0, max: 300) }
        items = p.items.map(ItemView.init)
        predefined_missing = p.predefinedNotDeployed.map { d in
            PredefinedView(kind: d.kind.rawValue, name: d.name, rules: "\(d.rules.ingress) in / \(d.rules.egress) out",
                           description: d.description(namespace: ns), manifest: d.ciliumManifest)
        }
        has_predefined_missing = !p.predefinedNotDeployed.isEmpty
        predefined_command = "threat-report policy predefined NAME --namespace \(ns)"
        predefined_command_md = KubernetesName.isLabel(namespace)
            ? MarkdownCode.span("threat-report policy predefined NAME --namespace \(namespace)")
            : MarkdownEscaper.escape("threat-report policy predefined NAME --namespace \(ns)")
    }

    /// The traits behind the policy findings, as short phrases for the policy table.
    static func traits(_ p: PolicyItem) -> [String] {
        guard p.valid else { return [] }
        var out: [String] = []
        if let rules = p.worldIngress, !rules.isEmpty {
            out.append(rules.contains(where: \.anyPort) ? "world ingress on every port" : "world ingress on some ports")
        }
        if p.restrictsEgress == false { out.append("egress open") }
        if let gaps = p.ruleModeUnsupported, !gaps.isEmpty { out.append("outside rule mode") }
        return out
    }
}
