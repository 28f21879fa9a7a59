import Foundation
import ThreatConfig

/// Reads access lines in the configured format: detected per line among the presets, one preset,
/// or an NGINX `log_format` compiled once into a list of steps (literals compared byte by byte,
/// each variable cut at the next literal), so a line costs one pass and no regular expression.
///
/// A new preset (a proxy's default format) is a case of `AccessLogPreset`, a `Format` case of
/// `AccessLogLine`, and a branch in `parse`; if a `log_format`-like template describes it, it can
/// be a compiled format instead of a hand-written reader.
struct AccessLogReader: Sendable {
    enum Mode: Sendable {
        case detect
        case preset(AccessLogPreset)
        case compiled(CompiledAccessFormat)
    }

    let mode: Mode
    /// JSON field names given in `access_log_fields`, looked up before the built-in ones.
    var keys = JSONKeys()
    /// The zone of times written without one (HAProxy).
    var zone: TimeZone = .gmt

    init(_ setting: AccessLogFormatSetting?, fields: AccessLogFields = AccessLogFields(), zone: TimeZone = .gmt) {
        switch setting {
        case nil: mode = .detect
        case let .preset(p)?: mode = .preset(p)
        case let .logFormat(f)?: mode = .compiled(CompiledAccessFormat(f))
        }
        keys = JSONKeys(fields)
        self.zone = zone
    }

    /// What the skip reason says a line is not.
    var expectation: String {
        switch mode {
        case .detect: "an access line of a known format (\(AccessLogPreset.names))"
        case let .preset(p): "a '\(p.rawValue)' access line"
        case .compiled: "a line of the configured log_format"
        }
    }

    @inline(__always)
    func parse(_ p: UnsafeBufferPointer<UInt8>, timeCache: inout TimeCache) -> AccessLogLine? {
        switch mode {
        case .detect:
            let first = p.first(where: { $0 != 0x20 && $0 != 0x09 })
            if first == 0x7B {
                return JSONAccessLine.parse(p, timeCache: &timeCache, keys: keys)
            }
            if first == 0x5B, let l = ProxyAccessLine.parseEnvoy(p, timeCache: &timeCache) { return l }
            return AccessLogLine.parse(p, timeCache: &timeCache) ?? ProxyAccessLine.parseHAProxy(p, timeCache: &timeCache)
        case let .preset(preset):
            switch preset {
            case .json: return JSONAccessLine.parse(p, timeCache: &timeCache, keys: keys)
            case .envoyJSON, .traefikJSON:
                guard var l = JSONAccessLine.parse(p, timeCache: &timeCache, keys: keys) else { return nil }
                l.format = preset == .envoyJSON ? .envoyJSON : .traefikJSON
                return l
            case .envoy, .istio:
                guard let l = ProxyAccessLine.parseEnvoy(p, timeCache: &timeCache), l.format == (preset == .envoy ? .envoy : .istio) else { return nil }
                return l
            case .haproxy: return ProxyAccessLine.parseHAProxy(p, timeCache: &timeCache)
            case .ingressNginx:
                guard let l = AccessLogLine.parse(p, timeCache: &timeCache), l.format == .ingress else { return nil }
                return l
            case .combined:
                guard let l = AccessLogLine.parse(p, timeCache: &timeCache), l.format == .combined else { return nil }
                return l
            case .main:
                guard let l = AccessLogLine.parse(p, timeCache: &timeCache), l.format == .main else { return nil }
                return l
            }
        case let .compiled(c):
            return c.parse(p, timeCache: &timeCache)
        }
    }
}

/// The fields the report reads from an access line, by NGINX variable name.
enum AccessField: UInt8, Sendable {
    case other, remoteAddr, timeLocal, timeISO8601, msec, request, status, host, requestID, upstreamName, userAgent, route, anyTime

    init(variable v: String) {
        switch v {
        case "remote_addr": self = .remoteAddr
        case "time_local": self = .timeLocal
        case "time_iso8601": self = .timeISO8601
        case "msec": self = .msec
        case "request": self = .request
        case "status": self = .status
        case "host", "http_host", "server_name": self = .host
        case "request_id", "req_id", "http_x_request_id": self = .requestID
        case "proxy_upstream_name": self = .upstreamName
        case "http_user_agent": self = .userAgent
        default: self = .other
        }
    }

    /// Variables whose value may hold `, ` (lists of upstreams, forwarded-for chains): a space
    /// after a comma does not end them.
    static func isList(_ v: String) -> Bool { v.hasPrefix("upstream_") || v == "http_x_forwarded_for" }
}

/// An NGINX `log_format` turned into matching steps, flat: plain values in two arrays (steps and
/// the literal bytes they point into), walked through unsafe pointers, so matching a line
/// allocates nothing and touches no reference counts.
struct CompiledAccessFormat: Sendable {
    struct Step: Sendable {
        /// 0: a literal; 1: a variable.
        var isField: Bool
        var field: AccessField
        /// The literal (for a literal step) or the terminator (the next literal; count 0: the end
        /// of the line), as a range of `bytes`.
        var start: Int
        var count: Int
        /// The variable sits inside quotes, where NGINX escapes `"` (so a `\"` does not end it).
        var quoted: Bool
        /// The value may hold `, ` (upstream lists, forwarded-for chains).
        var list: Bool
    }

