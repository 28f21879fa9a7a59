import Foundation
import ThreatConfig

/// JSON access-log field names beyond NGINX's: Envoy Gateway's default JSON access log and
/// Traefik's, and the names an `access_log_fields:` block gives.
///
/// Envoy Gateway: `start_time`, `response_code`, `:authority`, `x-request-id`,
/// `downstream_remote_address`, `x-forwarded-for`, `route_name` (`httproute/<namespace>/<name>/rule/…`).
/// Traefik: `StartUTC`, `DownstreamStatus`, `RequestHost`, `ClientHost`, `RouterName`,
/// `request_X-Request-Id` (kept request headers).
extension JSONAccessLine {
    static func assignGateway(_ key: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ p: UnsafeBufferPointer<UInt8>,
                              _ line: inout AccessLogLine, _ timeCache: inout TimeCache) {
        let text = UnsafeBufferPointer(rebasing: p[r])
        if key[0] == 0x3A || key[0] &- 0x61 < 26 {  // Envoy: lower case, or `:authority`
            if equal(key, "start_time") {
                if let t = timeCache.iso8601(text) { line.time = t }
                line.format = .envoyJSON
            } else if equal(key, "response_code") {
                if let (v, after) = AccessLogLine.number(p, from: r.lowerBound), after == r.upperBound { line.status = Int32(clamping: v) }
                line.format = .envoyJSON
            } else if equal(key, ":authority") {
                line.host = CompiledAccessFormat.dash(p, r)
            } else if equal(key, "x-request-id") {
                line.requestID = CompiledAccessFormat.dash(p, r)
            } else if equal(key, "route_name") {
                line.route = CompiledAccessFormat.dash(p, r)
            } else if equal(key, "x-forwarded-for") {
                if line.remoteAddr.isEmpty { line.remoteAddr = ProxyAccessLine.firstOfList(p, CompiledAccessFormat.dash(p, r)) }
            } else if equal(key, "user-agent") {
                line.userAgent = r
            }
            return
        }
        if equal(key, "StartUTC") {
            if let t = timeCache.iso8601(text) { line.time = t }
            line.format = .traefikJSON
        } else if equal(key, "DownstreamStatus") {
            if let (v, after) = AccessLogLine.number(p, from: r.lowerBound), after == r.upperBound { line.status = Int32(clamping: v) }
            line.format = .traefikJSON
        } else if equal(key, "RequestHost") {
            line.host = CompiledAccessFormat.dash(p, r)
        } else if equal(key, "ClientHost") {
            line.remoteAddr = r
        } else if equal(key, "RouterName") {
            line.route = CompiledAccessFormat.dash(p, r)
        } else if equal(key, "request_X-Request-Id") {
            line.requestID = CompiledAccessFormat.dash(p, r)
        } else if equal(key, "request_User-Agent") {
            line.userAgent = r
        }
    }
}

/// The JSON names of `access_log_fields`, as bytes, each with the field it fills.
struct JSONKeys: Sendable {
    var pairs: [([UInt8], AccessField)] = []

    init() {}

    init(_ fields: AccessLogFields) {
        pairs = fields.pairs.map { name, field in
            let f: AccessField = switch field {
            case "time": .anyTime
            case "status": .status
            case "host": .host
            case "request_id": .requestID
            case "client": .remoteAddr
            default: .route
            }
            return (Array(name.utf8), f)
        }
    }

    var isEmpty: Bool { pairs.isEmpty }

    /// Fills the field `key` names; false when it names none.
    func assign(_ key: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ p: UnsafeBufferPointer<UInt8>,
                _ line: inout AccessLogLine, _ timeCache: inout TimeCache) -> Bool {
        for (name, field) in pairs where name.count == key.count && name.elementsEqual(key) {
            let text = UnsafeBufferPointer(rebasing: p[r])
            switch field {
            case .anyTime:
                if let t = timeCache.iso8601(text) ?? timeCache.seconds(text) ?? LogTime.parseEpoch(text) { line.time = t }
            case .status:
                if let (v, after) = AccessLogLine.number(p, from: r.lowerBound), after == r.upperBound { line.status = Int32(clamping: v) }
            case .host: line.host = CompiledAccessFormat.dash(p, r)
            case .requestID: line.requestID = CompiledAccessFormat.dash(p, r)
            case .remoteAddr: line.remoteAddr = ProxyAccessLine.firstOfList(p, CompiledAccessFormat.dash(p, r))
            default: line.route = CompiledAccessFormat.dash(p, r)
            }
            return true
        }
        return false
    }
}

extension Attribution {
    /// Whether a route names this environment's namespace, or nil when the route does not say:
    /// - Envoy Gateway: `httproute/<namespace>/<name>/rule/0/match/0/<host>` (any `…route` kind);
    /// - Traefik: `<namespace>-<name>-…@kubernetes` or `@kubernetescrd`, and
    ///   `httproute-<namespace>-<name>-…@kubernetesgateway` (the `<namespace>-` prefix, as for
    ///   ingress-nginx upstreams).
    func ownsRoute(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool? {
        let b = UnsafeBufferPointer(rebasing: p[r])
        let ns = namespacePrefix.dropLast()  // without the "-"
        if let slash = b.firstIndex(of: 0x2F), slash >= 5,
           b[slash - 5] == 0x72, b[slash - 4] == 0x6F, b[slash - 3] == 0x75, b[slash - 2] == 0x74, b[slash - 1] == 0x65 {  // "route/"
            let rest = b[(slash + 1)...]
            guard let end = rest.firstIndex(of: 0x2F) else { return nil }
            return rest[rest.startIndex..<end].elementsEqual(ns)
        }
        guard let at = b.lastIndex(of: 0x40) else { return nil }
        let provider = String(decoding: b[(at + 1)...], as: UTF8.self)
        guard provider.hasPrefix("kubernetes") else { return nil }
        var name = b[b.startIndex..<at]
        let kind = Array("httproute-".utf8)
        if name.count > kind.count, name.prefix(kind.count).elementsEqual(kind) { name = name.dropFirst(kind.count) }
        return name.count > namespacePrefix.count && name.prefix(namespacePrefix.count).elementsEqual(namespacePrefix)
    }
}
