import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ThreatConfig
import ThreatModel
import ThreatRender
import ThreatReportKit

@main
struct ThreatReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threat-report",
        abstract: "Threat reports for Kubernetes applications: WAF statistics, container-network flows and network policies.",
        version: ToolInfo.version,
        subcommands: [ReportCommand.self, PolicyCommand.self, ChecksCommand.self, WAFCommand.self, VersionCommand.self],
        defaultSubcommand: ReportCommand.self)

    /// Usage errors exit 2 (docs/design.md), not argument-parser's 64.
    static func main() {
        // glibc gives each thread that allocates its own arena (up to 8 per core), and each keeps
        // what it freed: the scan's workers held about 2 MB more at the peak than with one arena
        // per core (docs/benchmarks.md, "Peak RSS").
        #if canImport(Glibc)
        // `mallopt` is not in Swift's Glibc module: looked up by name; M_ARENA_MAX is -8 in <malloc.h>.
        if let f = dlsym(nil, "mallopt") {
            typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
            _ = unsafeBitCast(f, to: MallOpt.self)(-8, Int32(clamping: ProcessInfo.processInfo.activeProcessorCount))
        }
        #endif
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as ArgumentParser.ExitCode {
            Foundation.exit(e.rawValue)
        } catch {
            // Argument-parser errors quote the arguments ("Unknown option '…'"): clean them for the terminal.
            let message = Sanitize.text(fullMessage(for: error), max: 20000, keepNewlines: true)
            if exitCode(for: error) == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("threat-report: \(message)\n".utf8))
            Foundation.exit(2)
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the tool version.")
    func run() { print("\(ToolInfo.name) \(ToolInfo.version)") }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Read the sources for a time window and write the report.",
        discussion: """
        Exit codes: 0 report written, no finding at or above --fail-on; 1 report written with findings at or \
        above --fail-on; 2 usage or configuration error, nothing written; 3 report written but partial (a source failed).
        """)

    @Option(name: .long, help: ArgumentHelp("Configuration file (default threat-report.yml).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Window length relative to --to: 30m, 3h, 8h, 1d, 3d, 7d, 30d or <N>m|h|d (default 24h).", valueName: "length"))
    var window: String?

    @Option(name: .long, help: ArgumentHelp("Window start (RFC 3339); needs --to.", valueName: "time"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Window end (RFC 3339); default: the config's `to`, else now.", valueName: "time"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("Bucket width (auto: minute up to 1h, hour up to 3d, day beyond).", valueName: "interval"))
    var interval: IntervalArgument?

    @Option(name: .long, help: ArgumentHelp("Report only this environment (repeatable).", valueName: "name"))
    var environment: [String] = []

    @Option(name: .long, help: ArgumentHelp("Comma-separated formats: \(ReportFormats.all.map { $0.identifier }.joined(separator: ", ")).", valueName: "list"))
    var format = ReportFormats.defaults.joined(separator: ",")

    @Option(name: .long, help: ArgumentHelp("Output folder.", valueName: "dir"))
    var output = "output"

    @Option(name: .long, help: ArgumentHelp("Folder with report.html.mustache / report.md.mustache overriding the built-in templates.", valueName: "dir"))
    var templates: String?

    @Option(name: .long, help: ArgumentHelp("Exit 1 when a finding is at or above this severity.", valueName: "severity"))
    var failOn: FailOnArgument = .none

    @Option(name: .long, help: ArgumentHelp("Display time zone (IANA name); data is handled in UTC.", valueName: "tz"))
    var timezone: String?

    @Option(name: .long, help: ArgumentHelp("Save every engine answer under DIR/<environment>/<section>/, in the replay layout (credentials are never saved).", valueName: "dir"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp("Read every environment's policies from these manifests (a file, a folder, or - for stdin, e.g. `kubectl get cnp,ccnp,netpol -A -o yaml`), each environment keeping its own namespace's; overrides the config's policy sources.", valueName: "path|-"))
    var policies: String?

    @Option(name: .long, help: ArgumentHelp("Regenerate, byte for byte, a run recorded with --record DIR: its config, window, environments and answers.", valueName: "dir"))
    var replay: String?

    @Option(name: .long, help: ArgumentHelp("Compare with the window of equal length just before (previous, the default, costs one more round of engine queries).", valueName: "previous|none"))
    var compare: CompareArgument?

    @Option(name: .customLong("policy-drift"), help: ArgumentHelp("Compare each environment's policies with the previous report.json in the output folder (on, the default), or not (off: the report depends on its inputs alone).", valueName: "on|off"))
    var policyDrift: PolicyDriftArgument = .on

    @Option(name: .long, help: ArgumentHelp("Environments fetched at once.", valueName: "n"))
    var concurrency = 4

    @Option(name: .long, help: ArgumentHelp("Overall deadline for fetching (e.g. 90s, 10m, 1h; default: the config's deadline, else 10m). Sources not done by then are cancelled and marked unavailable; the report is still written (exit 3).", valueName: "duration"))
    var deadline: String?

    @Flag(name: .long, help: "Only errors on stderr.")
    var quiet = false

    @Flag(name: .long, help: "Debug logging on stderr.")
    var verbose = false

    func validate() throws {
        if replay != nil {
            let taken: [(String, Bool)] = [("--config", config != nil), ("--window", window != nil), ("--from", from != nil), ("--to", to != nil),
                                           ("--interval", interval != nil), ("--environment", !environment.isEmpty), ("--timezone", timezone != nil),
                                           ("--compare", compare != nil), ("--record", record != nil), ("--policies", policies != nil)]
            if let (flag, _) = taken.first(where: { $0.1 }) {
                throw ValidationError("--replay takes the config, window, environments, time zone and compare mode from the recording; drop \(flag)")
            }
        }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
        if let deadline, RunDuration.parse(deadline) == nil {
            throw ValidationError("--deadline must be a duration like 90s, 10m or 1h")
        }
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    func run() throws {
        let level: Logger.Level = quiet ? .error : verbose ? .debug : .info
        // This run's secrets: registered by the sources as they load them, filtered out of the
        // log lines, the report, the recording and the lines printed below.
        let redactor = SecretRedactor()
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return TerminalSafeLogHandler(wrapping: h, redactor: redactor)
        }
        let logger = Logger(label: "threat-report")
        var options = RunOptions(configPath: config ?? "threat-report.yml")
        options.redactor = redactor
        options.overrides.window = window
        options.overrides.from = from
        options.overrides.to = to
        options.overrides.interval = interval?.rawValue
        options.overrides.timezone = timezone
        options.overrides.environments = environment
        options.formats = format.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        options.outputDirectory = output
        options.templatesDirectory = templates
        options.failOn = failOn.severity
        options.concurrency = concurrency
        options.deadline = deadline
        options.recordDirectory = record
        options.replayDirectory = replay
        options.policies = policies
        options.compare = compare?.mode ?? .previous
        options.policyDrift = policyDrift == .on
        if let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let secs = Int(epoch), secs >= 0 else {
                FileHandle.standardError.write(Data("threat-report: SOURCE_DATE_EPOCH must be a whole number of seconds\n".utf8))
                throw ArgumentParser.ExitCode(2)
            }
            // generated_at is written as RFC 3339, which has four-digit years.
            guard secs <= NumberLimits.latestSeconds else {
                let text = Sanitize.text(epoch, max: 40)
                FileHandle.standardError.write(Data("threat-report: SOURCE_DATE_EPOCH=\(text) is past 9999-12-31T23:59:59Z (\(NumberLimits.latestSeconds)); times must be within the years 0001–9999\n".utf8))
                throw ArgumentParser.ExitCode(2)
            }
            options.sourceDateEpoch = Date(timeIntervalSince1970: Double(secs))
        }
        let result = ReportPipeline.run(options, logger: logger)
        for p in result.writtenPaths { print(redactor.redact(p)) }
        let message = redactor.redact(result.message)
        if result.exitCode == ThreatReportKit.ExitCode.usage {
            FileHandle.standardError.write(Data("threat-report: error: \(Sanitize.text(message, max: 2000))\n".utf8))
        } else if !quiet {
            FileHandle.standardError.write(Data("threat-report: \(Sanitize.text(message, max: 2000, keepNewlines: true))\n".utf8))
        }
        if result.exitCode != 0 { throw ArgumentParser.ExitCode(result.exitCode) }
    }
}

/// `--fail-on`: the lowest severity that makes the run exit 1, or none.
enum FailOnArgument: String, ExpressibleByArgument, CaseIterable {
    case none, info, warning, critical
    var severity: Severity? { Severity(rawValue: rawValue) }
}

/// `--compare`: fetch the window of equal length just before the report's, or not.
enum CompareArgument: String, ExpressibleByArgument, CaseIterable {
    case previous, none
    var mode: CompareMode { CompareMode(rawValue: rawValue) ?? .previous }
}

/// `--interval`: the bucket width, or auto (minute up to 1h, hour up to 3d, day beyond).
enum IntervalArgument: String, ExpressibleByArgument, CaseIterable {
    case auto, minute, hour, day
}

/// `--policy-drift on|off`.
enum PolicyDriftArgument: String, ExpressibleByArgument, CaseIterable {
    case on, off
}
