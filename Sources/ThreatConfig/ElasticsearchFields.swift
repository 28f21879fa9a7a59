import Foundation
import ThreatModel
import Yams

/// Where the ModSecurity audit document keeps `transaction`: at the top (`transaction.*`, Filebeat
/// with `json.keys_under_root` or `decode_json_fields` with `target: ""`), or under `message`
/// (`message.transaction.*`, `decode_json_fields` on `message` without a target). `auto` asks the
/// mapping.
public enum AuditLayout: String, Sendable, Equatable, CaseIterable {
    case auto, root, message
}

/// How the access-log line names its upstream (`<namespace>-<service>-<port>` in ingress-nginx):
/// a keyword field parsed by Filebeat's nginx `ingress_controller` module
/// (`nginx.ingress_controller.upstream.name`), or only inside the raw line (`message`). `auto`
/// asks the mapping.
public enum AccessLayout: String, Sendable, Equatable, CaseIterable {
    case auto
    case ingressController = "ingress_controller"
    case raw
    /// The access documents carry the request's host in `host` (ECS `url.domain`: Envoy, Istio,
    /// HAProxy or Traefik logs shipped by Filebeat, Fluent Bit or Vector): the environment's
    /// `hosts` select its lines.
    case host
}

/// The named default of `fields:`: today's ingress-nginx + Filebeat mapping, or the Elastic Common
/// Schema names that Filebeat, Fluent Bit and Vector pipelines write for gateway access logs and
/// ModSecurity/Coraza error lines.
public enum FieldSet: String, Sendable, Equatable, CaseIterable {
    case ingressNginx = "ingress-nginx"
    case ecs
}

/// `waf: elasticsearch: fields:` — every field name the searches use. Defaults: today's
/// ingress-nginx + Filebeat mapping (audit side) and the ECS fields of Filebeat's nginx
/// `ingress_controller` module or the raw line (access side).
public struct ElasticsearchFields: Sendable, Equatable {
    public var time = "@timestamp"
    public var container = "kubernetes.container.name"
    public var kubernetesNamespace = "kubernetes.namespace"
    public var stream = "stream"
    public var accessLayout = AccessLayout.auto
    /// The module's keyword field holding the upstream name.
    public var upstream = "nginx.ingress_controller.upstream.name"
    /// The raw access line (text).
    public var accessMessage = "message"
    public var auditLayout = AuditLayout.auto
    public var uniqueID = "transaction.unique_id"
    public var host = "transaction.request.headers.Host"
    public var status = "transaction.response.http_code"
    public var ruleID = "transaction.messages.details.ruleId"
    public var message = "transaction.messages.message"
    public var clientIP = "transaction.client_ip"
    public var uri = "transaction.request.uri"
    public var engineMode = "transaction.producer.secrules_engine"
    /// A field of the audit document holding the application's namespace (e.g. Coraza in the
    /// application's own proxy, or a pipeline that adds it); when set, an environment without
    /// `hosts` is narrowed by it.
    public var auditNamespace: String?
    /// The rule's severity (`log.level` in ECS); when set, matches of critical severity or worse
    /// outside the anomaly-evaluation rules are counted. Empty `engineMode` means the index has
    /// no engine-mode field (ECS has none).
    public var severity: String?
    public var fieldSet = FieldSet.ingressNginx
    public init() {}

    /// The named defaults: `ingress-nginx` is `init()`; `ecs` the ECS names, the access lines
    /// selected by host, every document a WAF line holding `rule.id`.
    public static func preset(_ set: FieldSet) -> ElasticsearchFields {
        var f = ElasticsearchFields()
        f.fieldSet = set
        guard set == .ecs else { return f }
        f.accessLayout = .host
        f.auditLayout = .root
        f.uniqueID = "http.request.id"
        f.host = "url.domain"
        f.status = "http.response.status_code"
        f.ruleID = "rule.id"
        f.message = "message"
        f.clientIP = "source.ip"
        f.uri = "url.original"
        f.engineMode = ""
        f.severity = "log.level"
        return f
    }

    /// The audit-side fields, which the `message` layout prefixes with `message.`.
    public var auditFieldNames: [String] {
        ([uniqueID, host, status, ruleID, message, clientIP, uri, engineMode] + [severity].compactMap { $0 }).filter { !$0.isEmpty }
    }

    static let keys = ["preset", "time", "container", "kubernetes_namespace", "stream", "access_layout", "upstream", "access_message",
                       "audit_layout", "unique_id", "host", "status", "rule_id", "message", "client_ip", "uri",
                       "engine_mode", "audit_namespace", "severity"]
}

