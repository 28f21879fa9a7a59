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
        let rules = try buckets(audit, "top_rules", place: place), clients = try buckets(audit, "top_clients", place: place)
        let uris = try buckets(audit, "top_uris", place: place), modes = try buckets(audit, "engine_mode", place: place)
        var stats = WAFStatistics(
            totalRequests: total, anomalousRequests: anomalous,
            totalHistory: try history(access, place: "\(place) responses[0]"),
            anomalousHistory: try history(audit, place: "\(place) responses[1]"),
            topRules: rules.map { b in
                RankedCount(key: b.key, count: b.count, label: b.json.at("message.buckets")?.arrayValue?.first?["key"]?.scalarText,
                            category: CRSCategory(ruleID: b.key).rawValue)
            },
            topClients: clients.map { RankedCount(key: $0.key, count: $0.count) },
            topURIs: uris.map { RankedCount(key: $0.key, count: $0.count) },
            blockedRequests: try countValue(audit.at("aggregations.blocked.doc_count"), "\(place) responses[1] aggregations.blocked.doc_count"),
            engineModes: modes.map { RankedCount(key: $0.key, count: $0.count) })
        // Attack detail the aggregations allow: categories from the top rules, the let-through
        // remainder, and the score distribution when the answer carries an `anomaly_scores` terms agg.
        stats.categories = WAFStatistics.categories(fromTopRules: stats.topRules)
        stats.detectionOnlyRequests = stats.blockedRequests.map { max(0, anomalous - $0) }
        stats.anomalyScores = try buckets(audit, "anomaly_scores", place: place).compactMap { b in
            Int(b.key).map { (score: $0, count: b.count) }
        }.sorted { $0.score < $1.score }.map { RankedCount(key: String($0.score), count: $0.count) }
        if let problem = stats.rangeProblem() { throw .malformed(place: place, detail: problem.description) }
        return (stats, warnings)
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
        if total.objectValue == nil {
            guard let n = try countValue(total, "\(place) hits.total") else {
                throw .malformed(place: place, detail: "hits.total is neither a number nor {value, relation}")
            }
            return n
        }
        guard let n = try countValue(total["value"], "\(place) hits.total.value") else {
            throw .malformed(place: place, detail: "hits.total is neither a number nor {value, relation}")
        }
        if total["relation"]?.stringValue == "gte" {
            guard let histSum = NumberLimits.checkedSum(try history(r, place: place).map(\.value)) else {
                throw .malformed(place: place, detail: NumberRangeError.sum("the history's doc_count").description)
            }
            warnings.append("\(place): the engine capped the count at \(n) (relation gte); used the histogram sum \(max(n, histSum))")
            return max(n, histSum)
        }
        return n
    }

    /// A count from the answer: nil when absent; a number or numeric string that is not a whole
    /// number in 0…2^53 is refused ("value out of range"), not dropped or trapped on.
    static func countValue(_ v: JSONValue?, _ what: String) throws(SourceError) -> Int? {
        guard let v, !v.isNull else { return nil }
        let d: Double?
        switch v {
        case let .number(x): d = x
        case let .string(s): d = Int(s).map(Double.init) ?? (s.isEmpty ? nil : Double.nan)
        default: d = nil
        }
        guard let d else { throw .malformed(place: what, detail: "not a number") }
        guard d.isFinite, d == d.rounded(), d >= 0, d <= Double(NumberLimits.maxCount) else {
            throw .malformed(place: what, detail: NumberRangeError.count("the count", v.scalarText ?? "?").description)
        }
        return Int(d)
    }

    static func history(_ r: JSONValue, place: String) throws(SourceError) -> [SeriesPoint<Int>] {
        var out: [SeriesPoint<Int>] = []
        for (i, b) in (r.at("aggregations.history.buckets")?.arrayValue ?? []).enumerated() {
            guard let key = b["key"]?.doubleValue, let n = try countValue(b["doc_count"], "\(place) history[\(i)].doc_count") else { continue }
            guard NumberLimits.isSupportedTime(key / 1000) else {
                throw .malformed(place: "\(place) history[\(i)].key", detail: NumberRangeError.time("the bucket time", key / 1000).description)
            }
            out.append(SeriesPoint(Date(timeIntervalSince1970: key / 1000), n))
        }
        return out
    }

    struct Bucket {
        var key: String
        var count: Int
        var json: JSONValue
    }

    static func buckets(_ r: JSONValue, _ name: String, place: String) throws(SourceError) -> [Bucket] {
        var out: [Bucket] = []
        for (i, b) in (r.at("aggregations.\(name).buckets")?.arrayValue ?? []).enumerated() {
            guard let key = b["key"]?.scalarText,
                  let n = try countValue(b["doc_count"], "\(place) responses[1] \(name)[\(i)].doc_count") else { continue }
            out.append(Bucket(key: key, count: n, json: b))
        }
        return out
    }
}
