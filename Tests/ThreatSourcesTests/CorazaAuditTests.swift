import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// Coraza's audit-log formats read by the ModSecurity readers: the JSON formatter (a real
/// coraza-caddy capture, Tests/Fixtures/realworld/waf-coraza/), the same JSON behind Envoy's log
/// prefix (coraza-proxy-wasm's `wasmSerial` writer), and the native serial formatter.
@Suite("Coraza audit logs")
struct CorazaAuditTests {
    static let realworld = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/realworld/waf-coraza")
    static let caddy = realworld.appendingPathComponent("coraza-caddy-rho-aias.json.log").path
    static let window = TimeWindow(from: RFC3339.parse("2026-04-01T00:00:00Z")!, to: RFC3339.parse("2026-04-02T00:00:00Z")!,
                                   interval: .hour)
    static let context = SourceContext(window: window, environment: EnvironmentConfig(name: "rho", namespace: "rho", hosts: [],
                                                                                      thresholds: .defaults), redactor: SecretRedactor())
    /// PR corazawaf/coraza-proxy-wasm#263's Envoy prefix, verbatim up to the entry.
    static let envoyPrefix = "[2024-03-25 22:25:21.566289][40][info][wasm] [source/extensions/common/wasm/context.cc:1148] wasm log coraza-filter my_vm_id: "

    func realLine() throws -> String {
        try #require(try String(contentsOfFile: Self.caddy, encoding: .utf8).split(separator: "\n").first.map(String.init))
    }

    func entry(_ line: String, zone: String = "UTC") throws -> AuditEntry {
        var reader = AuditEntryReader(zone: TimeZone(identifier: zone)!)
        var l = line
        return try l.withUTF8 { try reader.parse($0).get() }
    }

    func fetch(_ files: [String], zone: String = "UTC") throws -> SourceOutput<WAFStatistics> {
        var s = WAFFileSettings(auditLogs: files, accessLogs: [])
        s.auditLogTimezone = zone
        return try FilesWAFSource(settings: s).fetch(Self.context)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let d = NSTemporaryDirectory() + "coraza-audit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        try text.write(toFile: d + "/" + name, atomically: true, encoding: .utf8)
        return d + "/" + name
    }

    @Test("Coraza JSON, real coraza-caddy capture: time from unix_timestamp (ns), status 0 read as not in the log, blocked from is_interrupted, engine On, no rule")
    func realCaddyEntry() throws {
        let e = try entry(try realLine())
        #expect(e.flavor == .coraza && e.uniqueID == "jxezYgInYOWEWbZf")
        // 1775008124708373786 ns; the `timestamp` 2026/04/01 09:48:44 is the server's wall time (UTC+8).
        #expect(e.time == 1_775_008_124)
        #expect(e.clientIP == "172.68.10.79" && e.uri == "/wordpress/wp-admin/setup-config.php" && e.host == "www.rho-aias.site")
        // Before: "status":0 became the answer 0.
        #expect(e.httpCode == nil)
        #expect(e.engine == .enabled && e.blocked && e.rules.isEmpty)
    }

    @Test("Coraza JSON, real capture, through the source: engine Coraza although producer.connector is empty, CRS 4.21.0, notes for the missing rule part and status")
    func realCaddySource() throws {
        let out = try fetch([Self.caddy])
        let s = out.value
        #expect(s.anomalousRequests == 1 && s.blockedRequests == 1 && s.detectionOnlyRequests == 0)
        // Before: no engine (the connector is ""), so the report's engine line named none.
        #expect(s.wafEngine == "Coraza" && s.crsVersion == "4.21.0" && s.auditLogFormat == "Coraza")
        #expect(s.topRules.isEmpty && s.categories.isEmpty && s.skippedLines == 0)
        #expect(s.engineModes.map(\.key) == ["Enabled"])
        let notes = out.coverage?.notes ?? []
        #expect(notes.contains { $0.hasPrefix("1 of 1 audit entries name no rule") }, "\(notes)")
        #expect(notes.contains { $0.hasPrefix("1 of 1 audit entries log no answer status") }, "\(notes)")
    }

