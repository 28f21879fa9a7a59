import Foundation
import Testing
import ThreatModel
@testable import ThreatSources
import TestSupport

@Suite("WAF tuning input: the matched variable of each rule match, per (rule, path, target), bounded")
struct WAFTuningInputTests {
    func target(data: String = "", match: String = "", message: String = "") -> String? {
        let (d, m, g) = (Array(data.utf8), Array(match.utf8), Array(message.utf8))
        return d.withUnsafeBufferPointer { d in
            m.withUnsafeBufferPointer { m in g.withUnsafeBufferPointer { g in MatchTarget.find(data: d, match: m, message: g) } }
        }.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("Target forms: CRS logdata (found within), libmodsecurity's match (against variable), v2's message (at), Coraza without a value")
    func forms() {
        #expect(target(data: "Matched Data: union select found within ARGS:q: union select store") == "ARGS:q")
        #expect(target(data: "Matched Data: <!-- found within ARGS:json.note: <!-- draft") == "ARGS:json.note")
        #expect(target(data: "Matched Data: nikto found within REQUEST_HEADERS:User-Agent: Mozilla/5.00 (Nikto/2.1.6)") == "REQUEST_HEADERS:User-Agent")
        #expect(target(data: "Matched Data: x found within REQUEST_BODY: x") == "REQUEST_BODY")
        #expect(target(data: "Matched Data: s&1UE found within ARGS:id") == "ARGS:id")
        #expect(target(match: "Matched \"Operator `Rx' with parameter `(?i)x' against variable `REQUEST_COOKIES:session' (Value: `x' )") == "REQUEST_COOKIES:session")
        #expect(target(message: "Warning. Pattern match \"x\" at ARGS_POST:body. [file \"f\"]") == "ARGS_POST:body")
        #expect(target(message: "Operator GE matched 5 at TX:anomaly_score.") == "TX:anomaly_score")
        // Nothing that is no variable: lowercase words, a lone letter, a key past 256 bytes.
        #expect(target(message: "found at the end") == nil && target(data: "found within x: y") == nil)
        #expect(target(data: "found within A: y") == nil)
        #expect(target(data: "found within ARGS:" + String(repeating: "k", count: 300) + ": v") == nil)
        // The marker after false starts (its first byte, a partial marker, a marker with no
        // variable), and a marker that ends the text names nothing.
        #expect(target(data: "ffound withi found within x found within ARGS:q: v") == "ARGS:q")
        #expect(target(data: "Matched Data: x found within ") == nil && target(message: "Operator matched at") == nil)
        #expect(target(message: "x at TX:a. y") == "TX:a" && target(message: " at A") == nil && target(message: " at AB") == "AB")
    }

    @Test("Path prefix: read from an interned URI's bytes, the same as read as Characters, for listed and generated URIs")
    func pathPrefixBytes() {
        let listed: [(String, String)] = [
            ("/products/42?x=1", "/products/"), ("/", "/"), ("", "/"), ("search?q=1", "/"), ("/a/b/c", "/a/b/c"),
            ("/a/", "/a/"), ("/a//1", "/a/"), ("/a///1/x", "/a//"), ("/1", "/"), ("/a/b1/c", "/a/"),
            ("http://shop.example.com/cart/7", "/cart/"), ("https://h", "/"), ("http:/x", "/"), ("/x#frag/1", "/x"),
            ("/" + String(repeating: "k", count: 200), "/"), ("/api/v2/users", "/api/"), ("/é/1", "/é/"), ("/a/\u{0663}", "/a/"),
        ]
        var rng = SplitMix(state: 11)
        let alphabet = Array("/ab1?#:/h.t%é٣".unicodeScalars)
        var generated: [String] = []
        for _ in 0..<4000 {
            var u = ["", "/", "http://", "https://x"].randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 0..<40, using: &rng) { u.unicodeScalars.append(alphabet.randomElement(using: &rng)!) }
            generated.append(u)
        }
        var uris = Interner(cap: 10_000, byteCap: 1 << 20, key: HashKey(k0: 1, k1: 2))
        for (uri, want) in listed {
            #expect(WAFTuningAggregation.pathPrefix(uri) == want, "\(uri)")
            #expect(WAFTuningAggregation.pathPrefixOfCharacters(uri) == want, "\(uri)")
        }
        for uri in listed.map(\.0) + generated {
            let id = uris.id(uri)
            #expect(WAFTuningAggregation.pathPrefix(uris, id) == WAFTuningAggregation.pathPrefixOfCharacters(uri), "\(uri)")
        }
    }

