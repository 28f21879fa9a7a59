import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

func msearch(_ total: String, _ auditTotal: String, extra: String = "") -> [UInt8] {
    bytes(#"""
    {"took":3,"responses":[
     {"took":1,"timed_out":false,"hits":{"total":\#(total),"max_score":null,"hits":[]},"aggregations":{"history":{"buckets":[
       {"key_as_string":"2026-11-19T00:00:00.000Z","key":1795046400000,"doc_count":2},{"key":1795050000000,"doc_count":1}]}},"status":200},
     {"took":1,"timed_out":false,"hits":{"total":\#(auditTotal),"max_score":null,"hits":[]},"aggregations":{"history":{"buckets":[
       {"key":1795046400000,"doc_count":1},{"key":1795050000000,"doc_count":0}]}\#(extra)},"status":200}]}
    """#)
}

@Suite("Elasticsearch _msearch answers")
struct MsearchTests {
    @Test("hits.total as a plain number and as ES 7+ {value, relation} give the same statistics; GitLab's 3/1 case")
    func totalShapes() throws {
        let es6 = try MsearchAnswer.decode(msearch("3", "1"), place: "a").0
        let es7 = try MsearchAnswer.decode(msearch(#"{"value":3,"relation":"eq"}"#, #"{"value":1,"relation":"eq"}"#), place: "a").0
        #expect(es6 == es7)
        #expect(es6.totalRequests == 3 && es6.anomalousRequests == 1)
        #expect(es6.anomalousRatio == 1.0 / 3.0)
        #expect(es6.totalHistory.map(\.value) == [2, 1])
        #expect(RFC3339.format(es6.totalHistory[0].time) == "2026-11-19T00:00:00Z")
    }

    @Test("A capped count (relation gte, the 10,000 bug) uses the histogram sum and warns")
    func cappedCount() throws {
        let (s, w) = try MsearchAnswer.decode(msearch(#"{"value":2,"relation":"gte"}"#, "1"), place: "a")
        #expect(s.totalRequests == 3)
        #expect(w.first?.contains("relation gte") == true)
    }

    @Test("Top rules carry their message and CRS category; blocked and engine modes are read")
    func attackDetail() throws {
        let extra = #""#
            + #","top_rules":{"buckets":[{"key":"942100","doc_count":7,"message":{"buckets":[{"key":"SQL Injection Attack Detected via libinjection","doc_count":7}]}}]}"#
            + #","top_clients":{"buckets":[{"key":"2001:db8::17","doc_count":4}]},"top_uris":{"buckets":[{"key":"/a|`b`","doc_count":3}]}"#
            + #","engine_mode":{"buckets":[{"key":"DetectionOnly","doc_count":1}]},"blocked":{"doc_count":0}"#
        let (s, _) = try MsearchAnswer.decode(msearch("3", "1", extra: extra), place: "a")
        #expect(s.topRules == [RankedCount(key: "942100", count: 7, label: "SQL Injection Attack Detected via libinjection", category: "sqli")])
        #expect(s.topClients.first?.key == "2001:db8::17")
        #expect(s.topURIs.first?.key == "/a|`b`")
        #expect(s.blockedRequests == 0)
        #expect(s.engineModes.first?.key == "DetectionOnly")
    }

    @Test("A per-search error and a top-level error are engine errors; a non-msearch body is malformed")
    func errors() {
        let perSearch = bytes(#"{"responses":[{"error":{"type":"index_not_found_exception","reason":"no such index [filebeat-*]"},"status":404},{}]}"#)
        #expect(throws: SourceError.engine(place: "a responses[0]", status: 404, message: "index_not_found_exception: no such index [filebeat-*]")) {
            try MsearchAnswer.decode(perSearch, place: "a")
        }
        #expect(throws: SourceError.engine(place: "a", status: 401, message: "security_exception: missing authentication credentials")) {
            try MsearchAnswer.decode(bytes(#"{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}"#), place: "a")
        }
        #expect(throws: SourceError.malformed(place: "a", detail: "not an _msearch answer (no \"responses\" list)")) {
            try MsearchAnswer.decode(bytes(#"{"hits":{}}"#), place: "a")
        }
    }

    @Test("The _msearch body: two searches, size 0, track_total_hits, a histogram at the interval, the window as range")
    func requestBody() throws {
        let w = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
        let r = WAFQueries.gitlabDefaults.request(namespace: "shop-production", hosts: ["shop.example.com"], window: w)
        #expect(r.method == "POST" && r.path == "/_msearch")
        let lines = r.body!.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(r.body!.hasSuffix("\n"))
        #expect(lines[0] == #"{"index":"filebeat-*","ignore_unavailable":true}"#)
        for body in [lines[1], lines[3]] {
            let v = try JSONValue.parse(body)
            #expect(v["size"]?.intValue == 0)
            #expect(v["track_total_hits"]?.boolValue == true)
            #expect(v.at("aggs.history.date_histogram.fixed_interval")?.stringValue == "1h")
            #expect(v.at("aggs.history.date_histogram.extended_bounds.min")?.intValue == 1_795_046_400_000)
            let filter = v.at("query.bool.filter")?.arrayValue ?? []
            #expect(filter.first?.at("range.@timestamp.gte")?.stringValue == "2026-11-19T00:00:00Z")
            #expect(filter.first?.at("range.@timestamp.lt")?.stringValue == "2026-11-20T00:00:00Z")
        }
        let access = try JSONValue.parse(lines[1])
        #expect(r.body!.contains(#"{"terms":{"kubernetes.container.name":["nginx-ingress-controller","controller"]}}"#))
        #expect(access.at("query.bool.filter")?.arrayValue?.last?.at("match_phrase.message")?.stringValue == "[shop-production-")
        let audit = try JSONValue.parse(lines[3])
        #expect(audit.at("aggs.top_rules.terms.field")?.stringValue == "transaction.messages.details.ruleId")
        #expect(r.body!.contains(#"{"prefix":{"transaction.unique_id":"shop.example.com-"}}"#))
        #expect(audit.at("query.bool.minimum_should_match")?.intValue == 1)
    }
}
