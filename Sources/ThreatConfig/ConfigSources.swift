import Foundation
import ThreatModel
import Yams

/// The source of each section of an environment (`waf`, `flows`, `policies`) and the HTTP transport
/// settings the network sources share.
extension ConfigLoader {
    /// A section names exactly one source kind.
    static func oneOf(_ node: Node, r: YAMLReader, path: String, kinds: [String]) throws(LocatedError) -> (String, Node) {
        let m = try r.mapping(node, path: path, allowed: kinds)
        guard m.count == 1, let (k, v) = m.first else {
            throw r.error(node, "\(path) must name exactly one of: \(kinds.joined(separator: ", "))")
        }
        return (k, v.value)
    }

    /// `10000-10999`: two whole numbers, the first not above the second, within 1–899999 (the
    /// CRS owns 900000–999999).
    static func tuningIDRange(_ node: Node, r: YAMLReader, path: String) throws(LocatedError) -> ClosedRange<Int> {
        let text = node.scalar?.string ?? ""
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 7 && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }),
              let lo = Int(parts[0]), let hi = Int(parts[1]) else {
            throw r.error(node, "\(path) must be a range of rule ids like 10000-10999, not '\(text.prefix(40))'")
        }
        guard lo <= hi else { throw r.error(node, "\(path): \(lo) is above \(hi); write the lower id first") }
        guard lo >= 1, hi <= 899_999 else {
            throw r.error(node, "\(path): \(lo)-\(hi) must lie within 1-899999 (the OWASP CRS uses 900000-999999); pick a free range such as 10000-10999")
        }
        return lo...hi
    }

    static func parseWAF(_ node: Node, r: YAMLReader, path: String, base: String) throws(LocatedError) -> WAFSourceConfig {
        let (kind, v) = try oneOf(node, r: r, path: path, kinds: ["elasticsearch", "files", "replay"])
        switch kind {
        case "elasticsearch":
            return .elasticsearch(try parseElasticsearch(v, r: r, path: "\(path).elasticsearch", base: base))
        case "files":
            let m = try r.mapping(v, path: "\(path).files", allowed: WAFFileSettings.keys)
            func paths(_ key: String) throws(LocatedError) -> [String] {
                guard let n = m[key] else { return [] }
                if n.value.sequence != nil {
                    return try r.stringList(n.value, path: "\(path).files.\(key)").map { resolve($0, base) }
                }
                return [resolve(try r.strictString(n.value, path: "\(path).files.\(key)"), base)]
            }
            var s = WAFFileSettings(auditLogs: try paths("audit_log"), accessLogs: try paths("access_log"))
            s.errorLogs = try paths("error_log")
            guard !s.auditLogs.isEmpty || !s.accessLogs.isEmpty || !s.errorLogs.isEmpty else {
                throw r.error(v, "\(path).files needs audit_log, error_log, access_log or a combination")
            }
            if let n = m["access_log_timezone"] {
                let tz = try r.strictString(n.value, path: "\(path).files.access_log_timezone")
                guard TimeZone(identifier: tz) != nil else { throw r.error(n.value, "unknown time zone '\(tz)'") }
                s.accessLogTimezone = tz
            }
            if let n = m["access_log_fields"] {
                s.accessLogFields = try accessLogFields(n.value, r: r, path: "\(path).files.access_log_fields")
            }
            if let n = m["audit_log_timezone"] {
                let tz = try r.strictString(n.value, path: "\(path).files.audit_log_timezone")
                guard TimeZone(identifier: tz) != nil else { throw r.error(n.value, "unknown time zone '\(tz)'") }
                s.auditLogTimezone = tz
            }
            if let n = m["access_log_format"] {
                let text = try r.strictString(n.value, path: "\(path).files.access_log_format")
                do throws(NGINXLogFormat.Failure) {
                    s.accessLogFormat = try AccessLogFormatSetting(text)
                } catch {
                    throw r.error(n.value, "\(path).files.access_log_format: \(error)")
                }
            }
            if let n = m["tuning_id_range"] {
                s.tuningIDRange = try tuningIDRange(n.value, r: r, path: "\(path).files.tuning_id_range")
            }
            return .files(s)
        default:
            return .replay(resolve(try r.strictString(v, path: "\(path).replay"), base))
        }
    }

    static func parseFlows(_ node: Node, r: YAMLReader, path: String, base: String) throws(LocatedError) -> FlowSourceConfig {
        let (kind, v) = try oneOf(node, r: r, path: path, kinds: ["prometheus", "hubble", "replay"])
        switch kind {
        case "prometheus":
            let m = try r.mapping(v, path: "\(path).prometheus", allowed: PrometheusSettings.keys)
            var s = PrometheusSettings(transport: try parseTransport(m, node: v, r: r, path: "\(path).prometheus", base: base))
            if let n = m["metric"] { s.metric = try r.strictString(n.value, path: "\(path).prometheus.metric") }
            if let n = m["drop_metric"] { s.dropMetric = try r.strictString(n.value, path: "\(path).prometheus.drop_metric") }
            if let n = m["source_label"] { s.sourceLabel = try r.strictString(n.value, path: "\(path).prometheus.source_label") }
            if let n = m["destination_label"] { s.destinationLabel = try r.strictString(n.value, path: "\(path).prometheus.destination_label") }
            if let n = m["verdict_label"] { s.verdictLabel = try r.strictString(n.value, path: "\(path).prometheus.verdict_label") }
            for (name, value) in [("metric", s.metric), ("drop_metric", s.dropMetric), ("source_label", s.sourceLabel),
                                  ("destination_label", s.destinationLabel), ("verdict_label", s.verdictLabel)]
            where !isPromIdentifier(value) {
                throw r.error(m[name]?.value ?? v, "\(path).prometheus.\(name) '\(value)' is not a Prometheus metric or label name")
            }
            if let n = m["workload_label"] {
                s.workloadLabel = try r.strictString(n.value, path: "\(path).prometheus.workload_label")
                if let why = labelKeyProblem(s.workloadLabel) {
                    throw r.error(n.value, "\(path).prometheus.workload_label '\(s.workloadLabel)' is not a Kubernetes label key: \(why)")
                }
            }
            return .prometheus(s)
        case "hubble":
            let m = try r.mapping(v, path: "\(path).hubble", allowed: HubbleSettings.keys)
            guard let n = m["flows"] else { throw r.error(v, "missing required key '\(path).hubble.flows'") }
            let files = n.value.sequence != nil ? try r.stringList(n.value, path: "\(path).hubble.flows")
                : [try r.strictString(n.value, path: "\(path).hubble.flows")]
            return .hubble(HubbleSettings(flowLogs: files.map { resolve($0, base) }))
        default:
            return .replay(resolve(try r.strictString(v, path: "\(path).replay"), base))
        }
    }

    static func parsePolicies(_ node: Node, r: YAMLReader, path: String, base: String) throws(LocatedError) -> PolicySourceConfig {
        let (kind, v) = try oneOf(node, r: r, path: path, kinds: ["kubernetes", "directory", "replay"])
        switch kind {
        case "kubernetes":
            let m = try r.mapping(v, path: "\(path).kubernetes", allowed: KubernetesSettings.keys)
            var s = KubernetesSettings()
            if let n = m["kubeconfig"] { s.kubeconfig = resolve(try r.strictString(n.value, path: "\(path).kubernetes.kubeconfig"), base) }
            if let n = m["context"] { s.context = try r.strictString(n.value, path: "\(path).kubernetes.context") }
            if let n = m["in_cluster"] { s.inCluster = try r.bool(n.value, path: "\(path).kubernetes.in_cluster") }
            if let n = m["timeout"] { s.timeout = try positive(n.value, r: r, path: "\(path).kubernetes.timeout") }
            if let n = m["pods"] { s.pods = try r.bool(n.value, path: "\(path).kubernetes.pods") }
            if s.inCluster, s.kubeconfig != nil { throw r.error(v, "\(path).kubernetes: give kubeconfig or in_cluster: true, not both") }
            return .kubernetes(s)
        case "directory":
            let p = try r.strictString(v, path: "\(path).directory")
            return .directory(p == "-" ? "-" : resolve(p, base))
        default:
            return .replay(resolve(try r.strictString(v, path: "\(path).replay"), base))
        }
    }

    static func parseTransport(_ m: [String: (key: Node, value: Node)], node: Node, r: YAMLReader, path: String,
                               base: String, url given: String? = nil) throws(LocatedError) -> HTTPTransportSettings {
        let url: String, u: (key: Node, value: Node)?
        if let given {
            (url, u) = (given, m["cloud_id"])
        } else {
            guard let n = m["url"] else { throw r.error(node, "missing required key '\(path).url'") }
            (url, u) = (try r.strictString(n.value, path: "\(path).url"), n)
        }
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
              parsed.host?.isEmpty == false else {
            throw r.error(u?.value, "\(path).url must be an http:// or https:// URL")
        }
        if parsed.password != nil || parsed.user != nil {
            throw r.error(u?.value, "\(path).url must not carry credentials; use username with password_env or password_file")
        }
        // A query string may hold a key (`?api_key=…`): it would be sent in every request, logged by
        // proxies and quoted in errors. Refused without quoting it.
        if parsed.percentEncodedQuery != nil || parsed.fragment != nil {
            throw r.error(u?.value, "\(path).url must not carry a query string or fragment (it is not quoted here: it may hold a key); "
                + "give credentials with api_key_env/api_key_file, bearer_token_env/bearer_token_file or username with password_env/password_file")
        }
        var t = HTTPTransportSettings(url: url)
        if let n = m["ca_file"] { t.caFile = resolve(try r.strictString(n.value, path: "\(path).ca_file"), base) }
        if let n = m["client_cert_file"] { t.clientCertFile = resolve(try r.strictString(n.value, path: "\(path).client_cert_file"), base) }
        if let n = m["client_key_file"] { t.clientKeyFile = resolve(try r.strictString(n.value, path: "\(path).client_key_file"), base) }
        if let n = m["insecure_skip_verify"] { t.insecureSkipVerify = try r.bool(n.value, path: "\(path).insecure_skip_verify") }
        if let n = m["timeout"] { t.timeout = try positive(n.value, r: r, path: "\(path).timeout") }
        if let n = m["retries"] {
            t.retries = try r.int(n.value, path: "\(path).retries")
            guard (0...10).contains(t.retries) else { throw r.error(n.value, "\(path).retries must be between 0 and 10") }
        }
        var a = HTTPAuthSettings()
        if let n = m["api_key_env"] { a.apiKeyEnv = try r.strictString(n.value, path: "\(path).api_key_env") }
        if let n = m["api_key_file"] { a.apiKeyFile = resolve(try r.strictString(n.value, path: "\(path).api_key_file"), base) }
        if let n = m["bearer_token_env"] { a.bearerTokenEnv = try r.strictString(n.value, path: "\(path).bearer_token_env") }
        if let n = m["bearer_token_file"] { a.bearerTokenFile = resolve(try r.strictString(n.value, path: "\(path).bearer_token_file"), base) }
        if let n = m["username"] { a.username = try r.strictString(n.value, path: "\(path).username") }
        if let n = m["password_env"] { a.passwordEnv = try r.strictString(n.value, path: "\(path).password_env") }
        if let n = m["password_file"] { a.passwordFile = resolve(try r.strictString(n.value, path: "\(path).password_file"), base) }
        let schemes = [a.apiKeyEnv ?? a.apiKeyFile, a.bearerTokenEnv ?? a.bearerTokenFile, a.username].compactMap { $0 }
        if schemes.count > 1 { throw r.error(node, "\(path): choose one of api_key_*, bearer_token_* or username/password_*") }
        if a.username != nil, a.passwordEnv == nil, a.passwordFile == nil {
            throw r.error(node, "\(path).username needs password_env or password_file")
        }
        t.auth = a
        return t
    }

    static func positive(_ node: Node, r: YAMLReader, path: String) throws(LocatedError) -> Double {
        let d = try r.double(node, path: path)
        guard d > 0 else { throw r.error(node, "\(path) must be above 0") }
        // Seconds: a day is far above any useful timeout, and keeps `timeout × 1000` an integer.
        guard d <= 86400 else { throw r.error(node, "\(path) must be at most 86400 (seconds)") }
        return d
    }

    /// `access_log_fields`: the JSON field names of an Envoy JSON access log.
    static func accessLogFields(_ node: Node, r: YAMLReader, path: String) throws(LocatedError) -> AccessLogFields {
        let fm = try r.mapping(node, path: path, allowed: AccessLogFields.keys)
        func name(_ key: String) throws(LocatedError) -> String? {
            guard let f = fm[key] else { return nil }
            let t = try r.strictString(f.value, path: "\(path).\(key)")
            guard !t.isEmpty else { throw r.error(f.value, "\(path).\(key) is empty") }
            return t
        }
        var fields = AccessLogFields()
        fields.time = try name("time")
        fields.status = try name("status")
        fields.host = try name("host")
        fields.requestID = try name("request_id")
        fields.client = try name("client")
        fields.route = try name("route")
        return fields
    }
}

/// Why a string is not a Kubernetes label key (`[prefix/]name`: a DNS subdomain prefix of at most
/// 253, a name of 1–63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric), or nil.
func labelKeyProblem(_ key: String) -> String? {
    let parts = key.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let name = parts.last else { return "at most one '/'" }
    func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
    if parts.count == 2 {
        let prefix = parts[0]
        guard !prefix.isEmpty, prefix.count <= 253,
              prefix.allSatisfy({ alnum($0) || $0 == "-" || $0 == "." }), prefix.first.map(alnum) == true, prefix.last.map(alnum) == true,
              prefix == prefix.lowercased() else { return "the prefix must be a lowercase DNS subdomain" }
    }
    guard !name.isEmpty, name.count <= 63 else { return "the name must have 1 to 63 characters" }
    guard name.allSatisfy({ alnum($0) || "-_.".contains($0) }), name.first.map(alnum) == true, name.last.map(alnum) == true else {
        return "the name must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    }
    return nil
}