    let steps: [Step]
    let bytes: [UInt8]

    init(_ format: NGINXLogFormat) {
        var steps: [Step] = []
        var bytes: [UInt8] = []
        var literalAt: [Int: (Int, Int)] = [:]
        let segs = format.segments
        for (k, s) in segs.enumerated() {
            if case let .literal(b) = s {
                literalAt[k] = (bytes.count, b.count)
                bytes += b
            }
        }
        for (k, s) in segs.enumerated() {
            switch s {
            case .literal:
                let (st, n) = literalAt[k]!
                steps.append(Step(isField: false, field: .other, start: st, count: n, quoted: false, list: false))
            case let .variable(v):
                let (st, n) = literalAt[k + 1] ?? (0, 0)
                var quoted = false
                if k > 0, case let .literal(prev) = segs[k - 1], prev.last == 0x22 { quoted = true }
                steps.append(Step(isField: true, field: AccessField(variable: v), start: st, count: n, quoted: quoted,
                                  list: AccessField.isList(v)))
            }
        }
        self.steps = steps
        self.bytes = bytes
    }

    func parse(_ p: UnsafeBufferPointer<UInt8>, timeCache: inout TimeCache) -> AccessLogLine? {
        steps.withUnsafeBufferPointer { st in
            bytes.withUnsafeBufferPointer { lit in match(p, st, lit, &timeCache) }
        }
    }

    @inline(__always)
    func match(_ p: UnsafeBufferPointer<UInt8>, _ steps: UnsafeBufferPointer<Step>, _ lit: UnsafeBufferPointer<UInt8>,
                       _ timeCache: inout TimeCache) -> AccessLogLine? {
        var n = p.count
        while n > 0, p[n - 1] == 0x20 || p[n - 1] == 0x09 { n -= 1 }
        var i = 0
        var line = AccessLogLine(format: .custom, status: 0, time: Int.min, upstream: 0..<0, requestID: 0..<0,
                                 remoteAddr: 0..<0, request: 0..<0, userAgent: 0..<0)
        for step in steps {
            if !step.isField {
                guard i + step.count <= n, let base = p.baseAddress, let l = lit.baseAddress else { return nil }
                if step.count == 1 {
                    guard base[i] == l[step.start] else { return nil }
                } else {
                    guard memcmp(base + i, l + step.start, step.count) == 0 else { return nil }
                }
                i += step.count
                continue
            }
            let end: Int
            if step.count > 0 {
                guard let e = Self.find(lit, step.start, step.count, in: p, from: i, limit: n, quoted: step.quoted, list: step.list) else {
                    return nil
                }
                end = e
            } else {
                end = n
            }
            let r = i..<end
            switch step.field {
            case .other, .route, .anyTime: break
            case .remoteAddr: line.remoteAddr = r
            case .request: line.request = r
            case .userAgent: line.userAgent = r
            case .host: line.host = Self.dash(p, r)
            case .requestID: line.requestID = Self.dash(p, r)
            case .upstreamName: line.upstream = Self.dash(p, r)
            case .status:
                guard let (v, after) = AccessLogLine.number(p, from: i), after == end else { return nil }
                line.status = Int32(clamping: v)
            case .timeLocal:
                guard let t = timeCache.seconds(UnsafeBufferPointer(rebasing: p[r])) else { return nil }
                line.time = t
            case .timeISO8601:
                guard let t = LogTime.parseISO8601(UnsafeBufferPointer(rebasing: p[r])) else { return nil }
                line.time = t
            case .msec:
                guard let t = LogTime.parseEpoch(UnsafeBufferPointer(rebasing: p[r])) else { return nil }
                line.time = t
            }
            i = end
        }
        guard i == n, line.time != Int.min else { return nil }
        return line
    }

    /// `-` (NGINX's empty value) as an empty range.
    @inline(__always)
    static func dash(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        r.count == 1 && p[r.lowerBound] == 0x2D ? r.upperBound..<r.upperBound : r
    }

