import Foundation

/// Which engine wrote a rule-match line of an error log.
enum ErrorLogEngine: Int, Sendable, CaseIterable {
    /// `Coraza: Warning.` / `Coraza: Access denied (phase N)`: coraza-proxy-wasm in Envoy, Istio
    /// or Envoy Gateway, coraza-spoa, the Caddy and Traefik plugins.
    case coraza
    /// `ModSecurity: …` in NGINX's `error.log` (libmodsecurity 3 with ModSecurity-nginx).
    case modsecurityNginx
    /// `ModSecurity: …` in Apache's error log (ModSecurity 2).
    case modsecurityApache
    /// `ModSecurity: …` behind a prefix of neither server.
    case modsecurity

    var name: String {
        switch self {
        case .coraza: "Coraza"
        case .modsecurityNginx: "ModSecurity v3 (NGINX)"
        case .modsecurityApache: "ModSecurity 2 (Apache)"
        case .modsecurity: "ModSecurity"
        }
    }
}

/// One rule match (or intervention) of a ModSecurity/Coraza error-log line, as byte ranges into
/// the text it was read from.
struct ErrorLogEvent {
    var time = Int.min
    var engine = ErrorLogEngine.coraza
    /// `Access denied …` (the intervention), not a `Warning.`.
    var denied = false
    var id: Range<Int> = 0..<0
    var message: Range<Int> = 0..<0
    var severity: Range<Int> = 0..<0
    var version: Range<Int> = 0..<0
    var client: Range<Int> = 0..<0
    var uri: Range<Int> = 0..<0
    var host: Range<Int> = 0..<0
    var uniqueID: Range<Int> = 0..<0
    /// `[data "Matched Data: … found within ARGS:q: …"]`, and the text between the marker and
    /// the first tag (`Warning. Pattern match "…" at ARGS:q.`): where the matched variable is named.
    var data: Range<Int> = 0..<0
    var head: Range<Int> = 0..<0
}

/// Reads the ModSecurity/Coraza error-line family, tolerant of what comes before the message:
///
/// - Envoy: `[2024-03-31 10:47:41.011720][33][critical][wasm] [source/…/context.cc:1180] wasm log
///   coraza-filter my_vm_id: [client "192.168.65.1"] Coraza: Warning. … [id "941160"] …`;
/// - Istio: `2024-03-31T10:47:41.011720Z<TAB>warning<TAB>envoy wasm …: [client "…"] Coraza: …`
///   (its separate `<TAB>thread=26` line is not a rule match);
/// - JSON (Envoy Gateway, Caddy, coraza-spoa): `{"level":"error","ts":…,"msg":"[client \"…\"] Coraza: …"}`,
///   where one `msg` may hold several `Coraza:` lines joined by `\n`;
/// - NGINX: `2024/03/31 10:47:41 [info] 7#7: *1 ModSecurity: Warning. … [hostname "10.0.0.5"]
///   [uri "/"] [unique_id "…"], client: 1.2.3.4, server: shop, request: "GET /?q=1 HTTP/1.1", host: "shop.example.com"`;
/// - Apache: `[Sun Mar 31 10:47:41.011720 2024] [security2:error] [pid 1] [client 1.2.3.4:5678]
///   ModSecurity: Warning. … [hostname "shop.example.com"] [uri "/"] [unique_id "…"]`.
///
/// Times without a zone (Envoy, NGINX, Apache) are wall times in the configured zone.
enum ErrorLogParser {
    enum Outcome { case events, noise, badTime }

    static let coraza = Array("Coraza: ".utf8)
    static let modsec = Array("ModSecurity: ".utf8)

    /// Calls `body` for each rule match the line holds (a JSON `msg` may hold several), with the
    /// text the event's ranges point into.
    static func parse(_ p: UnsafeBufferPointer<UInt8>, zone: inout LocalTimeZone, scratch: inout [UInt8],
                      _ body: (UnsafeBufferPointer<UInt8>, ErrorLogEvent) -> Void) -> Outcome {
        var s = 0
        while s < p.count, p[s] == 0x20 || p[s] == 0x09 { s += 1 }
        if s < p.count, p[s] == 0x7B {
            return parseJSON(UnsafeBufferPointer(rebasing: p[s...]), zone: &zone, scratch: &scratch, body)
        }
        guard let event = parseText(p, zone: &zone, time: nil) else { return .noise }
        if event.time == Int.min { return .badTime }
        body(p, event)
        return .events
    }

