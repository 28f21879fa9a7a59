import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// Access-log formats as people run them (presets, NGINX log_format strings, JSON), ModSecurity's
/// native audit format, its time-zone bug, blocked from the disruptive action, and attribution by
/// file.
@Suite("WAF logs as they are in the wild")
struct WAFInTheWildTests {
    static let window = TimeWindow(from: RFC3339.parse("2026-11-22T00:00:00Z")!, to: RFC3339.parse("2026-11-22T01:00:00Z")!,
                                   interval: .minute)

    func context(_ hosts: [String] = [], namespace: String = "shop-production") -> SourceContext {
        SourceContext(window: Self.window, environment: EnvironmentConfig(name: "production", namespace: namespace, hosts: hosts, thresholds: .defaults), redactor: SecretRedactor())
    }

    func write(_ text: String, _ name: String) throws -> String {
        let d = NSTemporaryDirectory() + "waf-wild-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        try text.write(toFile: d + "/" + name, atomically: true, encoding: .utf8)
        return d + "/" + name
    }

    func fetch(audit: [String] = [], access: [String] = [], format: String? = nil, _ ctx: SourceContext) throws -> SourceOutput<WAFStatistics> {
        var s = WAFFileSettings(auditLogs: audit, accessLogs: access)
        if let format { s.accessLogFormat = try AccessLogFormatSetting(format) }
        return try FilesWAFSource(settings: s).fetch(ctx)
    }

    func parse(_ line: String, _ reader: AccessLogReader) -> AccessLogLine? {
        var cache = TimeCache()
        var l = line
        return l.withUTF8 { reader.parse($0, timeCache: &cache) }
    }

    func text(_ line: String, _ r: Range<Int>) -> String {
        var l = line
        return l.withUTF8 { AccessLogLine.text($0, r) }
    }

    // MARK: log_format compiler

