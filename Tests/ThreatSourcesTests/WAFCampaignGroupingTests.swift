import Foundation
import Testing
import ThreatModel
@testable import ThreatSources

@Suite("WAF campaigns: grouped by client or /24 and /64 network, by rule family, cut at the interval, with stable ids")
struct WAFCampaignGroupingTests {
    struct Entry {
        var client: String
        var minute: Int
        var rules: [String]
    }

    /// One v3 JSON audit line per entry, from 2026-11-22 01:00:00 UTC plus its minute.
    func lines(_ entries: [Entry], uris: [String] = []) -> [String] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE MMM dd HH:mm:ss yyyy"
        let base = Date(timeIntervalSince1970: 1_795_309_200)
        return entries.enumerated().map { k, e in
            let messages = e.rules.map { #"{"message":"m","details":{"ruleId":"\#($0)","severity":"2","data":"Matched Data: x found within ARGS:q: x"}}"# }
            return #"{"transaction":{"client_ip":"\#(e.client)","time_stamp":"\#(f.string(from: base.addingTimeInterval(Double(e.minute * 60))))","unique_id":"u\#(k)","request":{"uri":"\#(uris.isEmpty ? "/search?q=x" : uris[k % uris.count])","headers":{"Host":"h"}},"response":{"http_code":403},"messages":[\#(messages.joined(separator: ","))]}}"#
        }
    }

    func campaigns(_ lines: [String], name: String) throws -> [WAFCampaign] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("campaigns-\(name)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/audit.log", atomically: true, encoding: .utf8)
        let window = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 4_000_000_000), interval: .hour)
        return try WAFTuningScan.scan(auditLogs: [dir + "/audit.log"], hosts: [], window: window, timezone: "UTC").input.campaigns
    }

    @Test("Network /24: three addresses of one IPv4 /24, two SQLi requests each, form one campaign of six requests; eight one-off users of another /24 do not")
    func ipv4Network() throws {
        let entries = (0..<6).map { Entry(client: "203.0.113.\(10 + $0 % 3)", minute: $0, rules: ["942100"]) }
            + [Entry(client: "198.51.100.7", minute: 1, rules: ["942100"])]
            // Eight users of one other /24, each tripping one rule once: not a network campaign.
            + (0..<8).map { Entry(client: "198.51.100.\(20 + $0)", minute: $0, rules: ["941180"]) }
        let c = try campaigns(lines(entries), name: "v4")
        #expect(c.count == 1)
        #expect(c.first?.client == "203.0.113.0/24" && c.first?.addresses == 3 && c.first?.requests == 6 && c.first?.family == "sqli")
    }

    @Test("Top URIs: ranked by count then name; two URIs Unicode writes alike (é composed and decomposed) add up under one name and outrank the ASCII ones")
    func topURIsByName() throws {
        // 13 requests of one client: /a ×3, /b ×3, /c ×3, /d ×2, /é ×1 and /e + U+0301 ×1 (one name, 2).
        let uris = ["/a", "/b", "/c", "/a", "/b", "/c", "/a", "/b", "/c", "/d", "/d", "/\u{E9}", "/e\u{301}"]
        let entries = uris.indices.map { Entry(client: "192.0.2.9", minute: $0, rules: ["942100"]) }
        let c = try #require(try campaigns(lines(entries, uris: uris), name: "uris").first)
        #expect(c.requests == 13)
        #expect(c.topURIs.map(\.key) == ["/a", "/b", "/c"] && c.topURIs.map(\.count) == [3, 3, 3])
        // Two more of the decomposed form: "/é" now counts 4 and ranks first, though no single
        // spelling of it reaches the third largest count of the ASCII ones.
        let more = uris + ["/e\u{301}", "/\u{E9}"]
        let d = try #require(try campaigns(lines(more.indices.map { Entry(client: "192.0.2.9", minute: $0, rules: ["942100"]) }, uris: more), name: "uris2").first)
        #expect(d.topURIs.map(\.count) == [4, 3, 3] && d.topURIs.first?.key == "/\u{E9}" && d.topURIs.dropFirst().map(\.key) == ["/a", "/b"])
    }

    @Test("Network /64: two addresses of one IPv6 /64 form one campaign; an address of another /64 stays apart")
    func ipv6Network() throws {
        let entries = (0..<6).map { Entry(client: $0 % 2 == 0 ? "2001:db8:1:2::a" : "2001:db8:1:2:ffff::b", minute: $0, rules: ["941100"]) }
            + [Entry(client: "2001:db8:1:3::a", minute: 2, rules: ["941100"])]
        let c = try campaigns(lines(entries), name: "v6")
        #expect(c.count == 1)
        #expect(c.first?.client == "2001:db8:1:2::/64" && c.first?.addresses == 2 && c.first?.requests == 6 && c.first?.family == "xss")
    }

    @Test("Interval gap: a gap longer than the interval (hour) splits one client's requests into two campaigns; a shorter one does not")
    func gapSplits() throws {
        let split = (0..<5).map { Entry(client: "192.0.2.5", minute: $0, rules: ["942100"]) }
            + (0..<5).map { Entry(client: "192.0.2.5", minute: 125 + $0, rules: ["942100"]) }
        let c = try campaigns(lines(split), name: "gap")
        #expect(c.count == 2 && c.allSatisfy { $0.requests == 5 && $0.client == "192.0.2.5" })
        #expect(Set(c.map(\.id)).count == 2)
        let close = (0..<5).map { Entry(client: "192.0.2.5", minute: $0, rules: ["942100"]) }
            + (0..<5).map { Entry(client: "192.0.2.5", minute: 50 + $0, rules: ["942100"]) }
        #expect(try campaigns(lines(close), name: "nogap").map(\.requests) == [10])
    }

    @Test("Rule family: one client's SQLi and XSS requests become one campaign per family, each request in its dominant family")
    func familySplit() throws {
        let entries = (0..<6).map { Entry(client: "192.0.2.9", minute: $0, rules: ["942100", "942190"]) }
            + (0..<5).map { Entry(client: "192.0.2.9", minute: 10 + $0, rules: ["941100", "941160", "942100"]) }
        let c = try campaigns(lines(entries), name: "family")
        #expect(c.map(\.family) == ["sqli", "xss"] && c.map(\.requests) == [6, 5])
        #expect(c[1].families == ["xss", "sqli"], "the xss campaign lists the sqli rule its requests also fired")
    }

    @Test("Stable ids: the same entries in reversed and shuffled order give the same campaigns and ids")
    func stableIDs() throws {
        let entries = (0..<6).map { Entry(client: "203.0.113.\(10 + $0 % 3)", minute: $0, rules: ["942100"]) }
            + (0..<7).map { Entry(client: "2001:db8::\($0 % 2 + 1)", minute: 30 + $0, rules: ["930100"]) }
            + (0..<5).map { Entry(client: "192.0.2.5", minute: 200 + $0, rules: ["932100"]) }
        let text = lines(entries)
        let first = try campaigns(text, name: "order1")
        #expect(first.count == 3 && first.allSatisfy { $0.id.hasPrefix("c-") && $0.id.count == 14 })
        var rng = SystemRandomNumberGenerator()
        #expect(try campaigns(text.reversed(), name: "order2") == first)
        #expect(try campaigns(text.shuffled(using: &rng), name: "order3") == first)
    }
}