    /// The first occurrence of `needle` in `p[from..<to]`.
    @inline(__always)
    static func find(_ needle: [UInt8], in p: UnsafeBufferPointer<UInt8>, from: Int, to: Int? = nil, anchor: Int = 0) -> Int? {
        needle.withUnsafeBufferPointer { find($0, in: p, from: from, to: to, anchor: anchor) }
    }

    /// The same for a needle in memory. Candidates are found by `memchr` on the needle's byte at
    /// `anchor` (a rare one: the `|` of ` | ` rather than its space), then compared whole.
    @inline(__always)
    static func find(_ needle: UnsafeBufferPointer<UInt8>, in p: UnsafeBufferPointer<UInt8>, from: Int, to: Int? = nil, anchor: Int = 0) -> Int? {
        let end = to ?? p.count
        guard let base = p.baseAddress, let n = needle.baseAddress, anchor < needle.count else { return nil }
        var i = from
        while i + needle.count <= end {
            guard let hit = memchr(base + i + anchor, Int32(n[anchor]), end - needle.count + 1 - i) else { return nil }
            let k = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) - anchor
            if memcmp(base + k, n, needle.count) == 0 { return k }
            i = k + 1
        }
        return nil
    }

    /// One text line (or one line of a JSON `msg`); nil when it holds no rule match. `time` is the
    /// JSON record's, when the text has none of its own.
    static func parseText(_ p: UnsafeBufferPointer<UInt8>, zone: inout LocalTimeZone, time: Int?) -> ErrorLogEvent? {
        var e = ErrorLogEvent()
        let markerAt: Int
        let markerLength: Int
        if let m = find(coraza, in: p, from: 0) {
            markerAt = m
            markerLength = coraza.count
            e.engine = .coraza
        } else if let m = find(modsec, in: p, from: 0) {
            markerAt = m
            markerLength = modsec.count
            e.engine = .modsecurity
        } else {
            return nil
        }
        let text = markerAt + markerLength
        e.denied = starts(p, text, "Access denied")
        // Tags after the marker.
        var i = text
        var sawID = false
        while let bracket = AccessLogLine.index(of: 0x5B, in: p, from: i) {
            // A tag is ` [name "value"]`: find `[` (rarer than spaces), then check the space.
            guard bracket > 0, p[bracket - 1] == 0x20 else { i = bracket + 1; continue }
            let open = bracket - 1
            let nameStart = open + 2
            // A name is under 16 bytes: the space is looked for no further (linear on a line of
            // many `[` without one), and the search goes on after this `[`, never at it again.
            guard let sp = firstSpace(p, from: nameStart, to: min(p.count, nameStart + 16)),
                  sp + 1 < p.count, p[sp + 1] == 0x22 else { i = bracket + 1; continue }
            // No closing `"]` after this one means none after a later one either: stop (a hostile
            // line of many unclosed tags stays linear).
            guard let close = valueEnd(p, from: sp + 2) else { break }
            let value = (sp + 2)..<close
            if e.head.isEmpty { e.head = text..<open }
            switch UnsafeBufferPointer(rebasing: p[nameStart..<sp]).count {
            case 2 where starts(p, nameStart, "id"): e.id = value; sawID = true
            case 3 where starts(p, nameStart, "msg"): e.message = value
            case 3 where starts(p, nameStart, "ver"): e.version = value
            case 3 where starts(p, nameStart, "uri"): e.uri = value
            case 8 where starts(p, nameStart, "severity"): e.severity = value
            case 8 where starts(p, nameStart, "hostname"): e.host = value
            case 9 where starts(p, nameStart, "unique_id"): e.uniqueID = value
            case 4 where starts(p, nameStart, "data"): e.data = value
            default: break
            }
            i = close + 2
        }
        guard sawID || e.denied else { return nil }
        // The prefix: time, engine (NGINX, Apache), client.
        let prefix = UnsafeBufferPointer(rebasing: p[0..<markerAt])
        var t: Int?
        if let (wall, server) = prefixTime(prefix) {
            t = server == .iso ? wall : zone.utc(fromWall: wall)
            if e.engine == .modsecurity { e.engine = server == .nginx ? .modsecurityNginx : server == .apache ? .modsecurityApache : .modsecurity }
        }
        e.time = t ?? time ?? Int.min
        if let c = find(clientTag, in: prefix, from: 0) {
            var s = c + clientTag.count
            var end: Int
            if s < markerAt, p[s] == 0x22 {
                s += 1
                end = s
                while end < markerAt, p[end] != 0x22 { end += 1 }
            } else {
                end = s
                while end < markerAt, p[end] != 0x5D { end += 1 }
                // Apache 2.4 writes `ip:port`.
                var k = end
                while k > s, p[k - 1] &- 0x30 < 10 { k -= 1 }
                if k > s, k < end, p[k - 1] == 0x3A, p[s..<(k - 1)].filter({ $0 == 0x3A }).isEmpty { end = k - 1 }
            }
            e.client = s..<end
        }
        // NGINX's suffix: `, client: X, server: S, request: "M T P", host: "H"`.
        if let c = find(nginxClient, in: p, from: max(text, i - 2)) {
            let s = c + nginxClient.count
            var end = s
            while end < p.count, p[end] != 0x2C { end += 1 }
            e.client = s..<end
            if e.engine == .modsecurity { e.engine = .modsecurityNginx }
            e.host = 0..<0  // [hostname] is the server's address here, not the Host
            if let r = find(nginxRequest, in: p, from: end) {
                let rs = r + nginxRequest.count
                if let re = AccessLogLine.quoteEnd(p, from: rs), let sp1 = AccessLogLine.scan(UnsafeBufferPointer(rebasing: p[0..<re]), 0x20, from: rs) {
                    var sp2 = re
                    while sp2 > sp1 + 1, p[sp2 - 1] != 0x20 { sp2 -= 1 }
                    let target = (sp1 + 1)..<(sp2 > sp1 + 1 ? sp2 - 1 : re)
                    if !target.isEmpty { e.uri = target }
                }
            }
            if let h = find(nginxHost, in: p, from: end) {
                let hs = h + nginxHost.count
                if let he = AccessLogLine.quoteEnd(p, from: hs) { e.host = hs..<he }
            }
        } else if !e.host.isEmpty, isAddress(UnsafeBufferPointer(rebasing: p[e.host])) {
            e.host = 0..<0  // Coraza writes the server's address
        }
        return e
    }

    static let tagOpen = Array(" [".utf8)
    static let clientTag = Array("[client ".utf8)
    static let nginxClient = Array(", client: ".utf8)
    static let nginxRequest = Array(", request: \"".utf8)
    static let nginxHost = Array(", host: \"".utf8)
    static let containerBar = Array(" | ".utf8)

    /// The first space in `p[from..<to]`, `to` at most 16 bytes on. Where 16 bytes can be read,
    /// eight at a time with no branch per byte (tag names run 2 to 9 bytes, and a byte loop's
    /// exit missed its prediction at nearly every tag).
    @inline(__always)
    static func firstSpace(_ p: UnsafeBufferPointer<UInt8>, from s: Int, to end: Int) -> Int? {
        if s + 16 == end, end <= p.count, let base = p.baseAddress {
            let raw = UnsafeRawPointer(base + s)
            for half in 0..<2 {
                // A byte of `x` is zero where the text has a space; the lowest flagged byte is the first one.
                let x = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: half * 8, as: UInt64.self)) ^ 0x2020_2020_2020_2020
                let flags = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                if flags != 0 { return s + half * 8 + flags.trailingZeroBitCount / 8 }
            }
            return nil
        }
        return AccessLogLine.scan(UnsafeBufferPointer(rebasing: p[0..<end]), 0x20, from: s)
    }

    @inline(__always)
    static func starts(_ p: UnsafeBufferPointer<UInt8>, _ at: Int, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard at + n <= p.count, let base = p.baseAddress else { return false }
        return memcmp(base + at, s.utf8Start, n) == 0
    }

    /// The `"` that ends a tag value: followed by `]`, not escaped (Coraza quotes values Go-style).
    static func valueEnd(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while let q = AccessLogLine.index(of: 0x22, in: p, from: i) {
            if q + 1 < p.count, p[q + 1] == 0x5D {
                var slashes = 0
                var k = q - 1
                while k >= from, p[k] == 0x5C { slashes += 1; k -= 1 }
                if slashes % 2 == 0 { return q }
            }
            i = q + 1
        }
        return nil
    }

    /// An IPv4 or IPv6 literal (digits, dots, colons, hex).
    static func isAddress(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !b.isEmpty else { return false }
        var colons = 0, dots = 0
        for c in b {
            if c == 0x3A { colons += 1 } else if c == 0x2E { dots += 1 }
            else if !(c &- 0x30 < 10 || (c | 0x20) &- 0x61 < 6 || c == 0x5B || c == 0x5D) { return false }
        }
        return dots == 3 || colons >= 2
    }

    enum Server { case envoy, iso, nginx, apache }

    /// The time at the start of the prefix (or after a `name | ` container prefix), and which
    /// server's shape it has. ISO times with a zone are UTC seconds; the others wall seconds.
    static func prefixTime(_ p: UnsafeBufferPointer<UInt8>) -> (Int, Server)? {
        var s = 0
        // A ` | ` within the first 80 bytes ends a shipper's prefix: found by its `|`, which lines
        // rarely hold (spaces are in every line).
        if let bar = find(containerBar, in: p, from: 0, to: min(p.count, 80), anchor: 1) { s = bar + 3 }
        while s < p.count, p[s] == 0x20 { s += 1 }
        guard s + 19 <= p.count else { return nil }
        let q = UnsafeBufferPointer(rebasing: p[s...])
        if q[0] == 0x5B {
            // Envoy `[2024-03-31 10:47:41.011720]` or Apache `[Sun Mar 31 10:47:41.011720 2024]`.
            guard let close = AccessLogLine.scan(q, 0x5D, from: 1) else { return nil }
            let inner = UnsafeBufferPointer(rebasing: q[1..<close])
            if inner.count >= 19, inner[4] == 0x2D, inner[10] == 0x20, let w = wallYMD(inner, dateSep: 0x2D) { return (w, .envoy) }
            if let w = apacheWall(inner) { return (w, .apache) }
            return nil
        }
        if q[4] == 0x2F, q[10] == 0x20, let w = wallYMD(q, dateSep: 0x2F) { return (w, .nginx) }
        if q[4] == 0x2D, q[10] == 0x54 {
            var e = 0
            while e < q.count, q[e] != 0x20, q[e] != 0x09 { e += 1 }
            if let t = LogTime.parseISO8601(UnsafeBufferPointer(rebasing: q[0..<e])) { return (t, .iso) }
            if let w = wallYMD(q, dateSep: 0x2D) { return (w, .envoy) }
        }
        return nil
    }

    /// `2024-03-31 10:47:41` / `2024/03/31 10:47:41` (a fraction may follow) as wall seconds.
    static func wallYMD(_ p: UnsafeBufferPointer<UInt8>, dateSep: UInt8) -> Int? {
        guard p.count >= 19, p[4] == dateSep, p[7] == dateSep, p[13] == 0x3A, p[16] == 0x3A,
              let y = LogTime.digits(p, 0, 4), let mon = LogTime.digits(p, 5, 2), (1...12).contains(mon),
              let d = LogTime.digits(p, 8, 2), let h = LogTime.digits(p, 11, 2), let mi = LogTime.digits(p, 14, 2),
              let s = LogTime.digits(p, 17, 2), LogTime.valid(year: y, month: mon, day: d, hour: h, minute: mi, second: s) else { return nil }
        return LogTime.days(year: y, month: mon, day: d) * 86400 + h * 3600 + mi * 60 + s
    }

    /// Apache's `Sun Mar 31 10:47:41.011720 2024` (the fraction dropped) as wall seconds.
    static func apacheWall(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        var b = Array(p)
        if b.count > 20, b[19] == 0x2E {
            var e = 20
            while e < b.count, b[e] &- 0x30 < 10 { e += 1 }
            b.removeSubrange(19..<e)
        }
        return b.withUnsafeBufferPointer { LogTime.parseCtimeWall($0) }
    }
}
