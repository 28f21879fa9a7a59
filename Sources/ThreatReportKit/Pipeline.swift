import Foundation
import Logging
import ThreatAnalysis
import ThreatCharts
import ThreatConfig
import ThreatModel
import ThreatRender
import ThreatSources

/// Everything one `threat-report report` run needs.
public struct RunOptions: Sendable {
    public var configPath: String
    public var overrides = RequestOverrides()
    public var formats: [String] = ReportFormats.defaults
    public var outputDirectory = "output"
    public var templatesDirectory: String?
    public var failOn: Severity?
    public var concurrency = 4
    /// `--deadline`: the whole run's budget for fetching; nil takes the config's `deadline`, else 10m.
    public var deadline: String?
    /// `--record DIR`: every engine answer is saved under `DIR/<environment slug>/<section>/`, with
    /// what `--replay DIR` needs to regenerate the report byte for byte (RunRecording).
    public var recordDirectory: String?
    /// `--replay DIR`: regenerate a run recorded with `--record DIR`.
    public var replayDirectory: String?
    /// `--policies PATH|-`: every environment's policies from these manifests (its own namespace's,
    /// and the cluster-wide ones), instead of the config's policy sources.
    public var policies: String?
    /// `--compare previous|none`: also fetch the window of equal length just before (default).
    public var compare: CompareMode = .previous
    /// `--policy-drift off`: do not compare the policies with the previous report in the output
    /// folder (the report then depends on its inputs alone, whatever the folder held).
    public var policyDrift = true
    /// The run's start (relative windows end here); nil reads `clock`.
    public var now: Date?
    /// Where the run reads the time (the deadline included); a test plants its own.
    public var clock: RunClock = .system
    /// `SOURCE_DATE_EPOCH`: fixes `generated_at` for reproducible output.
    public var sourceDateEpoch: Date?
    /// The run's secrets (docs/security.md): the sources register what they load; the report,
    /// the recording, the log handler given to this run and the result's message are filtered.
    public var redactor = SecretRedactor()

    public init(configPath: String) { self.configPath = configPath }
}

/// The result of a run: exit code, written paths (stdout), and a one-line summary (stderr).
public struct RunResult: Sendable {
    public var exitCode: Int32
    public var writtenPaths: [String]
    public var report: Report?
    public var message: String
}

/// Exit codes (docs/design.md): 2 usage/config error > 3 partial > 1 finding at or above --fail-on > 0.
public enum ExitCode {
    public static let ok: Int32 = 0
    public static let findings: Int32 = 1
    public static let usage: Int32 = 2
    public static let partial: Int32 = 3
}