    /// The start of the next terminator (`lit[start..<start+count]`) at or after `from`.
    @inline(__always)
    static func find(_ lit: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int, in p: UnsafeBufferPointer<UInt8>,
                     from: Int, limit: Int, quoted: Bool, list: Bool) -> Int? {
        guard let base = p.baseAddress, let l = lit.baseAddress else { return nil }
        let first = l[start]
        var i = from
        while i < limit {
            // Most fields are short: a plain loop first, memchr for long ones (request, User-Agent).
            var q = i
            let plainEnd = min(limit, i + 48)
            while q < plainEnd, base[q] != first { q += 1 }
            if q == plainEnd {
                guard q < limit, let hit = memchr(base + q, Int32(first), limit - q) else { return nil }
                q = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            if quoted, first == 0x22 {
                var slashes = 0
                var k = q - 1
                while k >= from, p[k] == 0x5C { slashes += 1; k -= 1 }
                if slashes % 2 == 1 { i = q + 1; continue }
            }
            if list, first == 0x20, q > from, p[q - 1] == 0x2C { i = q + 1; continue }
            guard q + count <= limit else { return nil }
            if count == 1 || memcmp(base + q + 1, l + start + 1, count - 1) == 0 { return q }
            i = q + 1
        }
        return nil
    }
}

/// A JSON access line (`escape=json`): one flat object, fields found by the names people give
/// them (the NGINX variable names, with or without `http_`, and `@timestamp`/`time`).
enum JSONAccessLine {
    static func parse(_ p: UnsafeBufferPointer<UInt8>, timeCache: inout TimeCache, keys: JSONKeys = JSONKeys()) -> AccessLogLine? {
        var line = AccessLogLine(format: .json, status: 0, time: Int.min, upstream: 0..<0, requestID: 0..<0,
                                 remoteAddr: 0..<0, request: 0..<0, userAgent: 0..<0)
        var i = 0
        let n = p.count
        func ws() { while i < n, p[i] == 0x20 || p[i] == 0x09 { i += 1 } }
        ws()
        guard i < n, p[i] == 0x7B else { return nil }
        i += 1
        ws()
        if i < n, p[i] == 0x7D { return nil }
        while i < n {
            ws()
            guard i < n, p[i] == 0x22, let keyEnd = AccessLogLine.quoteEnd(p, from: i + 1) else { return nil }
            let key = UnsafeBufferPointer(rebasing: p[(i + 1)..<keyEnd])
            i = keyEnd + 1
            ws()
            guard i < n, p[i] == 0x3A else { return nil }
            i += 1
            ws()
            guard i < n else { return nil }
            let value: Range<Int>
            var isString = false
            if p[i] == 0x22 {
                guard let e = AccessLogLine.quoteEnd(p, from: i + 1) else { return nil }
                value = (i + 1)..<e
                isString = true
                i = e + 1
            } else if p[i] == 0x7B || p[i] == 0x5B {
                guard let e = skipNested(p, from: i) else { return nil }
                value = i..<i
                i = e
            } else {
                let s = i
                while i < n, p[i] != 0x2C, p[i] != 0x7D, p[i] != 0x20 { i += 1 }
                guard i > s else { return nil }
                value = s..<i
            }
            if keys.isEmpty || !keys.assign(key, value, p, &line, &timeCache) {
                assign(key, value, isString: isString, p, &line, &timeCache)
            }
            ws()
            guard i < n else { return nil }
            if p[i] == 0x2C { i += 1; continue }
            guard p[i] == 0x7D else { return nil }
            i += 1
            ws()
            guard i == n, line.time != Int.min else { return nil }
            return line
        }
        return nil
    }

    static func skipNested(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var depth = 0, i = from
        while i < p.count {
            switch p[i] {
            case 0x22:
                guard let e = AccessLogLine.quoteEnd(p, from: i + 1) else { return nil }
                i = e
            case 0x7B, 0x5B: depth += 1
                if depth > 32 { return nil }
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 { return i + 1 }
            default: break
            }
            i += 1
        }
        return nil
    }

    static func equal(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        key.count == name.utf8CodeUnitCount && memcmp(key.baseAddress!, name.utf8Start, key.count) == 0
    }

    static func assign(_ key: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, isString: Bool, _ p: UnsafeBufferPointer<UInt8>,
                       _ line: inout AccessLogLine, _ timeCache: inout TimeCache) {
        guard key.count > 0 else { return }
        let text = UnsafeBufferPointer(rebasing: p[r])
        if equal(key, "time_local") {
            if let t = timeCache.seconds(text) { line.time = t }
        } else if equal(key, "time_iso8601") || equal(key, "@timestamp") || equal(key, "time") || equal(key, "timestamp") {
            if let t = timeCache.iso8601(text) ?? LogTime.parseCommonLog(text) ?? LogTime.parseEpoch(text) { line.time = t }
        } else if equal(key, "msec") {
            if let t = LogTime.parseEpoch(text) { line.time = t }
        } else if equal(key, "status") {
            if let (v, after) = AccessLogLine.number(p, from: r.lowerBound), after == r.upperBound { line.status = Int32(clamping: v) }
        } else if equal(key, "remote_addr") || equal(key, "client_ip") {
            line.remoteAddr = r
        } else if equal(key, "request") {
            line.request = r
        } else if equal(key, "host") || equal(key, "http_host") || equal(key, "server_name") {
            line.host = CompiledAccessFormat.dash(p, r)
        } else if equal(key, "request_id") || equal(key, "req_id") || equal(key, "http_x_request_id") {
            line.requestID = CompiledAccessFormat.dash(p, r)
        } else if equal(key, "proxy_upstream_name") {
            line.upstream = CompiledAccessFormat.dash(p, r)
        } else if equal(key, "http_user_agent") || equal(key, "user_agent") {
            line.userAgent = r
        } else {
            assignGateway(key, r, p, &line, &timeCache)
        }
    }
}
