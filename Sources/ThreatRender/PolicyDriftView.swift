import Foundation
import ThreatModel

/// The "Policy changes since the last run" block of an environment (HTML, Markdown, PDF): one
/// summary line, a caveat when there is one, and one row per policy added, removed, changed or
/// switched, with the rule and selector lines that differ. Strings are sanitised here.
enum PolicyDriftView {
    struct Row: Sendable, Equatable {
        var change: String
        var kind: String
        var name: String
        var details: [String]
        /// `critical`, `warning`, `info` or `ok` (the badge colour).
        var tone: String
    }

    /// The most detail lines shown per policy (report.json has them all).
    static let maxDetails = 12

    static func summary(_ d: PolicyDrift, time: (Date) -> String) -> String {
        let when = d.previousGeneratedAt.map { "the report of \(time($0))" } ?? "the previous report"
        switch d.status {
        case .noPreviousReport: return "No previous report in the output folder: this run is the baseline for the next comparison."
        case .notCompared: return "Not compared with the previous report."
        case .compared:
            if d.isUnchanged { return "No change since \(when): \(CoverageText.plural(d.unchanged, "policy", "policies")) unchanged." }
            var parts: [String] = []
            if !d.added.isEmpty { parts.append("\(d.added.count) added") }
            if !d.removed.isEmpty { parts.append("\(d.removed.count) removed") }
            if !d.changed.isEmpty { parts.append("\(d.changed.count) changed") }
            if !d.enforcement.isEmpty { parts.append(CoverageText.plural(d.enforcement.count, "enforcement change")) }
            parts.append("\(d.unchanged) unchanged")
            return "Since \(when): " + parts.joined(separator: ", ") + "."
        }
    }

    static func rows(_ d: PolicyDrift) -> [Row] {
        func cut(_ lines: [String], complete: Bool) -> [String] {
            var out = lines.prefix(maxDetails).map { Sanitize.text($0, max: 300) }
            if lines.count > maxDetails { out.append("… and \(lines.count - maxDetails) more (see report.json)") }
            if !complete && !lines.isEmpty { out.append("(not every line is listed)") }
            return out
        }
        func row(_ change: String, _ e: PolicyDriftEntry, tone: String) -> Row {
            Row(change: change, kind: Sanitize.text(e.kind, max: 64), name: Sanitize.text(e.name, max: 120),
                details: cut(e.details, complete: e.detailsComplete), tone: tone)
        }
        var out = d.removed.map { row("Removed", $0, tone: $0.enabled ? "warning" : "info") }
        out += d.enforcement.map { c in
            Row(change: "Now \(c.to.rawValue)", kind: Sanitize.text(c.kind, max: 64),
                name: Sanitize.text(c.name, max: 120), details: [], tone: c.from == .enforced ? "warning" : "info")
        }
        out += d.changed.map { row("Changed", $0, tone: "info") }
        out += d.added.map { row("Added", $0, tone: "ok") }
        return out
    }

    /// The template values (HTML, Markdown): the stored property names are the template keys.
    struct Section: Sendable {
        let summary: String
        let rows: [RowView]
        let has_rows: Bool
        let note: String?
        let previous_sha256: String?
    }

    struct RowView: Sendable {
        let change: String
        let kind: String
        let name: String
        let details: [String]
        let has_details: Bool
        let tone: String
        let details_text: String
    }

    static func section(_ env: EnvironmentReport, time: (Date) -> String) -> Section? {
        guard let d = env.policyDrift else { return nil }
        let rows = rows(d).map { r in
            RowView(change: r.change, kind: r.kind, name: r.name, details: r.details, has_details: !r.details.isEmpty,
                    tone: r.tone, details_text: r.details.joined(separator: "; "))
        }
        return Section(summary: summary(d, time: time), rows: rows, has_rows: !rows.isEmpty,
                       note: d.status != .noPreviousReport ? d.note.map { Sanitize.text($0, max: 800) } : nil,
                       previous_sha256: d.previousSHA256)
    }
}
