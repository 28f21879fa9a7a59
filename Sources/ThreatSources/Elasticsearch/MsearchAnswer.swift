import Foundation
import ThreatModel

/// Decodes the `_msearch` answer to `WAFQueries` into `WAFStatistics`. `hits.total` is read as
/// `{value, relation}` (ES 7.10+, 8.x, OpenSearch 1–2) or as a plain number (older answers).
public enum MsearchAnswer {
    public static func decode(_ bytes: [UInt8], place: String,
                              pairing: RulePairing = WAFQueries.gitlabDefaults.rulePairing) throws(SourceError) -> (WAFStatistics, [String]) {
        try decode(json: try parse(bytes, place: place), place: place, pairing: pairing)
    }

    static func parse(_ bytes: [UInt8], place: String) throws(SourceError) -> JSONValue {
        do {
            return try JSONValue.parse(bytes: bytes)
        } catch {
            throw .malformed(place: place, detail: "not valid JSON at \(error)")
        }
    }

    static func decode(json: JSONValue, place: String, pairing: RulePairing) throws(SourceError) -> (WAFStatistics, [String]) {
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
                // The inbound evaluation's message varies with the score: its label is the most
                // frequent score message of `anomaly_scores` when the answer has it.
                let scoreLabel = ["949110", "949111"].contains(b.key) ? buckets(audit, "anomaly_scores.scores").first?.key : nil
                return RankedCount(key: b.key, count: b.count, label: scoreLabel ?? pairing.label(bucket: b.json, ruleID: b.key),
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
        stats.anomalyScores = scores(audit).sorted { $0.score < $1.score }.map { RankedCount(key: String($0.score), count: $0.count) }
        return (stats, warnings)
    }

    /// Score → documents: from the score messages inside 949110's documents (`anomaly_scores.scores`),
    /// or from a terms on a numeric score (answers recorded before).
    static func scores(_ audit: JSONValue) -> [(score: Int, count: Int)] {
        if audit.at("aggregations.anomaly_scores.scores") != nil {
            var by: [Int: Int] = [:]
            for b in buckets(audit, "anomaly_scores.scores") {
                if let s = RulePairing.totalScore(b.key) { by[s, default: 0] += b.count }
            }
            return by.map { (score: $0.key, count: $0.value) }
        }
        return buckets(audit, "anomaly_scores").compactMap { b in Int(b.key).map { (score: $0, count: b.count) } }
    }

    /// `type: reason`, then the first root cause and the `caused_by` chain, each with the fields
    /// that say where (index, field, max_buckets): the shape of `search_phase_execution_exception`
    /// ("all shards failed") and of `too_many_buckets_exception` (Elasticsearch reference, "Common
    /// options › Error responses"; the `_msearch` answer carries one per failed search).
    static func describeError(_ err: JSONValue) -> String {
        if let s = err.stringValue { return s }
        func one(_ e: JSONValue) -> String {
            let type = e["type"]?.stringValue ?? "error"
            let reason = e["reason"]?.stringValue ?? ""
            var s = reason.isEmpty ? type : "\(type): \(reason)"
            let extra = ["index", "field", "max_buckets", "line", "col"].compactMap { k in e[k]?.scalarText.map { "\(k) \($0)" } }
            if !extra.isEmpty { s += " (\(extra.joined(separator: ", ")))" }
            return s
        }
        var s = one(err)
        if err["reason"]?.stringValue == nil, let r = err.at("root_cause")?.arrayValue?.first?["reason"]?.stringValue {
            s += ": \(r)"
        }
        if let root = err.at("root_cause")?.arrayValue?.first {
            var r = one(root)
            if r != s {
                if root["index"] == nil, let index = err.at("failed_shards")?.arrayValue?.first?["index"]?.stringValue { r += " (index \(index))" }
                s += "; root cause: " + r
            }
        }
        var cause = err["caused_by"], depth = 0
        while let c = cause, depth < 3 {
            s += "; caused by: " + one(c)
            cause = c["caused_by"]
            depth += 1
        }
        return String(s.prefix(2000))
    }

    /// `hits.total` as a plain number or `{value, relation}` (ES 7+). A `gte` relation means the
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
