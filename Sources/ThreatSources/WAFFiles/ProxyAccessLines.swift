import Foundation

/// Access lines of the proxies beside NGINX, parsed from bytes in one pass (no regular
/// expression), as `AccessLogLine.parse` reads NGINX's:
///
/// - Envoy's default text format, which Envoy Gateway writes for a text access log:
///   `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
///   %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
///   "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`;
/// - Istio's default: the same with `%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
///   "%UPSTREAM_TRANSPORT_FAILURE_REASON%"` after the flags, and `%UPSTREAM_CLUSTER%
///   %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
///   %REQUESTED_SERVER_NAME% %ROUTE_NAME%` at the end. Both are anchored on the run of five quoted
///   fields (forwarded-for, User-Agent, request id, authority, upstream host): what follows them
///   (nothing, or six fields) says which;
/// - HAProxy's `option httplog`: `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
///   %ac/%fc/%bc/%sc/%rc %sq/%bq {%hrl} {%hsl} %{+Q}r`, raw or behind a syslog prefix; the Host is
///   the first captured request header, when `capture request header Host` comes first.
enum ProxyAccessLine {
    /// Envoy or Istio text. nil when the line is neither.
    static func parseEnvoy(_ p: UnsafeBufferPointer<UInt8>, timeCache: inout TimeCache) -> AccessLogLine? {
        var n = p.count
        while n > 0, p[n - 1] == 0x20 || p[n - 1] == 0x09 { n -= 1 }
        guard n > 30, p[0] == 0x5B, let close = AccessLogLine.scan(p, 0x5D, from: 1), close < 40,
              let time = timeCache.iso8601(UnsafeBufferPointer(rebasing: p[1..<close])) else { return nil }
        var i = close + 1
        // Envoy writes the path as it came, quotes included: the request ends at a quote followed
        // by a space and the status digits.
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x22 else { return nil }
        var reqEnd = i + 2
        while true {
            guard let q = quotedEnd(p, from: reqEnd, limit: n) else { return nil }
            if q + 2 < n, p[q + 2] &- 0x30 < 10 { reqEnd = q; break }
            reqEnd = q + 1
        }
        let request = (i + 2)..<reqEnd
        i = reqEnd + 1
        guard i < n, p[i] == 0x20, let (status, afterStatus) = AccessLogLine.number(p, from: i + 1),
              afterStatus == n || p[afterStatus] == 0x20 else { return nil }
        // The fields after the status: (range, quoted), at most 32, on the stack.
        return withUnsafeTemporaryAllocation(of: (Range<Int>, Bool).self, capacity: 33) { buffer -> AccessLogLine? in
            var count = 0
            i = afterStatus
            while i < n {
                guard p[i] == 0x20 else { return nil }
                i += 1
                if i < n, p[i] == 0x22 {
                    guard let e = quotedEnd(p, from: i + 1, limit: n) else { return nil }
                    buffer.initializeElement(at: count, to: ((i + 1)..<e, true))
                    i = e + 1
                } else {
                    let s = i
                    while i < n, p[i] != 0x20 { i += 1 }
                    guard i > s else { return nil }
                    buffer.initializeElement(at: count, to: (s..<i, false))
                }
                count += 1
                if count > 32 { return nil }
            }
            return envoyLine(p, UnsafeBufferPointer(start: buffer.baseAddress, count: count), time: time,
                             status: status, request: request)
        }
    }

    /// The Envoy or Istio line whose fields after the status are `fields`.
    @inline(__always)
    static func envoyLine(_ p: UnsafeBufferPointer<UInt8>, _ fields: UnsafeBufferPointer<(Range<Int>, Bool)>, time: Int, status: Int,
                          request: Range<Int>) -> AccessLogLine? {
        // The first run of five quoted fields: forwarded-for, User-Agent, request id, authority,
        // upstream host.
        var run = -1
        var k = 0
        while k + 5 <= fields.count {
            if fields[k].1, fields[k + 1].1, fields[k + 2].1, fields[k + 3].1, fields[k + 4].1 { run = k; break }
            k += 1
        }
        guard run >= 0 else { return nil }
        let tail = fields.count - (run + 5)
        var line = AccessLogLine(format: .envoy, status: Int32(clamping: status), time: time, upstream: 0..<0, requestID: 0..<0,
                                 remoteAddr: 0..<0, request: request, userAgent: fields[run + 1].0)
        switch (run, tail) {
        case (5, 0): line.format = .envoy
        case (7, 6), (8, 6):
            line.format = .istio
            line.route = CompiledAccessFormat.dash(p, fields[fields.count - 1].0)
        default: return nil
        }
        line.remoteAddr = firstOfList(p, CompiledAccessFormat.dash(p, fields[run].0))
        line.requestID = CompiledAccessFormat.dash(p, fields[run + 2].0)
        line.host = CompiledAccessFormat.dash(p, fields[run + 3].0)
        return line
    }

