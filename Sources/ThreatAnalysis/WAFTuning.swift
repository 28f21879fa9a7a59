import Foundation
import ThreatModel

/// How the tuning advice is drawn: the exclusion id range and the bars a row must pass.
public struct WAFTuningOptions: Sendable, Equatable {
    /// Ids of the runtime exclusion rules: a user range, never the CRS's 900000–999999.
    public var idRange: ClosedRange<Int> = 10_000...10_999
    /// A row is a candidate from this score, this many entries and this many distinct clients.
    public var minScore = 0.6
    public var minCount = 5
    public var minClients = 3
    /// The CRS's default inbound anomaly threshold: an attack entry is detected while its
    /// remaining points reach it (or, below it from the start, while any match remains).
    public var threshold = 5
    /// Paths on which one (rule, target) must be excluded before one configure-time
    /// `SecRuleUpdateTargetById` replaces the runtime rules.
    public var everywhereFromPaths = 3

    public init() {}

    public static let crsRange = 900_000...999_999

    /// Why an id range cannot be used, or nil.
    public static func problem(with range: ClosedRange<Int>) -> String? {
        if range.lowerBound < 1 { return "ids start at 1" }
        if range.overlaps(crsRange) { return "it overlaps the CRS's ids 900000–999999" }
        if range.upperBound > 99_999_999 { return "ids end at 99999999" }
        return nil
    }
}

/// False-positive candidates and their exclusions (docs/waf.md "Tuning candidates"). Each row
/// (rule, path prefix, target) gets a score from the signs of legitimate traffic; candidates are
/// excluded best first, and each exclusion is checked against the entries of attack-looking
/// clients: one that would bring any of them below detection is left in place.
public enum WAFTuning {
    public static func advise(_ input: WAFTuningInput, environment slug: String, options: WAFTuningOptions = WAFTuningOptions(),
                              header: WAFExclusionFile.Header) -> WAFTuningAdvice {
        var advice = WAFTuningAdvice(fileName: "waf-tuning/\(slug).conf")
        advice.campaigns = input.campaigns
        advice.notes = notes(input)
        var scored: [(Int, Double)] = []
        for (k, row) in input.rows.enumerated() {
            let s = score(row)
            if s >= options.minScore, row.count >= options.minCount, row.clients >= options.minClients { scored.append((k, s)) }
        }
        scored.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }

        // Greedy, best first: an exclusion stays only if no attack-looking entry falls below detection.
        // Exclusions as a mask over the rows; per row, the entries that match it (each once).
        var excluded = [Bool](repeating: false, count: input.rows.count)
        var byRow = [[Int]](repeating: [], count: input.rows.count)
        let entries = input.campaignEntries
        var lastEntry = [Int](repeating: -1, count: input.rows.count)
        for e in 0..<entries.count {
            for m in entries.range(e) {
                let r = Int(entries.rows[m])
                guard r >= 0, r < byRow.count, lastEntry[r] != e else { continue }
                lastEntry[r] = e
                byRow[r].append(e)
            }
        }
        func detected(_ e: Int, _ without: [Bool]) -> Bool {
            let before = entries.total(e), after = entries.remaining(e, excluding: without)
            return before >= options.threshold ? after >= options.threshold : after > 0 || before == 0
        }
        var candidates: [WAFTuningCandidate] = []
        for (k, s) in scored {
            let row = input.rows[k]
            var c = WAFTuningCandidate(row: row, score: s, decision: .excludeOnPath, explanation: explanation(row, score: s), reason: "")
            if let why = WAFExclusionFile.unwritable(row) {
                c.decision = .notWritable
                c.reason = why
                candidates.append(c)
                continue
            }
            var trial = excluded
            trial[k] = true
            let affected = byRow[k]
            let escaping = affected.filter { detected($0, excluded) && !detected($0, trial) }
            if !escaping.isEmpty {
                c.decision = .keep
                c.reason = "Left in place: the same target also carries attacks: \(escaping.count) attack-looking request(s) "
                    + "would fall below detection without this rule there, and \(row.target) under \(row.path) is already the narrowest "
                    + "target an exclusion can name; review those requests (their other rules still score them) before excluding it."
                candidates.append(c)
                continue
            }
            excluded = trial
            c.reason = affected.isEmpty
                ? "Excluded under \(row.path): no attack-looking request matched this rule on this target."
                : "Excluded under \(row.path): the \(affected.count) attack-looking request(s) on this target stay detected by their other matches."
            candidates.append(c)
        }

