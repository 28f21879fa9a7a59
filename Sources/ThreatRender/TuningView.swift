import Foundation
import ThreatModel

/// The WAF section's "Tuning candidates" and "Attack campaigns" in every format: the template
/// node (HTML, Markdown), the `report.json` object and the PDF paragraph. Every log-derived
/// string is sanitised and cut here (the templates escape it for their content type).
public enum TuningView {
    static func time(_ d: Date) -> String { RFC3339.format(d) }

    static func decisionText(_ c: WAFTuningCandidate) -> String {
        switch c.decision {
        case .excludeOnPath: "excluded under the path" + (c.exclusionID.map { " (id \($0))" } ?? "")
        case .excludeEverywhere: "excluded everywhere (SecRuleUpdateTargetById)"
        case .keep: "left in place"
        case .notWritable: "not written"
        }
    }

    static func answers(_ s: StatusClasses) -> String {
        [("2xx", s.success), ("3xx", s.redirect), ("404", s.notFound), ("4xx", s.clientError), ("5xx", s.serverError), ("none", s.none)]
            .filter { $0.1 > 0 }.map { "\($0.0) \(NumberText.grouped($0.1))" }.joined(separator: ", ")
    }

    static func summary(_ a: WAFTuningAdvice) -> String {
        let kept = a.candidates.filter { $0.decision == .keep }.count
        return "\(a.candidates.count) candidate(s): \(a.exclusions.count) excluded, \(kept) left in place; "
            + "\(a.attackEntriesStillDetected) of \(a.attackEntriesChecked) attack-looking requests stay detected with the exclusions."
    }

    /// The template values (HTML, Markdown): the stored property names are the template keys.
    struct Section: Sendable {
        let file: String
        let summary: String
        let candidates: [Candidate]
        let has_candidates: Bool
        let campaigns: [Campaign]
        let has_campaigns: Bool
        let notes: [String]
    }

    struct Candidate: Sendable {
        let rule: String
        let target: String
        let path: String
        let count: String
        let clients: String
        let score: String
        let decision: String
        let explanation: String
        let reason: String
    }

    struct Campaign: Sendable {
        let id: String
        let client: String
        let start: String
        let end: String
        let requests: String
        let blocked: String
        let families: String
        let rules: String
        let uris: String
        let answers: String
        /// Present only when an RCE/SQLi/LFI attempt was answered 2xx.
        let flag: String?
    }

    /// The template values, nil when the source gave no tuning input (engines other than files).
    static func section(_ w: WAFStatistics) -> Section? {
        guard let a = w.tuningAdvice else { return nil }
        let candidates = a.candidates.map { c in
            Candidate(rule: Sanitize.text(c.row.ruleID, max: 20), target: Sanitize.text(c.row.target, max: 120),
                      path: Sanitize.text(c.row.path, max: 128), count: NumberText.grouped(c.row.count),
                      clients: NumberText.grouped(c.row.clients) + (c.row.clientsCapped ? "+" : ""),
                      score: String(format: "%.2f", c.score), decision: decisionText(c),
                      explanation: Sanitize.text(c.explanation, max: 400), reason: Sanitize.text(c.reason, max: 400))
        }
        let campaigns = a.campaigns.map { c in
            Campaign(id: Sanitize.text(c.id, max: 20), client: clientText(c),
                     start: time(c.start), end: time(c.end), requests: NumberText.grouped(c.requests),
                     blocked: "\(NumberText.grouped(c.blocked)) blocked, \(NumberText.grouped(c.requests - c.blocked)) detected only",
                     families: c.families.compactMap { CRSCategory(rawValue: $0)?.title }.joined(separator: ", "),
                     rules: c.topRules.map { "\(Sanitize.text($0.key, max: 20)) (\($0.count))" }.joined(separator: ", "),
                     uris: c.topURIs.map { Sanitize.text($0.key, max: 80) }.joined(separator: " · "),
                     answers: answers(c.statuses),
                     flag: c.successfulHighSeverity > 0
                        ? "\(c.successfulHighSeverity) RCE/SQLi/LFI attempt(s) answered 2xx: look closer" : nil)
        }
        return Section(file: Sanitize.text(a.fileName, max: 160), summary: summary(a), candidates: candidates,
                       has_candidates: !candidates.isEmpty, campaigns: campaigns, has_campaigns: !campaigns.isEmpty,
                       notes: a.notes.map { Sanitize.text($0, max: 300) })
    }

    /// The campaign's client, or its network with how many of its addresses took part.
    static func clientText(_ c: WAFCampaign) -> String {
        Sanitize.text(c.client, max: 64) + (c.addresses > 1 ? " (\(c.addresses) addresses)" : "")
    }