    /// The closing quote of a quoted field: a `"` followed by a space or the end of the line
    /// (Envoy writes header values as they came, quotes included).
    @inline(__always)
    static func quotedEnd(_ p: UnsafeBufferPointer<UInt8>, from: Int, limit: Int) -> Int? {
        var i = from
        while i < limit {
            guard let q = AccessLogLine.index(of: 0x22, in: UnsafeBufferPointer(rebasing: p[0..<limit]), from: i) else { return nil }
            if q + 1 == limit || p[q + 1] == 0x20 { return q }
            i = q + 1
        }
        return nil
    }

    /// `1.2.3.4, 10.0.0.1` → `1.2.3.4`.
    @inline(__always)
    static func firstOfList(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        var e = r.lowerBound
        while e < r.upperBound, p[e] != 0x2C { e += 1 }
        return r.lowerBound..<e
    }

    /// HAProxy `httplog`. `zone` reads the accept date, which HAProxy writes in local time
    /// without a zone.
    static func parseHAProxy(_ p: UnsafeBufferPointer<UInt8>, timeCache: inout TimeCache) -> AccessLogLine? {
        var n = p.count
        while n > 0, p[n - 1] == 0x20 || p[n - 1] == 0x09 { n -= 1 }
        // The accept date: ` [dd/Mon/yyyy:HH:MM:SS.mmm]`, after the client's `ip:port`.
        var open = -1
        var i = 0
        while i + 26 < n {
            guard let o = AccessLogLine.index(of: 0x5B, in: UnsafeBufferPointer(rebasing: p[0..<n]), from: i) else { return nil }
            if o > 0, p[o - 1] == 0x20, o + 25 < n, p[o + 3] == 0x2F, p[o + 7] == 0x2F, p[o + 12] == 0x3A, p[o + 25] == 0x5D {
                open = o
                break
            }
            i = o + 1
        }
        guard open > 1 else { return nil }
        var cs = open - 1
        while cs > 0, p[cs - 1] != 0x20 { cs -= 1 }
        // The client is `ip:port`: drop the port.
        var ce = open - 1
        var k = ce
        while k > cs, p[k - 1] &- 0x30 < 10 { k -= 1 }
        guard k > cs, k < ce, p[k - 1] == 0x3A else { return nil }
        ce = k - 1
        guard let time = timeCache.haproxySeconds(UnsafeBufferPointer(rebasing: p[(open + 1)..<(open + 25)])) else { return nil }
        i = open + 26
        // %ft %b/%s timers %ST
        var tokens: [Range<Int>] = []
        while tokens.count < 4, i < n {
            guard p[i] == 0x20 else { return nil }
            i += 1
            let s = i
            while i < n, p[i] != 0x20 { i += 1 }
            guard i > s else { return nil }
            tokens.append(s..<i)
        }
        guard tokens.count == 4, p[tokens[1]].contains(0x2F), p[tokens[2]].contains(0x2F) else { return nil }
        var status = 0
        if !(tokens[3].count == 2 && p[tokens[3].lowerBound] == 0x2D && p[tokens[3].lowerBound + 1] == 0x31) {
            guard let (v, after) = AccessLogLine.number(p, from: tokens[3].lowerBound), after == tokens[3].upperBound else { return nil }
            status = v
        }
        // The request is the last field, quoted; captured headers `{…}` come before it. A line cut
        // at HAProxy's log length (1024 bytes by default) ends inside the request, without its
        // closing quote: the request is the rest of the line.
        guard n > i, let q = AccessLogLine.index(of: 0x22, in: UnsafeBufferPointer(rebasing: p[0..<n]), from: i), q < n - 1 else { return nil }
        let end: Int
        if p[n - 1] == 0x22 {
            end = n - 1
        } else {
            // Cut: the quote opens the last field, after a space.
            guard p[q - 1] == 0x20 else { return nil }
            end = n
        }
        var line = AccessLogLine(format: .haproxy, status: Int32(clamping: status), time: time, upstream: 0..<0, requestID: 0..<0,
                                 remoteAddr: cs..<ce, request: (q + 1)..<end, userAgent: 0..<0)
        if let brace = AccessLogLine.index(of: 0x7B, in: UnsafeBufferPointer(rebasing: p[0..<q]), from: i) {
            var e = brace + 1
            while e < q, p[e] != 0x7C, p[e] != 0x7D { e += 1 }
            if e > brace + 1 { line.host = (brace + 1)..<e }
        }
        return line
    }
}

extension TimeCache {
    /// HAProxy's accept date `06/Feb/2009:12:14:14.655`, a wall time in `zone`.
    mutating func haproxySeconds(_ t: UnsafeBufferPointer<UInt8>) -> Int? {
        guard t.count == 24, t[2] == 0x2F, t[6] == 0x2F, t[11] == 0x3A, t[14] == 0x3A, t[17] == 0x3A, t[20] == 0x2E,
              let d = LogTime.digits(t, 0, 2), let mon = LogTime.month(t[3], t[4], t[5]), let y = LogTime.digits(t, 7, 4),
              let h = LogTime.digits(t, 12, 2), let mi = LogTime.digits(t, 15, 2), let s = LogTime.digits(t, 18, 2),
              LogTime.valid(year: y, month: mon, day: d, hour: h, minute: mi, second: s) else { return nil }
        let wall = LogTime.days(year: y, month: mon, day: d) * 86400 + h * 3600 + mi * 60 + s
        return zone.utc(fromWall: wall)
    }
}
