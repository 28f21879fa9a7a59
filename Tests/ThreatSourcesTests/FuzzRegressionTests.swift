import Foundation
import Testing
import ThreatConfig
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

/// Inputs found by the libFuzzer targets (docs/fuzzing.md), kept in Fixtures/fuzz/<target>/ and fed
/// to the same production entry points as the targets, with the same invariants. A new crash file
/// dropped into the folder is tested from then on.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz")

    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let dir = root.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
        return try names.map { ($0, try [UInt8](Data(contentsOf: dir.appendingPathComponent($0)))) }
    }

    static let window = TimeWindow(from: Date(timeIntervalSince1970: 1_790_000_000), to: Date(timeIntervalSince1970: 1_800_000_000),
                                   interval: .day)
    static let windows = [ScanWindow(window), ScanWindow(window.previous)]
    static let scan = WAFLogScan(auditFiles: [], accessFiles: [], windows: windows,
                                 attribution: Attribution(namespace: "shop-production", hosts: ["shop.example.com"]),
                                 zone: TimeZone(identifier: "UTC")!)

    static func block(_ bytes: [UInt8]) -> (BlockBuffer, LineBlock) {
        let buffer = BlockBuffer()
        let n = min(bytes.count, BlockBuffer.capacity)
        bytes.withUnsafeBufferPointer { if n > 0 { buffer.pointer.update(from: $0.baseAddress!, count: n) } }
        return (buffer, LineBlock(file: 0, index: 0, buffer: buffer, count: n))
    }

    @Test("Audit-line inputs: the audit worker counts them without crashing, records stay in range")
    func auditLines() throws {
        for (name, bytes) in try Self.inputs("audit-line") {
            let (buffer, block) = Self.block(bytes)
            var part = AuditPart(zone: TimeZone(identifier: "UTC")!, key: Self.scan.hashKey)
            var tally = BlockTally(file: 0, index: 0)
            Self.scan.parseAudit(block, &part, &tally)
            withExtendedLifetime(buffer) {}
            #expect(tally.entries + tally.skipped.total <= tally.lines, "\(name)")
            for r in part.records {
                #expect(Int(r.rulesStart) + Int(r.rulesCount) <= part.ruleRefs.count, "\(name)")
                #expect(r.bucket >= 0 && Int(r.bucket) < Self.windows[Int(r.window)].bucketCount, "\(name)")
            }
        }
    }

    @Test("Access-line inputs: every field range lies inside its line; the access worker counts them")
    func accessLines() throws {
        for (name, bytes) in try Self.inputs("access-line") {
            var cache = TimeCache()
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                Array(line).withUnsafeBufferPointer { p in
                    guard let l = AccessLogLine.parse(p, timeCache: &cache) else { return }
                    for r in [l.upstream, l.requestID, l.remoteAddr, l.request, l.userAgent] {
                        #expect(r.lowerBound >= 0 && r.upperBound <= p.count, "\(name)")
                    }
                }
            }
            let (buffer, block) = Self.block(bytes)
            var part = AccessPart(windows: Self.windows)
            var tally = BlockTally(file: 0, index: 0)
            Self.scan.parseAccess(block, &part, &tally, table: nil, chain: [])
            withExtendedLifetime(buffer) {}
            #expect(tally.formats.reduce(0, +) + tally.skipped.total <= tally.lines, "\(name)")
        }
    }

    @Test("Hubble-line inputs parse or are refused without crashing")
    func hubbleLines() throws {
        for (name, bytes) in try Self.inputs("hubble-line") {
            let flow = bytes.withUnsafeBufferPointer { HubbleFlowSource.parse($0) }
            if let flow { #expect(flow.time.timeIntervalSince1970.isFinite, "\(name)") }
        }
    }

    @Test("Prometheus-answer inputs decode or fail with a described error")
    func prometheusAnswers() throws {
        for (name, bytes) in try Self.inputs("prometheus-answer") {
            do {
                _ = try PrometheusAnswer.decode(bytes, place: name)
            } catch {
                #expect(error.description.hasPrefix(name), "\(error)")
            }
        }
    }

    @Test("Elasticsearch-answer inputs decode to non-negative counts or fail with a described error")
    func msearchAnswers() throws {
        for (name, bytes) in try Self.inputs("msearch-answer") {
            do {
                let (s, _) = try MsearchAnswer.decode(bytes, place: name)
                #expect(s.totalRequests >= 0 && s.anomalousRequests >= 0, "\(name)")
                #expect((s.blockedRequests ?? 0) >= 0 && (s.detectionOnlyRequests ?? 0) >= 0, "\(name)")
                for list in [s.topRules, s.topClients, s.topURIs, s.engineModes, s.anomalyScores] {
                    #expect(list.allSatisfy { $0.count >= 0 }, "\(name)")
                }
                #expect((s.totalHistory + s.anomalousHistory).allSatisfy { $0.value >= 0 }, "\(name)")
            } catch {
                #expect(error.description.contains(name), "\(error)")
            }
        }
    }

    @Test("Policy-manifest inputs load: every document a policy, an invalid item or a note")
    func policyManifests() throws {
        for (name, bytes) in try Self.inputs("policy-yaml") {
            let r = PolicyDocumentLoader.loadDetailed(text: String(decoding: bytes, as: UTF8.self), origin: name, namespace: "shop")
            for p in r.policies { #expect(p.item.valid || !p.item.problems.isEmpty, "\(name)") }
        }
    }

    @Test("Config inputs load or fail with an error naming the file")
    func configs() throws {
        for (name, bytes) in try Self.inputs("config") {
            do {
                let c = try ConfigLoader.parse(String(decoding: bytes, as: UTF8.self), file: name, baseDirectory: "/nonexistent")
                #expect(!c.environments.isEmpty, "\(name)")
            } catch {
                #expect(error.file == name, "\(error)")
            }
        }
    }

    // MARK: Found by fuzzing, one test each

    @Test("FuzzPrometheusAnswer: a matrix time of 11e+794960288 (infinity) is a malformed answer, not a sample at time ∞")
    func infiniteSampleTime() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.root.appendingPathComponent("prometheus-answer/crash-infinite-time.json")))
        #expect(throws: SourceError.self) { try PrometheusAnswer.decode(bytes, place: "rate") }
        do {
            _ = try PrometheusAnswer.decode(bytes, place: "rate")
        } catch {
            #expect(error.description.contains("number out of range"), "\(error)")
        }
        // The same number elsewhere in any JSON answer is refused by the parser.
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[1e999]") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[-1e400]") }
        #expect(try JSONValue.parse("[1e308]").arrayValue?.first?.doubleValue == 1e308)
    }

    @Test("Found while fixing the above: Prometheus counts of 1e300 or below zero do not trap; they are clamped or ignored with a warning")
    func hugeAndNegativeCounts() throws {
        func vector(_ values: [String]) throws -> PrometheusAnswer {
            let items = values.enumerated().map { #"{"metric":{"verdict":"\#($0.offset % 2 == 0 ? "FORWARDED" : "DROPPED")","reason":"r\#($0.offset)"},"value":[1,"\#($0.element)"]}"# }
            return try PrometheusAnswer.decode(Array(#"{"status":"success","data":{"resultType":"vector","result":[\#(items.joined(separator: ","))]}}"#.utf8), place: "p")
        }
        // Since the range checks: a value past 2^53 is refused at decode, with its place.
        #expect(throws: SourceError.malformed(place: "p", detail: "data.result[0].value: value out of range: 1e+300 (sample values must be within ±9007199254740992)")) {
            try vector(["1e300", "1e300"])
        }
        // The builder, handed such values directly, still never traps: a sum past 2^53 is kept as
        // 2^53 + 1 (out of range), so the source's range check refuses the answer.
        let huge = PrometheusAnswer(result: .vector([.init(labels: ["verdict": "FORWARDED", "reason": "a"], value: 1e300),
                                                     .init(labels: ["verdict": "DROPPED", "reason": "b"], value: 1e300)]), warnings: [])
        let (stats, _) = FlowStatisticsBuilder.build(answers: [.totals: huge, .dropReasons: huge], queries: FlowQueries(), namespace: "ns")
        #expect(stats.counts.forwarded == (1 << 53) + 1 && stats.counts.dropped == (1 << 53) + 1)
        #expect(stats.counts.total == (1 << 54) + 2)
        #expect(stats.topDropReasons.allSatisfy { $0.count == 1 << 53 })
        #expect(stats.rangeProblem()?.description == "value out of range: flows forwarded is 9007199254740993 (counts must be 0…9007199254740992)")
        let negative = try vector(["-5", "7"])
        let (n, warnings) = FlowStatisticsBuilder.build(answers: [.totals: negative], queries: FlowQueries(), namespace: "ns")
        #expect(n.counts.forwarded == 0 && n.counts.dropped == 7)
        #expect(warnings == ["totals: ignored a negative value (-5.0) for FORWARDED"])
        #expect(Int(saturating: .nan) == 0 && Int(saturating: -1e300) == -(1 << 53) && Int(saturating: 2.5) == 3)
    }

    @Test("Found by review of the audit scanner: a 19-digit http_code or severity does not overflow; it is no number")
    func nineteenDigits() throws {
        let line = #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sat Nov 21 20:11:55 2026","unique_id":"a","request":{"uri":"/"},"response":{"http_code":9999999999999999999},"messages":[{"message":"m","details":{"ruleId":"942100","severity":"9999999999999999999"}}]}}"#
        let entry = try wafAudit(line).get()
        #expect(entry.httpCode == nil)
        #expect(entry.rules.first?.severity == nil)
        // Int.max itself (19 digits, as Coraza's nanosecond timestamps have) still reads.
        let ok = try wafAudit(line.replacingOccurrences(of: "9999999999999999999", with: "9223372036854775807")).get()
        #expect(ok.httpCode == Int.max)
        let over = try wafAudit(line.replacingOccurrences(of: "9999999999999999999", with: "9223372036854775808")).get()
        #expect(over.httpCode == nil)
    }

    @Test("Found by review with the Elasticsearch target's invariant: negative counts in an _msearch answer are no counts")
    func negativeCounts() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.root.appendingPathComponent("msearch-answer/negative-counts.json")))
        do {
            _ = try MsearchAnswer.decode(bytes, place: "es")
            Issue.record("an answer with hits.total -5 decoded")
        } catch {
            // Since the range checks, the message names the value and the range.
            #expect(error.description == "es responses[0] hits.total: value out of range: the count is -5 (counts must be 0…9007199254740992)")
        }
        #expect(JSONValue.number(-1).intValue == nil && JSONValue.string("-1").intValue == nil && JSONValue.number(0).intValue == 0)
    }
}