    /// `waf.tuning` in `report.json`: absent when the source gave no tuning input (engines other
    /// than files), so those reports are unchanged.
    public static func jsonPairs(_ w: WAFStatistics) -> [(String, JSONValue)] {
        guard let a = w.tuningAdvice else { return [] }
        func n(_ i: Int) -> JSONValue { .number(Double(i)) }
        return [("tuning", .object([
            ("file", .string(a.fileName)),
            ("candidates", .array(a.candidates.map { c in .object([
                ("rule", .string(c.row.ruleID)), ("path", .string(c.row.path)), ("target", .string(c.row.target)),
                ("count", n(c.row.count)), ("clients", n(c.row.clients)), ("clients_capped", .bool(c.row.clientsCapped)),
                ("answers", .object([("2xx", n(c.row.statuses.success)), ("3xx", n(c.row.statuses.redirect)), ("404", n(c.row.statuses.notFound)),
                                     ("4xx", n(c.row.statuses.clientError)), ("5xx", n(c.row.statuses.serverError)), ("none", n(c.row.statuses.none))])),
                ("anomaly_score_total", n(c.row.scoreTotal)), ("attack_matches", n(c.row.attackMatches)),
                ("other_families", .array(c.row.otherFamilies.map { .string($0) })),
                ("attack_looking_requests", n(c.row.campaignEntries)), ("attack_looking_clients", n(c.row.campaignClients)),
                ("first_seen", .string(time(c.row.firstSeen))), ("last_seen", .string(time(c.row.lastSeen))),
                ("examples", .array(c.row.examples.map { .string($0) })),
                ("score", .number(c.score)), ("decision", .string(c.decision.rawValue)), ("exclusion_id", c.exclusionID.map(n) ?? .null),
                ("explanation", .string(c.explanation)), ("reason", .string(c.reason)),
            ]) })),
            ("attack_looking_requests_checked", n(a.attackEntriesChecked)),
            ("attack_looking_requests_still_detected", n(a.attackEntriesStillDetected)),
            ("campaigns", .array(a.campaigns.map { c in .object([
                ("id", .string(c.id)), ("client", .string(c.client)), ("addresses", n(c.addresses)), ("family", .string(c.family)),
                ("start", .string(time(c.start))), ("end", .string(time(c.end))),
                ("requests", n(c.requests)), ("blocked", n(c.blocked)), ("detected_only", n(c.requests - c.blocked)),
                ("families", .array(c.families.map { .string($0) })),
                ("top_rules", .array(c.topRules.map { .object([("id", .string($0.key)), ("count", n($0.count))]) })),
                ("top_uris", .array(c.topURIs.map { .object([("uri", .string($0.key)), ("count", n($0.count))]) })),
                ("answers", .object([("2xx", n(c.statuses.success)), ("3xx", n(c.statuses.redirect)), ("404", n(c.statuses.notFound)),
                                     ("4xx", n(c.statuses.clientError)), ("5xx", n(c.statuses.serverError)), ("none", n(c.statuses.none))])),
                ("high_severity_answered_2xx", n(c.successfulHighSeverity)),
            ]) })),
            ("notes", .array(a.notes.map { .string($0) })),
        ]))]
    }

    /// The PDF's lines: the summary, then up to `limit` candidates and campaigns.
    public static func pdfLines(_ w: WAFStatistics, limit: Int = 4) -> [String] {
        guard let a = w.tuningAdvice, !a.candidates.isEmpty || !a.campaigns.isEmpty else { return [] }
        var out: [String] = []
        if !a.candidates.isEmpty {
            out.append("Tuning candidates (\(Sanitize.text(a.fileName, max: 160))): " + summary(a))
            for c in a.candidates.prefix(limit) {
                out.append("\(Sanitize.text(c.row.ruleID, max: 20)) on \(Sanitize.text(c.row.target, max: 80)) under \(Sanitize.text(c.row.path, max: 80)): "
                    + "\(decisionText(c)). \(Sanitize.text(c.explanation, max: 300))")
            }
        }
        for c in a.campaigns.prefix(limit) {
            out.append("Campaign \(Sanitize.text(c.id, max: 20)) from \(clientText(c)), \(time(c.start)) to \(time(c.end)): "
                + "\(c.requests) requests (\(c.blocked) blocked), \(c.families.joined(separator: ", "))"
                + (c.successfulHighSeverity > 0 ? "; \(c.successfulHighSeverity) RCE/SQLi/LFI attempt(s) answered 2xx" : ""))
        }
        return out
    }
}
