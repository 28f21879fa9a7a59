import Foundation
import Testing
import ThreatModel
@testable import ThreatSources
import TestSupport

/// Fixtures in Fixtures/waf (see its README): real captures from the lab NGINX + ModSecurity v3,
/// and v2 / Coraza lines written from the producers' documented formats.
enum WAFFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/waf")
    static func path(_ name: String) -> String { root.appendingPathComponent(name).path }
    static func lines(_ name: String) throws -> [[UInt8]] {
        try [UInt8](Data(contentsOf: root.appendingPathComponent(name))).split(separator: 0x0A).map(Array.init)
    }
}

func wafWithBytes<T>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
    Array(s.utf8).withUnsafeBufferPointer(body)
}

func wafAudit(_ line: [UInt8], zone: String = "UTC") -> Result<AuditEntry, AuditEntryReader.Failure> {
    var reader = AuditEntryReader(zone: TimeZone(identifier: zone)!)
    return line.withUnsafeBufferPointer { reader.parse($0) }
}

func wafAudit(_ line: String, zone: String = "UTC") -> Result<AuditEntry, AuditEntryReader.Failure> {
    wafAudit(Array(line.utf8), zone: zone)
}

func utc(_ s: String) -> Int { Int(RFC3339.parse(s)!.timeIntervalSince1970) }

@Suite("WAF audit-log formats: ModSecurity v3, v2 and Coraza, detected per line")
struct WAFAuditFormatTests {
    @Test("Real v3 lines (DetectionOnly, TZ=Europe/Berlin): ids, client, URI, Host, code, engine, rules once each")
    func v3Detection() throws {
        let lines = try WAFFixtures.lines("modsec-v3-detection.log")
        #expect(lines.count == 5)
        let entries = try lines.map { try wafAudit($0, zone: "Europe/Berlin").get() }
        #expect(entries.allSatisfy { $0.flavor == .modsecurityV3 && $0.engine == .detectionOnly && !$0.blocked })
        // ctime "Sun Nov 22 01:08:33 2026" in Berlin (+01:00) is 00:08:33 UTC.
        #expect(entries[0].time == utc("2026-11-22T00:08:33Z"))
        #expect(entries[0].httpCode == 405 && entries[0].rules.isEmpty && entries[0].anomalyScore == nil)
        #expect(entries[0].uniqueID == "fe294f577665eb70b9a0242d01c281b5")
        let sqli = entries[1]
        #expect(sqli.clientIP == "203.0.113.45" && sqli.host == "shop.example.com")
        #expect(sqli.uri == "/search?q=%27%2520%3B")
        #expect(sqli.rules.map(\.id) == ["942100", "949110"])
        #expect(sqli.rules[0] == RuleMatch(id: "942100", message: "SQL Injection Attack Detected via libinjection", severity: 2, target: "ARGS:q"))
        #expect(sqli.anomalyScore == 5 && sqli.hasCriticalAttack)
        #expect(entries[2].rules.first?.id == "913100" && !entries[2].hasCriticalAttack, "a scanner is not an attack category")
        // The numeric Host goes to the default server; 920350 says so.
        #expect(entries[4].host == "127.0.0.1" && entries[4].rules.map(\.id).contains("920350"))
    }

    @Test("Invalid UTF-8 inside a real v3 line (0xC0 from %c0%af) is replaced and the entry kept")
    func invalidUTF8() throws {
        let line = try WAFFixtures.lines("modsec-v3-detection.log")[3]
        #expect(String(validating: line, as: UTF8.self) == nil, "the fixture really holds invalid UTF-8")
        let e = try wafAudit(line).get()
        #expect(e.uri == "/?file=%c0%af..%c0%af..%c0%afetc/passwd")
        #expect(e.rules.map(\.id) == ["930100", "930120", "932160", "949110"])
        #expect(e.anomalyScore == 15)
    }