/// config + flags → sources → analysis → charts → renderers → output.
public enum ReportPipeline {
    public static func run(_ options: RunOptions, logger: Logger) -> RunResult {
        let redactor = options.redactor
        func fail(_ message: String) -> RunResult {
            RunResult(exitCode: ExitCode.usage, writtenPaths: [], report: nil, message: redactor.redact(message))
        }
        // 1. Configuration and request.
        var options = options
        let now = options.now ?? options.clock.now()
        var configPath = options.configPath
        // Standard input, read once for the whole run (or the recorded one of a replayed run).
        var stdin: StandardInputBytes?
        let configBytes: Data
        if let replay = options.replayDirectory {
            // The recorded config, window, time zone, environments and generation time.
            do {
                let (rec, bytes) = try RunRecording.read(from: replay)
                configPath = rec.configPath
                configBytes = bytes
                var o = RequestOverrides()
                o.from = RFC3339.format(rec.window.from)
                o.to = RFC3339.format(rec.window.to)
                o.interval = rec.window.interval.rawValue
                o.timezone = rec.timezone
                o.environments = rec.environments
                options.overrides = o
                options.compare = rec.compare
                options.policies = rec.policies
                if rec.policies == "-" {
                    let saved = replay + "/" + RunRecording.stdinName
                    guard let data = FileManager.default.contents(atPath: saved) else {
                        return fail("--replay: \(saved) is missing (the recorded run read its policies from stdin)")
                    }
                    stdin = .success([UInt8](data))
                }
                if options.sourceDateEpoch == nil { options.sourceDateEpoch = rec.generatedAt }
            } catch {
                return fail(error.description)
            }
        } else {
            guard FileManager.default.fileExists(atPath: configPath) else {
                return fail("--config: \(configPath) does not exist. Pass --config FILE, or try the bundled sample: threat-report report --config samples/threat-report.yml")
            }
            do {
                configBytes = try ConfigLoader.read(path: configPath)
            } catch {
                return fail(error.description)
            }
        }
        let config: ReportConfig
        let request: ReportRequest
        do {
            config = try ConfigLoader.parse(bytes: configBytes, path: configPath)
            request = try ReportRequest.resolve(config: config, overrides: options.overrides, now: now)
        } catch let e as LocatedError {
            return fail(e.description)
        } catch {
            return fail("\(error)")
        }
        var renderers: [any ReportRenderer] = []
        for name in options.formats {
            guard let r = ReportFormats.renderer(named: name) else {
                return fail("--format: unknown format '\(name)' (known: \(ReportFormats.all.map { $0.identifier }.joined(separator: ", ")))")
            }
            renderers.append(r.init())
        }
        let templates: TemplateSet
        do {
            templates = try TemplateSet.load(overrideDirectory: options.templatesDirectory)
        } catch {
            return fail(error.description)
        }
        let configDigest = SHA256Digest.hex(configBytes)
        logger.info("window \(RFC3339.format(request.window.from)) – \(RFC3339.format(request.window.to)), \(request.window.interval.rawValue) buckets, \(request.environments.count) environment(s)")

        // 2. Sources, environments in parallel with a bounded width.
        let window = request.window
        let envs = request.environments
        let slugs = FileNameSlug.slugs(envs.map(\.name))
        let record = options.recordDirectory
        let replay = options.replayDirectory
        let compare = options.compare
        let sharedPolicies = options.policies
        let deadlineText = options.deadline ?? config.deadline?.text ?? RunDuration.defaultDeadline.text
        guard let parsedDeadline = RunDuration.parse(deadlineText) else {
            return fail("--deadline: '\(deadlineText)' is not a duration like 90s, 10m or 1h")
        }
        // The deadline starts before anything is read: stdin, files, engines, the output lock.
        let deadline = RunDeadline(seconds: Double(parsedDeadline.seconds), label: parsedDeadline.text, now: now, clock: options.clock)
        // stdin is read once, before the environments run, and handed to them in the run's context.
        if stdin == nil, sharedPolicies == "-" || envs.contains(where: { $0.policies?.readsStandardInput == true }) {
            stdin = Result { () throws(SourceError) in try StandardInput.read(deadline: deadline) }
        }
        let run = RunContext(deadline: deadline, clock: options.clock, now: now, sourceDateEpoch: options.sourceDateEpoch,
                             redactor: redactor, stdin: stdin, recordDirectory: record, replayDirectory: replay)
        let progress = envs.map { _ in SectionProgress() }
        // Sources still running at the deadline are given up (network calls and local reads end by
        // themselves: none outlives the deadline); a short grace lets them record their own
        // failure or partial result first.
        // Each environment's sections are read by one generic collector (SectionCollector).
        let collectors = envs.indices.map { i in
            var env = envs[i]
            if let sharedPolicies { env.policies = .directory(sharedPolicies) }
            return (SectionCollector(env: env, run: run, slug: slugs[i], progress: progress[i], logger: logger),
                    SectionSources.of(envs[i], sharedPolicies: sharedPolicies))
        }
        let finished = boundedMap(count: envs.count, width: options.concurrency,
                                  until: (deadline.instant ?? .distantFuture).addingTimeInterval(2)) { i in
            collectors[i].0.collect(collectors[i].1, window: window, compare: compare)
        }
        let collected = finished.enumerated().map { i, r in r ?? collectors[i].0.cutOff(collectors[i].1) }
        var reports = SuggestedPoliciesOutput.place(WAFTuningOutput.advise(collected, window: window, generatedAt: options.sourceDateEpoch ?? now,
                                             idRanges: envs.map { if case .files(let f)? = $0.waf { f.tuningIDRange } else { nil } }))
        // The policy sets against the previous report in the output folder (docs/policies.md).
        if options.policyDrift {
            let previousReport = PreviousReportReader.read(outputDirectory: options.outputDirectory, deadline: deadline)
            if case let .unreadable(why) = previousReport { logger.warning("policy drift: previous report not compared: \(redactor.redact(why))") }
            reports = PolicyDriftAnalysis.attach(previousReport, to: reports)
        }

        // 3. Analysis.
        let findings = FindingAnalyzer.analyze(reports, window: window)
        let analysed = Report(title: request.title, toolVersion: ToolInfo.version,
                              generatedAt: run.generatedAt, window: window,
                              timezone: request.timezone, environments: reports, findings: findings, configDigest: configDigest)
        // Every field of every format comes from this value: no secret the run loaded is in it.
        let report: Report
        do {
            report = try redactor.redactStrings(analysed)
        } catch {
            return fail("cannot filter the report for secrets: \(error)")
        }
        if let record {
            let rec = RunRecording(toolVersion: ToolInfo.version, configPath: configPath, configSHA256: configDigest,
                                   generatedAt: report.generatedAt, window: window, timezone: request.timezone,
                                   environments: envs.map(\.name), compare: compare, policies: sharedPolicies)
            do {
                try rec.write(to: record, configBytes: configBytes, redactor: redactor)
                if sharedPolicies == "-", case let .success(stdin)? = run.stdin {
                    try Data(stdin).write(to: URL(fileURLWithPath: record + "/" + RunRecording.stdinName), options: .atomic)
                }
            } catch {
                return fail("--record: cannot write \(record): \(error.localizedDescription)")
            }
        }

        // 4. Charts and renderers, bounded by the deadline (RenderStage).
        let stage = RenderStage(renderers: renderers, run: deadline, start: options.clock.now())
        let rendered: RenderStage.Outcome
        do {
            let configText = String(decoding: configBytes, as: UTF8.self)
            let configRef = ConfigReference(path: configPath, text: configText, environments: report.environments.map(\.name))
            rendered = try stage.render(RenderContext(report: report, charts: [], templates: templates, checks: Checks.descriptions, failOn: options.failOn, config: configRef),
                                        logger: logger)
        } catch let e as ChartError {
            return fail("drawing charts: \(e)")
        } catch let e as RenderError {
            if case .drawing = e { return fail("\(e)") }
            return fail("--templates: \(e)")
        } catch {
            return fail("\(error)")
        }

        // 5. Output.
        let paths: [String]
        do {
            paths = try OutputWriter(directory: options.outputDirectory, deadline: stage.deadline).write(rendered.files)
        } catch {
            return fail("--output: \(error)")
        }
        // Charts and suggested policies (up to one per workload) are listed in SHA256SUMS, not on stdout.
        let visible = paths.filter { !$0.contains("/charts/") && !$0.contains("/\(SuggestedPoliciesOutput.folder)/") && !$0.hasSuffix("/" + OutputFile.checksumsName) }
        // A report the deadline cut short while rendering is partial output: exit 3.
        let code = rendered.cutOff == nil ? exitCode(report: report, failOn: options.failOn) : ExitCode.partial
        return RunResult(exitCode: code, writtenPaths: visible, report: report,
                         message: redactor.redact(summary(report, code: code, failOn: options.failOn, rendering: rendered)))
    }

