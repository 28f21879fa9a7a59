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
        let rules = try buckets(audit, "top_rules", place: place), clients = try buckets(audit, "top_clients", place: place)
        let uris = try buckets(audit, "top_uris", place: place), modes = try buckets(audit, "engine_mode", place: place)
        var stats = WAFStatistics(
            totalRequests: total, anomalousRequests: anomalous,
            totalHistory: try history(access, place: "\(place) responses[0]"),
            anomalousHistory: try history(audit, place: "\(place) responses[1]"),
            topRules: try rules.map { b throws(SourceError) in
                // The inbound evaluation's message varies with the score: its label is the most
                // frequent score message of `anomaly_scores` when the answer has it.
                let scoreLabel = ["949110", "949111"].contains(b.key)
                    ? try buckets(audit, "anomaly_scores.scores", place: place).first?.key : nil
                return RankedCount(key: b.key, count: b.count, label: scoreLabel ?? pairing.label(bucket: b.json, ruleID: b.key),
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
        stats.criticalAttackRequests = try countValue(audit.at("aggregations.critical_attacks.doc_count"), "\(place) responses[1] aggregations.critical_attacks.doc_count")
        stats.anomalyScores = try scores(audit, place: place).sorted { $0.score < $1.score }
            .map { RankedCount(key: String($0.score), count: $0.count) }
        if let problem = stats.rangeProblem() { throw .malformed(place: place, detail: problem.description) }
        return (stats, warnings)
    }

    /// Score → documents: from the score messages inside 949110's documents (`anomaly_scores.scores`),
    /// or from a terms on a numeric score (answers recorded before).
    static func scores(_ audit: JSONValue, place: String) throws(SourceError) -> [(score: Int, count: Int)] {
        if audit.at("aggregations.anomaly_scores.scores") != nil {
            var by: [Int: Int] = [:]
            for b in try buckets(audit, "anomaly_scores.scores", place: place) {
                if let s = RulePairing.totalScore(b.key) { by[s] = NumberLimits.clampedAdd(by[s] ?? 0, b.count) }
            }
            return by.map { (score: $0.key, count: $0.value) }
        }
        return try buckets(audit, "anomaly_scores", place: place).compactMap { b in Int(b.key).map { (score: $0, count: b.count) } }
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