    @Test("Real v3 lines with SecRuleEngine On: Enabled + 949110 + 403 is blocked")
    func v3Blocking() throws {
        let entries = try WAFFixtures.lines("modsec-v3-blocking.log").map { try wafAudit($0).get() }
        #expect(entries.map(\.blocked) == [true, true])
        #expect(entries.map(\.engine) == [.enabled, .enabled])
        #expect(entries.map(\.anomalyScore) == [5, 15])
        #expect(entries.map(\.httpCode) == [403, 403])
    }

    @Test("Blocked needs all three: Enabled, a blocking rule, and 403")
    func blockedDefinition() throws {
        func entry(engine: String, code: Int, rule: String) -> String {
            #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sat Nov 21 20:11:55 2026","unique_id":"a","request":{"uri":"/"},"response":{"http_code":\#(code)},"producer":{"secrules_engine":"\#(engine)"},"messages":[{"message":"m","details":{"ruleId":"\#(rule)","severity":"2"}}]}}"#
        }
        #expect(try wafAudit(entry(engine: "Enabled", code: 403, rule: "949110")).get().blocked)
        #expect(try wafAudit(entry(engine: "Enabled", code: 403, rule: "959100")).get().blocked)
        #expect(try !wafAudit(entry(engine: "DetectionOnly", code: 403, rule: "949110")).get().blocked)
        #expect(try !wafAudit(entry(engine: "Enabled", code: 200, rule: "949110")).get().blocked)
        #expect(try !wafAudit(entry(engine: "Enabled", code: 403, rule: "942100")).get().blocked)
    }

    @Test("CRS 4: 949110 with severity \"0\" is not EMERGENCY, so it alone is no critical attack")
    func crs4Severity() throws {
        let line = #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sat Nov 21 20:11:55 2026","unique_id":"a","request":{"uri":"/"},"response":{"http_code":200},"producer":{"secrules_engine":"DetectionOnly"},"messages":[{"message":"Inbound Anomaly Score Exceeded (Total Score: 7)","details":{"ruleId":"949110","severity":"0"}}]}}"#
        let e = try wafAudit(line).get()
        #expect(e.anomalyScore == 7)
        #expect(!e.hasCriticalAttack)
    }

    @Test("ModSecurity v2 (Apache): transaction.time with fraction and zone, transaction_id, request_line, status, raw messages")
    func v2() throws {
        let entries = try WAFFixtures.lines("modsec-v2.log").map { try wafAudit($0).get() }
        let a = entries[0]
        #expect(a.flavor == .modsecurityV2)
        #expect(a.time == utc("2026-11-21T19:11:55Z"))
        #expect(a.uniqueID == "YAbcdEFgHIjkLmNoPqRsTAAAAAE" && a.clientIP == "203.0.113.45")
        #expect(a.uri == "/search?q=1%27%20OR%20%271%27=%271" && a.host == "shop.example.com")
        #expect(a.httpCode == 403 && a.engine == .enabled && a.blocked)
        #expect(a.rules == [
            RuleMatch(id: "942100", message: "SQL Injection Attack Detected via libinjection", severity: 2, target: "ARGS:q"),
            RuleMatch(id: "949110", message: "Inbound Anomaly Score Exceeded (Total Score: 5)", severity: 2, target: "TX:anomaly_score"),
        ])
        let b = entries[1]
        #expect(b.engine == .detectionOnly && !b.blocked && b.anomalyScore == 10)
        #expect(b.rules.first?.id == "930120" && b.uri == "/index.php?page=../../etc/passwd")
    }

    @Test("Coraza native JSON: unix_timestamp in ns, id, Host as a list with port and case, numeric rule ids and severities")
    func coraza() throws {
        let entries = try WAFFixtures.lines("coraza.log").map { try wafAudit($0).get() }
        let a = entries[0]
        #expect(a.flavor == .coraza)
        #expect(a.time == utc("2026-11-21T20:11:55Z"))
        #expect(a.uniqueID == "ChTqwkYzLpXvGrKmNaBc" && a.host == "staging.shop.example.com")
        #expect(a.engine == .enabled && a.httpCode == 403 && a.blocked)
        #expect(a.rules.map(\.id) == ["942100", "949110"] && a.rules[0].severity == 2)
        #expect(a.hasCriticalAttack && a.anomalyScore == 5)
        let b = entries[1]
        #expect(b.time == utc("2026-11-21T20:13:00Z"), "seconds, as older Coraza wrote them")
        #expect(b.engine == .detectionOnly && !b.hasCriticalAttack)
    }

    @Test("A line that is not JSON, JSON that is not an audit entry, and an entry without a time are told apart")
    func failures() {
        #expect(throws: AuditEntryReader.Failure.notJSON) { try wafAudit(#"{"transaction":{"unique_id":"a""#).get() }
        #expect(throws: AuditEntryReader.Failure.notAuditEntry) { try wafAudit(#"{"hello":"world"}"#).get() }
        #expect(throws: AuditEntryReader.Failure.badTime) {
            try wafAudit(#"{"transaction":{"unique_id":"a","time_stamp":"yesterday"}}"#).get()
        }
        // The stray-quote quirk of producer.components, unescaped, breaks the JSON: skipped.
        #expect(throws: AuditEntryReader.Failure.notJSON) {
            try wafAudit(#"{"transaction":{"unique_id":"a","time_stamp":"Sat Nov 21 20:11:55 2026","producer":{"components":["OWASP_CRS/3.3.4""]}}}"#).get()
        }
    }
}

