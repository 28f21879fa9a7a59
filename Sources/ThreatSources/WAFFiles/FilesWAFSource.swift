import Foundation
import ThreatConfig
import ThreatModel

/// `waf: files:` — WAF statistics from raw logs: ModSecurity (v3, v2) or Coraza JSON audit logs
/// and NGINX access logs (ingress-nginx 17-field or `combined`), plain or gzip, as paths or globs.
/// Attribution to the environment and the formats are described in docs/waf.md.
public struct FilesWAFSource: WAFSource {
    public var settings: WAFFileSettings

    public init(settings: WAFFileSettings) { self.settings = settings }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        guard let zone = TimeZone(identifier: settings.auditLogTimezone) else {
            throw .unsupported("audit_log_timezone '\(settings.auditLogTimezone)' is not a known time zone")
        }
        var warnings: [String] = []
        let audit = try Self.open(settings.auditLogs)
        let access = try Self.open(settings.accessLogs)
        if settings.accessLogs.isEmpty {
            warnings.append("no access_log configured: total requests are 0 and the anomalous ratio is 0")
        }
        if settings.auditLogs.isEmpty {
            warnings.append("no audit_log configured: anomalous requests are 0")
        }
        let window = ScanWindow(context.window)
        let scan = WAFLogScan(auditFiles: audit, accessFiles: access, window: window,
                              attribution: Attribution(namespace: context.environment.namespace, hosts: context.environment.hosts),
                              zone: zone)
        let outcome = try scan.scan()
        warnings += outcome.warnings
        let stats = WAFAggregation.statistics(outcome, window: window)
        let evidence = (outcome.audit + outcome.access).map {
            EvidenceItem(section: "waf", source: $0.path, query: $0.description, sha256: $0.sha256)
        }
        return SourceOutput(value: stats, evidence: evidence, warnings: warnings)
    }

    /// Opens the files named by paths and globs (sorted, each file once even when two patterns or
    /// a symbolic link name it twice).
    static func open(_ patterns: [String]) throws(SourceError) -> [LogFileHandle] {
        var seen = Set<[UInt64]>()
        var out: [LogFileHandle] = []
        for path in try FileGlob.expand(patterns) {
            let f = try LogFileHandle(path: path)
            var st = stat()
            if fstat(f.fd, &st) == 0, !seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted { continue }
            out.append(f)
        }
        return out
    }
}
