import Foundation

/// One NGINX access-log line, parsed from bytes. Two formats are understood:
///
/// - ingress-nginx's `log-format-upstream` (17 fields):
///   `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
///   "$http_user_agent" $request_length $request_time [$proxy_upstream_name]
///   [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
///   $upstream_response_time $upstream_status $req_id`, where the upstream fields may list several
///   values separated by ", ";
/// - NGINX `combined`, its first 9 fields (no upstream, no request id);
/// - `main`, the official NGINX image's default: `combined` plus `"$http_x_forwarded_for"`.
///
/// Other formats (JSON access logs, any NGINX `log_format`) are read by `AccessLogFormat`.
///
/// Quoted fields hold `\xHH` escapes (NGINX writes `"`, `\` and non-printable bytes that way);
/// a missing value is `-`; an empty upstream name is `[]`. Fields are kept as byte ranges into
/// the line; `text(_:)` decodes one when a person needs to read it.
struct AccessLogLine {
    /// Which format read the line (the file summary counts lines per format).
    enum Format: Int, Sendable, CaseIterable {
        case ingress, combined, main, json, custom, envoy, envoyJSON, istio, haproxy, traefikJSON

        var name: String {
            switch self {
            case .ingress: "ingress-nginx"
            case .combined: "combined"
            case .main: "main"
            case .json: "json"
            case .custom: "log_format"
            case .envoy: "envoy"
            case .envoyJSON: "envoy-json"
            case .istio: "istio"
            case .haproxy: "haproxy"
            case .traefikJSON: "traefik-json"
            }
        }
    }

    var format: Format
    /// The answer code, clamped to 32 bits. Beside `format`, it keeps the line at 128 bytes, a
    /// size the compiler copies inline; at 136 bytes every copy of a parsed line was a call to
    /// `memcpy`, a tenth of an access-log run's samples (MemoryLayout is checked by a test).
    var status: Int32
    /// Unix seconds of `$time_local` (the request's end).
    var time: Int
    /// `$proxy_upstream_name` (`<namespace>-<service>-<port>`), empty for `[]` / `[-]` and combined.
    var upstream: Range<Int>
    /// `$req_id`, the last field (empty for combined or `-`).
    var requestID: Range<Int>
    var remoteAddr: Range<Int>
    /// `$request` without its quotes (still escaped).
    var request: Range<Int>
    var userAgent: Range<Int>
    /// `$host` / `$http_host` / `$server_name`, when the format has one (empty otherwise).
    var host: Range<Int> = 0..<0
    /// The route that served the request (Envoy Gateway's `route_name`, Traefik's `RouterName`,
    /// Istio's `%ROUTE_NAME%`), empty when the format has none.
    var route: Range<Int> = 0..<0

    /// Parses a line, or nil when it is not one of the two formats. `timeCache` remembers the
    /// last `$time_local` text: consecutive lines mostly share their second.
    static func parse(_ p: UnsafeBufferPointer<UInt8>, timeCache: inout TimeCache) -> AccessLogLine? {
        let n = p.count
        // Short fields are scanned inline, long ones (request, User-Agent) with memchr; the usual
        // shapes ("- - [", a 26-byte time, a "-" referer) are checked first.
        // $remote_addr
        guard let sp1 = scan(p, 0x20, from: 0), sp1 > 0 else { return nil }
        // " - $remote_user [" : find " [" that opens the time.
        var i = sp1 + 1
        guard i + 1 < n, p[i] == 0x2D, p[i + 1] == 0x20 else { return nil }
        i += 2
        let open: Int
        if i + 2 < n, p[i] == 0x2D, p[i + 1] == 0x20, p[i + 2] == 0x5B {
            open = i + 2
        } else {
            guard let o = index(of: 0x5B, in: p, from: i), o > i, p[o - 1] == 0x20 else { return nil }
            open = o
        }
        let close: Int
        if open + 27 < n, p[open + 27] == 0x5D {
            close = open + 27
        } else {
            guard let c = scan(p, 0x5D, from: open + 1) else { return nil }
            close = c
        }
        let timeText = UnsafeBufferPointer(rebasing: p[(open + 1)..<close])
        guard let time = timeCache.seconds(timeText) else { return nil }
        i = close + 1
        // "$request"
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x22 else { return nil }
        guard let reqEnd = quoteEnd(p, from: i + 2) else { return nil }
        let request = (i + 2)..<reqEnd
        i = reqEnd + 1
        // $status $body_bytes_sent
        guard i < n, p[i] == 0x20, let (status, afterStatus) = number(p, from: i + 1), afterStatus < n, p[afterStatus] == 0x20,
              let afterBytes = token(p, from: afterStatus + 1) else { return nil }
        i = afterBytes
        // "$http_referer" "$http_user_agent"
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x22 else { return nil }
        if i + 3 < n, p[i + 2] == 0x2D, p[i + 3] == 0x22 {
            i += 4
        } else {
            guard let refEnd = quoteEnd(p, from: i + 2) else { return nil }
            i = refEnd + 1
        }
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x22, let uaEnd = quoteEnd(p, from: i + 2) else { return nil }
        let userAgent = (i + 2)..<uaEnd
        i = uaEnd + 1
        var line = AccessLogLine(format: .combined, status: Int32(clamping: status), time: time, upstream: i..<i, requestID: i..<i,
                                 remoteAddr: 0..<sp1, request: request, userAgent: userAgent)
        // combined ends here (trailing spaces tolerated).
        var rest = i
        while rest < n, p[rest] == 0x20 { rest += 1 }
        if rest == n { return line }
        // main (the official NGINX image's default): combined plus ` "$http_x_forwarded_for"`.
        if p[i] == 0x20, i + 1 < n, p[i + 1] == 0x22, let xffEnd = quoteEnd(p, from: i + 2) {
            var after = xffEnd + 1
            while after < n, p[after] == 0x20 { after += 1 }
            if after == n {
                line.format = .main
                return line
            }
        }

        // ingress-nginx: $request_length $request_time [$proxy_upstream_name] [$alt] … $req_id
        guard p[i] == 0x20, let afterLength = token(p, from: i + 1), afterLength < n, p[afterLength] == 0x20,
              let afterTime = token(p, from: afterLength + 1), afterTime + 1 < n, p[afterTime] == 0x20,
              p[afterTime + 1] == 0x5B, let upClose = scan(p, 0x5D, from: afterTime + 2) else { return nil }
        var upstream = (afterTime + 2)..<upClose
        if upstream.count == 1, p[upstream.lowerBound] == 0x2D { upstream = upClose..<upClose }
        i = upClose + 1
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x5B, let altClose = scan(p, 0x5D, from: i + 2) else { return nil }
        // The rest are upstream address/length/time/status lists (which may hold ", "), then $req_id.
        var end = n
        while end > altClose + 1, p[end - 1] == 0x20 { end -= 1 }
        var idStart = end
        while idStart > altClose + 1, p[idStart - 1] != 0x20 { idStart -= 1 }
        guard idStart > altClose + 1, idStart < end else { return nil }
        line.format = .ingress
        line.upstream = upstream
        line.requestID = (idStart == end - 1 && p[idStart] == 0x2D) ? end..<end : idStart..<end
        return line
    }