    public static func exitCode(report: Report, failOn: Severity?) -> Int32 {
        if report.isPartial { return ExitCode.partial }
        if let failOn, report.findings.contains(where: { $0.severity >= failOn }) { return ExitCode.findings }
        return ExitCode.ok
    }

    static func summary(_ report: Report, code: Int32, failOn: Severity?, rendering: RenderStage.Outcome? = nil) -> String {
        let counts = Severity.allCases.reversed().map { s in "\(report.findings.filter { $0.severity == s }.count) \(s.rawValue)" }
        let reason: String
        switch code {
        case ExitCode.partial:
            let failed = report.environments.flatMap { e in
                [("waf", e.waf.status), ("flows", e.flows.status), ("policies", e.policies.status)]
                    .filter { $0.1 == .unavailable || $0.1 == .partial }.map { "\(Sanitize.text(e.name, max: 60))/\($0.0)" }
            }
            let unreadable = report.findings.filter { $0.id == InputCheck.unreadable }.map { f in
                "\(Sanitize.text(f.environment, max: 60))/\(Sanitize.text(f.subject ?? "", max: 60))"
            }
            reason = "exit 3: partial report" + (failed.isEmpty ? "" : ", unavailable: \(failed.joined(separator: ", "))")
                + (unreadable.isEmpty ? "" : ", unreadable input: \(unreadable.joined(separator: ", "))")
                + (rendering?.cutOff.map { "; \($0), not written: \(rendering!.notRendered.joined(separator: ", ")) (see \(RenderStage.cutOffName))" } ?? "")
        case ExitCode.findings: reason = "exit 1: findings at or above --fail-on \(failOn?.rawValue ?? "")"
        default: reason = "exit 0"
        }
        return "findings: \(counts.joined(separator: ", ")); \(reason)"
    }
}

extension WAFSourceConfig {
    /// A recording: read from local files in no time.
    var isLocal: Bool { if case .replay = self { true } else { false } }
}

extension FlowSourceConfig {
    var isLocal: Bool { if case .replay = self { true } else { false } }
}

extension PolicySourceConfig {
    /// `directory: "-"`: the manifests come from standard input.
    var readsStandardInput: Bool { if case .directory("-") = self { true } else { false } }

    var isLocal: Bool {
        switch self {
        case .replay, .directory: true
        case .kubernetes: false
        }
    }
}
