import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// Every source reports what it read (docs/data-quality.md): its figures checked against an
/// independent recount of the input.
@Suite("Source coverage")
struct SourceCoverageTests {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "coverage-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Lines as `wc -l` counts them (plus a last line without a newline), and the file's size.
    func recount(_ path: String) throws -> (lines: Int, bytes: Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let newlines = data.filter { $0 == 0x0A }.count
        return (newlines + (data.last.map { $0 == 0x0A ? 0 : 1 } ?? 0), data.count)
    }

    static let rawWindow = TimeWindow(from: RFC3339.parse("2026-11-22T00:00:00Z")!, to: RFC3339.parse("2026-11-22T01:00:00Z")!, interval: .minute)

    @Test("WAF files, real capture: files, bytes, lines, parsed, in the window and attributed match a recount and the statistics")
    func wafFilesRealCapture() throws {
        let audit = repoRoot + "/samples/raw/modsec_audit.log", access = repoRoot + "/samples/raw/access.log"
        var settings = WAFFileSettings(auditLogs: [audit], accessLogs: [access])
        settings.auditLogTimezone = "Europe/Berlin"
        let env = EnvironmentConfig(name: "production", namespace: "shop-production", hosts: ["shop.example.com"], thresholds: .defaults)
        let out = try FilesWAFSource(settings: settings).fetch(SourceContext(window: Self.rawWindow, environment: env, redactor: SecretRedactor()))
        let c = try #require(out.coverage)
        #expect(c.source == "files")
        let a = try #require(c.input("audit log")), l = try #require(c.input("access log"))
        let (auditLines, auditBytes) = try recount(audit), (accessLines, accessBytes) = try recount(access)
        #expect(a.files == 1 && a.bytes == auditBytes && a.read == auditLines)
        #expect(l.files == 1 && l.bytes == accessBytes && l.read == accessLines)
        #expect(a.parsed == auditLines && a.skippedTotal == 0, "every line of the capture is an audit entry")
        #expect(a.attributed == out.value.anomalousRequests && l.attributed == out.value.totalRequests)
        #expect(a.inWindow == a.attributed! + a.otherEnvironment)
        #expect(l.inWindow == l.attributed! + l.otherEnvironment + l.unattributed)
        // Independent recount of the lines no environment owns: ingress-nginx writes `[]` for the upstream name.
        let text = try String(contentsOfFile: access, encoding: .utf8)
        #expect(l.unattributed == text.split(separator: "\n").filter { $0.contains(" [] [] ") }.count)
        #expect(a.firstTime != nil && a.lastTime != nil && a.firstTime! <= a.lastTime!)
        #expect(!a.isUnreadable && !l.isUnreadable)
    }

    @Test("WAF files: an access log of an unknown format is unreadable, with file:line and the offending value, cut and escaped")
    func wafFilesUnreadableAccessLog() throws {
        let dir = tempDir()
        let long = String(repeating: "x", count: 400)
        let lines = ["[Sun Nov 22 00:10:00 2026] [error] client denied \u{1b}[31m", "2026/11/22 00:10:01 [warn] " + long, "not a log line"]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        var settings = WAFFileSettings(auditLogs: [], accessLogs: [dir + "/access.log"])
        settings.auditLogTimezone = "UTC"
        let env = EnvironmentConfig(name: "p", namespace: "shop", hosts: [], thresholds: .defaults)
        let out = try FilesWAFSource(settings: settings).fetch(SourceContext(window: Self.rawWindow, environment: env, redactor: SecretRedactor()))
        let l = try #require(out.coverage?.input("access log"))
        #expect(l.read == 3 && l.parsed == 0 && l.isUnreadable)
        #expect(l.skipped == [SkipCount(reason: SkipReason.notAccessLine.text, count: 3)])
        #expect(l.examples.map(\.place) == [dir + "/access.log:1", dir + "/access.log:2", dir + "/access.log:3"])
        #expect(l.examples[0].value == "[Sun Nov 22 00:10:00 2026] [error] client denied \\u{1B}[31m")
        #expect(l.examples[1].value?.hasSuffix("…") == true && l.examples[1].value!.count == SkipExample.valueLength + 1)
        #expect(out.coverage?.input("audit log")?.files == 0)
    }