    @Test("Coraza JSON behind Envoy's prefix (coraza-proxy-wasm wasmSerial): the entry is read, the proxy's other lines are passed over, not skipped")
    func envoyPrefixed() throws {
        let real = try realLine()
        // The Coraza error line and the debug line are real: PR coraza-proxy-wasm#263 and the
        // repository's envoy.logs (behind `docker compose`'s `name  | `).
        let error = #"[2024-03-31 10:47:41.011720][33][critical][wasm] [source/extensions/common/wasm/context.cc:1180] wasm log coraza-filter my_vm_id: [client "192.168.65.1"] Coraza: Warning. NoScript XSS InjectionChecker: HTML Injection [file "@owasp_crs/REQUEST-941-APPLICATION-ATTACK-XSS.conf"] [line "7786"] [id "941160"] [rev ""] [msg "NoScript XSS InjectionChecker: HTML Injection"] [severity "critical"] [ver "OWASP_CRS/4.0.0-rc2"] [hostname "172.19.0.6"] [uri "/get?<script>alert</script>"] [unique_id "REOYcbXFlHezRahgOnj"]"#
        let debug = "example-envoy-logs-1  | [2023-03-23 19:20:43.799765][20][debug][wasm] [source/extensions/common/wasm/context.cc:1172] wasm log coraza-filter my_vm_id: New transaction created "
        let path = try write([debug, Self.envoyPrefix + real, error, "not a log line"].joined(separator: "\n") + "\n", "envoy.log")
        let out = try fetch([path])
        #expect(out.value.anomalousRequests == 1 && out.value.blockedRequests == 1 && out.value.wafEngine == "Coraza")
        // Only the line that is neither an entry nor the proxy's own output is skipped.
        #expect(out.value.skippedLines == 1)
        let notes = out.coverage?.notes ?? []
        #expect(notes.contains { $0.hasPrefix("1 audit entry read behind a proxy log prefix") && $0.contains("2 other lines of that log") }, "\(notes)")
        // The error line is not counted as a second transaction.
        #expect(out.value.topRules.isEmpty)
    }

