import Foundation
import ThreatAnalysis
import ThreatModel
import ThreatRender
import ThreatSources

/// `threat-report waf tune`: the report's tuning analysis from audit logs alone, written as one
/// exclusion file (docs/waf.md "threat-report waf tune").
public struct WAFTuneOptions: Sendable {
    public var auditLogs: [String]
    /// ModSecurity/Coraza error-log files or globs (`--error-log`), beside or instead of audit logs.
    public var errorLogs: [String] = []
    /// Access logs (`--access-log`): only their answer codes, for entries that logged none
    /// (error-log lines), joined by request id.
    public var accessLogs: [String] = []
    public var output: String
    public var from: Date?
    public var to: Date?
    public var hosts: [String] = []
    /// The name in the file's header (and its comments).
    public var environment = "default"
    public var timezone = "UTC"
    /// Campaign sessions end after a gap longer than this.
    public var interval: Interval = .hour
    public var options = WAFTuningOptions()
    public var now = Date()

    public init(auditLogs: [String], output: String) {
        self.auditLogs = auditLogs
        self.output = output
    }
}

public struct WAFTuneResult: Sendable {
    public var exitCode: Int32
    /// The file written (stdout).
    public var written: String?
    /// What was read and decided, for stderr.
    public var summary: [String]
    public var advice: WAFTuningAdvice?
}

public enum WAFTune {
    /// Without --from, the logs are read from 2000-01-01; without --to, up to a day after now.
    public static func run(_ o: WAFTuneOptions) -> WAFTuneResult {
        func fail(_ message: String) -> WAFTuneResult { WAFTuneResult(exitCode: ExitCode.usage, written: nil, summary: [message], advice: nil) }
        if let problem = WAFTuningOptions.problem(with: o.options.idRange) { return fail("--id-range: \(problem)") }
        let from = o.from ?? Date(timeIntervalSince1970: 946_684_800)
        let to = o.to ?? o.now.addingTimeInterval(86_400)
        guard from < to else { return fail("--from must be before --to") }
        let window = TimeWindow(from: from, to: to, interval: o.interval)
        let scanned: WAFTuningScan.Result
        do {
            scanned = try WAFTuningScan.scan(auditLogs: o.auditLogs, errorLogs: o.errorLogs, accessLogs: o.accessLogs, hosts: o.hosts, window: window, timezone: o.timezone)
        } catch {
            return fail(error.description)
        }
        let header = WAFExclusionFile.Header(environment: o.environment, generatedAt: o.now, from: from, to: to)
        var advice = WAFTuning.advise(scanned.input, environment: FileNameSlug.slugs([o.environment])[0], options: o.options, header: header)
        if advice.file.isEmpty { advice.file = WAFExclusionFile.render(advice, header: header) }
        var summary = scanned.files + scanned.warnings + advice.notes
        summary.append("\(scanned.entries) audit entries weighed (\(scanned.entriesRead) read), \(scanned.input.rows.count) (rule, path, target) rows, "
            + "\(advice.candidates.count) candidate(s): \(advice.exclusions.count) excluded, "
            + "\(advice.candidates.filter { $0.decision == .keep }.count) left in place; "
            + "\(advice.attackEntriesStillDetected) of \(advice.attackEntriesChecked) attack-looking requests stay detected")
        for c in advice.candidates {
            summary.append("  \(c.decision.rawValue) \(c.row.ruleID) \(Sanitize.text(c.row.target, max: 80)) \(Sanitize.text(c.row.path, max: 80)): \(c.explanation)")
        }
        for c in advice.campaigns {
            summary.append("  campaign \(c.id) \(Sanitize.text(c.client, max: 64))\(c.addresses > 1 ? " (\(c.addresses) addresses)" : "") \(c.family) \(RFC3339.format(c.start)) to \(RFC3339.format(c.end)): "
                + "\(c.requests) requests, \(c.blocked) blocked, \(c.families.joined(separator: ",")), rules "
                + c.topRules.map { "\(Sanitize.text($0.key, max: 20))(\($0.count))" }.joined(separator: " ")
                + (c.successfulHighSeverity > 0 ? "; \(c.successfulHighSeverity) RCE/SQLi/LFI attempt(s) answered 2xx: look closer" : ""))
        }
        do {
            let path = try OutputWriter.writeSingleFile(o.output, bytes: Array(advice.file.utf8))
            return WAFTuneResult(exitCode: ExitCode.ok, written: path, summary: summary, advice: advice)
        } catch {
            return fail("--output: \(error)")
        }
    }
}