extension ConfigLoader {
    /// `cloud_id` is `<name>:<base64 of "host[:port]$es_uuid$kibana_uuid">` (Elastic Cloud); the
    /// Elasticsearch endpoint is `https://<es_uuid>.<host>[:port]`. A port on the `es_uuid` part
    /// (`uuid:9243`) wins, as in Elastic's own clients.
    public static func cloudIDEndpoint(_ cloudID: String) -> String? {
        let encoded = cloudID.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init) ?? ""
        var b64 = encoded
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let decoded = String(data: data, encoding: .utf8) else { return nil }
        let parts = decoded.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        var host = parts[0], port = "443", uuid = parts[1]
        if let c = host.lastIndex(of: ":") { port = String(host[host.index(after: c)...]); host = String(host[..<c]) }
        if let c = uuid.lastIndex(of: ":") { port = String(uuid[uuid.index(after: c)...]); uuid = String(uuid[..<c]) }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
        guard host.unicodeScalars.allSatisfy(allowed.contains), uuid.unicodeScalars.allSatisfy(allowed.contains),
              let p = Int(port), (1...65535).contains(p) else { return nil }
        return "https://\(uuid).\(host)" + (p == 443 ? "" : ":\(p)")
    }

    static func parseElasticsearch(_ v: Node, r: YAMLReader, path: String, base: String) throws(LocatedError) -> ElasticsearchSettings {
        let m = try r.mapping(v, path: path, allowed: ElasticsearchSettings.keys)
        var url: String?
        if let n = m["cloud_id"] {
            if m["url"] != nil { throw r.error(n.value, "\(path): give url or cloud_id, not both") }
            let id = try r.strictString(n.value, path: "\(path).cloud_id")
            guard let endpoint = cloudIDEndpoint(id) else {
                throw r.error(n.value, "\(path).cloud_id is not an Elastic Cloud id (<name>:<base64 of host$es_uuid$kibana_uuid>)")
            }
            url = endpoint
        }
        var s = ElasticsearchSettings(transport: try parseTransport(m, node: v, r: r, path: path, base: base, url: url))
        // The named default first; the shorthands and the `fields:` keys then override it.
        if let n = m["fields"] { s.fields = .preset(try fieldSet(n.value, r: r, path: "\(path).fields")) }
        if let n = m["index"] { s.index = try r.strictString(n.value, path: "\(path).index") }
        if let n = m["ingress_namespace"] { s.ingressNamespace = try r.strictString(n.value, path: "\(path).ingress_namespace") }
        if let n = m["access_containers"] { s.accessContainers = try r.stringList(n.value, path: "\(path).access_containers") }
        if let n = m["audit_container"] { s.auditContainer = try r.strictString(n.value, path: "\(path).audit_container") }
        if let n = m["rule_id_field"] { s.fields.ruleID = try r.strictString(n.value, path: "\(path).rule_id_field") }
        if let n = m["rule_message_field"] { s.fields.message = try r.strictString(n.value, path: "\(path).rule_message_field") }
        if let n = m["client_ip_field"] { s.fields.clientIP = try r.strictString(n.value, path: "\(path).client_ip_field") }
        if let n = m["uri_field"] { s.fields.uri = try r.strictString(n.value, path: "\(path).uri_field") }
        if let n = m["max_buckets"] {
            s.maxBuckets = try r.int(n.value, path: "\(path).max_buckets")
            guard s.maxBuckets >= 100 else { throw r.error(n.value, "\(path).max_buckets must be at least 100 (the cluster's search.max_buckets)") }
        }
        if let n = m["fields"], n.value.scalar == nil { s.fields = try parseFields(n.value, r: r, path: "\(path).fields", into: s.fields) }
        return s
    }

    /// `fields: ecs` (a name alone) or `fields: {preset: ecs, …}`; `ingress-nginx` when neither.
    static func fieldSet(_ node: Node, r: YAMLReader, path: String) throws(LocatedError) -> FieldSet {
        var named = node
        if node.scalar == nil {
            guard let p = try r.mapping(node, path: path, allowed: ElasticsearchFields.keys)["preset"] else { return .ingressNginx }
            named = p.value
        }
        let s = try r.strictString(named, path: node.scalar == nil ? "\(path).preset" : path)
        guard let set = FieldSet(rawValue: s) else {
            throw r.error(named, "\(path) names no field set: use one of \(FieldSet.allCases.map(\.rawValue).joined(separator: ", ")), or a mapping of field names")
        }
        return set
    }

    static func parseFields(_ node: Node, r: YAMLReader, path: String, into start: ElasticsearchFields) throws(LocatedError) -> ElasticsearchFields {
        let m = try r.mapping(node, path: path, allowed: ElasticsearchFields.keys)
        var f = start
        func name(_ key: String) throws(LocatedError) -> String? {
            guard let n = m[key] else { return nil }
            let s = try r.strictString(n.value, path: "\(path).\(key)")
            guard !s.isEmpty, !s.contains(","), !s.contains("*"), !s.unicodeScalars.contains(where: { $0.value < 0x21 }) else {
                throw r.error(n.value, "\(path).\(key) must be one field name (no spaces, commas or wildcards)")
            }
            return s
        }
        if let s = try name("time") { f.time = s }
        if let s = try name("container") { f.container = s }
        if let s = try name("kubernetes_namespace") { f.kubernetesNamespace = s }
        if let s = try name("stream") { f.stream = s }
        if let s = try name("upstream") { f.upstream = s }
        if let s = try name("access_message") { f.accessMessage = s }
        if let s = try name("unique_id") { f.uniqueID = s }
        if let s = try name("host") { f.host = s }
        if let s = try name("status") { f.status = s }
        if let s = try name("rule_id") { f.ruleID = s }
        if let s = try name("message") { f.message = s }
        if let s = try name("client_ip") { f.clientIP = s }
        if let s = try name("uri") { f.uri = s }
        if let s = try name("engine_mode") { f.engineMode = s }
        if let s = try name("audit_namespace") { f.auditNamespace = s }
        if let s = try name("severity") { f.severity = s }
        if let n = m["access_layout"] {
            let s = try r.strictString(n.value, path: "\(path).access_layout")
            guard let l = AccessLayout(rawValue: s) else {
                throw r.error(n.value, "\(path).access_layout must be one of: \(AccessLayout.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            f.accessLayout = l
        }
        if let n = m["audit_layout"] {
            let s = try r.strictString(n.value, path: "\(path).audit_layout")
            guard let l = AuditLayout(rawValue: s) else {
                throw r.error(n.value, "\(path).audit_layout must be one of: \(AuditLayout.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            f.auditLayout = l
        }
        return f
    }
}
