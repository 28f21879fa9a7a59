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
    public var now = Date()
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
        var configPath = options.configPath
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
                    StandardInput.preset([UInt8](data))
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
            request = try ReportRequest.resolve(config: config, overrides: options.overrides, now: options.now)
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
        let deadline = RunDeadline(seconds: Double(parsedDeadline.seconds), label: parsedDeadline.text)
        if sharedPolicies == "-" { _ = try? StandardInput.bytes(deadline: deadline) }   // read once, before the environments run
        let progress = envs.map { _ in SectionProgress() }
        // Sources still running at the deadline are given up (network calls and local reads end by
        // themselves: none outlives the deadline); a short grace lets them record their own
        // failure or partial result first.
        let finished = boundedMap(count: envs.count, width: options.concurrency,
                                  until: (deadline.instant ?? .distantFuture).addingTimeInterval(2)) { i in
            collect(envs[i], window: window, recordDirectory: record.map { $0 + "/" + slugs[i] },
                    replayDirectory: replay.map { $0 + "/" + slugs[i] }, sharedPolicies: sharedPolicies, compare: compare,
                    deadline: deadline, progress: progress[i], redactor: redactor, logger: logger)
        }
        var reports = finished.enumerated().map { i, r in
            r ?? cutOff(envs[i], sharedPolicies: sharedPolicies, progress: progress[i], deadline: deadline, logger: logger)
        }
        // The policy sets against the previous report in the output folder (docs/policies.md).
        if options.policyDrift {
            let previousReport = PreviousReportReader.read(outputDirectory: options.outputDirectory, deadline: deadline)
            if case let .unreadable(why) = previousReport { logger.warning("policy drift: previous report not compared: \(redactor.redact(why))") }
            reports = PolicyDriftAnalysis.attach(previousReport, to: reports)
        }

        // 3. Analysis.
        let findings = FindingAnalyzer.analyze(reports, window: window)
        let analysed = Report(title: request.title, toolVersion: ToolInfo.version,
                              generatedAt: options.sourceDateEpoch ?? options.now, window: window,
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
                if sharedPolicies == "-", let stdin = try? StandardInput.bytes(deadline: deadline) {
                    try Data(stdin).write(to: URL(fileURLWithPath: record + "/" + RunRecording.stdinName), options: .atomic)
                }
            } catch {
                return fail("--record: cannot write \(record): \(error.localizedDescription)")
            }
        }

        // 4. Charts and renderers.
        var files: [OutputFile] = []
        do {
            let needs = renderers.reduce(into: RendererNeeds()) { $0.formUnion(type(of: $1).needs) }
            let charts = needs.isDisjoint(with: [.charts, .chartFiles]) ? [] : try ReportCharts.build(report)
            let configText = String(decoding: configBytes, as: UTF8.self)
            let configRef = ConfigReference(path: configPath, text: configText, environments: report.environments.map(\.name))
            var context = RenderContext(report: report, charts: charts, templates: templates, failOn: options.failOn, config: configRef)
            // The data format first: the other formats show its digest. It is rendered once, and
            // written only when asked for.
            let data = try ReportFormats.data.init().render(context)
            context.dataDigest = data.first.map { SHA256Digest.hex($0.bytes) }
            if needs.contains(.chartFiles) { files += ChartFiles.files(charts) }
            // The formats are independent: each renders on its own thread; files keep the
            // formats' order, and the first failure in that order is the one reported.
            let outputs: Locked<[Result<[OutputFile], any Error>?]> = .slots(renderers.count)
            let shared = context, formats = renderers
            DispatchQueue.concurrentPerform(iterations: formats.count) { i in
                if type(of: formats[i]) == ReportFormats.data { return outputs.set(i, .success(data)) }
                outputs.set(i, Result<[OutputFile], any Error> { () throws -> [OutputFile] in try formats[i].render(shared) })
            }
            // A slot left empty cannot happen after `concurrentPerform`; it would be a failure, not a gap.
            for r in outputs.current { files += try (r ?? .failure(CancellationError())).get() }
            files.append(OutputFile.checksums(files))
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
            paths = try OutputWriter(directory: options.outputDirectory, deadline: deadline).write(files)
        } catch {
            return fail("--output: \(error)")
        }
        let visible = paths.filter { !$0.contains("/charts/") && !$0.hasSuffix("/" + OutputFile.checksumsName) }
        let code = exitCode(report: report, failOn: options.failOn)
        return RunResult(exitCode: code, writtenPaths: visible, report: report,
                         message: redactor.redact(summary(report, code: code, failOn: options.failOn)))
    }

    /// The report of an environment whose sources did not all finish before the deadline (and its
    /// grace): the sections that did finish; the others are unavailable because of the deadline.
    /// Nothing is read here: every source, local or not, had until the deadline to answer.
    static func cutOff(_ env: EnvironmentConfig, sharedPolicies: String? = nil, progress: SectionProgress, deadline: RunDeadline,
                       logger: Logger) -> EnvironmentReport {
        let (waf, flows, policies) = progress.snapshot()
        func section<V>(_ name: String, configured: Bool, _ done: Section<V>?) -> Section<V> {
            guard configured else { return .notConfigured }
            if let done { return done }
            logger.error("\(env.name) \(name) unavailable: \(deadline.cause)")
            return .unavailable(deadline.cause)
        }
        return EnvironmentReport(
            name: env.name, namespace: env.namespace, hosts: env.hosts, thresholds: env.thresholds,
            waf: section("waf", configured: env.waf != nil, waf),
            flows: section("flows", configured: env.flows != nil, flows),
            policies: section("policies", configured: env.policies != nil || sharedPolicies != nil, policies),
            evidence: EvidenceItem.inSectionOrder(progress.evidence()))
    }

    /// `--policies PATH|-` (one manifest stream for all environments, each keeping its namespace's),
    /// else the environment's own policy source.
    static func policySource(_ config: PolicySourceConfig, shared: String?) -> any PolicySource {
        shared.map { DirectoryPolicySource(path: $0, onlyNamespace: true) } ?? SourceFactory.policies(config)
    }

    static func collect(_ env: EnvironmentConfig, window: TimeWindow, recordDirectory: String?, replayDirectory: String? = nil,
                        sharedPolicies: String? = nil, compare: CompareMode = .previous, deadline: RunDeadline = .none,
                        progress: SectionProgress = SectionProgress(), redactor: SecretRedactor, logger: Logger) -> EnvironmentReport {
        var env = env
        if let sharedPolicies { env.policies = .directory(sharedPolicies) }
        let ctx = SourceContext(window: window, environment: env, recordDirectory: recordDirectory, deadline: deadline, redactor: redactor)
        func plan(_ section: String) -> SectionPlan { SectionPlan(section, context: ctx, replayDirectory: replayDirectory) }
        // Recordings and policy files are local: they are read first, so a hanging engine does not
        // cost the other sections their data. Every local read stops at the deadline by itself,
        // with its own cause (a folder read in part, a FIFO or stdin that did not finish).
        func run<V>(_ name: String, local: Bool = false, _ fetch: () throws(SourceError) -> SourceOutput<V>) -> Section<V> {
            if deadline.passed, !local {
                logger.error("\(env.name) \(name) unavailable: \(deadline.cause)")
                return .unavailable(deadline.cause)
            }
            do {
                let out = try fetch()
                progress.add(evidence: out.evidence)
                for w in out.warnings { logger.warning("\(env.name) \(name): \(Sanitize.text(redactor.redact(w), max: 400))") }
                if !out.incomplete.isEmpty {
                    let cause = out.incomplete.joined(separator: "; ")
                    logger.error("\(env.name) \(name) partial: \(Sanitize.text(redactor.redact(cause), max: 600))")
                }
                return out.section
            } catch {
                // A network failure at or after the deadline is reported as the deadline, its real cause.
                let cause = deadline.passed && !local ? deadline.cause : HTTPClient.scrub(error.description)
                logger.error("\(env.name) \(name) unavailable: \(Sanitize.text(redactor.redact(cause), max: 600))")
                return .unavailable(cause)
            }
        }
        // A replay reads recordings: local, like the replay sources.
        let replaying = replayDirectory != nil
        func readWAF() -> Section<WAFStatistics> {
            env.waf.map { c in run("waf", local: c.isLocal || replaying) { () throws(SourceError) in
                try plan("waf").run(live: c.isLive, fetch: { () throws(SourceError) in try SourceFactory.waf(c).fetch(ctx) },
                                    replay: { (folder, _) throws(SourceError) in try SourceFactory.recordedWAF(c, folder: folder).fetch(ctx) })
            } } ?? .notConfigured
        }
        func readFlows() -> Section<FlowStatistics> {
            env.flows.map { c in run("flows", local: c.isLocal || replaying) { () throws(SourceError) in
                try plan("flows").run(live: c.isLive, fetch: { () throws(SourceError) in try SourceFactory.flows(c).fetch(ctx) },
                                      replay: { (folder, _) throws(SourceError) in try SourceFactory.recordedFlows(c, folder: folder).fetch(ctx) })
            } } ?? .notConfigured
        }
        func readPolicies() -> Section<PolicySet> {
            env.policies.map { c in run("policies", local: c.isLocal || replaying) { () throws(SourceError) in
                try plan("policies").run(live: c.isLive, fetch: { () throws(SourceError) in try policySource(c, shared: sharedPolicies).fetch(ctx) },
                                         replay: { (folder, rec) throws(SourceError) in
                    let origins = rec.origins(in: RecordingFolder(path: folder), names: ReplayPolicySource.answers)
                    return try ReplayPolicySource(path: folder, origins: origins, liveName: c.isLive ? "kubernetes" : nil).fetch(ctx)
                })
            } } ?? .notConfigured
        }
        // Local sections first (policy files, recordings), then the engines; the evidence keeps
        // the order waf, flows, policies.
        var waf: Section<WAFStatistics>?, flows: Section<FlowStatistics>?, policies: Section<PolicySet>?
        let isLocal = (waf: env.waf.map { $0.isLocal || replaying } ?? true, flows: env.flows.map { $0.isLocal || replaying } ?? true,
                       policies: env.policies.map { $0.isLocal || replaying } ?? true)
        for pass in [true, false] {
            if isLocal.waf == pass { waf = readWAF(); progress.set(waf: waf!) }
            if isLocal.flows == pass { flows = readFlows(); progress.set(flows: flows!) }
            if isLocal.policies == pass { policies = readPolicies(); progress.set(policies: policies!) }
        }
        var report = EnvironmentReport(name: env.name, namespace: env.namespace, hosts: env.hosts, thresholds: env.thresholds,
                                       waf: waf ?? .notConfigured, flows: flows ?? .notConfigured, policies: policies ?? .notConfigured,
                                       evidence: EvidenceItem.inSectionOrder(progress.evidence()))
        if compare == .previous, report.waf.value != nil || report.flows.value != nil, !deadline.passed {
            let (previous, more) = collectPrevious(env, window: window.previous, wafNeeded: report.waf.value != nil,
                                                   flowsNeeded: report.flows.value != nil, recordDirectory: recordDirectory,
                                                   replayDirectory: replayDirectory, deadline: deadline, redactor: redactor, logger: logger)
            report.previous = previous
            report.evidence += more
        }
        return report
    }

    /// The comparison window: the same WAF and flow sources again over `window` (= the report
    /// window's `previous`), recorded under `<section>/previous/`, replayed from `<replay>/previous/`.
    /// Only sections that answered for the report window are compared. Nothing here can fail the
    /// run: an error, an incomplete or an empty answer makes that comparison "not available".
    static func collectPrevious(_ env: EnvironmentConfig, window: TimeWindow, wafNeeded: Bool, flowsNeeded: Bool,
                                recordDirectory: String?, replayDirectory: String? = nil, deadline: RunDeadline = .none,
                                redactor: SecretRedactor, logger: Logger) -> (PreviousWindow, [EvidenceItem]) {
        let ctx = SourceContext(window: window, environment: env, recordDirectory: recordDirectory, recordingSubfolder: "previous",
                                deadline: deadline, redactor: redactor)
        func plan(_ section: String) -> SectionPlan { SectionPlan(section, context: ctx, replayDirectory: replayDirectory) }
        var evidence: [EvidenceItem] = []
        var coverage: SourceCoverage?
        var notCovered = false
        func run<V>(_ name: String, replay: String?, empty: (V) -> Bool,
                    _ fetch: () throws(SourceError) -> SourceOutput<V>) -> (V?, String?) {
            coverage = nil
            if let replay, !FileManager.default.fileExists(atPath: replay + "/previous") {
                let why = "no recording of the previous window (\(replay)/previous is missing)"
                logger.info("\(env.name) \(name) previous window: not available: \(Sanitize.text(redactor.redact(why), max: 400))")
                return (nil, why)
            }
            let why: String
            if deadline.passed { return (nil, deadline.cause) }
            do {
                let out = try fetch()
                coverage = out.coverage
                for w in out.warnings { logger.debug("\(env.name) \(name) previous window: \(Sanitize.text(redactor.redact(w), max: 400))") }
                if !out.incomplete.isEmpty {
                    why = "the engine's answer may be incomplete: " + out.incomplete.joined(separator: "; ")
                } else if empty(out.value) {
                    if let first = out.coverage?.firstTime, first > window.from {
                        // File sources: the same files, which do not reach back that far. Expected, not a fault.
                        notCovered = true
                        let why = "the input holds nothing before \(RFC3339.format(first)), so it does not cover that window"
                        logger.info("\(env.name) \(name) previous window: not covered: \(why)")
                        return (nil, why)
                    }
                    if let c = out.coverage, c.read == 0, c.source == "files" || c.source == "hubble" {
                        notCovered = true
                        return (nil, "the input holds no record at all")
                    }
                    why = "no data for that window (it may have expired from the engine)"
                } else {
                    evidence += out.evidence.map { e in
                        var e = e
                        e.section += " (previous window)"
                        return e
                    }
                    return (out.value, nil)
                }
            } catch {
                why = deadline.passed ? deadline.cause : HTTPClient.scrub(error.description)
            }
            logger.warning("\(env.name) \(name) previous window: not available: \(Sanitize.text(redactor.redact(why), max: 600))")
            return (nil, why)
        }
        var previous = PreviousWindow(window: window)
        if wafNeeded, let c = env.waf {
            var replay: String?
            if case let .replay(path) = c { replay = path }
            let source = SourceFactory.waf(c, previousWindow: true)
            (previous.waf, previous.wafUnavailable) = run("waf", replay: replay, empty: { (w: WAFStatistics) in
                w.totalRequests == 0 && w.anomalousRequests == 0
            }) { () throws(SourceError) in
                try plan("waf").run(live: c.isLive, fetch: { () throws(SourceError) in try source.fetch(ctx) },
                                    replay: { (folder, _) throws(SourceError) in try SourceFactory.recordedWAF(c, folder: folder).fetch(ctx) })
            }
            previous.wafCoverage = coverage
        }
        if flowsNeeded, let c = env.flows {
            var replay: String?
            if case let .replay(path) = c { replay = path }
            let source = SourceFactory.flows(c, previousWindow: true)
            (previous.flows, previous.flowsUnavailable) = run("flows", replay: replay, empty: { (f: FlowStatistics) in
                f.counts.total == 0
            }) { () throws(SourceError) in
                try plan("flows").run(live: c.isLive, fetch: { () throws(SourceError) in try source.fetch(ctx) },
                                      replay: { (folder, _) throws(SourceError) in try SourceFactory.recordedFlows(c, folder: folder).fetch(ctx) })
            }
            previous.flowsCoverage = coverage
        }
        // "Not covered" is calm only when no comparison failed for another reason.
        previous.notCovered = notCovered && [previous.wafUnavailable, previous.flowsUnavailable].allSatisfy { why in
            why == nil || why!.hasPrefix("the input ")
        }
        return (previous, evidence)
    }

    public static func exitCode(report: Report, failOn: Severity?) -> Int32 {
        if report.isPartial { return ExitCode.partial }
        if let failOn, report.findings.contains(where: { $0.severity >= failOn }) { return ExitCode.findings }
        return ExitCode.ok
    }

    static func summary(_ report: Report, code: Int32, failOn: Severity?) -> String {
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
    var isLocal: Bool {
        switch self {
        case .replay, .directory: true
        case .kubernetes: false
        }
    }
}
