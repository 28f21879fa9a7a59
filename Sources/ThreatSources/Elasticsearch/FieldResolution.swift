import Foundation
import ThreatConfig
import ThreatModel

/// The field names of one index pattern after `_field_caps`: the layouts decided, each field
/// replaced by its aggregatable form, and what the mapping lacks said plainly.
public struct FieldResolution: Sendable, Equatable {
    public var fields: ElasticsearchFields
    /// Problems that make a count unreliable (the section is partial).
    public var incomplete: [String] = []
    /// Limits worth a note (details that will be empty, inexact matching).
    public var warnings: [String] = []
    /// How access lines are tied to the namespace's upstreams.
    public var accessMatch = AccessMatch.phrase
    public enum AccessMatch: String, Sendable, Equatable {
        /// `prefix` on the module's keyword upstream field.
        case prefix
        /// `wildcard` on a keyword copy of the raw line.
        case wildcard
        /// `match_phrase` on the analysed line: inexact, warned.
        case phrase
        /// `terms` on the host field with the environment's `hosts` (ECS access documents).
        case host
    }
    /// The `fields:` keys the mapping lacks.
    public var missing: Set<String> = []

    /// Without `_field_caps` (a recording made before it was asked): the names as configured, the
    /// `auto` layouts at their historical meaning (raw line, top-level `transaction`).
    public static func unresolved(_ f: ElasticsearchFields) -> FieldResolution {
        var r = f
        if r.accessLayout == .auto { r.accessLayout = .raw }
        if r.auditLayout == .auto { r.auditLayout = .root }
        if r.auditLayout == .message { r = prefixed(r) }
        var out = FieldResolution(fields: r, accessMatch: r.accessLayout == .ingressController ? .prefix : r.accessLayout == .host ? .host : .phrase)
        if r.engineMode.isEmpty { out.missing.insert("engine_mode") }
        return out
    }

    static func prefixed(_ f: ElasticsearchFields) -> ElasticsearchFields {
        var r = f
        for kp in [\ElasticsearchFields.uniqueID, \.host, \.status, \.ruleID, \.message, \.clientIP, \.uri, \.engineMode]
        where !r[keyPath: kp].isEmpty {
            r[keyPath: kp] = "message." + r[keyPath: kp]
        }
        r.severity = r.severity.map { "message." + $0 }
        return r
    }