@Suite("WAF JSON scanner: validates while it skips")
struct WAFJSONScannerTests {
    func scan(_ s: String) -> Bool {
        var scanner = AuditJSONScanner()
        return wafWithBytes(s) { scanner.scan($0) }
    }

    @Test("Valid JSON of every kind is accepted; the last duplicate key wins, as in JSONValue")
    func valid() throws {
        #expect(scan(#" {"a":[1,-2.5e+3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e4\ud83d\ude00",{}],"b":{}} "#))
        let dup = #"{"transaction":{"unique_id":"first","unique_id":"second","time_stamp":"Sat Nov 21 20:11:55 2026"}}"#
        #expect(try wafAudit(dup).get().uniqueID == "second")
    }

    @Test("Truncated, trailing garbage, bad escapes, raw control bytes, bad numbers and bad literals are rejected")
    func invalid() {
        for bad in [#"{"a":1"#, #"{"a":1}x"#, #"{"a":"\x"}"#, "{\"a\":\"\u{01}\"}", #"{"a":01x}"#, #"{"a":-}"#,
                    #"{"a":tru}"#, #"{"a":1,}"#, #"{"a" 1}"#, #"["#, "", #"{"a":"\u12"}"#, "\u{FEFF}{}"] {
            #expect(!scan(bad), "\(bad.debugDescription)")
        }
    }

    @Test("Nesting deeper than 128 levels is rejected without exhausting the stack")
    func depth() {
        #expect(scan(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) == false, "top level must be an object")
        let ok = "{\"a\":" + String(repeating: "[", count: 120) + String(repeating: "]", count: 120) + "}"
        #expect(scan(ok))
        let deep = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(!scan(deep))
    }

