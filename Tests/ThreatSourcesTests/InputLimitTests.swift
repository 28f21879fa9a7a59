import Foundation
import Testing
import ThreatConfig
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

/// The caps of docs/limits.md, for every parser of untrusted input: over-long lines are skipped and
/// counted, deep or huge documents and alias bombs are rejected with their place.
@Suite("Input limits")
struct InputLimitTests {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "limits-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// 10 levels of 10 aliases: 10^10 nodes in 1 KB.
    static func billionLaughs(under key: String) -> String {
        var s = "a0: &a0 [\"lol\"]\n"
        for i in 1...10 {
            s += "a\(i): &a\(i) [" + (0..<10).map { _ in "*a\(i - 1)" }.joined(separator: ", ") + "]\n"
        }
        return s + "\(key): *a10\n"
    }

    static let tenMB = [UInt8](repeating: 0x41, count: 10 << 20)

    @Test("A 10 MB access line is skipped and counted as longer than 1 MiB; the lines around it count")
    func longAccessLine() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var access = try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("access-detection.log")))
        let before = access.split(separator: 0x0A).count
        access += Self.tenMB + [0x0A]
        access += try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("access-detection.log")))
        try Data(access).write(to: URL(fileURLWithPath: dir + "/access.log"))
        var s = WAFFileSettings(auditLogs: [WAFFixtures.path("modsec-v3-detection.log")], accessLogs: [dir + "/access.log"])
        s.auditLogTimezone = "Europe/Berlin"
        let out = try FilesWAFSource(settings: s).fetch(WAFFilesSourceTests.production)
        #expect(out.value.totalRequests == 10, "both copies of the 5 lines count")
        #expect(out.value.skippedLines == 1)
        let warning = try #require(out.warnings.first { $0.hasPrefix("access log:") })
        #expect(warning.contains("1 line skipped (1 longer than 1 MiB"), "\(warning)")
        #expect(warning.contains("\(dir)/access.log:\(before + 1)"), "\(warning)")
    }

    @Test("A 10 MB Hubble line is skipped and counted with its reason and place; the flows around it count")
    func longHubbleLine() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let flow = #"{"flow":{"time":"2026-11-19T14:00:01Z","verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED","destination":{"namespace":"shop"}}}"#
        var bytes = Array((flow + "\n").utf8)
        bytes += Self.tenMB + [0x0A]
        bytes += Array((flow + "\n").utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/flows.json"))
        let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
        let env = EnvironmentConfig(name: "p", namespace: "shop", hosts: [], thresholds: .defaults)
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [dir + "/flows.json"])).fetch(SourceContext(window: window, environment: env, redactor: SecretRedactor()))
        #expect(out.value.counts.dropped == 2)
        #expect(out.warnings == ["skipped 1 line(s) longer than 1 MiB, first at \(dir)/flows.json:2"])
    }

    @Test("Answers nested 10,000 deep are malformed answers, not a stack overflow (Prometheus, Elasticsearch, audit lines, Hubble lines)")
    func deepAnswers() {
        let deep = Array((String(repeating: #"{"data":["#, count: 10_000) + String(repeating: "]}", count: 10_000)).utf8)
        do {
            _ = try PrometheusAnswer.decode(deep, place: "prom")
            Issue.record("decoded")
        } catch {
            #expect(error.description.contains("nesting deeper than \(InputLimits.jsonDepth) levels"), "\(error)")
        }
        do {
            _ = try MsearchAnswer.decode(deep, place: "es")
            Issue.record("decoded")
        } catch {
            #expect(error.description.contains("nesting deeper than \(InputLimits.jsonDepth) levels"), "\(error)")
        }
        #expect(deep.withUnsafeBufferPointer { HubbleFlowSource.parse($0) } == nil)
        var reader = AuditEntryReader(zone: TimeZone(identifier: "UTC")!)
        let audit = Array((#"{"transaction":"# + String(repeating: "[", count: 10_000)).utf8)
        #expect(audit.withUnsafeBufferPointer { reader.read($0) } == .notJSON)
    }

    @Test("Policy manifests: an alias bomb and a 10,000-deep document are invalid items with a located problem; the other documents load")
    func policyBombs() throws {
        let good = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: { name: deny-all, namespace: shop }
        spec: { podSelector: {} }
        """
        let bomb = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: laughs }\n" + InputLimitTests.billionLaughs(under: "spec")
        let deep = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: deep }\nspec: "
            + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let items = PolicyDocumentLoader.load(text: [good, bomb, deep, good].joined(separator: "\n---\n"), origin: "p.yaml")
        #expect(items.count == 4)
        #expect(items[0].valid && items[3].valid)
        let b = items[1], d = items[2]
        #expect(!b.valid && b.problems.first?.message.contains("aliases are expanded") == true, "\(b.problems)")
        #expect(b.problems.first?.location?.hasPrefix("p.yaml:") == true)
        #expect(!d.valid && d.problems.first?.message.contains("nested deeper than \(InputLimits.yamlDepth) levels") == true, "\(d.problems)")
        #expect(d.problems.first?.location?.hasPrefix("p.yaml:26:") == true, "the spec line of the third document")
        // A Kubernetes API answer (JSON) nested too deep is refused the same way.
        let api = #"{"kind":"NetworkPolicyList","apiVersion":"networking.k8s.io/v1","items":"# + String(repeating: "[", count: 10_000)
            + String(repeating: "]", count: 10_000) + "}"
        let r = PolicyDocumentLoader.loadDetailed(text: api, origin: "api")
        #expect(r.policies.allSatisfy { !$0.item.valid })
    }

    @Test("A policy stream larger than 16 MiB is skipped with a note; a file that large is not read")
    func hugePolicies() throws {
        let text = "# " + String(repeating: "x", count: InputLimits.documentBytes) + "\nkind: NetworkPolicy\n"
        let r = PolicyDocumentLoader.loadDetailed(text: text, origin: "big.yaml")
        #expect(r.policies.isEmpty)
        #expect(r.notes == ["big.yaml: skipped, larger than 16 MiB (\(text.utf8.count) bytes)"])
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/big.yaml", atomically: false, encoding: .utf8)
        #expect(throws: SourceError.unreadable(path: dir + "/big.yaml", reason: "larger than 16 MiB")) {
            try PolicyDocumentLoader.loadPath(dir + "/big.yaml", namespace: "shop")
        }
    }
}
