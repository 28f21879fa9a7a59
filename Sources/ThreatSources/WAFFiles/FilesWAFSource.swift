import Foundation
import ThreatConfig
import ThreatModel

/// `waf: files:` — WAF statistics from raw logs: ModSecurity (v3, v2) or Coraza JSON audit logs,
/// ModSecurity native audit logs (serial, or concurrent through globs), and NGINX access logs
/// (presets or a `log_format` string), plain or gzip, as paths or globs.
/// Attribution to the environment and the formats are described in docs/waf.md.
///
/// A report also compares with the window before its own (`--compare previous`, the default), and
/// asks the source for it right after. Reading the logs is the whole cost, so one pass counts both
/// windows, and the previous window's answer waits in the run's `PreviousWindowAnswers` for that request.
public struct FilesWAFSource: WAFSource {
    public var settings: WAFFileSettings

    public init(settings: WAFFileSettings) { self.settings = settings }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        let key = PreviousWindowAnswers.key(settings, context)
        if let (answer, files) = context.caches.previousWindowAnswers.take(key), (try? Self.signature(settings)) == files {
            return answer
        }

        guard let zone = TimeZone(identifier: settings.auditLogTimezone) else {
            throw .unsupported("audit_log_timezone '\(settings.auditLogTimezone)' is not a known time zone")
        }
        var warnings: [String] = []
        let audit = try Self.open(settings.auditLogs, deadline: context.deadline)
        let access = try Self.open(settings.accessLogs, deadline: context.deadline)
        let errors = try Self.open(settings.errorLogs, deadline: context.deadline)
        if settings.accessLogs.isEmpty {
            warnings.append("no access_log configured: total requests are 0 and the anomalous ratio is 0")
        }
        if let both = Self.sameFile(audit, errors) {
            warnings.append("\(both) is both an audit_log and an error_log: a transaction whose audit entry and error lines it holds "
                + "counts twice; give a proxy log holding JSON audit entries as audit_log only")
        }
        if settings.auditLogs.isEmpty && settings.errorLogs.isEmpty {
            warnings.append("no audit_log or error_log configured: anomalous requests are 0")
        }
        let windows = [ScanWindow(context.window), ScanWindow(context.window.previous)]
        var scan = WAFLogScan(auditFiles: audit, accessFiles: access, windows: windows,
                              attribution: Attribution(namespace: context.environment.namespace, hosts: context.environment.hosts,
                                                         otherHosts: settings.otherEnvironmentHosts),
                              zone: zone, accessFormat: AccessLogReader(settings.accessLogFormat, fields: settings.accessLogFields,
                                                                        zone: TimeZone(identifier: settings.accessLogTimezone) ?? .gmt))
        scan.errorFiles = errors
        let outcome = try scan.scan()
        warnings += outcome.warnings
        let evidence = (outcome.audit + outcome.access).map { (f: WAFLogScan.FileSummary) in
            EvidenceItem(section: "waf", source: f.path, query: f.description, sha256: f.sha256)
        }
        var previousContext = context
        previousContext.window = context.window.previous
        // The tuning input (rows and campaigns) and the two windows' statistics read the same
        // records and share nothing else: they run side by side.
        let (tuning, both) = inParallel({ WAFTuningAggregation.input(outcome, window: windows[0], index: 0) }, {
            (WAFAggregation.statistics(outcome, window: windows[1], index: 1), WAFAggregation.statistics(outcome, window: windows[0], index: 0))
        })
        context.caches.previousWindowAnswers.put(PreviousWindowAnswers.key(settings, previousContext), SourceOutput(
            value: both.0, evidence: evidence, warnings: warnings,
            coverage: Self.coverage(outcome, index: 1)),
            files: Self.signature(audit + access + errors))
        var stats = both.1
        stats.tuning = tuning
        return SourceOutput(value: stats, evidence: evidence, warnings: warnings, coverage: Self.coverage(outcome, index: 0))
    }

    /// The audit and access inputs as read for scanned window `index` (0: the report's): the
    /// line figures are the files'; in the window and attributed are that window's.
    static func coverage(_ o: WAFLogScan.Outcome, index: Int) -> SourceCoverage {
        var audit = o.auditCoverage, access = o.accessCoverage
        var inWindow = 0, own = 0
        for r in o.records where Int(r.window) == index && !r.fromErrorLog {
            inWindow += 1
            if r.belongsToEnvironment { own += 1 }
        }
        // Entries no environment claims (wafformats' attribution, report window only) are
        // unattributed; the rest of those not this environment's belong to another one.
        let unattributed = index == 0 ? max(0, o.unattributed - (o.errorLog?.coverage.unattributed ?? 0)) : 0
        audit.inWindow = inWindow
        audit.attributed = own
        audit.unattributed = unattributed
        audit.otherEnvironment = max(0, inWindow - own - unattributed)
        if index != 0 {
            access.inWindow = nil
            access.attributed = o.accessBuckets[index].reduce(0, +)
            access.otherEnvironment = 0
            access.unattributed = 0
        }
        let auditNotes = Self.auditNotes(o, index: index)
        guard let e = o.errorLog else { return SourceCoverage(source: "files", inputs: [audit, access], notes: auditNotes) }
        var error = e.coverage
        var errorOwn = 0, errorInWindow = 0
        for r in o.records where r.fromErrorLog && Int(r.window) == index {
            errorInWindow += 1
            if r.belongsToEnvironment { errorOwn += 1 }
        }
        if index != 0 { error.unattributed = 0 }
        var inputs = [audit, access, error]
        // Without an audit log the audit input says nothing: leave it out.
        if audit.files == 0 { inputs.removeFirst() }
        return SourceCoverage(source: "files", inputs: inputs, notes: auditNotes + [e.note(inWindow: errorInWindow, own: errorOwn)])
    }

    /// What the environment's audit entries in window `index` do not hold (fields the producer
    /// left empty are "not in the log", never a value), and what was read behind a log prefix.
    static func auditNotes(_ o: WAFLogScan.Outcome, index: Int) -> [String] {
        var noRules = 0, noStatus = 0, noURI = 0, noClient = 0, noVerdict = 0, own = 0
        for r in o.records where Int(r.window) == index && !r.fromErrorLog && r.belongsToEnvironment {
            own += 1
            if r.rulesCount == 0 { noRules += 1 }
            if r.status < 0 { noStatus += 1 }
            if o.uris.string(r.uri) == "" { noURI += 1 }
            if o.clients.string(r.client) == "" { noClient += 1 }
            if r.engine == .unknown, !r.blocked { noVerdict += 1 }
        }
        func entries(_ n: Int) -> String { "\(n) of \(own) audit entries" }
        var notes: [String] = []
        if o.auditPrefixed > 0 || o.auditPassedOver > 0 {
            notes.append("\(o.auditPrefixed) audit entr\(o.auditPrefixed == 1 ? "y" : "ies") read behind a proxy log prefix (`wasm log …: {\"transaction\"…}`); "
                + "\(o.auditPassedOver) other line\(o.auditPassedOver == 1 ? "" : "s") of that log (access, error and debug output) passed over")
        }
        if noRules > 0 {
            notes.append("\(entries(noRules)) name no rule: audited for their status alone, or the log holds no rule matches "
                + "(Coraza writes them with audit part K, ModSecurity with H); they count as anomalous, with no rule or category")
        }
        if noStatus > 0 {
            notes.append("\(entries(noStatus)) log no answer status (Coraza writes 0 when it has none; a native entry may lack its F part): "
                + "not in the log, counted as no answer")
        }
        if noURI > 0 { notes.append("\(entries(noURI)) log no request URI (coraza-spoa leaves it empty): not in the log, left out of the top URIs") }
        if noVerdict > 0 {
            notes.append("\(entries(noVerdict)) log neither the engine mode nor an intervention (a native entry without `Engine-Mode:` or `Access denied`): "
                + "blocking is not in the log, counted as detected only")
        }
        if noClient > 0 { notes.append("\(entries(noClient)) log no client address: not in the log, left out of the top clients") }
        return notes
    }

    /// The path of a file opened both as an audit log and as an error log, if any.
    static func sameFile(_ a: [LogFileHandle], _ b: [LogFileHandle]) -> String? {
        func key(_ f: LogFileHandle) -> [UInt64]? {
            var st = stat()
            return fstat(f.fd, &st) == 0 ? [UInt64(st.st_dev), UInt64(st.st_ino)] : nil
        }
        let keys = Set(b.compactMap(key))
        return a.first { key($0).map(keys.contains) == true }?.path
    }

    /// Which files, at which size and modification time: an answer kept for later is only given
    /// out while this is unchanged.
    static func signature(_ files: [LogFileHandle]) -> [[Int]] {
        files.map { f in
            var st = stat()
            guard fstat(f.fd, &st) == 0 else { return [] }
            return [Int(st.st_dev), Int(st.st_ino), Int(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec]
        }
    }

    static func signature(_ settings: WAFFileSettings) throws(SourceError) -> [[Int]] {
        signature(try open(settings.auditLogs) + open(settings.accessLogs) + open(settings.errorLogs))
    }

    /// Opens the files named by paths and globs (sorted, each file once even when two patterns or
    /// a symbolic link name it twice).
    static func open(_ patterns: [String], deadline: RunDeadline = .none) throws(SourceError) -> [LogFileHandle] {
        var seen = Set<[UInt64]>()
        var out: [LogFileHandle] = []
        for path in try FileGlob.expand(patterns) {
            let f = try LogFileHandle(path: path, deadline: deadline)
            var st = stat()
            if fstat(f.fd, &st) == 0, !seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted { continue }
            out.append(f)
        }
        return out
    }
}