    /// The next `byte` at or after `from`, by a plain loop (for fields of a few dozen bytes).
    @inline(__always)
    static func scan(_ p: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int) -> Int? {
        var i = from
        while i < p.count {
            if p[i] == byte { return i }
            i += 1
        }
        return nil
    }

    @inline(__always)
    static func index(of byte: UInt8, in p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < p.count, let base = p.baseAddress,
              let hit = memchr(base + from, Int32(byte), p.count - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// The closing quote of a quoted field starting at `from` (after the opening quote). NGINX
    /// never writes a raw `"` or `\` inside (it writes `\x22`, `\x5C`); a `\"` from another
    /// producer is still read as an escaped quote.
    @inline(__always)
    static func quoteEnd(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while let q = index(of: 0x22, in: p, from: i) {
            var slashes = 0
            var k = q - 1
            while k >= from, p[k] == 0x5C { slashes += 1; k -= 1 }
            if slashes % 2 == 0 { return q }
            i = q + 1
        }
        return nil
    }

    /// A non-empty run of non-space bytes; returns the index after it.
    @inline(__always)
    static func token(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while i < p.count, p[i] != 0x20 { i += 1 }
        return i > from ? i : nil
    }

    @inline(__always)
    static func number(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> (Int, Int)? {
        var i = from, v = 0
        while i < p.count, p[i] &- 0x30 < 10, i - from < 6 {
            v = v * 10 + Int(p[i] &- 0x30)
            i += 1
        }
        return i > from ? (v, i) : nil
    }

    /// A field as text: `\xHH` escapes decoded, invalid UTF-8 replaced, `-` kept as is.
    static func text(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        var i = r.lowerBound
        while i < r.upperBound {
            let c = p[i]
            if c == 0x5C, i + 3 < r.upperBound, p[i + 1] == 0x78, let h = hex(p[i + 2]), let l = hex(p[i + 3]) {
                out.append(h << 4 | l)
                i += 4
            } else if c == 0x5C, i + 1 < r.upperBound, p[i + 1] == 0x22 || p[i + 1] == 0x5C {
                out.append(p[i + 1])
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x37
        case 0x61...0x66: c - 0x57
        default: nil
        }
    }
}

/// Remembers the last time text and its seconds; `zone` reads wall times written without a zone
/// (HAProxy's accept date).
struct TimeCache {
    private var last: [UInt8] = []
    private var lastSeconds = 0
    var zone = LocalTimeZone(.gmt)

    init(zone: TimeZone = .gmt) { self.zone = LocalTimeZone(zone) }

    mutating func seconds(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        if text.count == last.count, !last.isEmpty,
           let t = text.baseAddress, last.withUnsafeBufferPointer({ memcmp($0.baseAddress!, t, text.count) == 0 }) {
            return lastSeconds
        }
        guard let s = LogTime.parseCommonLog(text) else { return nil }
        last.removeAll(keepingCapacity: true)
        last.append(contentsOf: text)
        lastSeconds = s
        return s
    }

    /// `LogTime.parseISO8601`, remembering the last time: lines of one second differ only in
    /// their fraction, which the seconds do not depend on, so the date and zone are compared
    /// instead of parsed again.
    private var lastISO: [UInt8] = []
    private var lastISOSeconds = 0

    mutating func iso8601(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        // The key: the text without the fraction's digits (`2025-11-19T00:00:01` + `Z`).
        var end = 19
        if text.count > 20, text[19] == 0x2E {
            end = 20
            while end < text.count, text[end] &- 0x30 < 10 { end += 1 }
        }
        if text.count >= 20, lastISO.count == 19 + (text.count - end), let t = text.baseAddress,
           lastISO.withUnsafeBufferPointer({ k in
               memcmp(k.baseAddress!, t, 19) == 0 && (text.count == end || memcmp(k.baseAddress! + 19, t + end, text.count - end) == 0)
           }) {
            return lastISOSeconds
        }
        guard let s = LogTime.parseISO8601(text) else { return nil }
        lastISO.removeAll(keepingCapacity: true)
        lastISO.append(contentsOf: UnsafeBufferPointer(rebasing: text[0..<19]))
        lastISO.append(contentsOf: UnsafeBufferPointer(rebasing: text[end...]))
        lastISOSeconds = s
        return s
    }
}
