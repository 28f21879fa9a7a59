import Foundation
import ThreatModel

/// `threat-report waf tune`: the tuning input of audit logs and error-log lines (no report), read by
/// the same scan as the report's `waf: files:` source. With `hosts`, only entries whose Host header
/// (or `unique_id` prefix) is one of them count; without, every entry does. Access logs only lend
/// their answer codes, joined by request id (`unique_id`), to entries that logged none: error-log
/// lines never carry the status, and the tuning weighs it.
public enum WAFTuningScan {
    public struct Result: Sendable {
        public var input: WAFTuningInput
        /// Entries in the window that counted, and all audit entries read.
        public var entries: Int
        public var entriesRead: Int
        /// One line per file (lines, entries, skipped) and the scan's warnings.
        public var files: [String]
        public var warnings: [String]
    }

    public static func scan(auditLogs: [String], errorLogs: [String] = [], accessLogs: [String] = [], hosts: [String], window: TimeWindow,
                            timezone: String, deadline: RunDeadline = .none) throws(SourceError) -> Result {
        guard let zone = TimeZone(identifier: timezone) else {
            throw .unsupported("--audit-log-timezone '\(timezone)' is not a known time zone")
        }
        // An input that cannot be opened is named by the flag that gave it.
        func open(_ paths: [String], _ flag: String) throws(SourceError) -> [LogFileHandle] {
            do { return try FilesWAFSource.open(paths, deadline: deadline) } catch { throw .unsupported("\(flag): \(error.description)") }
        }
        let audit = try open(auditLogs, "--audit-log")
        let errors = try open(errorLogs, "--error-log")
        let access = try open(accessLogs, "--access-log")
        let scanWindow = ScanWindow(window)
        var scan = WAFLogScan(auditFiles: audit, accessFiles: access, windows: [scanWindow],
                              attribution: Attribution(namespace: "", hosts: hosts), zone: zone)
        scan.errorFiles = errors
        scan.accessOwnership = false
        let outcome = try scan.scan()
        let input = WAFTuningAggregation.input(outcome, window: scanWindow, index: 0)
        let counted = outcome.records.filter { $0.window == 0 && $0.belongsToEnvironment }.count
        var files = (outcome.audit + outcome.access).map { "\($0.path): \($0.description)" }
        let fromErrors = outcome.records.filter { $0.window == 0 && $0.fromErrorLog && $0.belongsToEnvironment }
        if !accessLogs.isEmpty {
            // Never a silent join: say how many error-log requests found their access line.
            files.append("answer codes from the access logs, joined by request id: \(fromErrors.filter { $0.status >= 0 }.count) of "
                + "\(fromErrors.count) error-log requests")
        } else if !fromErrors.isEmpty {
            files.append("\(fromErrors.count) error-log requests carry no answer code (the \"ordinary answers\" sign counts half): "
                + "--access-log with the access log whose lines carry their unique_id lends them theirs")
        }
        return Result(input: input, entries: counted, entriesRead: outcome.auditCoverage.parsed + (outcome.errorLog?.inWindow ?? 0),
                      files: files, warnings: outcome.warnings + FilesWAFSource.auditNotes(outcome, index: 0))
    }
}