    @Test("Strings of every length with escapes at every offset decode as Foundation decodes them")
    func stringOffsets() throws {
        var g = SystemRandomNumberGenerator()
        let pieces = ["a", "é", "\\\"", "\\\\", "\\n", "\\u00e4", "\\/", "x", "0", " ", "😀"]
        for _ in 0..<400 {
            let body = (0..<Int.random(in: 0...40, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined()
            let line = #"{"transaction":{"unique_id":"\#(body)","time_stamp":"Sat Nov 21 20:11:55 2026"}}"#
            let expected = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = (expected["transaction"] as? [String: Any])?["unique_id"] as? String
            #expect(try wafAudit(line).get().uniqueID == id, "\(body)")
        }
        // A raw control byte at any offset is rejected.
        for k in 0..<20 {
            var s = Array(repeating: UInt8(ascii: "a"), count: 20)
            s[k] = 0x01
            let line = Array(#"{"transaction":{"unique_id":""#.utf8) + s + Array(#"","time_stamp":"Sat Nov 21 20:11:55 2026"}}"#.utf8)
            #expect(throws: AuditEntryReader.Failure.notJSON) { try wafAudit(line).get() }
        }
    }

    @Test("Binary garbage never parses: 200 seeded random lines that open like JSON are all refused, none an entry")
    func binary() {
        var g = SplitMix(state: 0x7472_6570_6F72_74)
        var refused = 0
        for _ in 0..<200 {
            var bytes = (0..<Int.random(in: 1...400, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            bytes[0] = 0x7B
            var scanner = AuditJSONScanner()
            _ = bytes.withUnsafeBufferPointer { scanner.scan($0) }  // the scanner alone must not crash either
            if case .failure = wafAudit(bytes) { refused += 1 }
        }
        #expect(refused == 200)
    }
}

@Suite("WAF log times: ctime with a configured zone, NGINX time_local")
struct WAFLogTimeTests {
    func ctime(_ s: String, _ zone: String) -> Int? {
        var z = LocalTimeZone(TimeZone(identifier: zone)!)
        return wafWithBytes(s) { LogTime.parseCtimeWall($0) }.map { z.utc(fromWall: $0) }
    }

    @Test("ctime with a space-padded day, in UTC and in other zones (winter, summer)")
    func ctimeZones() {
        #expect(ctime("Sun Nov  1 03:04:05 2026", "UTC") == utc("2026-11-01T03:04:05Z"))
        #expect(ctime("Sat Nov 21 20:11:55 2026", "Europe/Berlin") == utc("2026-11-21T19:11:55Z"))
        #expect(ctime("Sat Jul  4 12:00:00 2026", "Europe/Berlin") == utc("2026-07-04T10:00:00Z"))
        #expect(ctime("Sat Nov 21 20:11:55 2026", "America/New_York") == utc("2026-11-22T01:11:55Z"))
        #expect(ctime("Sat Nov 21 20:11:55 2026", "Asia/Kolkata") == utc("2026-11-21T14:41:55Z"))
    }

    @Test("The repeated hour of a DST change reads as the earlier (daylight) time; the skipped hour does not crash")
    func dst() {
        #expect(ctime("Sun Oct 25 02:30:00 2026", "Europe/Berlin") == utc("2026-10-25T00:30:00Z"))
        #expect(ctime("Sun Mar 29 02:30:00 2026", "Europe/Berlin") == utc("2026-03-29T01:30:00Z"))
    }

    @Test("Malformed ctime and time_local are rejected")
    func malformed() {
        for bad in ["Sat Nov 21 20:11:55", "Sat Nox 21 20:11:55 2026", "Sat Nov 32 20:11:55 2026", "Sat Feb 30 20:11:55 2026",
                    "Sat Nov 21 25:11:55 2026", "Sat Nov 21 20:11 2026", ""] {
            #expect(wafWithBytes(bad) { LogTime.parseCtimeWall($0) } == nil, "\(bad)")
        }
        for bad in ["21/Nov/2026:20:11:55", "21/Nov/2026:20:11:55 0100", "21/Nov/2026 20:11:55 +0100", "30/Feb/2026:20:11:55 +0000"] {
            #expect(wafWithBytes(bad) { LogTime.parseCommonLog($0) } == nil, "\(bad)")
        }
    }

    @Test("time_local with positive and negative zones and an optional fraction")
    func commonLog() {
        #expect(wafWithBytes("21/Nov/2026:20:11:55 +0100") { LogTime.parseCommonLog($0) } == utc("2026-11-21T19:11:55Z"))
        #expect(wafWithBytes("21/Nov/2026:20:11:55 -0530") { LogTime.parseCommonLog($0) } == utc("2026-11-22T01:41:55Z"))
        #expect(wafWithBytes("29/Feb/2028:00:00:00.999999 +0000") { LogTime.parseCommonLog($0) } == utc("2028-02-29T00:00:00Z"))
    }
}

@Suite("WAF access-log lines: ingress-nginx 17 fields and combined")
struct WAFAccessLineTests {
    func parse(_ line: [UInt8]) -> (AccessLogLine, (Range<Int>) -> String)? {
        var cache = TimeCache()
        return line.withUnsafeBufferPointer { p in
            AccessLogLine.parse(p, timeCache: &cache).map { l in
                (l, { r in line.withUnsafeBufferPointer { AccessLogLine.text($0, r) } })
            }
        }
    }

    @Test("A real ingress-nginx line: time, status, upstream, request id; \\xHH escapes decode in quoted fields")
    func ingress() throws {
        let lines = try WAFFixtures.lines("access-detection.log")
        let (ua, text) = try #require(parse(lines[5]))
        #expect(ua.format == .ingress && ua.status == 200)
        #expect(ua.time == utc("2026-11-22T00:08:42Z"))
        #expect(text(ua.upstream) == "shop-production-web-80")
        #expect(text(ua.requestID) == "43fbef3fe00f66192d898f01defa2ede")
        #expect(text(ua.userAgent) == "Mozilla/5.0 (ä\u{200F}) \"quoted\"")
        #expect(text(ua.request) == "GET /products HTTP/1.1")
        let (rejected, text2) = try #require(parse(lines[4]))
        #expect(rejected.status == 400 && rejected.upstream.isEmpty, "[] is no upstream")
        #expect(text2(rejected.requestID) == "b55907ed3b8834d3c7f06a98d6a8c3e0")
    }

    @Test("Blocked requests (SecRuleEngine On) have '-' upstream fields and still parse")
    func blocked() throws {
        let lines = try WAFFixtures.lines("access-blocking.log")
        let parsed = lines.compactMap(parse)
        #expect(parsed.count == 3)
        #expect(parsed.map { $0.0.status } == [403, 403, 200])
        #expect(parsed[0].1(parsed[0].0.requestID) == "7c3087afc24a8b25bdb71c18222a9155")
    }

    @Test("Upstream lists with ', ' (retries) keep the request id as the last field")
    func upstreamLists() throws {
        let line = #"192.0.2.1 - alice [21/Nov/2026:20:11:55 +0000] "GET / HTTP/2.0" 502 0 "https://ref/" "ua" 73 0.010 [shop-production-web-80] [shop-production-web-canary-80] 10.0.0.1:80, 10.0.0.2:80 0, 12 0.004, 0.006 502, 200 0123abcd"#
        let (l, text) = try #require(parse(Array(line.utf8)))
        #expect(text(l.upstream) == "shop-production-web-80" && text(l.requestID) == "0123abcd")
    }

    @Test("combined: the first 9 fields, no upstream and no request id")
    func combined() throws {
        let lines = try WAFFixtures.lines("access-combined.log")
        let parsed = lines.compactMap(parse)
        #expect(parsed.count == lines.count)
        #expect(parsed.allSatisfy { $0.0.format == .combined && $0.0.upstream.isEmpty && $0.0.requestID.isEmpty })
        #expect(parsed[5].1(parsed[5].0.userAgent) == "Mozilla/5.0 (ä\u{200F}) \"quoted\"")
    }

    @Test("Garbage, truncated and binary lines are not access lines")
    func garbage() {
        for bad in ["", "-", "hello world", #"192.0.2.1 - - [21/Nov/2026:20:11:55 +0000] "GET / HTTP/1.1"#,
                    #"192.0.2.1 - - [21/Nov/2026:20:11:55 +0000] "GET / HTTP/1.1" 200"#,
                    #"192.0.2.1 - - [yesterday] "GET / HTTP/1.1" 200 1 "-" "ua""#,
                    #"192.0.2.1 - - [21/Nov/2026:20:11:55 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 73 0.010 [x"#,
                    #"{"transaction":{}}"#] {
            #expect(parse(Array(bad.utf8)) == nil, "\(bad)")
        }
        var g = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            _ = parse((0..<Int.random(in: 0...300, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
        }
    }
}

