import Foundation
import ThreatModel
import Yams

/// What `threat-report policy list` prints: per environment, its policies as the configured source
/// gave them, then GitLab's predefined policies that are not deployed (listed disabled, as GitLab
/// did, "unless a deployed policy has the same name").
public struct PolicyListing: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var namespace: String?
        public var enabled: Bool
        public var valid: Bool
        public var rules: PolicyRuleCounts
        /// One of GitLab's predefined policies (by name).
        public var predefined: Bool
        /// False for a predefined policy listed because it is not deployed.
        public var deployed: Bool
        public var origin: String?
        public var problems: [String]
    }

    public struct Environment: Sendable, Equatable {
        public var name: String
        public var namespace: String
        /// `ok`, `unavailable` or `not_configured`.
        public var status: SectionStatus
        public var error: String?
        public var notes: [String]
        public var warnings: [String]
        public var rows: [Row]
    }

    public var environments: [Environment]

    public init(environments: [Environment] = []) { self.environments = environments }

    /// Adds an environment's policy section.
    public mutating func add(name: String, namespace: String, section: Section<PolicySet>) {
        var env = Environment(name: name, namespace: namespace, status: section.status, error: section.error,
                              notes: section.value?.notes ?? [], warnings: section.warnings, rows: [])
        if let set = section.value {
            env.rows = set.items.map { i in
                Row(kind: i.kind?.rawValue ?? i.kindText, name: i.name, namespace: i.namespace, enabled: i.enabled, valid: i.valid,
                    rules: i.rules, predefined: i.predefined, deployed: true, origin: i.origin, problems: i.problems.map(\.description))
            }
            env.rows += set.predefinedNotDeployed.map { p in
                Row(kind: p.kind.rawValue, name: p.name, namespace: namespace, enabled: false, valid: true, rules: p.rules,
                    predefined: true, deployed: false, origin: nil, problems: [])
            }
        }
        environments.append(env)
    }

    public var hasUnavailable: Bool { environments.contains { $0.status == .unavailable } }

    // MARK: - Output

    /// `rules` as the table shows them: `1 in / 2 out` (and `/ 1 deny` when there are deny rules).
    public static func rulesText(_ r: PolicyRuleCounts) -> String {
        "\(r.ingress) in / \(r.egress) out" + (r.ingressDeny + r.egressDeny > 0 ? " / \(r.ingressDeny + r.egressDeny) deny" : "")
    }

    /// A plain table, columns padded with spaces; `clean` cleans untrusted text for a terminal.
    public func table(clean: (String) -> String = { $0 }) -> String {
        var rows = [["ENVIRONMENT", "KIND", "NAME", "NAMESPACE", "ENABLED", "VALID", "RULES", "PREDEFINED"]]
        for env in environments {
            for r in env.rows {
                rows.append([clean(env.name), clean(r.kind), clean(r.name), clean(r.namespace ?? "-"),
                             r.enabled ? "yes" : "no", r.valid ? "yes" : "no", Self.rulesText(r.rules),
                             r.predefined ? (r.deployed ? "yes" : "not deployed") : "-"])
            }
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// The listing as JSON (keys as in report.json).
    public var json: JSONValue {
        .object([("environments", .array(environments.map { env in
            .object([
                ("name", .string(env.name)), ("namespace", .string(env.namespace)), ("status", .string(env.status.rawValue)),
                ("error", env.error.map { .string($0) } ?? .null),
                ("notes", .array(env.notes.map { .string($0) })), ("warnings", .array(env.warnings.map { .string($0) })),
                ("policies", .array(env.rows.map { r in
                    .object([
                        ("kind", .string(r.kind)), ("name", .string(r.name)), ("namespace", r.namespace.map { .string($0) } ?? .null),
                        ("enabled", .bool(r.enabled)), ("valid", .bool(r.valid)), ("predefined", .bool(r.predefined)),
                        ("deployed", .bool(r.deployed)),
                        ("rules", .object([("ingress", .number(Double(r.rules.ingress))), ("egress", .number(Double(r.rules.egress))),
                                           ("ingress_deny", .number(Double(r.rules.ingressDeny))),
                                           ("egress_deny", .number(Double(r.rules.egressDeny)))])),
                        ("origin", r.origin.map { .string($0) } ?? .null), ("problems", .array(r.problems.map { .string($0) })),
                    ])
                })),
            ])
        }))])
    }

    /// The same tree as block-style YAML.
    public var yaml: String {
        // Non-ASCII is written as is, unless a string holds control characters, bidi controls or
        // zero-width characters (`InvisibleText`): then
        // every non-ASCII character is a \u escape, so the terminal never receives them raw.
        let unicode = !Self.hasUnsafeText(json)
        return (try? Yams.serialize(node: Self.node(json), width: -1, allowUnicode: unicode)) ?? ""
    }

    static func hasUnsafeText(_ v: JSONValue) -> Bool {
        switch v {
        case let .string(s):
            s.unicodeScalars.contains { u in
                let c = u.value
                return (c < 0x20 && c != 0x0A) || (0x7F...0x9F).contains(c) || c == 0x2028 || c == 0x2029
                    || InvisibleText.isInvisible(c)
            }
        case let .array(a): a.contains(where: hasUnsafeText)
        case let .object(o): o.contains { hasUnsafeText(.string($0.0)) || hasUnsafeText($0.1) }
        default: false
        }
    }

    static func node(_ v: JSONValue) -> Node {
        switch v {
        case .null: Node("null")
        case let .bool(b): Node(b ? "true" : "false")
        case let .number(d): Node(JSONValue.formatNumber(d))
        case let .string(s):
            Node(s, Tag(.str), YAMLLines.scalar(s) == s ? .plain : .doubleQuoted)
        case let .array(a): .sequence(Node.Sequence(a.map(node), Tag(.seq), .block))
        case let .object(o): .mapping(Node.Mapping(o.map { (Node($0.0), node($0.1)) }, Tag(.map), .block))
        }
    }
}
