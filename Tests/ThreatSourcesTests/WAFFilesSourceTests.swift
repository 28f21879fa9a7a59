import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// `waf: files:` as a whole: attribution, window, buckets, skipped lines, gzip, globs.
@Suite("WAF files source")
struct WAFFilesSourceTests {
    static let window = TimeWindow(from: RFC3339.parse("2026-11-22T00:00:00Z")!, to: RFC3339.parse("2026-11-22T01:00:00Z")!,
                                   interval: .minute)

    static func context(_ name: String, _ namespace: String, _ hosts: [String], window: TimeWindow = window) -> SourceContext {
        SourceContext(window: window, environment: EnvironmentConfig(name: name, namespace: namespace, hosts: hosts, thresholds: .defaults), redactor: SecretRedactor())
    }

    static let production = context("production", "shop-production", ["shop.example.com"])
    static let staging = context("staging", "shop-staging", ["staging.shop.example.com"])

    func fetch(audit: [String], access: [String], zone: String = "Europe/Berlin", _ ctx: SourceContext = production,
               pieceSize: Int? = nil) throws -> SourceOutput<WAFStatistics> {
        var s = WAFFileSettings(auditLogs: audit, accessLogs: access)
        s.auditLogTimezone = zone
        return try FilesWAFSource(settings: s).fetch(ctx)
    }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "waf-src-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test("Real capture: lines and entries go to the environment whose upstream / req_id / Host they carry")
    func attribution() throws {
        let audit = [WAFFixtures.path("modsec-v3-detection.log")], access = [WAFFixtures.path("access-detection.log")]
        let p = try fetch(audit: audit, access: access).value
        // production: POST 405, SQLi, Nikto, \xHH UA, /products/42 lines; the 405, SQLi and Nikto entries.
        #expect(p.totalRequests == 5 && p.anomalousRequests == 3)
        #expect(p.anomalousRatio == 3.0 / 5.0)
        #expect(p.totalHistory.reduce(0) { $0 + $1.value } == 5 && p.anomalousHistory.reduce(0) { $0 + $1.value } == 3)
        #expect(p.totalHistory.count == 60)
        #expect(p.topRules.map(\.key) == ["949110", "913100", "942100"])
        #expect(p.topClients == [RankedCount(key: "203.0.113.45", count: 2), RankedCount(key: "192.0.2.30", count: 1)])
        #expect(p.engineModes == [RankedCount(key: "DetectionOnly", count: 3)])
        #expect(p.blockedRequests == 0 && p.detectionOnlyRequests == 3 && p.skippedLines == 0)
        #expect(p.categories.map(\.key) == ["scanner", "sqli"])
        #expect(p.anomalyScores == [RankedCount(key: "5", count: 2)])
        let s = try fetch(audit: audit, access: access, Self.staging).value
        #expect(s.totalRequests == 2 && s.anomalousRequests == 1)
        #expect(s.topURIs.first?.key == "/?file=%c0%af..%c0%af..%c0%afetc/passwd")
    }

    @Test("The rejected 400 ([] upstream) and the default backend's lines belong to no environment, with a warning")
    func unattributed() throws {
        let out = try fetch(audit: [WAFFixtures.path("modsec-v3-detection.log")], access: [WAFFixtures.path("access-detection.log")])
        #expect(out.warnings.contains { $0.contains("1 access line(s) in the window have no upstream name") })
        #expect(out.evidence.count == 2)
        #expect(out.evidence[0].sha256?.count == 64)
        #expect(out.evidence[1].query?.contains("9 lines (ingress-nginx 9)") == true)
    }

    @Test("Without matching access lines, entries fall back to a unique_id prefix <host>- (GitLab) or the Host header")
    func fallback() throws {
        let dir = tempDir()
        func entry(_ id: String, host: String) -> String {
            #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sun Nov 22 00:10:00 2026","unique_id":"\#(id)","request":{"uri":"/","headers":{"Host":"\#(host)"}},"response":{"http_code":200},"producer":{"secrules_engine":"DetectionOnly"},"messages":[]}}"#
        }
        try [entry("shop.example.com-0123abcd", host: "10.0.0.1"),        // prefix
             entry("SHOP.EXAMPLE.COM-4567", host: "10.0.0.1"),            // prefix, any case
             entry("89ab", host: "Shop.Example.com:443"),                 // Host
             entry("staging.shop.example.com-cdef", host: "10.0.0.1"),    // another environment's prefix
             entry("shop.example.comx-1", host: "10.0.0.1")]              // not a prefix match
            .joined(separator: "\n").write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        let p = try fetch(audit: [dir + "/audit.log"], access: [], zone: "UTC").value
        #expect(p.anomalousRequests == 3)
        let s = try fetch(audit: [dir + "/audit.log"], access: [], zone: "UTC", Self.staging).value
        #expect(s.anomalousRequests == 1)
    }

