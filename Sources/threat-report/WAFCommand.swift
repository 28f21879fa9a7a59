import ArgumentParser
import Foundation
import ThreatModel
import ThreatRender
import ThreatReportKit

/// `threat-report waf`: WAF tools that need no report.
struct WAFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waf", abstract: "WAF tuning from audit logs, without a report.", subcommands: [WAFTuneCommand.self])
}

/// `threat-report waf tune`: false-positive candidates and a scoped exclusion file.
struct WAFTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Weigh the audit log's rule matches and write scoped CRS exclusions for the false-positive candidates.",
        discussion: """
        Reads ModSecurity (v2, v3, native) or Coraza audit logs, scores each (rule, path, target) for the signs of \
        legitimate traffic, checks each exclusion against the requests of attack-looking clients, and writes the \
        exclusions that let none of them through (docs/waf.md). The written path goes to stdout, the candidates to \
        stderr. Exit codes: 0 written; 2 usage error or unreadable input, nothing written.
        """)

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Audit log files or globs (repeatable).", valueName: "file"))
    var auditLog: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("ModSecurity/Coraza error-log files or globs (repeatable).", valueName: "file"))
    var errorLog: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp(
        "Access log files or globs whose lines carry the request id (repeatable): the answer codes of error-log requests, which their lines lack.",
        valueName: "file"))
    var accessLog: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only entries from this time on (RFC 3339).", valueName: "time"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Only entries before this time (RFC 3339).", valueName: "time"))
    var to: String?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Only entries whose Host is one of these (default: all).", valueName: "host"))
    var hosts: [String] = []

    @Option(name: .long, help: ArgumentHelp("The exclusion file to write.", valueName: "file"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Ids for the exclusion rules, e.g. 10000-10999 (never in the CRS's 900000-999999).", valueName: "range"))
    var idRange = "10000-10999"

    @Option(name: .long, help: ArgumentHelp("Zone of ModSecurity v3 time stamps (default UTC).", valueName: "zone"))
    var auditLogTimezone = "UTC"

    @Option(name: .long, help: ArgumentHelp("Name in the file's header.", valueName: "name"))
    var environment = "default"

    @Option(name: .long, help: ArgumentHelp("Campaigns end after a pause longer than this: minute, hour or day.", valueName: "interval"))
    var interval: Interval = .hour

    func validate() throws {
        guard !auditLog.isEmpty || !errorLog.isEmpty else { throw ValidationError("--audit-log: give at least one audit log (or --error-log)") }
        for (flag, value) in [("--from", from), ("--to", to)] {
            if let value, RFC3339.parse(value) == nil { throw ValidationError("\(flag): '\(value)' is not an RFC 3339 time like 2026-11-20T00:00:00Z") }
        }
        guard parsedRange != nil else { throw ValidationError("--id-range: '\(idRange)' is not a range like 10000-10999") }
    }

    var parsedRange: ClosedRange<Int>? {
        let parts = idRange.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a <= b else { return nil }
        return a...b
    }

    func run() throws {
        var o = WAFTuneOptions(auditLogs: auditLog, output: output)
        o.from = from.flatMap(RFC3339.parse)
        o.to = to.flatMap(RFC3339.parse)
        o.hosts = hosts
        o.errorLogs = errorLog
        o.accessLogs = accessLog
        o.environment = environment
        o.timezone = auditLogTimezone
        o.interval = interval
        if let r = parsedRange { o.options.idRange = r }
        let result = WAFTune.run(o)
        for line in result.summary {
            FileHandle.standardError.write(Data("\(Sanitize.text(line, max: 2000))\n".utf8))
        }
        if let path = result.written { print(path) }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}

extension Interval: ExpressibleByArgument {}
