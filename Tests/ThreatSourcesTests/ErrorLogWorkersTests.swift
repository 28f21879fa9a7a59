import Foundation
import Testing
import ThreatModel
@testable import ThreatSources
import TestSupport

@Suite("Error-log workers: lines grouped per block by several workers and joined in file order give the transactions one worker gives")
struct ErrorLogWorkersTests {
    /// A Coraza line (proxy-wasm prefix) of transaction `uid` (nil: no unique_id, grouped by
    /// client, URI and second).
    func line(second: Int, client: String, uid: String?, rule: String, severity: String, uri: String, host: String, message: String,
              denied: Bool = false) -> String {
        String(format: "[2025-11-19 %02d:%02d:%02d.000000][33][critical][wasm] wasm log coraza-filter my_vm_id: ", second / 3600 % 24, second / 60 % 60, second % 60)
            + "[client \"\(client)\"] Coraza: \(denied ? "Access denied (phase 2)." : "Warning.") Matched Data found "
            + "[file \"@owasp_crs/x.conf\"] [line \"1\"] [id \"\(rule)\"] [rev \"\"] [msg \"\(message)\"] "
            + "[data \"Matched Data: x found within ARGS:q\"] [severity \"\(severity)\"] [ver \"OWASP_CRS/4.7.0\"] "
            + (host.isEmpty ? "" : "[hostname \"\(host)\"] ") + "[uri \"\(uri)\"]" + (uid.map { " [unique_id \"\($0)\"]" } ?? "")
    }

