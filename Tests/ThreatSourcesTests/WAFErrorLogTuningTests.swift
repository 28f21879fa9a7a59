import Foundation
import Testing
import ThreatModel
@testable import ThreatSources

@Suite("WAF tuning from error lines: ModSecurity/Coraza error-log transactions feed the same (rule, path, target) rows")
struct WAFErrorLogTuningTests {
    let window = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 4_000_000_000), interval: .day)

    @Test("Error-line tuning, real capture: the Istio coraza-proxy-wasm line gives rule 941390 on ARGS_GET:arg under /anything/, its unique_id as example")
    func realIstioLine() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/realworld/waf-gateway/istio-coraza-readme.log").path
        // The README shows the line without Istio's leading time: give it one, as the proxy writes it.
        let line = try String(contentsOfFile: path, encoding: .utf8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("errtune-istio-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ("2023-10-10T13:45:47.123456Z\twarning\t" + line).write(toFile: dir + "/istio.log", atomically: true, encoding: .utf8)
        let r = try WAFTuningScan.scan(auditLogs: [], errorLogs: [dir + "/istio.log"], hosts: [], window: window, timezone: "UTC")
        // Read from the line: [id "941390"], [data "Matched Data: alert( found within ARGS_GET:arg: …"],
        // [uri "/anything/?arg=<script>alert(0)</script>"], [severity "critical"], [unique_id "wTueIQloYpvpWNLzVfy"].
        #expect(r.input.rows.count == 1)
        let row = try #require(r.input.rows.first)
        #expect(row.ruleID == "941390" && row.target == "ARGS_GET:arg" && row.path == "/anything/" && row.count == 1 && row.clients == 1)
        #expect(row.examples == ["wTueIQloYpvpWNLzVfy"])
        #expect(r.input.untargetedMatches == 0)
        #expect(row.firstSeen == Date(timeIntervalSince1970: 1_696_945_547))
    }

    /// NGINX + libmodsecurity 3 error lines (`error_log … info;`), one per rule match.
    func nginxLine(second: Int, client: String, uid: String, rule: String, uri: String, data: String, variable: String) -> String {
        String(format: "2026/11/22 01:%02d:%02d [info] 12#12: *%d ModSecurity: Warning. Matched \"Operator `Rx' with parameter `x' against variable `%@' (Value: `v' ) ",
               second / 60, second % 60, second, variable)
            + "[file \"/etc/modsecurity/crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf\"] [line \"1\"] [id \"\(rule)\"] [rev \"\"] [msg \"m\"] "
            + (data.isEmpty ? "" : "[data \"\(data)\"] ")
            + "[severity \"2\"] [ver \"OWASP_CRS/3.3.4\"] [maturity \"0\"] [accuracy \"0\"] [hostname \"127.0.0.1\"] [uri \"\(uri)\"] [unique_id \"\(uid)\"] [ref \"\"], "
            + "client: \(client), server: shop, request: \"POST \(uri) HTTP/1.1\", host: \"shop.example.com\""
    }

    @Test("Error-line tuning, NGINX ModSecurity lines: targets from [data] and from `against variable` when no data tag; rows and clients counted per (rule, path, target)")
    func nginxLines() throws {
        var lines: [String] = []
        for i in 0..<12 {
            lines.append(nginxLine(second: i, client: "192.0.2.\(i + 1)", uid: "u\(i)", rule: "941180", uri: "/comments",
                                   data: "Matched Data: <!-- found within ARGS:comment: <!-- hi -->", variable: "ARGS:comment"))
        }
        for i in 0..<4 {
            lines.append(nginxLine(second: 30 + i, client: "192.0.2.50", uid: "v\(i)", rule: "942100", uri: "/search",
                                   data: "", variable: "ARGS:q"))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("errtune-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/error.log", atomically: true, encoding: .utf8)
        let r = try WAFTuningScan.scan(auditLogs: [], errorLogs: [dir + "/error.log"], hosts: [], window: window, timezone: "UTC")
        let rows = Dictionary(uniqueKeysWithValues: r.input.rows.map { ("\($0.ruleID) \($0.target) \($0.path)", $0) })
        #expect(Set(rows.keys) == ["941180 ARGS:comment /comments", "942100 ARGS:q /search"])
        #expect(rows["941180 ARGS:comment /comments"]?.count == 12 && rows["941180 ARGS:comment /comments"]?.clients == 12)
        #expect(rows["941180 ARGS:comment /comments"]?.examples == ["u0", "u1", "u2"])
        #expect(rows["942100 ARGS:q /search"]?.count == 4 && rows["942100 ARGS:q /search"]?.clients == 1)
        // 2026-11-22 01:00:00 and 01:00:11 UTC, from the lines' own times.
        #expect(rows["941180 ARGS:comment /comments"]?.firstSeen == Date(timeIntervalSince1970: 1_795_309_200))
        #expect(rows["941180 ARGS:comment /comments"]?.lastSeen == Date(timeIntervalSince1970: 1_795_309_211))
    }
}