    @Test("Hubble file: lines, flows parsed, in the window, of the namespace, skipped with place and value")
    func hubbleCoverage() throws {
        let dir = tempDir()
        func flow(_ t: String, src: String, dst: String) -> String {
            #"{"flow":{"time":"\#(t)","verdict":"FORWARDED","source":{"namespace":"\#(src)"},"destination":{"namespace":"\#(dst)"}}}"#
        }
        let lines = [flow("2026-11-22T00:10:00Z", src: "shop", dst: "db"), flow("2026-11-22T00:11:00Z", src: "a", dst: "b"),
                     flow("2026-11-21T10:00:00Z", src: "shop", dst: "db"), "garbage \u{1b}]0;x", ""]
        try lines.joined(separator: "\n").write(toFile: dir + "/flows.json", atomically: true, encoding: .utf8)
        let env = EnvironmentConfig(name: "p", namespace: "shop", hosts: [], thresholds: .defaults)
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [dir + "/flows.json"]))
            .fetch(SourceContext(window: Self.rawWindow, environment: env, redactor: SecretRedactor()))
        let i = try #require(out.coverage?.input("flow log"))
        #expect(i.files == 1 && i.read == 4 && i.parsed == 3 && i.inWindow == 2 && i.attributed == 1 && i.otherEnvironment == 1)
        #expect(i.skipped == [SkipCount(reason: "not hubble flow JSON", count: 1)])
        #expect(i.examples.first?.place == dir + "/flows.json:4" && i.examples.first?.value == "garbage \\u{1B}]0;x")
        #expect(i.firstTime == RFC3339.parse("2026-11-21T10:00:00Z") && out.value.counts.total == 1)
    }

    @Test("Policy folder: files, documents, objects, parsed, invalid, other namespace; a folder of broken YAML is unreadable")
    func policyDirectoryCoverage() throws {
        let dir = tempDir()
        try """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: mine, namespace: shop}
        spec: {podSelector: {}, policyTypes: [Ingress]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: theirs, namespace: other}
        spec: {podSelector: {}, policyTypes: [Ingress]}
        """.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try "kind: NetworkPolicy\nmetadata:\n  name: broken\n   bad: [\n".write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        let out = try DirectoryPolicySource(path: dir).fetch(SourceContext(window: Self.rawWindow,
                                                            environment: EnvironmentConfig(name: "p", namespace: "shop", thresholds: .defaults), redactor: SecretRedactor()))
        let i = try #require(out.coverage?.inputs.first)
        #expect(out.coverage?.source == "directory")
        #expect(i.files == 2 && i.documents == 3 && i.read == 3 && i.parsed == 2 && i.invalid == 1)
        #expect(i.attributed == 1 && i.otherEnvironment == 1 && !i.isUnreadable)
        let broken = tempDir()
        try "kind: NetworkPolicy\nmetadata:\n  name: broken\n   bad: [\n".write(toFile: broken + "/b.yaml", atomically: true, encoding: .utf8)
        let none = try DirectoryPolicySource(path: broken).fetch(SourceContext(window: Self.rawWindow,
                                                                environment: EnvironmentConfig(name: "p", namespace: "shop", thresholds: .defaults), redactor: SecretRedactor()))
        #expect(none.coverage?.unreadableInputs.count == 1)
    }

    @Test("Prometheus answers: series and samples; a non-finite value is a skip with its query and labels")
    func prometheusCoverage() throws {
        let totals = try PrometheusAnswer.decode(bytes(#"""
        {"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"verdict":"FORWARDED"},"value":[1795132800,"10"]},
          {"metric":{"verdict":"DROPPED"},"value":[1795132800,"NaN"]}]}}
        """#), place: "t")
        let rate = try PrometheusAnswer.decode(bytes(#"""
        {"status":"success","data":{"resultType":"matrix","result":[
          {"metric":{"verdict":"FORWARDED"},"values":[[1795132800,"1"],[1795136400,"2"],[1795140000,"3"]]}]}}
        """#), place: "t")
        let c = FlowStatisticsBuilder.coverage(answers: [.totals: totals, .rate: rate], bytes: 100, source: "prometheus")
        let i = try #require(c.inputs.first)
        #expect(i.read == 3 && i.parsed == 2 && i.samples == 5 && i.bytes == 100)
        #expect(i.skipped == [SkipCount(reason: "not a finite number", count: 1)])
        #expect(i.examples.first?.place == #"totals{verdict="DROPPED"}"#)
    }

    @Test("Elasticsearch answer: documents are hits.total of each search, with their buckets")
    func elasticsearchCoverage() throws {
        let body = bytes(#"""
        {"responses":[
          {"hits":{"total":{"value":1200,"relation":"eq"}},"aggregations":{"history":{"buckets":[{"key":1795132800000,"doc_count":1200}]}}},
          {"hits":{"total":292},"aggregations":{"history":{"buckets":[{"key":1795132800000,"doc_count":200},{"key":1795136400000,"doc_count":92}]}}}]}
        """#)
        let (stats, _) = try MsearchAnswer.decode(body, place: "es")
        let c = MsearchAnswer.coverage(stats, bytes: body.count, source: "elasticsearch")
        #expect(c.input("access-log documents")?.read == 1200 && c.input("access-log documents")?.buckets == 1)
        #expect(c.input("audit-log documents")?.read == 292 && c.input("audit-log documents")?.buckets == 2)
        #expect(c.unreadableInputs.isEmpty)
    }
}