    public static func resolve(_ configured: ElasticsearchFields, caps: FieldCaps, index: String, needsHostFields: Bool) throws(SourceError) -> FieldResolution {
        var out = FieldResolution(fields: configured)
        if caps.indices.isEmpty, caps.fields.isEmpty {
            out = unresolved(configured)
            out.incomplete.append("no data found for index pattern \(index): no index matches it (_field_caps lists no index); every count is 0")
            return out
        }
        // Audit layout: `message.transaction.*` when only that form of the rule id is mapped.
        var f = configured
        if f.auditLayout == .auto {
            let root = caps.present(f.ruleID) || caps.present(f.ruleID + ".keyword")
            let nested = caps.present("message." + f.ruleID) || caps.present("message." + f.ruleID + ".keyword")
            f.auditLayout = nested && !root ? .message : .root
        }
        if f.auditLayout == .message { f = prefixed(f) }
        // Access layout: the module's upstream field when the index has it, else the raw line.
        if f.accessLayout == .auto {
            f.accessLayout = caps.present(f.upstream) || caps.present(f.upstream + ".keyword") ? .ingressController : .raw
        }
        func pick(_ kp: WritableKeyPath<ElasticsearchFields, String>, key: String, missing: String, partial: Bool) throws(SourceError) {
            let name = f[keyPath: kp]
            if let n = try caps.aggregatable(name, key: key, index: index) {
                f[keyPath: kp] = n
            } else if partial {
                out.missing.insert(key)
                out.incomplete.append("index pattern \(index) has no field \(name) (fields.\(key)): \(missing)")
            } else {
                out.missing.insert(key)
                out.warnings.append("index pattern \(index) has no field \(name) (fields.\(key)): \(missing)")
            }
        }
        try pick(\.time, key: "time", missing: "no document can be placed in the window; every count is 0", partial: true)
        try pick(\.container, key: "container", missing: "the container filter matches nothing; every count is 0", partial: true)
        try pick(\.kubernetesNamespace, key: "kubernetes_namespace", missing: "the access-log filter matches nothing; total requests are 0", partial: true)
        try pick(\.stream, key: "stream", missing: "the access-log filter matches nothing; total requests are 0", partial: true)
        if f.accessLayout == .host {
            out.accessMatch = .host
            if needsHostFields {
                try pick(\.host, key: "host", missing: "the access-log filter matches nothing; total requests are 0", partial: true)
            }
        } else if f.accessLayout == .ingressController {
            out.accessMatch = .prefix
            try pick(\.upstream, key: "upstream", missing: "the access-log filter matches nothing; total requests are 0", partial: true)
        } else {
            // The line itself must be a keyword (or `wildcard`) field to be matched exactly. A
            // `.keyword` multi-field is not used on its own: dynamic mapping gives it
            // `ignore_above: 256`, and longer lines (most ingress-nginx lines) are not in it.
            let line = f.accessMessage
            if let own = caps.fields[line], !own.isEmpty, own.allSatisfy(\.aggregatable) {
                out.accessMatch = .wildcard
            } else if caps.present(line) {
                out.accessMatch = .phrase
                out.warnings.append("""
                    access lines are matched by phrase on the analysed text field \(line): upstreams whose name holds the \
                    namespace's words (e.g. eu-<namespace>-web-80) are counted too. Ship the upstream as a keyword field \
                    (Filebeat's nginx ingress_controller module: nginx.ingress_controller.upstream.name), or map the line \
                    as keyword or wildcard without ignore_above and set fields.access_message, for an exact count
                    """)
            } else {
                out.missing.insert("access_message")
                out.incomplete.append("index pattern \(index) has neither \(f.upstream) nor \(line) (fields.upstream, fields.access_message): total requests are 0")
            }
        }
        try pick(\.ruleID, key: "rule_id", missing: "no ModSecurity document with a rule match is mapped; anomalous requests cannot be told from 0", partial: true)
        if needsHostFields, f.fieldSet == .ecs {
            // ECS: the host alone narrows (a request id carries no host); the host layout picked it already.
            if f.accessLayout != .host {
                try pick(\.host, key: "host", missing: "the hosts filter matches nothing; anomalous requests are 0", partial: true)
            }
        } else if needsHostFields {
            // Either one of the two narrows the search; both absent counts nothing.
            let hostOK = try caps.aggregatable(f.host, key: "host", index: index)
            let idOK = try caps.aggregatable(f.uniqueID, key: "unique_id", index: index)
            if let hostOK { f.host = hostOK }
            if let idOK { f.uniqueID = idOK }
            if hostOK == nil, idOK == nil {
                out.incomplete.append("index pattern \(index) has neither \(f.host) nor \(f.uniqueID) (fields.host, fields.unique_id): the hosts filter matches nothing; anomalous requests are 0")
            }
        }
        if let ns = f.auditNamespace {
            if let n = try caps.aggregatable(ns, key: "audit_namespace", index: index) { f.auditNamespace = n } else {
                out.incomplete.append("index pattern \(index) has no field \(ns) (fields.audit_namespace): the namespace filter matches nothing; anomalous requests are 0")
            }
        }
        try pick(\.message, key: "message", missing: "top rules have no message", partial: false)
        try pick(\.clientIP, key: "client_ip", missing: "top clients are empty", partial: false)
        try pick(\.uri, key: "uri", missing: "top URIs are empty", partial: false)
        if f.engineMode.isEmpty {
            out.missing.insert("engine_mode")
            out.warnings.append("fields.engine_mode is not set (the \(f.fieldSet.rawValue) field set has none): the engine mode is unknown and blocked requests are not counted")
        } else {
            try pick(\.engineMode, key: "engine_mode", missing: "the engine mode is unknown and blocked requests are not counted", partial: false)
        }
        if let sev = f.severity {
            if let n = try caps.aggregatable(sev, key: "severity", index: index) { f.severity = n } else {
                out.missing.insert("severity")
                out.warnings.append("index pattern \(index) has no field \(sev) (fields.severity): critical matches are not counted")
            }
        }
        try pick(\.status, key: "status", missing: "blocked requests are not counted", partial: false)
        out.fields = f
        return out
    }

    /// Whether the blocked count can be asked (engine mode and status are mapped).
    public var canCountBlocked: Bool { !missing.contains("engine_mode") && !missing.contains("status") }
}