        // One (rule, target) excluded on many paths, and on every path it fired on: exclude it everywhere.
        var paths: [String: [Int]] = [:], all: [String: Int] = [:]
        for row in input.rows { all["\(row.ruleID) \(row.target)", default: 0] += 1 }
        for (i, c) in candidates.enumerated() where c.decision == .excludeOnPath { paths["\(c.row.ruleID) \(c.row.target)", default: []].append(i) }
        for (key, list) in paths where list.count >= options.everywhereFromPaths && list.count == all[key] {
            for i in list {
                candidates[i].decision = .excludeEverywhere
                candidates[i].reason = "Excluded on every path: it fired on \(list.count) paths, always on traffic like this."
            }
        }

        // Ids from the range, never one the logs hold.
        let seen = Set(input.ruleIDsSeen.compactMap { Int($0) })
        var next = options.idRange.lowerBound
        for i in candidates.indices where candidates[i].decision == .excludeOnPath {
            while seen.contains(next), next <= options.idRange.upperBound { next += 1 }
            guard next <= options.idRange.upperBound else {
                candidates[i].decision = .keep
                candidates[i].reason = "Not written: the id range \(options.idRange.lowerBound)-\(options.idRange.upperBound) is used up."
                continue
            }
            candidates[i].exclusionID = next
            next += 1
        }
        advice.candidates = candidates
        advice.attackEntriesChecked = input.campaignEntries.count
        advice.attackEntriesStillDetected = (0..<entries.count).filter { detected($0, excluded) }.count
        advice.file = advice.exclusions.isEmpty && candidates.isEmpty ? "" : WAFExclusionFile.render(advice, header: header)
        return advice
    }

    /// 0…1 from five signs: many distinct clients, ordinary answers (2xx/3xx/404), one or two
    /// attack rules per request, repetition, and clients that fire nothing else.
    public static func score(_ row: WAFTargetStats) -> Double {
        guard row.count > 0 else { return 0 }
        let clients = min(1, log2(1 + Double(row.clients)) / log2(21))
        let answered = row.statuses.total - row.statuses.none
        let ordinary = answered == 0 ? 0.5 : Double(row.statuses.ordinary) / Double(answered)
        let spread = Double(row.attackMatches) / Double(row.count)
        let narrow = spread <= 2 ? 1 : max(0, 1 - (spread - 2) / 3)
        let repeated = min(1, Double(row.count) / 20)
        let clean = 1 - Double(row.campaignEntries) / Double(row.count)
        let families = row.otherFamilies.isEmpty ? 1 : row.otherFamilies.count == 1 ? 0.6 : 0.2
        let s = 0.25 * clients + 0.15 * ordinary + 0.2 * narrow + 0.1 * repeated + 0.2 * clean + 0.1 * families
        return (s * 100).rounded() / 100
    }

    /// "Score 0.91: 48 requests from 40 clients, 100% answered 2xx/3xx/404, 1.1 attack rules per
    /// request, none from attack-looking clients, no other attack family from those clients."
    public static func explanation(_ row: WAFTargetStats, score: Double) -> String {
        let answered = row.statuses.total - row.statuses.none
        let ordinary = answered == 0 ? "no status logged" : "\(Int((Double(row.statuses.ordinary) / Double(answered) * 100).rounded()))% answered 2xx/3xx/404"
        let spread = String(format: "%.1f", Double(row.attackMatches) / Double(max(1, row.count)))
        let attackers = row.campaignEntries == 0 ? "none from attack-looking clients"
            : "\(row.campaignEntries) from \(row.campaignClients) attack-looking client(s)"
        let families = row.otherFamilies.isEmpty ? "no other attack family from those clients"
            : "those clients also fired \(row.otherFamilies.joined(separator: ", "))"
        return "Score \(String(format: "%.2f", score)): \(row.count) requests from \(row.clients)\(row.clientsCapped ? "+" : "") clients, "
            + "\(ordinary), \(spread) attack rules per request, \(attackers), \(families)."
    }

    static func notes(_ input: WAFTuningInput) -> [String] {
        var out: [String] = []
        if input.untargetedMatches > 0 {
            out.append("\(input.untargetedMatches) rule match(es) name no target in the log and cannot be excluded per target")
        }
        if input.droppedMatches > 0 {
            out.append("\(input.droppedMatches) rule match(es) beyond the table cap of \(WAFTuningInput.rowCap) rows were not weighed")
        }
        if input.droppedCampaignEntries > 0 {
            out.append("\(input.droppedCampaignEntries) attack-looking request(s) beyond the cap of \(WAFTuningInput.campaignEntryCap) were not checked against the exclusions")
        }
        if input.overflowedMatches > 0 {
            out.append("\(input.overflowedMatches) rule match(es) whose rule, target or URI overflowed the scan's tables were not weighed")
        }
        return out
    }
}
