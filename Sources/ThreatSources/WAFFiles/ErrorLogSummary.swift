import Foundation
import ThreatModel

/// What the error logs held: lines, rule-match lines, transactions and how they were grouped,
/// the engines and CRS versions seen; the evidence lines and the coverage input.
struct ErrorLogSummary {
    var engines: [Int]
    var versions: [String: Int]
    var matchLines: Int
    var otherLines: Int
    var transactions: Int
    /// Transactions grouped by client, URI and second because their lines carry no `unique_id`.
    var withoutID: Int
    /// Transactions in the report window.
    var inWindow = 0
    var coverage = InputCoverage(name: "error log", unit: "lines", read: 0, parsed: 0)
    var files: [WAFLogScan.FileSummary] = []
    var warnings: [String] = []

    init(part: ErrorLogPart) {
        engines = part.engines
        var v: [String: Int] = [:]
        for (k, n) in part.versionCounts.enumerated() {
            if let s = part.versionTable.string(UInt32(k)) { v[s, default: 0] += n }
        }
        versions = v
        matchLines = part.matchLines
        otherLines = part.otherLines
        transactions = part.transactions.count
        withoutID = part.transactions.reduce(0) { $0 + ($1.hasID ? 0 : 1) }
    }

    /// "Coraza", or "ModSecurity v3 (NGINX) (120), Coraza (3)".
    var engineName: String? {
        WAFAggregation.names(engines, ErrorLogEngine.allCases.map(\.name))
    }

    /// The most frequent CRS version (`OWASP_CRS/4.7.0` → `4.7.0`), ties by name.
    var crsVersion: String? {
        guard let best = versions.max(by: { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }) else { return nil }
        let v = best.key
        if let slash = v.lastIndex(of: "/") { return String(v[v.index(after: slash)...]) }
        return v
    }

    /// "grouped by unique_id" / "…; 3 without unique_id grouped by client, URI and second".
    var grouping: String {
        withoutID == 0 ? "grouped by unique_id"
            : withoutID == transactions ? "grouped by client, URI and second (the lines carry no unique_id)"
            : "grouped by unique_id; \(withoutID) without one grouped by client, URI and second"
    }

    mutating func fill(_ scan: WAFLogScan, step: WAFLogScan.StepResult<ErrorLogPart>, records: [AuditRecord]) {
        var c = InputCoverage(name: "error log", unit: "lines", files: scan.errorFiles.count, bytes: 0, read: 0, parsed: 0)
        var skipped: [(String, SkippedLines)] = []
        var minTime = Int.max, maxTime = Int.min
        for (k, f) in scan.errorFiles.enumerated() {
            var st = stat()
            if fstat(f.fd, &st) == 0 { c.bytes! += Int(st.st_size) }
            let t = TallyFold.file(step.folds.compactMap { $0.files[k] })
            if let note = step.notes[k] { warnings.append("\(f.path): \(note)") }
            c.read += t.lines
            skipped.append((f.path, t.skipped))
            for (line, reason, value) in t.skipped.first {
                c.skip(reason.text, count: 0, place: "\(f.path):\(line)",
                       value: value.isEmpty ? nil : value.withUnsafeBufferPointer { SkipExample.cut(bytes: $0) })
            }
            for r in SkipReason.allCases { c.skip(r.text, count: t.skipped.counts[r.rawValue]) }
            if t.minTime <= t.maxTime {
                minTime = min(minTime, t.minTime)
                maxTime = max(maxTime, t.maxTime)
            }
            files.append(WAFLogScan.FileSummary(
                path: f.path, sha256: step.digests[k],
                description: "WAF error log: \(t.lines) lines, \(t.entries) with rule matches, \(t.skipped.total) skipped"))
        }
        // Blank lines are not offered; the rest are rule matches, other lines or skipped.
        c.parsed = matchLinesRead(step) + otherLines
        c.read = c.parsed + c.skippedTotal
        if minTime <= maxTime {
            c.firstTime = Date(timeIntervalSince1970: Double(minTime))
            c.lastTime = Date(timeIntervalSince1970: Double(maxTime))
        }
        var own = 0, unattributed = 0
        for r in records where r.fromErrorLog && r.window == 0 {
            if r.belongsToEnvironment { own += 1 } else if r.owner == 0 && !r.byFile && !r.otherHost { unattributed += 1 }
        }
        c.unattributed = unattributed
        coverage = c
        if let w = WAFLogScan.skippedWarning("error log", skipped) { warnings.append(w) }
        _ = own
    }

    /// Lines that held at least one rule match (a JSON line holding several counts once).
    func matchLinesRead(_ step: WAFLogScan.StepResult<ErrorLogPart>) -> Int {
        step.folds.reduce(0) { $0 + $1.files.values.reduce(0) { $0 + $1.totals.entries } }
    }

    /// The note on the section's coverage line.
    func note(inWindow: Int, own: Int) -> String {
        "error log: \(matchLines) rule-match line\(matchLines == 1 ? "" : "s") (\(otherLines) other line\(otherLines == 1 ? "" : "s") passed over) "
            + "in \(transactions) transaction\(transactions == 1 ? "" : "s") of the compared windows, \(grouping); \(inWindow) in the window, \(own) of this environment"
            + (engineName.map { "; engine \($0)" } ?? "") + (crsVersion.map { ", CRS \($0)" } ?? "")
    }
}
