import Foundation

/// `waf: files: access_log_format:` — how the access logs are written. Without it, each line is
/// detected among the presets (and the evidence says which preset read how many lines).
///
/// Adding a preset (a proxy's default format) takes a case here and its line reader in
/// `ThreatSources/WAFFiles/AccessLogFormat.swift`; detection tries the presets in
/// `AccessLogPreset.detectionOrder`.
public enum AccessLogFormatSetting: Sendable, Equatable {
    case preset(AccessLogPreset)
    /// An NGINX `log_format` string (it contains `$`), compiled once into the line matcher.
    case logFormat(NGINXLogFormat)

    /// A preset name, or a `log_format` string when the text contains `$`.
    public init(_ text: String) throws(NGINXLogFormat.Failure) {
        if text.contains("$") {
            self = .logFormat(try NGINXLogFormat(text))
        } else if let p = AccessLogPreset(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) {
            self = .preset(p)
        } else {
            throw .unknownPreset(text)
        }
    }
}

public enum AccessLogPreset: String, Sendable, CaseIterable {
    /// ingress-nginx's `log-format-upstream` (17 fields).
    case ingressNginx = "ingress-nginx"
    /// NGINX's predefined `combined`.
    case combined
    /// The official NGINX image's `main`: `combined` plus `"$http_x_forwarded_for"`.
    case main
    /// One JSON object per line (`log_format … escape=json '{…}'`), fields found by name.
    case json
    /// Envoy's default text format (also Envoy Gateway's text access log):
    /// `[%START_TIME%] "%REQ(:METHOD)% … %PROTOCOL%" %RESPONSE_CODE% … "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`.
    case envoy
    /// Envoy JSON access logs; field names default to Envoy Gateway's (`start_time`,
    /// `response_code`, `:authority`, `x-request-id`, `route_name`), others in `access_log_fields`.
    case envoyJSON = "envoy-json"
    /// Istio's default text format (Envoy's, plus response details, cluster, addresses and route).
    case istio
    /// HAProxy `option httplog` (raw, or behind a syslog prefix).
    case haproxy
    /// Traefik's JSON access log (`StartUTC`, `DownstreamStatus`, `RequestHost`, `RouterName`).
    case traefikJSON = "traefik-json"

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// An NGINX `log_format` string as literal bytes and variables. Accepted as NGINX writes it in
/// its configuration (`log_format main '$remote_addr - …' '"$http_user_agent"';`, the quoted
/// pieces joined) or as the bare format text.
public struct NGINXLogFormat: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        case literal([UInt8])
        /// A variable name without `$` (`remote_addr`, `time_local`, …).
        case variable(String)
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownPreset(String)
        case empty
        case adjacentVariables(String, String)
        case noTime
        case unterminatedBrace(Int)

        public var description: String {
            switch self {
            case let .unknownPreset(t):
                "'\(t)' is neither a preset (\(AccessLogPreset.names)) nor an NGINX log_format string (one contains $variables)"
            case .empty: "the log_format string is empty"
            case let .adjacentVariables(a, b):
                "$\(a) and $\(b) follow each other with nothing between them, so a line cannot be split there: copy the log_format exactly as NGINX has it"
            case .noTime: "the log_format has no time variable: it needs $time_local, $time_iso8601 or $msec"
            case let .unterminatedBrace(at): "'${' at column \(at + 1) has no closing '}'"
            }
        }
    }

    public var segments: [Segment]
    /// The format text after NGINX quoting was removed.
    public var text: String

    public static let timeVariables: Set<String> = ["time_local", "time_iso8601", "msec"]

    public init(_ raw: String) throws(Failure) {
        text = Self.unquote(raw)
        var segments: [Segment] = []
        var literal: [UInt8] = []
        let u = Array(text.utf8)
        var i = 0
        func isName(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F }
        while i < u.count {
            guard u[i] == 0x24, i + 1 < u.count, isName(u[i + 1]) || u[i + 1] == 0x7B else {
                literal.append(u[i])
                i += 1
                continue
            }
            var name: String
            if u[i + 1] == 0x7B {
                guard let close = u[(i + 2)...].firstIndex(of: 0x7D) else { throw .unterminatedBrace(i) }
                name = String(decoding: u[(i + 2)..<close], as: UTF8.self)
                i = close + 1
            } else {
                var j = i + 1
                while j < u.count, isName(u[j]) { j += 1 }
                name = String(decoding: u[(i + 1)..<j], as: UTF8.self)
                i = j
            }
            name = name.lowercased()
            if !literal.isEmpty {
                segments.append(.literal(literal))
                literal = []
            } else if case let .variable(previous)? = segments.last {
                throw .adjacentVariables(previous, name)
            }
            segments.append(.variable(name))
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        guard !segments.isEmpty else { throw .empty }
        guard segments.contains(where: { if case let .variable(v) = $0 { Self.timeVariables.contains(v) } else { false } }) else {
            throw .noTime
        }
        self.segments = segments
    }

    /// `log_format main escape=json '…' '…';` or `'…' '…'` → the joined format text; other text
    /// is kept as it is.
    static func unquote(_ raw: String) -> String {
        var t = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("log_format"), let q = t.firstIndex(of: "'") {
            t = String(t[q...])
        }
        if t.hasSuffix(";") { t.removeLast() }
        guard t.hasPrefix("'") else { return t }
        var out = ""
        var inside = false
        var escaped = false
        for c in t {
            if inside {
                if escaped { out.append(c); escaped = false; continue }
                if c == "\\" { escaped = true; continue }
                if c == "'" { inside = false; continue }
                out.append(c)
            } else if c == "'" {
                inside = true
            }
        }
        return out
    }
}

/// `waf: files: access_log_fields:` — the JSON field names of an access log whose producer names
/// them its own way (an Envoy `json_format`, a log shipper's rename). Each key is optional; the
/// names given are looked up before the built-in ones.
public struct AccessLogFields: Sendable, Equatable {
    public var time: String?
    public var status: String?
    public var host: String?
    public var requestID: String?
    public var client: String?
    public var route: String?
    public init() {}

    public static let keys = ["time", "status", "host", "request_id", "client", "route"]

    public var isEmpty: Bool { [time, status, host, requestID, client, route].allSatisfy { $0 == nil } }

    /// (JSON key, field) pairs, field one of `keys`.
    public var pairs: [(String, String)] {
        [(time, "time"), (status, "status"), (host, "host"), (requestID, "request_id"), (client, "client"), (route, "route")]
            .compactMap { n, f in n.map { ($0, f) } }
    }
}