    @Test("Top lists: the first N by count then name, chosen in one pass, equal a full sort's first N, for many ties and for N past the list")
    func firstSortedEqualsSortPrefix() {
        var rng = SplitMix(state: 5)
        for round in 0..<300 {
            let size = Int.random(in: 0..<400, using: &rng)
            var counts: [String: Int] = [:]
            for _ in 0..<size { counts["/p/\(Int.random(in: 0..<1000, using: &rng))", default: 0] += Int.random(in: 1...(round % 3 == 0 ? 1 : 5), using: &rng) }
            let n = [0, 1, 3, 10, 500][round % 5]
            let less: ((key: String, value: Int), (key: String, value: Int)) -> Bool = { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            let want = counts.sorted(by: less).prefix(n).map { "\($0.key)=\($0.value)" }
            #expect(firstSorted(counts, count: n, by: less).map { "\($0.key)=\($0.value)" } == want)
        }
    }

    @Test("Real third-party capture (ModSecurity 2 native, DVWA): every attack match's target, counted per (rule, target), equals a regex recount of the Message lines")
    func nativeCapture() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/realworld/waf/dvwa-modsec2-native/modsec_audit.log").path
        let window = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 4_000_000_000), interval: .day)
        let r = try WAFTuningScan.scan(auditLogs: [path], hosts: [], window: window, timezone: "UTC")
        var mine: [String: Int] = [:]
        for row in r.input.rows { mine["\(row.ruleID) \(row.target)", default: 0] += row.count }
        // The recount: each Message line's [id "…"] and the variable after "found within " in its [data "…"].
        var recount: [String: Int] = [:]
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let re = try Regex(#"\[id "(\d+)"\].*\[data "Matched Data: .*? found within ([A-Z_]+(?::[^:]+)?): "#)
        for line in text.split(separator: "\n") where line.hasPrefix("Message: ") {
            guard let m = line.firstMatch(of: re), let id = m.output[1].substring, let v = m.output[2].substring else { continue }
            guard !id.hasPrefix("949"), !id.hasPrefix("980") else { continue }
            recount["\(id) \(v)", default: 0] += 1
        }
        #expect(!recount.isEmpty)
        #expect(mine == recount)
        #expect(r.input.rows.allSatisfy { $0.path.hasPrefix("/") && !$0.examples.isEmpty && $0.firstSeen <= $0.lastSeen })
    }

    @Test("Real v3 capture (samples/raw): rows, clients and statuses equal a Foundation-JSON recount of details.data")
    func v3Capture() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/raw/modsec_audit.log").path
        let window = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 4_000_000_000), interval: .day)
        let r = try WAFTuningScan.scan(auditLogs: [path], hosts: ["shop.example.com"], window: window, timezone: "Europe/Berlin")
        var recount: [String: (count: Int, clients: Set<String>)] = [:]
        for raw in try Data(contentsOf: URL(fileURLWithPath: path)).split(separator: 0x0A) where !raw.isEmpty {
            let line = String(decoding: raw, as: UTF8.self)
            let t = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["transaction"] as? [String: Any])
            guard ((t["request"] as? [String: Any])?["headers"] as? [String: Any])?["Host"] as? String == "shop.example.com" else { continue }
            var seen = Set<String>()
            for m in (t["messages"] as? [[String: Any]]) ?? [] {
                let d = try #require(m["details"] as? [String: Any])
                let id = try #require(d["ruleId"] as? String)
                guard seen.insert(id).inserted, !id.hasPrefix("949"), !id.hasPrefix("980") else { continue }
                // The data's "found within X: …", else the match's "against variable `X'".
                let data = d["data"] as? String ?? "", match = d["match"] as? String ?? ""
                let v: String
                if let r = data.range(of: " found within ") {
                    v = data[r.upperBound...].components(separatedBy: ": ")[0]
                } else if let r = match.range(of: "against variable `") {
                    v = match[r.upperBound...].components(separatedBy: "'")[0]
                } else {
                    continue
                }
                recount["\(id) \(v)", default: (0, [])].count += 1
                recount["\(id) \(v)"]!.clients.insert(t["client_ip"] as? String ?? "")
            }
        }
        var mine: [String: (Int, Int)] = [:]
        for row in r.input.rows {
            let old = mine["\(row.ruleID) \(row.target)"] ?? (0, 0)
            mine["\(row.ruleID) \(row.target)"] = (old.0 + row.count, max(old.1, row.clients))
        }
        #expect(Set(mine.keys) == Set(recount.keys))
        for (k, v) in recount { #expect(mine[k]?.0 == v.count, "\(k)") }
        #expect(r.input.untargetedMatches >= 0 && r.input.droppedMatches == 0)
        #expect(!r.input.campaigns.isEmpty, "the capture's attacker (203.0.113.45) is a campaign")
        let c = r.input.campaigns[0]
        #expect(c.client == "203.0.113.45" && c.families.contains("sqli") && c.id.hasPrefix("c-"))
        // Stable: the same data, scanned again (its blocks parsed by other workers in another order),
        // gives the same rows, examples and campaign ids.
        for _ in 0..<3 {
            let again = try WAFTuningScan.scan(auditLogs: [path], hosts: ["shop.example.com"], window: window, timezone: "Europe/Berlin")
            #expect(again.input == r.input)
        }
    }

    @Test("Row cap: 20,050 distinct targets keep 20,000 rows and count the 50 matches past the cap")
    func rowCap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tuning-cap-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var text = ""
        for i in 0..<(WAFTuningInput.rowCap + 50) {
            text += #"{"transaction":{"client_ip":"192.0.2.1","time_stamp":"Sun Nov 22 01:08:33 2026","unique_id":"u\#(i)","request":{"uri":"/s","headers":{"Host":"h"}},"response":{"http_code":200},"messages":[{"message":"m","details":{"ruleId":"942100","severity":"2","data":"Matched Data: x found within ARGS:p\#(i): x"}}]}}"# + "\n"
        }
        try text.write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        let window = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 4_000_000_000), interval: .day)
        let r = try WAFTuningScan.scan(auditLogs: [dir + "/audit.log"], hosts: [], window: window, timezone: "UTC")
        #expect(r.input.rows.count == WAFTuningInput.rowCap && r.input.droppedMatches == 50)
        #expect(r.input.rows.reduce(0) { $0 + $1.count } + r.input.droppedMatches == WAFTuningInput.rowCap + 50)
    }
}
