import Foundation
import ThreatModel

/// Decodes the `_msearch` answer to `WAFQueries` into `WAFStatistics`. Works on ES 6 (`hits.total`
/// a number), ES 7 and 8 (`{value, relation}`) answers.
public enum MsearchAnswer {
    public static func decode(_ bytes: [UInt8], place: String) throws(SourceError) -> (WAFStatistics, [String]) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes)
        } catch {
            throw .malformed(place: place, detail: "not valid JSON at \(error)")
        }
        if let err = json["error"] {
            throw .engine(place: place, status: json["status"]?.intValue, message: describeError(err))
        }
        guard let responses = json["responses"]?.arrayValue else {
            throw .malformed(place: place, detail: "not an _msearch answer (no \"responses\" list)")
        }
        guard responses.count >= 2 else {
            throw .malformed(place: place, detail: "expected 2 responses (access log, audit log), found \(responses.count)")
        }
        var warnings: [String] = []
        let access = responses[0], audit = responses[1]
        for (i, r) in [(0, access), (1, audit)] {
            if let err = r["error"] {
                throw .engine(place: "\(place) responses[\(i)]", status: r["status"]?.intValue, message: describeError(err))
            }
            if r["timed_out"]?.boolValue == true { warnings.append("\(place): search \(i) timed out on the engine; counts may be low") }
            if let failed = r.at("_shards.failed")?.intValue, failed > 0 {
                warnings.append("\(place): search \(i) failed on \(failed) shard(s); counts may be low")
            }
        }
        let total = try count(access, place: "\(place) responses[0]", warnings: &warnings)
        let anomalous = try count(audit, place: "\(place) responses[1]", warnings: &warnings)
        var stats = WAFStatistics(
            totalRequests: total, anomalousRequests: anomalous,
            totalHistory: history(access), anomalousHistory: history(audit),
            topRules: buckets(audit, "top_rules").map { b in
                RankedCount(key: b.key, count: b.count, label: b.json.at("message.buckets")?.arrayValue?.first?["key"]?.scalarText,
                            category: CRSCategory(ruleID: b.key).rawValue)
            },
            topClients: buckets(audit, "top_clients").map { RankedCount(key: $0.key, count: $0.count) },
            topURIs: buckets(audit, "top_uris").map { RankedCount(key: $0.key, count: $0.count) },
            blockedRequests: audit.at("aggregations.blocked.doc_count")?.intValue,
            engineModes: buckets(audit, "engine_mode").map { RankedCount(key: $0.key, count: $0.count) })
        // Attack detail the aggregations allow: categories from the top rules, the let-through
        // remainder, and the score distribution when the answer carries an `anomaly_scores` terms agg.
        stats.categories = WAFStatistics.categories(fromTopRules: stats.topRules)
        stats.detectionOnlyRequests = stats.blockedRequests.map { max(0, anomalous - $0) }
        stats.anomalyScores = buckets(audit, "anomaly_scores").compactMap { b in
            Int(b.key).map { (score: $0, count: b.count) }
        }.sorted { $0.score < $1.score }.map { RankedCount(key: String($0.score), count: $0.count) }
        return (stats, warnings)
    }

    /// What the two searches counted (docs/data-quality.md): documents = `hits.total` of each,
    /// already selected by window and environment on the engine, with their histogram buckets.
    public static func coverage(_ stats: WAFStatistics, bytes: Int, source: String) -> SourceCoverage {
        func input(_ name: String, _ n: Int, _ history: [SeriesPoint<Int>]) -> InputCoverage {
            InputCoverage(name: name, unit: "documents", read: n, parsed: n, attributed: n, buckets: history.count)
        }
        var access = input("access-log documents", stats.totalRequests, stats.totalHistory)
        access.bytes = bytes
        return SourceCoverage(source: source, inputs: [access, input("audit-log documents", stats.anomalousRequests, stats.anomalousHistory)])
    }

    static func describeError(_ err: JSONValue) -> String {
        if let s = err.stringValue { return s }
        let type = err["type"]?.stringValue ?? "error"
        let reason = err["reason"]?.stringValue ?? err.at("root_cause")?.arrayValue?.first?["reason"]?.stringValue ?? ""
        return reason.isEmpty ? type : "\(type): \(reason)"
    }

    /// `hits.total` as a number (ES 6) or `{value, relation}` (ES 7+). A `gte` relation means the
    /// engine stopped counting; the histogram's sum is then the better figure.
    static func count(_ r: JSONValue, place: String, warnings: inout [String]) throws(SourceError) -> Int {
        guard let total = r.at("hits.total") else { throw .malformed(place: place, detail: "no hits.total") }
        let histSum = history(r).reduce(0) { $0 + $1.value }
        if let n = total.intValue { return n }
        guard let n = total["value"]?.intValue else { throw .malformed(place: place, detail: "hits.total is neither a number nor {value, relation}") }
        if total["relation"]?.stringValue == "gte" {
            warnings.append("\(place): the engine capped the count at \(n) (relation gte); used the histogram sum \(max(n, histSum))")
            return max(n, histSum)
        }
        return n
    }

    static func history(_ r: JSONValue) -> [SeriesPoint<Int>] {
        (r.at("aggregations.history.buckets")?.arrayValue ?? []).compactMap { b in
            guard let key = b["key"]?.doubleValue, let n = b["doc_count"]?.intValue else { return nil }
            return SeriesPoint(Date(timeIntervalSince1970: key / 1000), n)
        }
    }

    struct Bucket {
        var key: String
        var count: Int
        var json: JSONValue
    }

    static func buckets(_ r: JSONValue, _ name: String) -> [Bucket] {
        (r.at("aggregations.\(name).buckets")?.arrayValue ?? []).compactMap { b in
            guard let key = b["key"]?.scalarText, let n = b["doc_count"]?.intValue else { return nil }
            return Bucket(key: key, count: n, json: b)
        }
    }
}