/// Answers for the window before the one asked, computed in the same pass, until they are asked
/// for (once). Entries are small (statistics, not records); a handful at most per run. One per run
/// (`RunCaches`), so two runs in one process never see each other's answers.
final class PreviousWindowAnswers: Sendable {
    private let answers = Locked<[String: (SourceOutput<WAFStatistics>, [[Int]])]>([:])

    /// The settings, the environment's attribution keys and the window.
    static func key(_ settings: WAFFileSettings, _ context: SourceContext) -> String {
        let w = context.window
        return [settings.auditLogs.joined(separator: "\u{1}"), settings.accessLogs.joined(separator: "\u{1}"), settings.auditLogTimezone,
                "\(String(describing: settings.accessLogFormat))", "\(settings.accessLogFields.pairs)", settings.accessLogTimezone,
                settings.errorLogs.joined(separator: "\u{1}"),
                context.environment.namespace, context.environment.hosts.joined(separator: "\u{1}"),
                "\(w.from.timeIntervalSince1970)", "\(w.to.timeIntervalSince1970)", w.interval.rawValue].joined(separator: "\u{0}")
    }

    func put(_ key: String, _ answer: SourceOutput<WAFStatistics>, files: [[Int]]) {
        answers.withLock { $0[key] = (answer, files) }
    }

    func take(_ key: String) -> (SourceOutput<WAFStatistics>, [[Int]])? {
        answers.withLock { $0.removeValue(forKey: key) }
    }
}
