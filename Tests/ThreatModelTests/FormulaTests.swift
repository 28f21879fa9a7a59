import Foundation
import Testing
import ThreatModel

@Suite("GitLab's formulas")
struct FormulaTests {
    @Test("GitLab's case: 3 access lines and 1 audit entry give an anomalous ratio of 1/3")
    func gitlabAnomalousRatio() {
        let s = WAFStatistics(totalRequests: 3, anomalousRequests: 1)
        #expect(s.anomalousRatio == 1.0 / 3.0)
        #expect(Percent.whole(s.anomalousRatio) == "33%")
    }

    @Test("No requests give a ratio of 0, not NaN")
    func zeroRequests() {
        #expect(WAFStatistics(totalRequests: 0, anomalousRequests: 0).anomalousRatio == 0)
        #expect(WAFStatistics(totalRequests: 0, anomalousRequests: 5).anomalousRatio == 0)
    }

    @Test("Flow total is FORWARDED + DROPPED; GitLab's spec numbers 73772 + 5")
    func flowTotals() {
        let c = FlowCounts(forwarded: 73772, dropped: 5)
        #expect(c.total == 73777)
        #expect(c.droppedRatio == 5.0 / 73777.0)
        #expect(FlowCounts(forwarded: 0, dropped: 0).droppedRatio == 0)
    }

    @Test("Whole percents as the UI showed them, with <1% for small non-zero ratios")
    func percents() {
        #expect(Percent.whole(0) == "0%")
        #expect(Percent.whole(0.004) == "<1%")
        #expect(Percent.whole(0.0930) == "9%")
        #expect(Percent.whole(0.175) == "18%")
        #expect(Percent.whole(1) == "100%")
        #expect(Percent.whole(.nan) == "0%")
    }

    @Test("CRS categories by rule-id range")
    func crsCategories() {
        #expect(CRSCategory(ruleID: "942100") == .sqli)
        #expect(CRSCategory(ruleID: "941110") == .xss)
        #expect(CRSCategory(ruleID: "930100") == .lfi)
        #expect(CRSCategory(ruleID: "932160") == .rce)
        #expect(CRSCategory(ruleID: "913100") == .scanner)
        #expect(CRSCategory(ruleID: "920350") == .protocol_)
        #expect(CRSCategory(ruleID: "921110") == .protocol_)
        #expect(CRSCategory(ruleID: "949110") == .anomaly)
        #expect(CRSCategory(ruleID: "1234") == .other)
        #expect(CRSCategory(ruleID: "<script>") == .other)
    }
}

@Suite("Time windows")
struct WindowTests {
    let to = RFC3339.parse("2026-11-20T00:00:00Z")!

    @Test("Automatic interval: minute up to 1h, hour up to 3d, day beyond (GitLab's mapping)")
    func automaticInterval() {
        #expect(Interval.automatic(forWindowSeconds: 1800) == .minute)
        #expect(Interval.automatic(forWindowSeconds: 3600) == .minute)
        #expect(Interval.automatic(forWindowSeconds: 3 * 3600) == .hour)
        #expect(Interval.automatic(forWindowSeconds: 8 * 3600) == .hour)
        #expect(Interval.automatic(forWindowSeconds: 3 * 86400) == .hour)
        #expect(Interval.automatic(forWindowSeconds: 7 * 86400) == .day)
        #expect(Interval.automatic(forWindowSeconds: 30 * 86400) == .day)
    }

    @Test("GitLab's query_range step is max(60, ceil(window/600))")
    func promStep() {
        #expect(TimeWindow(from: to.addingTimeInterval(-1800), to: to, interval: .minute).promStep == 60)
        #expect(TimeWindow(from: to.addingTimeInterval(-86400), to: to, interval: .hour).promStep == 144)
        #expect(TimeWindow(from: to.addingTimeInterval(-86401), to: to, interval: .hour).promStep == 145)
        #expect(TimeWindow(from: to.addingTimeInterval(-30 * 86400), to: to, interval: .day).promStep == 4320)
    }

    @Test("Buckets are aligned to the interval in UTC and cover [from, to)")
    func buckets() {
        let w = TimeWindow(from: RFC3339.parse("2026-11-19T00:30:00Z")!, to: to, interval: .hour)
        #expect(w.bucketStarts.count == 24)
        #expect(RFC3339.format(w.bucketStarts[0]) == "2026-11-19T00:00:00Z")
        #expect(w.previous.to == w.from)
        #expect(w.previous.seconds == w.seconds)
    }

    @Test("RFC 3339 round trip, offsets, fractions and rejects")
    func rfc3339() {
        #expect(RFC3339.parse("2026-11-20T00:00:00Z")!.timeIntervalSince1970 == 1795132800)
        #expect(RFC3339.parse("2026-11-20T01:00:00+01:00")!.timeIntervalSince1970 == 1795132800)
        #expect(RFC3339.parse("2026-11-19T23:00:00.500-01:00")!.timeIntervalSince1970 == 1795132800.5)
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1795132800)) == "2026-11-20T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1795132800), offsetSeconds: 3600) == "2026-11-20T01:00:00+01:00")
        #expect(RFC3339.parse("2024-02-29T12:00:00Z") != nil)
        for bad in ["2026-02-29T00:00:00Z", "2026-11-20", "2026-11-20T25:00:00Z", "2026-11-20T00:00:00", "yesterday", ""] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }
}

@Suite("JSON and digests")
struct JSONAndDigestTests {
    @Test("Parser keeps the last duplicate key, caps depth and locates errors")
    func parser() throws {
        let v = try JSONValue.parse(#"{"a":1,"h":{"Last-Modified":"x","Last-Modified":"y"},"s":"\u00e9\ud83d\ude00"}"#)
        #expect(v.at("h.Last-Modified")?.stringValue == "y")
        #expect(v["s"]?.stringValue == "é😀")
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)) }
        do {
            _ = try JSONValue.parse("{\n  \"a\": tru\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 8)
        }
    }

    @Test("Serialiser escapes markup characters and never writes NaN")
    func serialiser() {
        let v = JSONValue.object([("x", .string("</script><b>&\u{1b}")), ("n", .number(.nan)), ("i", .number(3)), ("f", .number(0.25))])
        #expect(v.serialized() == #"{"x":"\u003c/script\u003e\u003cb\u003e\u0026\u001b","n":null,"i":3,"f":0.25}"#)
    }

    @Test("SHA-256 known answers")
    func sha256() {
        #expect(SHA256Digest.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Digest.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

@Suite("Locked: the shared box for worker threads")
struct LockedTests {
    @Test("10,000 increments from concurrentPerform workers all count; slots come back in task order")
    func concurrentUse() {
        let counter = Locked(0)
        let slots: Locked<[Int?]> = .slots(1000)
        DispatchQueue.concurrentPerform(iterations: 10_000) { i in
            counter.withLock { $0 += 1 }
            if i < 1000 { slots.set(i, i * i) }
        }
        #expect(counter.current == 10_000)
        #expect(slots.current == (0..<1000).map { Optional($0 * $0) })
    }
}