    @Test("A req_id seen in another environment's access line wins over a matching Host header")
    func reqIDWins() throws {
        let dir = tempDir()
        try #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sun Nov 22 00:10:00 2026","unique_id":"feed","request":{"uri":"/","headers":{"Host":"shop.example.com"}},"response":{"http_code":200},"producer":{"secrules_engine":"DetectionOnly"},"messages":[]}}"#
            .write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        try #"192.0.2.1 - - [22/Nov/2026:00:10:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 10 0.001 [shop-staging-web-80] [] 10.0.0.1:80 1 0.001 200 feed"#
            .write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        #expect(try fetch(audit: [dir + "/audit.log"], access: [dir + "/access.log"], zone: "UTC").value.anomalousRequests == 0)
        #expect(try fetch(audit: [dir + "/audit.log"], access: [dir + "/access.log"], zone: "UTC", Self.staging).value.anomalousRequests == 1)
    }

    @Test("Only [from, to) counts; each series is bucketed by its own time")
    func window() throws {
        let dir = tempDir()
        // The audit entry starts at 00:00:59 (ctime), its access line ends at 00:01:00: different buckets.
        try #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sun Nov 22 00:00:59 2026","unique_id":"a1","request":{"uri":"/"},"response":{"http_code":200},"producer":{"secrules_engine":"DetectionOnly"},"messages":[]}}"#
            .write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        let line = { (t: String, id: String) in
            #"192.0.2.1 - - [\#(t) +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 10 0.001 [shop-production-web-80] [] 10.0.0.1:80 1 0.001 200 \#(id)"#
        }
        try [line("21/Nov/2026:23:59:59", "x0"), line("22/Nov/2026:00:01:00", "a1"), line("22/Nov/2026:00:59:59", "x2"),
             line("22/Nov/2026:01:00:00", "x3")].joined(separator: "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        let w = try fetch(audit: [dir + "/audit.log"], access: [dir + "/access.log"], zone: "UTC").value
        #expect(w.totalRequests == 2 && w.anomalousRequests == 1)
        #expect(w.totalHistory[1].value == 1 && w.totalHistory[59].value == 1)
        #expect(w.anomalousHistory[0].value == 1)
        #expect(RFC3339.format(w.totalHistory[0].time) == "2026-11-22T00:00:00Z")
    }

    @Test("The audit_log_timezone option moves v3 entries; the access log carries its own zone")
    func zoneOption() throws {
        let audit = [WAFFixtures.path("modsec-v3-detection.log")], access = [WAFFixtures.path("access-detection.log")]
        // Read as UTC, the Berlin wall times (01:08) fall outside the 00:00–01:00 window.
        let wrong = try fetch(audit: audit, access: access, zone: "UTC").value
        #expect(wrong.totalRequests == 5 && wrong.anomalousRequests == 0)
    }

    @Test("Garbage, truncated, binary and 10 MB lines are skipped and counted, with file:line places; the rest counts")
    func skipped() throws {
        let dir = tempDir()
        var audit = try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("modsec-v3-detection.log")))
        audit += Array("this is not json\n".utf8)                                          // line 6
        audit += Array(#"{"transaction":{"unique_id":"cut","time_stamp":"Sun Nov 22 00:"#.utf8) + [0x0A]  // 7: truncated
        audit += [0x7B, 0x00, 0xFF, 0xFE, 0x22, 0x0A]                                       // 8: binary
        audit += Array(repeating: 0x41, count: 10 << 20) + [0x0A]                           // 9: 10 MB
        audit += Array(#"{"note":"valid JSON, not an entry"}"#.utf8) + [0x0A]               // 10
        audit += Array("\n   \n".utf8)                                                          // blank lines: ignored
        audit += try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("modsec-v3-detection.log")))
        try Data(audit).write(to: URL(fileURLWithPath: dir + "/audit.log"))
        var access = try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("access-detection.log")))
        access += Array("garbage line\n".utf8) + Array(repeating: 0x20, count: 3) + [0x0A]
        try Data(access).write(to: URL(fileURLWithPath: dir + "/access.log"))

        let out = try fetch(audit: [dir + "/audit.log"], access: [dir + "/access.log"])
        #expect(out.value.anomalousRequests == 6, "both copies of the 3 entries count")
        #expect(out.value.totalRequests == 5)
        #expect(out.value.skippedLines == 6)
        let auditWarning = try #require(out.warnings.first { $0.hasPrefix("audit log:") })
        #expect(auditWarning.contains("5 lines skipped (3 neither JSON nor a native audit entry, 1 JSON but not a ModSecurity or Coraza audit entry, 1 longer than 1 MiB"))
        #expect(auditWarning.contains("\(dir)/audit.log:6 (neither JSON nor a native audit entry: \"this is not json\")"))
        #expect(auditWarning.contains("\(dir)/audit.log:9 (longer than 1 MiB)"))
        #expect(out.warnings.contains { $0.contains("access log: 1 line skipped") && $0.contains("\(dir)/access.log:10") })
        // The digest covers every byte, the skipped 10 MB line included.
        var digest = SHA256Digest()
        audit.withUnsafeBytes { digest.update($0) }
        #expect(out.evidence.first { $0.source.hasSuffix("/audit.log") }?.sha256 == digest.finalize())
    }

    @Test("Files cut into many blocks and parsed on several workers give the same numbers and line places as one worker")
    func blocks() throws {
        let dir = tempDir()
        var access = ""
        for i in 0..<40_000 {
            let ns = i % 3 == 0 ? "shop-staging" : "shop-production"
            access += #"192.0.2.\#(i % 200) - - [22/Nov/2026:00:\#(String(format: "%02d", i % 60)):00 +0000] "GET /\#(i) HTTP/1.1" 200 1 "-" "ua" 10 0.001 [\#(ns)-web-80] [] 10.0.0.1:80 1 0.001 200 id\#(i)"# + "\n"
            if i == 12_345 || i == 33_333 { access += "broken line\n" }
        }
        try access.write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        #expect(access.utf8.count > 4 * LogBlocks.chunkSize, "several blocks")
        let files = [try LogFileHandle(path: dir + "/access.log")]
        func run(workers: Int) throws -> WAFLogScan.Outcome {
            var scan = WAFLogScan(auditFiles: [], accessFiles: files, windows: [ScanWindow(Self.window)],
                                  attribution: Attribution(namespace: "shop-production", hosts: []), zone: TimeZone(identifier: "UTC")!)
            scan.workers = workers
            return try scan.scan()
        }
        let one = try run(workers: 1)
        let many = try run(workers: 4)
        #expect(one.accessBuckets[0].reduce(0, +) == 26_666)
        #expect(many.accessBuckets == one.accessBuckets)
        #expect(many.skipped == 2 && one.skipped == 2)
        #expect(many.warnings == one.warnings)
        #expect(one.warnings.contains { $0.contains("access.log:12347 (not an access line of the expected format: \"broken line\"), \(dir)/access.log:33336") })
        #expect(one.access.first?.sha256 == SHA256Digest.hex(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/access.log")))))
    }

    @Test("One pass counts the previous window too; asking for it next reads nothing, unless a file changed")
    func previousWindow() throws {
        let dir = tempDir()
        let line = { (t: String, id: String) in
            #"192.0.2.1 - - [\#(t) +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 10 0.001 [shop-production-web-80] [] 10.0.0.1:80 1 0.001 200 \#(id)"#
        }
        try [line("21/Nov/2026:23:10:00", "p1"), line("21/Nov/2026:23:20:00", "p2"), line("22/Nov/2026:00:10:00", "c1")]
            .joined(separator: "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .utf8)
        let source = FilesWAFSource(settings: WAFFileSettings(auditLogs: [], accessLogs: [dir + "/access.log"]))
        let current = try source.fetch(Self.production)
        #expect(current.value.totalRequests == 1)
        var previous = Self.production
        previous.window = Self.window.previous
        // A kept answer is only given while the files are unchanged: with the file gone, it is
        // refused and the source reads again (and fails).
        try FileManager.default.moveItem(atPath: dir + "/access.log", toPath: dir + "/moved.log")
        #expect(throws: SourceError.self) { try source.fetch(previous) }
        try FileManager.default.moveItem(atPath: dir + "/moved.log", toPath: dir + "/access.log")
        _ = try source.fetch(Self.production)
        let prev = try source.fetch(previous)
        #expect(prev.value.totalRequests == 2)
        #expect(prev.value.totalHistory.count == 60 && RFC3339.format(prev.value.totalHistory[0].time) == "2026-11-21T23:00:00Z")
        // Taken once: the next request reads the file again, and sees a change.
        try (line("21/Nov/2026:23:30:00", "p3") + "\n").appendLine(to: dir + "/access.log")
        #expect(try source.fetch(previous).value.totalRequests == 3)
    }

    @Test("The evidence digest, fed in uneven pieces as reads deliver them, is the file's SHA-256 (as sha256sum computes it), for plain and .gz files")
    func digests() throws {
        var g = SystemRandomNumberGenerator()
        for n in [0, 1, 55, 56, 63, 64, 65, 1000, 70_001] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            var portable = SHA256Digest()
            bytes.withUnsafeBytes { b in
                // Uneven pieces, as reads deliver them.
                var i = 0
                while i < b.count {
                    let k = min(b.count - i, Int.random(in: 1...100, using: &g))
                    portable.update(UnsafeRawBufferPointer(rebasing: b[i..<(i + k)]))
                    i += k
                }
            }
            let streamed = portable.finalize()
            #expect(streamed == SHA256Digest.hex(bytes), "\(n) bytes")
            // And the same as coreutils' sha256sum, an independent implementation.
            let file = NSTemporaryDirectory() + "digest-\(getpid())-\(n)"
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let text = try runTool("/usr/bin/sha256sum", [file])
            #expect(text.hasPrefix(streamed + " "), "\(n) bytes: \(text)")
            try? FileManager.default.removeItem(atPath: file)
        }
        let gz = try fetch(audit: [], access: [WAFFixtures.path("access-detection.log.gz")])
        #expect(gz.evidence.first?.sha256 == SHA256Digest.hex(try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("access-detection.log.gz")))))
        let cut = try fetch(audit: [], access: [WAFFixtures.path("truncated.log.gz")])
        #expect(cut.evidence.first?.sha256 == SHA256Digest.hex(try [UInt8](Data(contentsOf: WAFFixtures.root.appendingPathComponent("truncated.log.gz")))))
    }

    @Test(".gz files stream through zlib and count like plain ones; concatenated members are all read")
    func gzip() throws {
        let plain = try fetch(audit: [WAFFixtures.path("modsec-v3-detection.log")], access: [WAFFixtures.path("access-detection.log")]).value
        let gz = try fetch(audit: [WAFFixtures.path("modsec-v3-detection.log")], access: [WAFFixtures.path("access-detection.log.gz")]).value
        #expect(gz == plain)
        let ctx = Self.context("production", "shop-production", ["shop.example.com"],
                               window: TimeWindow(from: RFC3339.parse("2026-11-22T00:00:00Z")!, to: RFC3339.parse("2026-11-22T02:00:00Z")!, interval: .hour))
        let two = try fetch(audit: [], access: [WAFFixtures.path("two-members.log.gz")], ctx)
        // 3 lines (blocking capture) + 9 combined lines, all read as this environment's.
        #expect(two.value.totalRequests == 12)
    }

    @Test("A truncated .gz gives what it holds and says it ended early")
    func truncatedGzip() throws {
        let out = try fetch(audit: [], access: [WAFFixtures.path("truncated.log.gz")])
        #expect(out.warnings.contains { $0.contains("truncated.log.gz: ends inside a gzip member") })
        #expect(out.value.totalRequests <= 5)
    }

    @Test("Globs expand sorted; a file named twice (pattern, symlink) is read once; no match is an error naming it")
    func globs() throws {
        let dir = tempDir()
        let src = try String(contentsOfFile: WAFFixtures.path("access-detection.log"), encoding: .isoLatin1)
        let lines = src.split(separator: "\n")
        try lines[0..<4].joined(separator: "\n").write(toFile: dir + "/access.log.1", atomically: true, encoding: .isoLatin1)
        try lines[4...].joined(separator: "\n").write(toFile: dir + "/access.log", atomically: true, encoding: .isoLatin1)
        try FileManager.default.createSymbolicLink(atPath: dir + "/current.log", withDestinationPath: dir + "/access.log")
        let out = try fetch(audit: [], access: [dir + "/access.log*", dir + "/access.log", dir + "/current.log"])
        #expect(out.value.totalRequests == 5)
        #expect(out.evidence.map(\.source) == [dir + "/access.log", dir + "/access.log.1"])
        #expect(throws: SourceError.self) { try fetch(audit: [dir + "/nothing-*.log"], access: []) }
        #expect(throws: SourceError.unreadable(path: dir + "/missing.log", reason: "no such file")) {
            try fetch(audit: [], access: [dir + "/missing.log"])
        }
    }

    @Test("v2 and Coraza audit logs feed the same statistics (Enabled, blocked, scores)")
    func otherFlavours() throws {
        let ctx = Self.context("staging", "shop-staging", ["staging.shop.example.com"],
                               window: TimeWindow(from: RFC3339.parse("2026-11-21T00:00:00Z")!, to: RFC3339.parse("2026-11-22T00:00:00Z")!, interval: .hour))
        let s = try fetch(audit: [WAFFixtures.path("modsec-v2.log"), WAFFixtures.path("coraza.log")], access: [], ctx).value
        // staging: the v2 LFI entry (Host) and the Coraza SQLi entry (Host list with port).
        #expect(s.anomalousRequests == 2 && s.blockedRequests == 1 && s.detectionOnlyRequests == 1)
        #expect(s.engineModes.map(\.key).sorted() == ["DetectionOnly", "Enabled"])
        #expect(s.anomalyScores == [RankedCount(key: "5", count: 1), RankedCount(key: "10", count: 1)])
        #expect(s.criticalAttackRequests == 2)
        #expect(s.anomalousHistory.reduce(0) { $0 + $1.value } == 2)
    }
}

extension String {
    func appendLine(to path: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(("\n" + self).utf8))
    }
}
