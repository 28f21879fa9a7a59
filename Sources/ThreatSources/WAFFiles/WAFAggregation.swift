import Foundation
import ThreatModel

/// Turns the environment's audit records and access-line buckets into `WAFStatistics`, with the
/// definitions of docs/domain.md §1: total = access lines, anomalous = audit entries, each series
/// bucketed by its own time (the audit `time_stamp` is the request's start, `$time_local` its end).
enum WAFAggregation {
    /// Rows in each "top" table, as the Elasticsearch source asks for.
    static let topCount = 10

    /// The statistics of scanned window number `index` (0: the report window).
    static func statistics(_ o: WAFLogScan.Outcome, window: ScanWindow, index: Int = 0) -> WAFStatistics {
        var anomalous = [Int](repeating: 0, count: window.bucketCount)
        // Counted by interned id (ids are dense; the overflow id is never ranked).
        var ruleCounts = [Int](repeating: 0, count: o.rules.count)
        var ruleMessages: [UInt64: Int] = [:]
        var clients = [Int](repeating: 0, count: o.clients.count)
        var uris = [Int](repeating: 0, count: o.uris.count)
        var categories: [CRSCategory: Int] = [:]
        var modes: [EngineMode: Int] = [:]
        var scores: [Int32: Int] = [:]
        var blocked = 0, critical = 0, count = 0, unconfigured = 0
        let categoryOfRule = (0..<o.rules.count).map { CRSCategory(ruleID: o.rules.string(UInt32($0)) ?? "") }
        var seen: [CRSCategory] = []
        for r in o.records where r.window == index && r.belongsToEnvironment {
            count += 1
            anomalous[Int(r.bucket)] += 1
            if Int(r.client) < clients.count { clients[Int(r.client)] += 1 }
            if Int(r.uri) < uris.count { uris[Int(r.uri)] += 1 }
            if r.engine != .unknown { modes[r.engine, default: 0] += 1 }
            if r.blocked { blocked += 1 }
            if r.critical { critical += 1 }
            if r.crsUnconfigured { unconfigured += 1 }
            if r.score >= 0 { scores[r.score, default: 0] += 1 }
            seen.removeAll(keepingCapacity: true)
            for k in Int(r.rulesStart)..<(Int(r.rulesStart) + Int(r.rulesCount)) {
                let ref = o.ruleRefs[k]
                guard Int(ref.rule) < ruleCounts.count else { continue }
                ruleCounts[Int(ref.rule)] += 1
                if ref.message != Interner.overflow { ruleMessages[UInt64(ref.rule) << 32 | UInt64(ref.message), default: 0] += 1 }
                let c = categoryOfRule[Int(ref.rule)]
                if c != .anomaly, !seen.contains(c) {
                    seen.append(c)
                    categories[c, default: 0] += 1
                }
            }
        }

        // The label of a rule is its most frequent message (949110's carries the score).
        var bestMessage: [UInt32: (UInt32, Int)] = [:]
        for (key, n) in ruleMessages {
            let rule = UInt32(key >> 32), message = UInt32(truncatingIfNeeded: key)
            if let (m, best) = bestMessage[rule],
               best > n || (best == n && (o.messages.string(m) ?? "") < (o.messages.string(message) ?? "")) {
                continue
            }
            bestMessage[rule] = (message, n)
        }
        let topRules = top(ruleCounts, name: o.rules.string).map { id, key, n in
            RankedCount(key: id, count: n, label: bestMessage[key].flatMap { o.messages.string($0.0) },
                        category: CRSCategory(ruleID: id).rawValue)
        }
        // An entry that logs no client or URI (coraza-spoa's empty `uri`) is not ranked: the
        // coverage notes count it as "not in the log".
        let named = { (i: Interner) in { (k: UInt32) -> String? in i.string(k).flatMap { $0.isEmpty ? nil : $0 } } }
        let topClients = top(clients, name: named(o.clients)).map { RankedCount(key: $0.0, count: $0.2) }
        let topURIs = top(uris, name: named(o.uris)).map { RankedCount(key: $0.0, count: $0.2) }
        let engineModes = [EngineMode.enabled, .detectionOnly, .disabled].compactMap { m in
            modes[m].map { RankedCount(key: m.name, count: $0) }
        }.sorted { $0.count > $1.count }

        var stats = WAFStatistics(
            totalRequests: o.accessBuckets[index].reduce(0, +), anomalousRequests: count,
            totalHistory: window.series(o.accessBuckets[index]), anomalousHistory: window.series(anomalous),
            topRules: topRules, topClients: topClients, topURIs: topURIs, blockedRequests: blocked, engineModes: engineModes)
        stats.categories = CRSCategory.ranked(categories)
        stats.detectionOnlyRequests = count - blocked
        stats.anomalyScores = scores.sorted { $0.key < $1.key }.map { RankedCount(key: String($0.key), count: $0.value) }
        stats.criticalAttackRequests = critical
        stats.skippedLines = o.skipped
        stats.crsUnconfiguredRequests = unconfigured
        stats.unattributedEntries = index == 0 ? o.unattributed : 0
        stats.accessLogFormat = names(o.accessFormats, AccessLogLine.Format.allCases.map(\.name))
        stats.auditLogFormat = names(o.auditFlavors, AuditFlavor.allCases.map(\.rawValue))
        // The audit producer first; the error lines, when they name them, win.
        stats.wafEngine = o.auditProducer.engine
        stats.crsVersion = o.auditProducer.crs
        if let e = o.errorLog {
            stats.wafEngine = e.engineName ?? stats.wafEngine
            stats.crsVersion = e.crsVersion ?? stats.crsVersion
            stats.errorLogFormat = e.engineName.map { "error log (\($0)), \(e.grouping)" }
        }
        return stats
    }

    /// "main" or "ModSecurity v3 (120), ModSecurity native (3)": the kinds that read anything,
    /// most first; nil when none did.
    static func names(_ counts: [Int], _ names: [String]) -> String? {
        let seen = zip(names, counts).filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
        guard !seen.isEmpty else { return nil }
        return seen.count == 1 ? seen[0].0 : seen.map { "\($0.0) (\($0.1))" }.joined(separator: ", ")
    }

    /// The `topCount` largest counts, ties by name, overflow (unranked) keys left out.
    static func top(_ counts: [Int], name: (UInt32) -> String?) -> [(String, UInt32, Int)] {
        var rows: [(String, UInt32, Int)] = []
        for (k, n) in counts.enumerated() where n > 0 {
            if let s = name(UInt32(k)) { rows.append((s, UInt32(k), n)) }
        }
        return firstSorted(rows, count: topCount) { a, b in a.2 != b.2 ? a.2 > b.2 : a.0 < b.0 }
    }
}