    @Test("log_format compiler: NGINX quoting joined, ${var} read, adjacent variables and a format without time refused with a reason")
    func compilerErrors() throws {
        let f = try NGINXLogFormat("log_format main escape=json '{\"t\":\"$time_iso8601\",' '\"h\":\"${host}\"}';")
        #expect(f.text == "{\"t\":\"$time_iso8601\",\"h\":\"${host}\"}")
        #expect(f.segments == [.literal(Array("{\"t\":\"".utf8)), .variable("time_iso8601"), .literal(Array("\",\"h\":\"".utf8)),
                               .variable("host"), .literal(Array("\"}".utf8))])
        #expect(throws: NGINXLogFormat.Failure.adjacentVariables("remote_addr", "time_local")) { try NGINXLogFormat("$remote_addr$time_local") }
        #expect(throws: NGINXLogFormat.Failure.noTime) { try NGINXLogFormat("$remote_addr $status") }
        #expect(throws: NGINXLogFormat.Failure.unknownPreset("apache")) { try AccessLogFormatSetting("apache") }
        #expect(try AccessLogFormatSetting("Envoy-JSON") == .preset(.envoyJSON), "the gateway presets are names too")
        #expect(try AccessLogFormatSetting("Main") == .preset(.main))
        #expect("\(NGINXLogFormat.Failure.unknownPreset("x"))".contains("ingress-nginx, combined, main, json"))
    }

    @Test("log_format compiler: $time_iso8601, $msec, $host, $request_id, quoted escapes and upstream lists are cut right")
    func compiledFields() throws {
        let fmt = #"$remote_addr [$time_iso8601] $host "$request" $status $upstream_addr $request_time "$http_user_agent" $request_id"#
        let reader = AccessLogReader(try AccessLogFormatSetting(fmt))
        let line = #"203.0.113.7 [2026-11-22T01:30:05+01:00] Shop.Example.com:443 "GET /a\x22b HTTP/1.1" 403 10.0.0.1:80, 10.0.0.2:80 0.004 "curl/8 \"x\"" abc123"#
        let l = try #require(parse(line, reader))
        #expect(l.format == .custom && l.status == 403 && l.time == 1_795_307_405)  // 2026-11-22T00:30:05Z
        #expect(text(line, l.host) == "Shop.Example.com:443" && text(line, l.requestID) == "abc123")
        #expect(text(line, l.remoteAddr) == "203.0.113.7" && text(line, l.request) == "GET /a\"b HTTP/1.1")
        #expect(text(line, l.userAgent) == "curl/8 \"x\"")
        let msec = AccessLogReader(try AccessLogFormatSetting("$msec $status $request_id"))
        #expect(parse("1795307405.123 200 -", msec).map { ($0.time, $0.requestID.isEmpty) } ?? (0, false) == (1_795_307_405, true))
        #expect(parse("1795307405.123 abc -", msec) == nil, "a status that is no number")
        #expect(parse("1795307405.123 200", msec) == nil, "a missing field")
        #expect(parse("1795307405.123 200 x trailing", msec).map { text("1795307405.123 200 x trailing", $0.requestID) } == "x trailing")
    }

    @Test("JSON access lines (escape=json): fields by name, nested values skipped, \\\" inside values, no time refused")
    func jsonLines() throws {
        let reader = AccessLogReader(try AccessLogFormatSetting("json"))
        let line = #"{"time_local":"22/Nov/2026:01:30:05 +0100","remote_addr":"198.51.100.4","request":"GET /x?q=\"1\" HTTP/1.1","status": 404,"http_host":"shop.example.com","request_id":"r-1","tags":{"a":[1,2]}}"#
        let l = try #require(parse(line, reader))
        #expect(l.format == .json && l.status == 404 && l.time == 1_795_307_405)
        #expect(text(line, l.host) == "shop.example.com" && text(line, l.requestID) == "r-1" && text(line, l.request) == "GET /x?q=\"1\" HTTP/1.1")
        #expect(parse(#"{"remote_addr":"1.2.3.4","status":200}"#, reader) == nil)
        #expect(parse(#"{"time_iso8601":"2026-11-22T00:30:05Z","status":200} x"#, reader) == nil)
    }

    @Test("Detection: ingress-nginx, combined, main and JSON lines in one file are each read and counted by format")
    func detection() throws {
        let lines = [
            #"192.0.2.1 - - [22/Nov/2026:01:10:00 +0100] "GET / HTTP/1.1" 200 5 "-" "curl/8""#,
            #"192.0.2.1 - - [22/Nov/2026:01:10:00 +0100] "GET / HTTP/1.1" 200 5 "-" "curl/8" "198.51.100.9, 10.0.0.1""#,
            #"192.0.2.1 - - [22/Nov/2026:01:10:00 +0100] "GET / HTTP/1.1" 200 5 "-" "curl/8" 80 0.001 [shop-production-web-80] [] 10.0.0.1:80 5 0.001 200 id1"#,
            #"{"time_iso8601":"2026-11-22T00:10:00+00:00","status":"200","remote_addr":"192.0.2.1"}"#,
            "not an access line",
        ]
        let path = try write(lines.joined(separator: "\n") + "\n", "access.log")
        let out = try fetch(access: [path], context())
        #expect(out.value.totalRequests == 4 && out.value.skippedLines == 1)
        #expect(out.value.accessLogFormat == "ingress-nginx (1), combined (1), main (1), json (1)")
        #expect(out.evidence[0].query?.contains("ingress-nginx 1, combined 1, main 1, json 1") == true)
        // The skipped line's warning names its place and shows the value.
        #expect(out.warnings.contains { $0.contains("access.log:5 (not an access line of the expected format: \"not an access line\")") }, "\(out.warnings)")
        // A configured preset reads only its own lines.
        let main = try fetch(access: [path], format: "main", context())
        #expect(main.value.totalRequests == 1 && main.value.skippedLines == 4)
    }

    @Test("A log_format with $host attributes lines by host; one without host gives the file to the environment")
    func hostAttribution() throws {
        let fmt = #"$remote_addr [$time_local] $host "$request" $status"#
        let lines = [#"192.0.2.1 [22/Nov/2026:01:10:00 +0100] shop.example.com "GET / HTTP/1.1" 200"#,
                     #"192.0.2.1 [22/Nov/2026:01:10:00 +0100] SHOP.example.com:443 "GET / HTTP/1.1" 200"#,
                     #"192.0.2.1 [22/Nov/2026:01:10:00 +0100] other.example.com "GET / HTTP/1.1" 200"#]
        let path = try write(lines.joined(separator: "\n") + "\n", "a.log")
        #expect(try fetch(access: [path], format: fmt, context(["shop.example.com"])).value.totalRequests == 2)
        #expect(try fetch(access: [path], format: fmt, context()).value.totalRequests == 3)
    }

    // MARK: Audit logs

    static let nativeEntry = """
    --a1b2c3d4-A--
    [21/Nov/2026:23:05:00 --0100] XyZ1 203.0.113.9 5555 10.0.0.1 80
    --a1b2c3d4-B--
    GET /?id=1%27 HTTP/1.1
    Host: Shop.Example.com:80
    --a1b2c3d4-F--
    HTTP/1.1 403 Forbidden
    --a1b2c3d4-H--
    Message: Warning. detected SQLi [id "942100"] [msg "SQL Injection Attack Detected via libinjection"] [severity "CRITICAL"]
    Message: Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score. [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"] [severity "CRITICAL"]
    Apache-Error: [client 203.0.113.9] ModSecurity: Warning. [id "999999"] duplicate of a message line
    Action: Intercepted (phase 2)
    Engine-Mode: "ENABLED"
    --a1b2c3d4-Z--

    """

    @Test("Native serial entries: '--0100' read as -01:00, Host, URI, client, rules once, blocked from the disruptive action")
    func nativeEntries() throws {
        let path = try write(Self.nativeEntry, "modsec_audit.log")
        let w = try fetch(audit: [path], context(["shop.example.com"])).value
        #expect(w.anomalousRequests == 1 && w.blockedRequests == 1 && w.skippedLines == 0)
        // 23:05 at --0100 (-01:00) is 00:05Z, inside the window; read as +01:00 it would be outside.
        #expect(w.anomalousHistory.first { $0.value == 1 }?.time == RFC3339.parse("2026-11-22T00:05:00Z")!)
        #expect(w.topRules.map(\.key) == ["942100", "949110"] && w.topClients.first?.key == "203.0.113.9")
        #expect(w.topURIs.first?.key == "/?id=1%27" && w.anomalyScores == [RankedCount(key: "5", count: 1)])
        #expect(w.engineModes == [RankedCount(key: "Enabled", count: 1)] && w.criticalAttackRequests == 1)
        #expect(w.auditLogFormat == "ModSecurity native")
    }

    @Test("Native entries over many blocks, libmodsecurity 3 boundaries, a cut entry and a bad time are counted and placed")
    func nativeBlocksAndDamage() throws {
        var text = ""
        for i in 0..<3000 {
            text += Self.nativeEntry.replacingOccurrences(of: "a1b2c3d4", with: String(format: "%08x", i))
                .replacingOccurrences(of: "21/Nov/2026:23:05:00 --0100", with: "22/Nov/2026:01:05:00 +0100")
        }
        text += "---Gx7Qw2Lr---A--\n[22/Nov/2026:01:06:00 +0100] V3ID 192.0.2.5 1 127.0.0.1 80\n---Gx7Qw2Lr---B--\nGET /v3 HTTP/1.1\nHost: shop.example.com\n"
            + "---Gx7Qw2Lr---H--\nModSecurity: Warning. Matched [id \"941100\"] [msg \"XSS\"] [severity \"2\"]\n---Gx7Qw2Lr---Z--\n\n"
        text += "--deadbeef-A--\n[99/Nov/2026:01:06:00 +0100] BAD 192.0.2.5 1 127.0.0.1 80\n--deadbeef-Z--\n"
        text += "--cafe0001-A--\n[22/Nov/2026:01:07:00 +0100] CUT 192.0.2.6 1 127.0.0.1 80\n--cafe0001-B--\nGET / HTTP/1.1\n"
        let path = try write(text, "big.log")
        let out = try fetch(audit: [path], context(["shop.example.com"]))
        #expect(out.value.anomalousRequests == 3001 && out.value.blockedRequests == 3000)
        #expect(out.value.skippedLines == 2)
        #expect(out.warnings.contains { $0.contains("time not understood: \"99/Nov/2026:01:06:00 +0100\"") }, "\(out.warnings)")
        #expect(out.warnings.contains { $0.contains("1 native entry cut off at the end of a file") })
    }

    @Test("Blocked is the logged disruptive action: is_interrupted, v2's audit_data.action, not the 403 alone; 901001 counted")
    func disruptive() throws {
        func v3(_ id: String, code: Int, interrupted: String, rules: [String], engine: String = "Enabled") -> String {
            let msgs = rules.map { #"{"message":"m","details":{"ruleId":"\#($0)","severity":"2"}}"# }.joined(separator: ",")
            return #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sun Nov 22 00:10:00 2026","unique_id":"\#(id)",\#(interrupted)"request":{"uri":"/","headers":{"Host":"shop.example.com"}},"response":{"http_code":\#(code)},"producer":{"secrules_engine":"\#(engine)"},"messages":[\#(msgs)]}}"#
        }
        let lines = [
            v3("a", code: 403, interrupted: #""is_interrupted":false,"#, rules: ["942100", "949110"]),   // 403 from the app
            v3("b", code: 302, interrupted: #""is_interrupted":true,"#, rules: ["942100"]),              // redirect action
            v3("c", code: 500, interrupted: "", rules: ["901001"]),                                     // CRS unconfigured
            v3("d", code: 200, interrupted: "", rules: []),                                             // empty messages
            #"{"transaction":{"time":"22/Nov/2026:00:10:00 --0000","transaction_id":"e","remote_address":"192.0.2.2"},"request":{"request_line":"GET /x HTTP/1.1","headers":{"Host":"shop.example.com"}},"response":{"status":403},"audit_data":{"engine_mode":"ENABLED","messages":["Warning. x [id \"949110\"] [msg \"y\"]"]}}"#,
            #"{"transaction":{"time":"22/Nov/2026:00:10:00 +0000","transaction_id":"f","remote_address":"192.0.2.2"},"request":{"request_line":"GET /x HTTP/1.1","headers":{"Host":"shop.example.com"}},"response":{"status":406},"audit_data":{"engine_mode":"ENABLED","action":{"intercepted":true,"phase":2},"messages":["Access denied with code 406 (phase 2). x [id \"949110\"] [msg \"y\"]"]}}"#,
        ]
        let path = try write(lines.joined(separator: "\n") + "\n", "audit.log")
        let w = try fetch(audit: [path], context(["shop.example.com"])).value
        #expect(w.anomalousRequests == 6 && w.skippedLines == 0)
        #expect(w.blockedRequests == 3, "b (interrupted), c (901001 denies 500 without is_interrupted), f (v2 action)")
        #expect(w.crsUnconfiguredRequests == 1)
        #expect(w.auditLogFormat == "ModSecurity v3 (4), ModSecurity v2 (2)")
    }

    // MARK: Attribution

    static func v3Entry(_ id: String, host: String?) -> String {
        let h = host.map { #","headers":{"Host":"\#($0)"}"# } ?? ""
        return #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sun Nov 22 00:10:00 2026","unique_id":"\#(id)","request":{"uri":"/"\#(h)},"response":{"http_code":403},"messages":[]}}"#
    }

    @Test("An environment without hosts owns every entry of its files; with a shared ingress log, unclaimed entries are reported")
    func noHostsOwnsFiles() throws {
        let audit = try write((0..<120).map { Self.v3Entry("id\($0)", host: $0 % 2 == 0 ? "a.example" : nil) }.joined(separator: "\n") + "\n", "audit.log")
        let own = try fetch(audit: [audit], context())
        #expect(own.value.anomalousRequests == 120 && own.value.unattributedEntries == 0)
        let ingress = try write(#"192.0.2.1 - - [22/Nov/2026:01:10:00 +0100] "GET / HTTP/1.1" 200 5 "-" "curl/8" 80 0.001 [shop-production-web-80] [] 10.0.0.1:80 5 0.001 200 id0"# + "\n", "access.log")
        let shared = try fetch(audit: [audit], access: [ingress], context())
        #expect(shared.value.anomalousRequests == 1 && shared.value.unattributedEntries == 119)
        #expect(shared.warnings.contains { $0.hasPrefix("119 audit entries in the window match no environment") })
    }

    @Test("An entry without Host goes to the environment when every Host in its file is the environment's, else it is unattributed")
    func noHostByFile() throws {
        let mine = try write([Self.v3Entry("1", host: "shop.example.com"), Self.v3Entry("2", host: nil)].joined(separator: "\n") + "\n", "mine.log")
        let w = try fetch(audit: [mine], context(["shop.example.com"])).value
        #expect(w.anomalousRequests == 2 && w.unattributedEntries == 0)
        let mixed = try write([Self.v3Entry("1", host: "shop.example.com"), Self.v3Entry("2", host: nil), Self.v3Entry("3", host: "other.example")]
            .joined(separator: "\n") + "\n", "mixed.log")
        let m = try fetch(audit: [mixed], context(["shop.example.com"])).value
        #expect(m.anomalousRequests == 1 && m.unattributedEntries == 2)
    }

    @Test("Concurrent-mode logs: one file per entry under a date tree, named by a glob")
    func concurrentGlob() throws {
        let root = NSTemporaryDirectory() + "waf-concurrent-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for (k, minute) in ["0105", "0106", "0107"].enumerated() {
            let dir = root + "/www-data/20261122/20261122-\(minute)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let entry = Self.nativeEntry.replacingOccurrences(of: "a1b2c3d4", with: "0000000\(k)").replacingOccurrences(of: "21/Nov/2026:23:05:00 --0100", with: "22/Nov/2026:01:05:00 +0100")
            try entry.write(toFile: dir + "/20261122-\(minute)00-id\(k)", atomically: true, encoding: .utf8)
        }
        let w = try fetch(audit: [root + "/*/*/*/*"], context(["shop.example.com"])).value
        #expect(w.anomalousRequests == 3 && w.blockedRequests == 3 && w.skippedLines == 0)
    }

    @Test("ModSecurity 2.9's doubled sign: '--0400' is -04:00, '+0100' unchanged, '---0400' refused")
    func zoneBug() {
        func t(_ s: String) -> Int? { var s = s; return s.withUTF8 { LogTime.parseCommonLog($0) } }
        #expect(t("13/May/2017:08:39:31 --0400") == t("13/May/2017:12:39:31 +0000"))
        #expect(t("13/May/2017:08:39:31 -0400") == t("13/May/2017:08:39:31 --0400"))
        #expect(t("13/May/2017:08:39:31 ---0400") == nil)
        func iso(_ s: String) -> Int? { var s = s; return s.withUTF8 { LogTime.parseISO8601($0) } }
        #expect(iso("2017-05-13T08:39:31-04:00") == t("13/May/2017:08:39:31 -0400"))
        #expect(iso("2017-05-13T12:39:31.250Z") == t("13/May/2017:12:39:31 +0000"))
        #expect(iso("2017-05-13T12:39:31") == nil)
    }
}