    @Test("The same prefix rule reads a container runtime's log (`…Z stdout F {\"transaction\"…`): libmodsecurity entries counted once, the NGINX access lines beside them passed over")
    func containerRuntimePrefix() throws {
        let lines = try String(contentsOfFile: WAFFixtures.path("modsec-v3-blocking.log"), encoding: .utf8).split(separator: "\n")
        let access = #"2026-11-22T00:09:02.745511931Z stdout F 203.0.113.45 - - [22/Nov/2026:00:09:02 +0000] "GET /search HTTP/1.1" 403 153 "-" "curl/8.5.0""#
        let text = lines.enumerated().map { "2026-11-22T00:09:0\($0.offset).745578891Z stdout F " + $0.element }.joined(separator: "\n") + "\n" + access + "\n"
        let path = try write(text, "container.log")
        var ctx = Self.context
        ctx.window = TimeWindow(from: RFC3339.parse("2026-11-22T00:00:00Z")!, to: RFC3339.parse("2026-11-22T01:00:00Z")!, interval: .hour)
        var settings = WAFFileSettings(auditLogs: [path], accessLogs: [])
        settings.auditLogTimezone = "UTC"
        let out = try FilesWAFSource(settings: settings).fetch(ctx)
        #expect(out.value.anomalousRequests == lines.count && out.value.skippedLines == 0 && out.value.auditLogFormat == "ModSecurity v3")
        #expect(out.value.topRules.first.map { "\($0.key)=\($0.count)" } == "949110=2")
        #expect(out.coverage?.notes.contains { $0.hasPrefix("\(lines.count) audit entries read behind a proxy log prefix") && $0.contains("1 other line of") } == true,
                "\(String(describing: out.coverage?.notes))")
    }

    @Test("Coraza JSON from coraza-proxy-wasm names the host in HTTP/2's `:authority` header (PR coraza-proxy-wasm#263's entry): read as the Host")
    func authorityHeader() throws {
        let line = try realLine().replacingOccurrences(of: #""host":["www.rho-aias.site"]"#, with: #"":authority":["Localhost:8080"]"#)
        #expect(line.contains(":authority"))
        #expect(try entry(line).host == "localhost")
    }

    @Test("Coraza JSON with coraza-spoa's empty method and uri (corazawaf/coraza#856's shape, on the real entry): counted, left out of the top URIs, the note says how many have none")
    func emptyURI() throws {
        let line = try realLine().replacingOccurrences(of: #""method":"GET","protocol":"HTTP/2.0","uri":"/wordpress/wp-admin/setup-config.php""#,
                                                       with: #""method":"","protocol":"","uri":"""#)
        #expect(line.contains(#""uri":"""#))
        let out = try fetch([try write(line + "\n", "spoa.log")])
        #expect(out.value.anomalousRequests == 1 && out.value.topURIs.isEmpty && out.value.topClients.map(\.key) == ["172.68.10.79"])
        #expect(out.coverage?.notes.contains { $0.hasPrefix("1 of 1 audit entries log no request URI") } == true, "\(String(describing: out.coverage?.notes))")
    }

    @Test("The same Envoy log as audit_log and error_log: a warning names it (its transactions would count twice)")
    func sameFileTwice() throws {
        let path = try write(Self.envoyPrefix + (try realLine()) + "\n", "envoy.log")
        var s = WAFFileSettings(auditLogs: [path], accessLogs: [])
        s.errorLogs = [path]
        s.auditLogTimezone = "UTC"
        let out = try FilesWAFSource(settings: s).fetch(Self.context)
        #expect(out.warnings.contains { $0.hasPrefix("\(path) is both an audit_log and an error_log") }, "\(out.warnings)")
        let alone = try fetch([path])
        #expect(!alone.warnings.contains { $0.contains("is both an audit_log") })
    }

    @Test("Coraza JSON without unix_timestamp: its `timestamp` 2026/04/01 09:48:44 is wall time in audit_log_timezone")
    func wallTimestamp() throws {
        let line = try realLine().replacingOccurrences(of: #""unix_timestamp":1775008124708373786,"#, with: "")
        #expect(try entry(line, zone: "Asia/Shanghai").time == 1_775_008_124)
        #expect(try entry(line, zone: "UTC").time == 1_775_036_924)
    }

    @Test("Coraza JSON with data null: the rule is read from error_message's tags (id, msg, severity word)")
    func errorMessageFallback() throws {
        let line = #"{"transaction":{"timestamp":"2026/06/28 14:23:55","unix_timestamp":1782656635784730907,"id":"Ft","client_ip":"203.0.113.9","request":{"method":"GET","uri":"/?q=x"},"is_interrupted":false},"messages":[{"actionset":"","message":"","error_message":"[client \"203.0.113.9\"] Coraza: Warning. XSS Attack Detected via libinjection [id \"941100\"] [msg \"XSS Attack Detected via libinjection\"] [data \"Matched Data: XSS data found within ARGS:q: x\"] [severity \"critical\"] [unique_id \"Ft\"]","data":null}]}"#
        let e = try entry(line)
        #expect(e.rules.map(\.id) == ["941100"] && e.rules.first?.severity == 2)
        #expect(e.rules.first?.message == "XSS Attack Detected via libinjection" && e.rules.first?.target == "ARGS:q")
        #expect(e.hasCriticalAttack && !e.blocked)
    }

    /// Coraza's native formatter (corazawaf/coraza internal/auditlog/formats.go): it loops over the
    /// parts `ParseAuditLogParts` keeps, which drops A and Z (corazawaf/coraza#1413), so an entry is
    /// `--<10>-B--` … `--<10>-K--`: no time, id or client. No real capture was found; this follows
    /// the formatter's code (two entries, default parts plus K).
    static let corazaNative = """
    --Ab3dE6gH9k-B--
    GET /?id=1%27%20or%201=1 HTTP/2.0
    host: shop.example.com
    --Ab3dE6gH9k-F--
    content-length: 123
    --Ab3dE6gH9k-H--
    Stopwatch: 
    Response-Body-Transformed: 
    Producer: 
    Server: 
    --Ab3dE6gH9k-K--
    SecRule ARGS "@detectSQLi" "id:942100,phase:2,block,capture,t:none,msg:'SQL Injection Attack Detected via libinjection',severity:'CRITICAL'"

    --Zq8wXy2Lm0-B--
    GET / HTTP/2.0
    --Zq8wXy2Lm0-H--
    Stopwatch: 

    """

    @Test("Coraza native serial format as its formatter writes it (no A, no Z): each entry counted once as skipped with why, its lines passed over, never a wrong figure")
    func corazaNativeHeadless() throws {
        let path = try write(Self.corazaNative, "audit.log")
        let out = try fetch([path])
        #expect(out.value.anomalousRequests == 0 && out.value.topRules.isEmpty)
        // Before: each of its 16 non-blank lines was skipped as "neither JSON nor a native audit entry".
        #expect(out.value.skippedLines == 2)
        let audit = try #require(out.coverage?.inputs.first { $0.name == "audit log" })
        #expect(audit.skipped.map(\.reason) == [SkipReason.headlessEntry.text], "\(audit.skipped)")
        #expect(out.warnings.contains { $0.contains("without its A header") && $0.contains("use SecAuditLogFormat JSON") }, "\(out.warnings)")
    }

    /// A native entry with A and Z whose H names no rule and whose F holds headers only (the parts
    /// of Coraza's formatter, framed as ModSecurity frames them).
    static let native = """
    --Ab3dE6gH9k-A--
    [01/Apr/2026:09:48:44 +0800] jxezYgInYOWEWbZf 172.68.10.79 0 10.0.0.5 443
    --Ab3dE6gH9k-B--
    GET /?id=1%27%20or%201=1 HTTP/2.0
    host: Shop.Example.com
    --Ab3dE6gH9k-F--
    content-length: 123
    --Ab3dE6gH9k-H--
    Stopwatch: 
    Producer: 
    --Ab3dE6gH9k-K--
    SecRule ARGS "@detectSQLi" "id:942100,phase:2,block,capture,t:none,msg:'SQL Injection Attack Detected via libinjection',logdata:'Matched Data: %{TX.0}',severity:'CRITICAL'"
    SecRule TX:BLOCKING_INBOUND_ANOMALY_SCORE "@ge %{tx.inbound_anomaly_score_threshold}" "id:949110,phase:2,deny,t:none,msg:'Inbound Anomaly Score Exceeded (Total Score: %{TX.BLOCKING_INBOUND_ANOMALY_SCORE})'"
    SecAction "id:900990,phase:1,pass,t:none,nolog,setvar:tx.crs_setup_version=4210"
    --Ab3dE6gH9k-Z--

    """

    @Test("Native entry whose H names no rule: rules and messages from K (nolog left out), F's first header never a status, blocking not in the log")
    func nativeFormat() throws {
        let path = try write(Self.native, "audit.log")
        let out = try fetch([path])
        let s = out.value
        #expect(s.anomalousRequests == 1 && s.auditLogFormat == "ModSecurity native")
        #expect(s.topRules.map(\.key) == ["942100", "949110"], "\(s.topRules)")
        #expect(s.topRules.first?.label == "SQL Injection Attack Detected via libinjection")
        #expect(s.categories.map(\.category) == ["sqli"] && s.criticalAttackRequests == 1)
        #expect(s.topURIs.map(\.key) == ["/?id=1%27%20or%201=1"] && s.topClients.map(\.key) == ["172.68.10.79"])
        // Before: "content-length: 123" gave the answer 123.
        let notes = out.coverage?.notes ?? []
        #expect(notes.contains { $0.hasPrefix("1 of 1 audit entries log no answer status") }, "\(notes)")
        #expect(notes.contains { $0.hasPrefix("1 of 1 audit entries log neither the engine mode nor an intervention") }, "\(notes)")
        #expect(s.blockedRequests == 0 && s.detectionOnlyRequests == 1)
    }

    @Test("Native K is read only when H names no rule: a ModSecurity 2 entry keeps its H messages")
    func nativeKOnlyWithoutH() throws {
        var a = NativeAuditAssembler()
        let lines = ["--a1b2c3d4-A--", "[07/Jun/2023:17:45:31 --0400] ZID 192.0.2.1 4000 10.0.0.1 80", "--a1b2c3d4-H--",
                     #"Message: Warning. detected SQLi [id "942100"] [msg "SQLi"] [severity "CRITICAL"]"#, "--a1b2c3d4-K--",
                     #"SecRule ARGS "@rx x" "id:941100,phase:2,block,msg:'XSS'""#, "--a1b2c3d4-Z--"]
        var event: NativeAuditAssembler.Event?
        for var l in lines { event = l.withUTF8 { a.feed($0) } }
        #expect(event == .entry && a.rules.map { String(decoding: $0.id, as: UTF8.self) } == ["942100"])
        var k = "SecRule ARGS \"@rx x\" \"id:941100,phase:2,block,msg:'XSS',severity:'CRITICAL'\""
        let rule = k.withUTF8 { NativeAuditAssembler.ruleText($0) }
        #expect(rule.map { String(decoding: $0.id, as: UTF8.self) } == "941100" && rule?.severity == 2)
        var quiet = #"SecAction "id:900990,phase:1,nolog,pass""#
        #expect(quiet.withUTF8 { NativeAuditAssembler.ruleText($0) } == nil)
    }
}
