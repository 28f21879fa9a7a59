import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// Counts are merged before a top N is cut, and every count table caps entries and bytes: keys
/// beyond a cap are counted as "other" and flagged on the section (docs/limits.md).
@Suite("Bounded tables and merge-then-rank")
struct BoundedTablesTests {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "bounded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func vector(_ items: [(labels: [String: String], value: Double)]) -> PrometheusAnswer {
        PrometheusAnswer(result: .vector(items.map { .init(labels: $0.labels, value: $0.value) }), warnings: [])
    }

    @Test("Merge then rank, drop reasons: with 12 raw reasons, POLICY_DENIED (100) and 'Policy denied' (60) count 160, not 100")
    func dropReasonsMergedBeforeTheCut() {
        var items: [(labels: [String: String], value: Double)] = [(["reason": "POLICY_DENIED"], 100), (["reason": "Policy denied"], 60)]
        for k in 0..<10 { items.append((["reason": "REASON_\(k)"], Double(61 + k))) }  // 61…70: all above 60
        let (stats, _) = FlowStatisticsBuilder.build(answers: [.dropReasons: vector(items)], queries: FlowQueries(), namespace: "ns")
        #expect(stats.topDropReasons.count == 10)
        #expect(stats.topDropReasons.first == RankedCount(key: "POLICY_DENIED", count: 160))
        #expect(!stats.topDropReasons.contains { $0.key == "REASON_0" }, "the 11th (61) is cut after the merge")
    }

    @Test("Merge then rank, dropped pairs: one pair split over 11 label sets (other labels differ) counts once, in full")
    func droppedPairsMergedBeforeTheCut() {
        var items: [(labels: [String: String], value: Double)] = []
        for k in 0..<11 { items.append((["source": "world", "destination": "shop/web", "protocol": "p\(k)"], 10)) }
        for k in 0..<10 { items.append((["source": "ns\(k)", "destination": "shop/api"], Double(50 + k))) }
        let (stats, _) = FlowStatisticsBuilder.build(answers: [.dropPairs: vector(items)], queries: FlowQueries(), namespace: "ns")
        #expect(stats.topDroppedPairs.first == RankedCount(key: "world → shop/web", count: 110))
        #expect(stats.topDroppedPairs.count == 10)
    }

    @Test("Merge then rank, Hubble: 12 raw reasons in two spellings in a flow log count together")
    func hubbleReasonsMerged() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func line(_ reason: String, _ pod: String) -> String {
            #"{"flow":{"time":"2026-11-19T14:00:01Z","verdict":"DROPPED","drop_reason_desc":"\#(reason)","source":{"labels":["reserved:world"]},"destination":{"namespace":"shop","pod_name":"\#(pod)"}}}"#
        }
        var lines: [String] = []
        for _ in 0..<100 { lines.append(line("POLICY_DENIED", "web")) }
        for _ in 0..<60 { lines.append(line("Policy denied", "web")) }
        for k in 0..<10 { for _ in 0..<(61 + k) { lines.append(line("REASON_\(k)", "api")) } }
        try lines.joined(separator: "\n").write(toFile: dir + "/flows.json", atomically: true, encoding: .utf8)
        let env = EnvironmentConfig(name: "p", namespace: "shop", hosts: [], thresholds: .defaults)
        let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [dir + "/flows.json"])).fetch(SourceContext(window: window, environment: env, redactor: SecretRedactor()))
        #expect(out.value.topDropReasons.first == RankedCount(key: "POLICY_DENIED", count: 160))
        #expect(out.value.counts.dropped == lines.count)
    }

    @Test("Table cap, counts: keys past the entry or byte cap are counted as other and flagged; keys are cut to 1 KiB")
    func boundedCounts() {
        var t = BoundedCounts(cap: 3, byteCap: 1 << 20)
        for k in ["a", "b", "c", "d", "e", "a"] { t.add(k) }
        #expect(t.counts == ["a": 2, "b": 1, "c": 1])
        #expect(t.other == 2)
        #expect(t.warning("dropped flows", with: "flow pairs")
            == "2 dropped flows with flow pairs beyond the table cap of 3 entries or 1 MiB were counted as other (in the totals, not ranked; a ranked count may be low by up to 2)")
        var bytes = BoundedCounts(cap: 1000, byteCap: 2048)
        let long = String(repeating: "é", count: 5000)  // 10,000 bytes of 2-byte characters
        bytes.add("x" + long)
        bytes.add("y" + long)
        bytes.add("z" + long)
        #expect(bytes.counts.count == 2 && bytes.other == 1)
        #expect(bytes.counts.keys.allSatisfy { $0.utf8.count <= InputLimits.keyBytes && !$0.contains("\u{FFFD}") }, "cut at a character boundary")
        #expect(BoundedCounts().warning("x", with: "y") == nil)
    }

    @Test("Table cap, interner: entries past the byte cap share the overflow id; strings are cut to 1 KiB before they are kept")
    func internerByteCap() {
        var i = Interner(cap: 100, byteCap: 3 * 1024, key: .random())
        let ids = (0..<5).map { k in i.id("/u\(k)/" + String(repeating: "a", count: 5000)) }
        #expect(Array(ids.prefix(3)) == [0, 1, 2])
        #expect(ids[3] == Interner.overflow && ids[4] == Interner.overflow)
        #expect(i.bytes == 3 * 1024)
        #expect(i.string(0)?.utf8.count == 1024)
        #expect(i.id("/u1/" + String(repeating: "a", count: 9000)) == 1, "same first KiB, same key")
        #expect(i.capText == "100 entries or 3 KiB")
    }

    @Test("Table cap, audit log: 2,100 distinct 1.5 KiB client addresses fill the 2 MiB client table; 52 entries are counted as other, flagged on the section")
    func auditClientsPastTheCap() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try Data(contentsOf: URL(fileURLWithPath: WAFFixtures.path("modsec-v3-detection.log")))
        let template = try #require(String(decoding: fixture, as: UTF8.self)
            .split(separator: "\n").first { $0.contains("203.0.113.45") && $0.contains("ruleId") }).description
        var out = ""
        for k in 0..<2_100 {
            let client = String(format: "c%05d-", k) + String(repeating: "x", count: 1_536)
            out += template.replacingOccurrences(of: #""client_ip":"203.0.113.45""#, with: #""client_ip":"\#(client)""#)
                .replacingOccurrences(of: #""unique_id":""#, with: #""unique_id":"\#(k)-"#) + "\n"
        }
        try out.write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        var s = WAFFileSettings(auditLogs: [dir + "/audit.log"], accessLogs: [])
        s.auditLogTimezone = "Europe/Berlin"
        let result = try FilesWAFSource(settings: s).fetch(WAFFilesSourceTests.production)
        #expect(result.value.anomalousRequests == 2_100, "every entry is in the totals")
        #expect(result.value.topClients.count == 10 && result.value.topClients.allSatisfy { $0.key.utf8.count == 1024 })
        let warning = try #require(result.warnings.first { $0.contains("client addresses beyond the table cap") }, "\(result.warnings)")
        #expect(warning.hasPrefix("52 audit entries with client addresses beyond the table cap of 100000 entries or 2 MiB were counted as other"), "\(warning)")
    }

    @Test("Keyed hash: every scan draws its own key; the same id hashes alike within a scan and differently across keys")
    func keyedHash() {
        let a = HashKey.random(), b = HashKey.random()
        #expect(a != b)
        let id = "898be137d2fcec4819d28479380b8261"
        #expect(byteHash(id, key: a) == byteHash(id, key: a))
        #expect(byteHash(id, key: a) != byteHash(id, key: b))
        // The unkeyed hash's low bits (the table slot) were a function of the bytes alone; now 64
        // ids that share their slot under one key spread over many slots under another.
        let mask: UInt64 = 1023
        let ids = (0..<200_000).map { "id-\($0)" }
        let slot = byteHash(ids[0], key: a) & mask
        let same = ids.filter { byteHash($0, key: a) & mask == slot }.prefix(64)
        let spread = Set(same.map { byteHash($0, key: b) & mask })
        #expect(same.count == 64 && spread.count > 40, "\(spread.count) slots")
        #expect(WAFLogScan(auditFiles: [], accessFiles: [], windows: [], attribution: Attribution(namespace: "n", hosts: []),
                           zone: TimeZone(identifier: "UTC")!).hashKey != WAFLogScan(auditFiles: [], accessFiles: [], windows: [],
                           attribution: Attribution(namespace: "n", hosts: []), zone: TimeZone(identifier: "UTC")!).hashKey)
    }
}