    /// Transactions whose lines interleave and straddle the 256 KiB blocks: repeated rules (the
    /// first line of a rule counts), the Host on a later line only, the score on a later 949110
    /// line, lines without unique_id, and a few hundred padding lines between a transaction's
    /// lines so that many of them cross a block boundary.
    func log() -> String {
        var rng = SplitMix(state: 3)
        var out: [String] = []
        var open: [(uid: String?, second: Int, client: String, uri: String, left: Int)] = []
        for n in 0..<30_000 {
            if open.count < 6 || Int.random(in: 0..<4, using: &rng) == 0 {
                let id: String? = n % 7 == 0 ? nil : "tx\(n)"
                open.append((id, n / 40, "203.0.113.\(n % 200)", "/p/\(n % 300)?q=\(n)", Int.random(in: 1...6, using: &rng)))
            }
            let k = Int.random(in: 0..<open.count, using: &rng)
            let t = open[k]
            let rule = ["942100", "941100", "942100", "932160", "949110", "920350"].randomElement(using: &rng)!
            let severity = ["critical", "warning", "2", "notice"].randomElement(using: &rng)!
            let message = rule == "949110" ? "Inbound Anomaly Score Exceeded (Total Score: \(5 * Int.random(in: 1...9, using: &rng)))" : "m\(rule)"
            let host = Int.random(in: 0..<3, using: &rng) == 0 ? "shop\(n % 3).example.com" : ""
            out.append(line(second: t.second, client: t.client, uid: t.uid, rule: rule, severity: severity, uri: t.uri, host: host,
                            message: message, denied: rule == "949110" && n % 2 == 0))
            open[k].left -= 1
            if open[k].left == 0 { open.remove(at: k) }
            if n % 50 == 0 { out.append("[2025-11-19 00:00:00.000000][33][info][main] an Envoy line that is no rule match") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    func scan(_ path: String, workers: Int) throws -> WAFLogScan.Outcome {
        let window = TimeWindow(from: Date(timeIntervalSince1970: 1_763_510_400), to: Date(timeIntervalSince1970: 1_763_596_800), interval: .hour)
        var scan = WAFLogScan(auditFiles: [], accessFiles: [], windows: [ScanWindow(window)],
                              attribution: Attribution(namespace: "", hosts: []), zone: .gmt)
        scan.errorFiles = try FilesWAFSource.open([path], deadline: .none)
        scan.workers = workers
        return try scan.scan()
    }

    /// Each transaction as text: time, client, URI, Host, flags, score and its rules in order.
    func transactions(_ o: WAFLogScan.Outcome) -> [String] {
        o.records.map { r in
            let rules = o.ruleRefs[Int(r.rulesStart)..<(Int(r.rulesStart) + Int(r.rulesCount))].map { ref in
                "\(o.rules.string(ref.rule) ?? "-")/\(o.messages.string(ref.message) ?? "-")/\(ref.severity)"
            }
            return "\(r.time) \(o.clients.string(r.client) ?? "-") \(o.uris.string(r.uri) ?? "-") host=\(r.hasHost) "
                + "blocked=\(r.blocked) critical=\(r.critical) score=\(r.score) engine=\(r.engine) \(rules.joined(separator: ","))"
        }
    }

    @Test("Error-log workers: 1, 2 and 4 workers give the same transactions in the same order, ids, rules, scores and summary")
    func sameAsOneWorker() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("errworkers-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = log()
        try text.write(toFile: dir + "/coraza.log", atomically: true, encoding: .utf8)
        #expect(text.utf8.count > 4 * LogBlocks.chunkSize, "the log spans several blocks")
        let one = try scan(dir + "/coraza.log", workers: 1)
        let want = transactions(one)
        #expect(want.count > 5_000)
        // The recount, from the text: a transaction per unique_id, or per (client, URI, second) for
        // the lines without one; its rules in line order, each rule's first line only; blocked when
        // a line says Access denied; the score of its first 949110 line.
        func tag(_ l: Substring, _ name: String) -> String? {
            l.range(of: "[\(name) \"").map { String(l[$0.upperBound...].prefix { $0 != "\"" }) }
        }
        var order: [String] = []
        var recount: [String: (client: String, uri: String, rules: [String], blocked: Bool, score: Int?)] = [:]
        for l in text.split(separator: "\n") where l.contains("Coraza: ") {
            let client = tag(l, "client") ?? "", uri = tag(l, "uri") ?? ""
            let key = tag(l, "unique_id") ?? "\(client) \(uri) \(l.prefix(20))"
            if recount[key] == nil {
                order.append(key)
                recount[key] = (client, uri, [], false, nil)
            }
            if l.contains("Access denied") { recount[key]!.blocked = true }
            let rule = tag(l, "id") ?? ""
            guard !recount[key]!.rules.contains(rule) else { continue }
            recount[key]!.rules.append(rule)
            if rule == "949110", recount[key]!.score == nil, let m = tag(l, "msg"), let r = m.range(of: "Total Score: ") {
                recount[key]!.score = Int(m[r.upperBound...].prefix { $0.isNumber })
            }
        }
        #expect(want.count == recount.count)
        let mine = one.records.map { r in
            "\(one.clients.string(r.client) ?? "") \(one.uris.string(r.uri) ?? "") "
                + one.ruleRefs[Int(r.rulesStart)..<(Int(r.rulesStart) + Int(r.rulesCount))].map { one.rules.string($0.rule) ?? "" }.joined(separator: ",")
                + " blocked=\(r.blocked) score=\(r.score)"
        }
        let theirs = order.map { k in
            let t = recount[k]!
            return "\(t.client) \(t.uri) \(t.rules.joined(separator: ",")) blocked=\(t.blocked) score=\(t.score ?? -1)"
        }
        #expect(mine == theirs, "the transactions, in file order, equal the recount")
        for workers in [2, 4] {
            let many = try scan(dir + "/coraza.log", workers: workers)
            #expect(transactions(many) == want, "\(workers) workers")
            #expect(many.errorLog?.transactions == one.errorLog?.transactions && many.errorLog?.matchLines == one.errorLog?.matchLines
                && many.errorLog?.otherLines == one.errorLog?.otherLines && many.errorLog?.withoutID == one.errorLog?.withoutID)
            #expect(many.errorLog?.versions == one.errorLog?.versions && many.errorLog?.engines == one.errorLog?.engines)
            #expect((0..<many.uris.count).map { many.uris.string(UInt32($0)) } == (0..<one.uris.count).map { one.uris.string(UInt32($0)) },
                    "strings are numbered in file order whatever the workers")
        }
    }
}
