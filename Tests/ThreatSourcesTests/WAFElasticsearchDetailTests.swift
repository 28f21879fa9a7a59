import Foundation
import Testing
import ThreatModel
@testable import ThreatSources

/// The attack detail the `_msearch` decoder derives, on the bundled production answer.
@Suite("WAF attack detail from Elasticsearch answers")
struct WAFElasticsearchDetailTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/production/waf/msearch.json")

    @Test("Categories come from the top rules (anomaly evaluation left out), scores from anomaly_scores, detection-only from blocked")
    func detail() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.sample))
        let (s, _) = try MsearchAnswer.decode(bytes, place: "msearch.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let audit = try #require((json["responses"] as? [[String: Any]])?[1]["aggregations"] as? [String: Any])
        // Independently: sum the top-rule buckets per id range.
        var expected: [String: Int] = [:]
        for b in (audit["top_rules"] as? [String: Any])?["buckets"] as? [[String: Any]] ?? [] {
            let id = "\(b["key"]!)", n = b["doc_count"] as! Int
            let c = CRSCategory(ruleID: id)
            if c != .anomaly { expected[c.rawValue, default: 0] += n }
        }
        #expect(Dictionary(uniqueKeysWithValues: s.categories.map { ($0.key, $0.count) }) == expected)
        #expect(s.categories.map(\.count) == s.categories.map(\.count).sorted(by: >))
        // The score messages inside 949110's documents (`anomaly_scores.scores`), read with Foundation.
        let scoreBuckets = (((audit["anomaly_scores"] as? [String: Any])?["scores"] as? [String: Any])?["buckets"] as? [[String: Any]] ?? [])
        let scores = scoreBuckets.map { b -> (Int, Int) in
            let key = b["key"] as! String
            let digits = key.components(separatedBy: "Total Score: ")[1].dropLast()
            return (Int(digits)!, b["doc_count"] as! Int)
        }.sorted { $0.0 < $1.0 }
        #expect(scores.count == 5 && scores.map(\.1).reduce(0, +) == (audit["anomaly_scores"] as? [String: Any])?["doc_count"] as? Int)
        #expect(s.anomalyScores.map { "\($0.key)=\($0.count)" } == scores.map { "\($0.0)=\($0.1)" })
        #expect(s.detectionOnlyRequests == s.anomalousRequests - (s.blockedRequests ?? 0))
        #expect(s.criticalAttackRequests == nil, "the aggregations cannot tell severities")
    }

    @Test("Without a blocked aggregation detection-only is unknown; without anomaly_scores the distribution is empty")
    func absent() throws {
        let body = #"{"responses":[{"hits":{"total":3}},{"hits":{"total":1},"aggregations":{"top_rules":{"buckets":[{"key":"942100","doc_count":1}]}}}]}"#
        let (s, _) = try MsearchAnswer.decode(Array(body.utf8), place: "a")
        #expect(s.blockedRequests == nil && s.detectionOnlyRequests == nil)
        #expect(s.anomalyScores.isEmpty)
        #expect(s.categories == [RankedCount(key: "sqli", count: 1, label: "SQL injection", category: "sqli")])
    }
}
