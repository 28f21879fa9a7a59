import Foundation
import ThreatModel

/// `threat-report waf tune`: the tuning input of audit logs and error-log lines alone (no access log, no report),
/// read by the same scan as the report's `waf: files:` source. With `hosts`, only entries whose
/// Host header (or `unique_id` prefix) is one of them count; without, every entry does.
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

    public static func scan(auditLogs: [String], errorLogs: [String] = [], hosts: [String], window: TimeWindow, timezone: String,
                            deadline: RunDeadline = .none) throws(SourceError) -> Result {
        guard let zone = TimeZone(identifier: timezone) else {
            throw .unsupported("--audit-log-timezone '\(timezone)' is not a known time zone")
        }
        let audit = try FilesWAFSource.open(auditLogs, deadline: deadline)
        let errors = try FilesWAFSource.open(errorLogs, deadline: deadline)
        let scanWindow = ScanWindow(window)
        var scan = WAFLogScan(auditFiles: audit, accessFiles: [], windows: [scanWindow],
                              attribution: Attribution(namespace: "", hosts: hosts), zone: zone)
        scan.errorFiles = errors
        let outcome = try scan.scan()
        let input = WAFTuningAggregation.input(outcome, window: scanWindow, index: 0)
        let counted = outcome.records.filter { $0.window == 0 && $0.belongsToEnvironment }.count
        return Result(input: input, entries: counted, entriesRead: outcome.auditCoverage.parsed + (outcome.errorLog?.inWindow ?? 0),
                      files: outcome.audit.map { "\($0.path): \($0.description)" },
                      warnings: outcome.warnings + FilesWAFSource.auditNotes(outcome, index: 0))
    }
}
