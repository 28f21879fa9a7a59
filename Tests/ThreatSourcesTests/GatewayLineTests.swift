import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources
import TestSupport

/// The gateway access-log presets and the ModSecurity/Coraza error-line parser, on real lines
/// (Tests/Fixtures/realworld/waf-gateway, origins in its README) and on the shapes each producer
/// documents.
@Suite("Gateway access lines and WAF error lines")
struct GatewayLineTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/realworld/waf-gateway").standardized.path

    static func lines(_ name: String) throws -> [String] {
        try String(contentsOfFile: fixtures + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func access(_ line: String, _ setting: AccessLogFormatSetting? = nil, zone: String = "UTC",
                fields: AccessLogFields = AccessLogFields()) -> (AccessLogLine, (Range<Int>) -> String)? {
        let bytes = Array(line.utf8)
        let reader = AccessLogReader(setting, fields: fields, zone: TimeZone(identifier: zone)!)
        var cache = TimeCache(zone: TimeZone(identifier: zone)!)
        return bytes.withUnsafeBufferPointer { p in
            reader.parse(p, timeCache: &cache).map { l in (l, { r in bytes.withUnsafeBufferPointer { AccessLogLine.text($0, r) } }) }
        }
    }

    @Test("Envoy START_TIME cache: remembered times equal a fresh parse for fractions, zones, a changed second and invalid texts, in any order")
    func isoTimeCache() {
        var rng = SplitMix(state: 21)
        let seconds = ["2025-11-19T00:00:01", "2025-11-19T00:00:02", "2025-11-19T23:59:59", "2024-02-29T12:00:00", "2025-02-29T12:00:00"]
        let tails = ["Z", ".123Z", ".5Z", ".Z", ".123456789Z", "+01:00", ".1+01:00", "-0530", ".77-05:30", "", ".", "X", ".12", "z"]
        var cache = TimeCache()
        for _ in 0..<3000 {
            let text = Array((seconds.randomElement(using: &rng)! + tails.randomElement(using: &rng)!).utf8)
            let cached = text.withUnsafeBufferPointer { cache.iso8601($0) }
            let fresh = text.withUnsafeBufferPointer { LogTime.parseISO8601($0) }
            #expect(cached == fresh, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test("Istio default text: detected as istio, time, status, request id, authority, route name")
    func istio() throws {
        let l = try Self.lines("istio.log")
        let (a, text) = try #require(access(l[0]))
        #expect(a.format == .istio && a.status == 418 && a.time == utc("2020-11-25T21:26:18Z"))
        #expect(text(a.requestID) == "84961386-6d84-929d-98bd-c5aee93b5c88" && text(a.host) == "httpbin:8000")
        #expect(text(a.route) == "default")
        #expect(access(l[1], .preset(.istio))?.0.format == .istio)
        #expect(access(l[1], .preset(.envoy)) == nil, "an Istio line is not Envoy's shorter default")
    }

    @Test("Envoy default text: detected as envoy; the X-Forwarded-For's first address is the client")
    func envoy() throws {
        let l = try Self.lines("envoy-text.log")
        let (a, text) = try #require(access(l[1]))
        #expect(a.format == .envoy && a.status == 200 && text(a.host) == "httpbin.org" && text(a.remoteAddr) == "172.17.0.5")
        let (tcp, _) = try #require(access(l[0], .preset(.envoy)))
        #expect(tcp.status == 0 && tcp.host.isEmpty && tcp.requestID.isEmpty, "\"-\" is no value")
        #expect(access(l[1], .preset(.istio)) == nil)
    }

    @Test("HAProxy httplog: the accept date is read in access_log_timezone; without `{…}` captures the line still reads")
    func haproxyZone() throws {
        let l = try Self.lines("haproxy.log")
        let (utcLine, text) = try #require(access(l[0], .preset(.haproxy)))
        #expect(utcLine.time == utc("2018-07-30T09:03:52Z") && utcLine.status == 304 && text(utcLine.host) == "docs.example.internal")
        #expect(text(utcLine.remoteAddr) == "1.2.3.4")
        let (berlin, _) = try #require(access(l[0], .preset(.haproxy), zone: "Europe/Berlin"))
        #expect(berlin.time == utc("2018-07-30T07:03:52Z"), "CEST is UTC+2")
        let raw = "127.0.0.1:45678 [06/Dec/2026:12:00:00.123] fe be/srv 0/0/0/1/1 403 212 - - ---- 1/1/0/0/0 0/0 \"GET /?q=1 HTTP/1.1\""
        #expect(access(raw)?.0.status == 403, "log stdout format raw: no syslog prefix")
        #expect(access(l[1], .preset(.haproxy)) == nil, "a custom log-format line is not httplog")
    }

    @Test("HAProxy httplog cut at the log length: the real 1027-character line from logstash-patterns-core reads, its request the rest of the line; a quote that does not open the last field does not")
    func haproxyCutLine() throws {
        let l = try Self.lines("haproxy-httplog-logstash.log")
        let cut = l[5]
        #expect(cut.utf8.count == 1027 && !cut.hasSuffix("\""))
        let (a, text) = try #require(access(cut))
        #expect(a.format == .haproxy && a.status == 200 && a.time == utc("2017-07-31T22:20:22Z") && text(a.remoteAddr) == "203.0.113.54")
        #expect(text(a.request) == "GET /path/to/request/that/exceeds/more/than/1024/character" + String(repeating: "s", count: 800))
        #expect(a.host.isEmpty, "no captures")
        // A closed request still ends before its closing quote.
        let (closed, closedText) = try #require(access(l[6]))
        #expect(closedText(closed.request) == "CONNECT localhost:8080 HTTP/1.1")
        // Cut inside a capture (the quote follows no space) or before any quote: not an httplog line.
        let head = "127.0.0.1:1 [06/Dec/2026:12:00:00.123] fe be/srv 0/0/0/1/1 200 212 - - ---- 1/1/0/0/0 0/0 "
        #expect(access(head + "{a\"b", .preset(.haproxy)) == nil)
        #expect(access(head + "{host||}", .preset(.haproxy)) == nil)
    }

    @Test("Envoy JSON: configured field names are read before the built-in ones")
    func envoyJSONFields() throws {
        var f = AccessLogFields()
        f.time = "ts"
        f.status = "code"
        f.host = "authority"
        f.route = "route"
        let line = #"{"ts":"2026-11-19T10:00:00Z","code":"403","authority":"Shop.Example.com:443","route":"httproute/shop/web/rule/0","x-request-id":"abc"}"#
        let (a, text) = try #require(access(line, .preset(.envoyJSON), fields: f))
        #expect(a.format == .envoyJSON && a.status == 403 && a.time == utc("2026-11-19T10:00:00Z"))
        #expect(text(a.host) == "Shop.Example.com:443" && text(a.route) == "httproute/shop/web/rule/0" && text(a.requestID) == "abc")
        #expect(access(line, .preset(.envoyJSON)) == nil, "without the names the line has no time")
    }

    @Test("Route attribution: httproute/<namespace>/…, <namespace>-…@kubernetes, and routes that say nothing")
    func routes() {
        let a = Attribution(namespace: "shop", hosts: [])
        func owns(_ r: String) -> Bool? { wafWithBytes(r) { a.ownsRoute($0, 0..<$0.count) } }
        #expect(owns("httproute/shop/web/rule/0/match/0/shop_example_com") == true)
        #expect(owns("grpcroute/shop-eu/api/rule/0") == false)
        #expect(owns("shop-web-8f2c@kubernetescrd") == true)
        #expect(owns("httproute-shop-web-gw-gateway-ep-web-0-1a2b@kubernetesgateway") == true)
        #expect(owns("other-web@kubernetes") == false)
        #expect(owns("ping@internal") == nil && owns("default") == nil && owns("original_route") == nil)
    }

    func events(_ line: String, zone: String = "UTC") -> [(ErrorLogEvent, [String: String])] {
        var z = LocalTimeZone(TimeZone(identifier: zone)!)
        var scratch: [UInt8] = []
        var out: [(ErrorLogEvent, [String: String])] = []
        _ = wafWithBytes(line) { p in
            ErrorLogParser.parse(p, zone: &z, scratch: &scratch) { text, e in
                func s(_ r: Range<Int>) -> String { String(decoding: text[r], as: UTF8.self) }
                out.append((e, ["id": s(e.id), "msg": s(e.message), "severity": s(e.severity), "ver": s(e.version), "client": s(e.client),
                                "uri": s(e.uri), "host": s(e.host), "unique_id": s(e.uniqueID)]))
            }
        }
        return out
    }

    @Test("coraza-proxy-wasm behind Envoy's prefix: time in the zone, client, rule, severity, CRS version; the server address is no Host")
    func envoyCoraza() throws {
        let line = #"[2024-03-31 10:47:41.011720][33][critical][wasm] [source/extensions/common/wasm/context.cc:1180] wasm log coraza-filter my_vm_id: [client "192.168.65.1"] Coraza: Warning. Matched "Operator `Rx' with parameter `(?i)<script'" [file "@owasp_crs/REQUEST-941-APPLICATION-ATTACK-XSS.conf"] [line "90"] [id "941160"] [rev ""] [msg "NoScript XSS InjectionChecker: HTML Injection"] [data "Matched Data: <script found within ARGS:arg"] [severity "critical"] [ver "OWASP_CRS/4.1.0"] [tag "attack-xss"] [hostname "10.244.0.7"] [uri "/anything?arg=<script>alert(0)</script>"] [unique_id "REOYcbXFlHezRahgOnj"]"#
        let e = events(line, zone: "Europe/Berlin")
        #expect(e.count == 1)
        let (ev, f) = try #require(e.first)
        #expect(ev.engine == .coraza && !ev.denied && ev.time == utc("2024-03-31T08:47:41Z"), "CEST is UTC+2")
        #expect(f["client"] == "192.168.65.1" && f["id"] == "941160" && f["severity"] == "critical" && f["ver"] == "OWASP_CRS/4.1.0")
        #expect(f["host"] == "" && f["unique_id"] == "REOYcbXFlHezRahgOnj" && f["uri"] == "/anything?arg=<script>alert(0)</script>")
    }

    @Test("Tag names: the first space found eight bytes at a time is the byte loop's, for spaces at every place, bytes next to a space's value, and near the end of the text")
    func firstSpaceAgainstLoop() {
        var rng = SplitMix(state: 23)
        // Bytes that differ from a space by one bit or sit next to it (borrows of the word trick).
        let alphabet: [UInt8] = [0x20, 0x21, 0x1F, 0x00, 0xA0, 0x60, 0x30, 0x41, 0xFF, 0x22, 0x5B]
        var checked = 0, wrong = 0
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 40)
            let bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            bytes.withUnsafeBufferPointer { p in
                for from in 0...n {
                    let end = min(n, from + 16)
                    var loop: Int? = nil
                    for k in from..<end where p[k] == 0x20 { loop = k; break }
                    checked += 1
                    if ErrorLogParser.firstSpace(p, from: from, to: end) != loop { wrong += 1 }
                }
            }
        }
        #expect(wrong == 0 && checked > 300_000)
    }

    @Test("A parsed access line is 128 bytes: copied inline by the compiler (at 136 every copy was a memcpy call)")
    func accessLineSize() {
        #expect(MemoryLayout<AccessLogLine>.size <= 128)
        #expect(MemoryLayout<AccessLogLine?>.size <= 128, "the optional uses the format's spare values")
    }

    @Test("A container prefix (`name | `) before the time: found by its bar within the first 80 bytes, not a bar without spaces or one further on")
    func containerPrefix() {
        let rest = #"[2024-03-31 10:47:41.011720][33][critical][wasm] wasm log coraza-filter my_vm_id: [client "1.2.3.4"] Coraza: Warning. x [id "941160"] [uri "/"] [unique_id "u1"]"#
        #expect(events("envoy-1  | " + rest).first?.0.time == utc("2024-03-31T10:47:41Z"))
        #expect(events("a|b | " + rest).first?.0.time == utc("2024-03-31T10:47:41Z"), "the first bar has no spaces: the next one ends the prefix")
        #expect(events("| " + rest).isEmpty, "a bar at the start has no space before it: no prefix, so no time, and the line is not counted")
        // ` | ` must end within the first 80 bytes.
        #expect(events(String(repeating: "x", count: 77) + " | " + rest).first?.0.time == utc("2024-03-31T10:47:41Z"))
        #expect(events(String(repeating: "x", count: 78) + " | " + rest).isEmpty)
    }

    @Test("Istio's tab-separated Coraza line (real, from coraza-proxy-wasm's README): fields read; without its time it is not counted; thread= is noise")
    func istioCoraza() throws {
        let line = try Self.lines("istio-coraza-readme.log")[0]
        #expect(events(line).isEmpty, "no time: skipped, not guessed")
        var z = LocalTimeZone(TimeZone(identifier: "UTC")!)
        let e = try #require(wafWithBytes(line) { ErrorLogParser.parseText($0, zone: &z, time: 1_696_945_547) })
        #expect(e.time == 1_696_945_547 && e.engine == .coraza)
        #expect(wafWithBytes(line) { String(decoding: $0[e.id], as: UTF8.self) } == "941390")
        #expect(wafWithBytes(line) { String(decoding: $0[e.client], as: UTF8.self) } == "my-client")
        let withTime = "2023-10-10T13:45:47.123456Z\twarning\t" + line
        #expect(events(withTime).first?.0.time == utc("2023-10-10T13:45:47Z"))
        #expect(events("\tthread=27").isEmpty)
    }

    @Test("ModSecurity v3 in NGINX: client, request target and Host from NGINX's suffix; [hostname] is not the Host")
    func nginx() throws {
        let line = #"2026/11/19 10:00:01 [info] 12#12: *7 ModSecurity: Warning. Matched "Operator `Rx' with parameter `(?i)union.*select'" against variable `ARGS:q' (Value: `1 union select 1' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "45"] [id "942100"] [rev ""] [msg "SQL Injection Attack Detected via libinjection"] [data "Matched Data: 1UE found within ARGS:q: 1 union select 1"] [severity "2"] [ver "OWASP_CRS/3.3.4"] [maturity "0"] [accuracy "0"] [tag "attack-sqli"] [hostname "127.0.0.1"] [uri "/search"] [unique_id "171188440127.123456"] [ref "v19,16"], client: 203.0.113.9, server: shop.example.com, request: "GET /search?q=1%20union%20select%201 HTTP/1.1", host: "Shop.Example.com:8443""#
        let (ev, f) = try #require(events(line).first)
        #expect(ev.engine == .modsecurityNginx && ev.time == utc("2026-11-19T10:00:01Z"))
        #expect(f["client"] == "203.0.113.9" && f["host"] == "Shop.Example.com:8443" && f["uri"] == "/search?q=1%20union%20select%201")
        #expect(f["severity"] == "2" && f["id"] == "942100")
        let denied = #"2026/11/19 10:00:01 [error] 12#12: *7 [client 203.0.113.9] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `5' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf"] [line "80"] [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"] [hostname "127.0.0.1"] [uri "/search"] [unique_id "171188440127.123456"], client: 203.0.113.9, server: shop.example.com, request: "GET /search?q=1 HTTP/1.1", host: "shop.example.com""#
        #expect(events(denied).first?.0.denied == true)
        #expect(events("2026/11/19 10:00:01 [notice] 1#1: signal process started").isEmpty)
    }

    @Test("ModSecurity 2 in Apache: the ctime prefix with microseconds, [client ip:port], [hostname] is the Host")
    func apache() throws {
        let line = #"[Sun Jun 07 17:45:31.123456 2023] [security2:error] [pid 1234:tid 5678] [client 192.168.45.191:43614] [client 192.168.45.191] ModSecurity: Warning. Pattern match "^[\\d.:]+$" at REQUEST_HEADERS:Host. [file "/usr/share/modsecurity-crs/rules/REQUEST-920-PROTOCOL-ENFORCEMENT.conf"] [line "696"] [id "920350"] [msg "Host header is a numeric IP address"] [severity "WARNING"] [ver "OWASP_CRS/3.2.0"] [hostname "shop.example.com"] [uri "/cgi-sys/entropysearch.cgi"] [unique_id "ZID6e1f"]"#
        let (ev, f) = try #require(events(line).first)
        #expect(ev.engine == .modsecurityApache && ev.time == utc("2023-06-07T17:45:31Z"))
        #expect(f["client"] == "192.168.45.191" && f["host"] == "shop.example.com" && f["id"] == "920350")
    }

    @Test("JSON-wrapped: one msg of three lines gives three events of one time; escapes decoded")
    func jsonWrapped() throws {
        let line = try Self.lines("caddy-coraza.json.log")[3]
        let e = events(line)
        #expect(e.count == 3)
        #expect(Set(e.map { $0.1["unique_id"] ?? "" }) == ["wkcZDKxPdjAjKqii"])
        #expect(e.allSatisfy { $0.0.time == 1_700_810_574 && $0.1["client"] == "192.168.1.4" && $0.1["id"] == "920300" })
        #expect(events(#"{"level":"info","ts":1700764841.5,"msg":"serving initial configuration"}"#).isEmpty)
    }

    @Test("Severity words of every engine without case (Coraza critical, v2 CRITICAL, v3 digits); others unknown")
    func severities() {
        #expect(wafWithBytes("critical") { ErrorLogPart.severity($0) } == 2 && wafWithBytes("CRITICAL") { ErrorLogPart.severity($0) } == 2)
        #expect(wafWithBytes("emergency") { ErrorLogPart.severity($0) } == 0 && wafWithBytes("Notice") { ErrorLogPart.severity($0) } == 5)
        #expect(wafWithBytes("2") { ErrorLogPart.severity($0) } == 2 && wafWithBytes("9") { ErrorLogPart.severity($0) } == nil)
        #expect(wafWithBytes("criticalx") { ErrorLogPart.severity($0) } == nil && wafWithBytes("") { ErrorLogPart.severity($0) } == nil)
    }

    @Test("Hostile tag values: an escaped quote does not end a value; a tag without its closing quote is passed over, not a crash")
    func hostile() {
        let line = #"2026-11-19T10:00:00Z [client "1.2.3.4"] Coraza: Warning. x [id "942100"] [msg "a \"] [id \"999999\" b"] [uri "/x"] [unique_id "u1"] [data "unterminated"#
        let e = events(line)
        #expect(e.first?.1["id"] == "942100" && e.first?.1["msg"] == #"a \"] [id \"999999\" b"#)
        #expect(events(String(repeating: "[", count: 5000) + "Coraza: Warning.").isEmpty)
        // A generated worst case: a 1 MiB line of unclosed tags after the marker is read through once
        // (the first tag without its `"]` ends the tag scan) and gives no event.
        let worst = "2026-11-19T10:00:00Z Coraza: Warning. " + String(repeating: #" [id "9"#, count: 150_000)
        #expect(events(worst).isEmpty)
    }

    @Test("Error-line tags: a `[` with no name-and-quote after it is passed over, never read again (the FuzzErrorLine timeout: ` [tag{…` looped for ever); every event's ranges stay inside its text")
    func bracketWithoutTagEnds() throws {
        let line = "2024-03-31T10:47:41Z\twarning\tenvoy wasm: [client \"192.0.2.7\"] Coraza: Warning. [tag{xxxxxxxxxxxxxxxxxxxxxxxx yy [id \"942100\"] [unique_id \"u1\"]"
        let found = events(line)
        #expect(found.count == 1)
        #expect(found.first?.1["id"] == "942100" && found.first?.1["unique_id"] == "u1" && found.first?.1["client"] == "192.0.2.7")
        // The input the fuzzer saved (Fixtures/fuzz/error-line), line by line through the parser.
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/error-line")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasPrefix(".") {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            for l in bytes.split(separator: 0x0A) {
                var z = LocalTimeZone(TimeZone(identifier: "UTC")!), scratch: [UInt8] = []
                var ranges = 0
                _ = Array(l).withUnsafeBufferPointer { p in
                    ErrorLogParser.parse(p, zone: &z, scratch: &scratch) { text, e in
                        for r in [e.id, e.message, e.severity, e.version, e.client, e.uri, e.host, e.uniqueID] {
                            #expect(r.lowerBound >= 0 && r.upperBound <= text.count, "\(name)")
                            ranges += 1
                        }
                    }
                }
                #expect(ranges % 8 == 0)
            }
        }
    }
}
