import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources

/// `threat-report policy explain FILE|-`: what every policy of a manifest does, in sentences.
struct PolicyExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain every network policy of a manifest in plain language.",
        discussion: """
        For each policy: its status (enforced, or not enforced because of GitLab's disabled_by label), one \
        sentence per direction, what GitLab's rule mode cannot show, and the problems of an invalid manifest with \
        file:line:column. Exit codes: 0 every policy is valid; 1 a policy is invalid, or there is none; 2 the input \
        cannot be read.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: ArgumentHelp("Manifest file (YAML or JSON, several documents allowed), or - for stdin.", valueName: "file"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("Namespace named in the sentences when a policy has no metadata.namespace.", valueName: "namespace"))
    var namespace: String?

    @Option(name: .long, help: ArgumentHelp("Output format: text or json.", valueName: "format"))
    var output: Format = .text

    func run() throws {
        let input = try PolicyInput.read(file)
        let result = PolicyDocumentLoader.loadDetailed(text: input.text, origin: input.origin, namespace: namespace)
        for n in result.notes { PolicyInput.note("note: \(n)") }
        switch output {
        case .text: PolicyInput.write(result.items.map(Self.text).joined(separator: "\n"))
        case .json: PolicyInput.write(JSONValue.array(result.items.map(Self.json)).serialized(pretty: true) + "\n")
        }
        if result.items.isEmpty {
            PolicyInput.note("\(input.origin): no network policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy) in it")
            throw ExitCode(1)
        }
        if result.items.contains(where: { !$0.valid }) { throw ExitCode(1) }
    }

    static func clean(_ s: String) -> String { Sanitize.text(s, max: 2000) }

    static func status(_ p: PolicyItem) -> String {
        if !p.valid { return "invalid" }
        return p.enabled ? "enforced" : "not enforced (GitLab's disabled_by label)"
    }

    /// ```
    /// CiliumNetworkPolicy drop-outbound, namespace default (deny.yaml:1)
    ///   Status: enforced; rules: 0 in / 1 out
    ///   Inbound traffic is not restricted by this policy.
    ///   All outbound traffic from all pods in default is denied.
    ///   Rule mode: fits GitLab's policy editor.
    /// ```
    static func text(_ p: PolicyItem) -> String {
        var lines = ["\(clean(p.kind?.rawValue ?? p.kindText)) \(clean(p.name))"
            + (p.namespace.map { ", namespace \(clean($0))" } ?? "") + " (\(clean(p.origin)))"]
        lines.append("  Status: \(status(p)); rules: \(PolicyListing.rulesText(p.rules))" + (p.predefined ? "; one of GitLab's predefined policies" : ""))
        lines += p.description.map { "  " + clean($0) }
        lines += p.problems.map { "  Problem: " + clean($0.description) }
        if let gaps = p.ruleModeUnsupported {
            lines.append(gaps.isEmpty ? "  Rule mode: fits GitLab's policy editor."
                : "  Rule mode: YAML only; GitLab's rule mode cannot show " + gaps.map(clean).joined(separator: "; ") + ".")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ p: PolicyItem) -> JSONValue {
        .object([
            ("kind", .string(p.kind?.rawValue ?? p.kindText)), ("name", .string(p.name)),
            ("namespace", p.namespace.map { .string($0) } ?? .null), ("origin", .string(p.origin)),
            ("enabled", .bool(p.enabled)), ("valid", .bool(p.valid)), ("predefined", .bool(p.predefined)),
            ("rules", .object([("ingress", .number(Double(p.rules.ingress))), ("egress", .number(Double(p.rules.egress))),
                               ("ingress_deny", .number(Double(p.rules.ingressDeny))), ("egress_deny", .number(Double(p.rules.egressDeny)))])),
            ("description", .array(p.description.map { .string($0) })),
            ("problems", .array(p.problems.map { .string($0.description) })),
            ("rule_mode_unsupported", p.ruleModeUnsupported.map { .array($0.map { .string($0) }) } ?? .null),
        ])
    }
}
