import Foundation
import Logging
import ThreatConfig
import ThreatRender
import ThreatModel
import ThreatSources

/// Reads one environment's sections, whatever they are (`SectionSource`), the same way: local
/// sections first, the deadline, partial results, warnings, record and replay, the previous
/// window and its coverage, and the report of an environment the deadline cut off.
struct SectionCollector: Sendable {
    var env: EnvironmentConfig
    var run: RunContext
    /// The environment's folder name under `--record DIR` and `--replay DIR`.
    var slug: String
    var progress: SectionProgress
    var logger: Logger

    var deadline: RunDeadline { run.deadline }
    var replaying: Bool { run.replayDirectory != nil }

    func context(_ window: TimeWindow, subfolder: String? = nil) -> SourceContext {
        SourceContext(run: run, window: window, environment: env, recordDirectory: run.recordDirectory.map { $0 + "/" + slug },
                      recordingSubfolder: subfolder)
    }

    /// Runs `source` through its plan: live (recording when asked), or from the recorded run.
    func read<S: SectionSource>(_ source: S, _ ctx: SourceContext, previousWindow: Bool) throws(SourceError) -> SourceOutput<S.Value> {
        let plan = SectionPlan(S.name, context: ctx, replayDirectory: run.replayDirectory.map { $0 + "/" + slug })
        return try plan.run(live: source.isLive, fetch: { () throws(SourceError) in try source.fetch(ctx, previousWindow: previousWindow) },
                            replay: { (folder, record) throws(SourceError) in try source.replay(folder, record: record, ctx) })
    }

    /// The environment's report over `window`: every section (local ones first), then, with
    /// `--compare previous`, the window before for the compared sections that answered.
    func collect(_ sources: [any SectionSource], window: TimeWindow, compare: CompareMode) -> EnvironmentReport {
        var report = skeleton()
        let ctx = context(window)
        // Recordings and policy files are local: they are read first, so a hanging engine does
        // not cost the other sections their data; the evidence keeps the order waf, flows, policies.
        for pass in [true, false] {
            for source in sources where (source.isLocal || replaying) == pass { report = section(source, ctx, report) }
        }
        report.evidence = EvidenceItem.inSectionOrder(progress.evidence())
        if compare == .previous, sources.contains(where: { comparable($0, report) }), !deadline.passed {
            var previous = PreviousWindow(window: window.previous)
            var reasons: [String?] = [], notCovered = false
            let previousContext = context(window.previous, subfolder: "previous")
            for source in sources where comparable(source, report) {
                let r = comparePrevious(source, previousContext, into: &previous, evidence: &report.evidence)
                reasons.append(r.reason)
                notCovered = notCovered || r.notCovered
            }
            // "Not covered" is calm only when no comparison failed for another reason.
            previous.notCovered = notCovered && reasons.allSatisfy { why in why == nil || why!.hasPrefix("the input ") }
            report.previous = previous
        }
        return report
    }

    /// The report of an environment whose sources did not all finish before the deadline (and its
    /// grace): the sections that did finish; the others are unavailable because of the deadline.
    /// Nothing is read here: every source, local or not, had until the deadline to answer.
    func cutOff(_ sources: [any SectionSource]) -> EnvironmentReport {
        var report = skeleton()
        for source in sources { report = finishedOrCutOff(source, report) }
        report.evidence = EvidenceItem.inSectionOrder(progress.evidence())
        return report
    }

    private func skeleton() -> EnvironmentReport {
        EnvironmentReport(name: env.name, namespace: env.namespace, hosts: env.hosts, thresholds: env.thresholds,
                          waf: .notConfigured, flows: .notConfigured, policies: .notConfigured)
    }

    private func comparable<S: SectionSource>(_ source: S, _ report: EnvironmentReport) -> Bool {
        S.previous != nil && report[keyPath: S.inReport].value != nil
    }

    private func finishedOrCutOff<S: SectionSource>(_ source: S, _ report: EnvironmentReport) -> EnvironmentReport {
        var report = report
        if let done = progress.section(S.self) {
            report[keyPath: S.inReport] = done
        } else {
            logger.error("\(env.name) \(S.name) unavailable: \(deadline.cause)")
            report[keyPath: S.inReport] = .unavailable(deadline.cause)
        }
        return report
    }

    /// One section over the report window, kept in `progress` as soon as it is done.
    private func section<S: SectionSource>(_ source: S, _ ctx: SourceContext, _ report: EnvironmentReport) -> EnvironmentReport {
        let name = S.name, redactor = run.redactor
        let local = source.isLocal || replaying
        let result: Section<S.Value>
        if deadline.passed, !local {
            logger.error("\(env.name) \(name) unavailable: \(deadline.cause)")
            result = .unavailable(deadline.cause)
        } else {
            do {
                let out = try read(source, ctx, previousWindow: false)
                progress.add(evidence: out.evidence)
                for w in out.warnings { logger.warning("\(env.name) \(name): \(Sanitize.text(redactor.redact(w), max: 400))") }
                if !out.incomplete.isEmpty {
                    let cause = out.incomplete.joined(separator: "; ")
                    logger.error("\(env.name) \(name) partial: \(Sanitize.text(redactor.redact(cause), max: 600))")
                }
                result = out.section
            } catch {
                // A network failure at or after the deadline is reported as the deadline, its real cause.
                let cause = deadline.passed && !local ? deadline.cause : HTTPClient.scrub(error.description)
                logger.error("\(env.name) \(name) unavailable: \(Sanitize.text(redactor.redact(cause), max: 600))")
                result = .unavailable(cause)
            }
        }
        progress.set(S.self, result)
        var report = report
        report[keyPath: S.inReport] = result
        return report
    }

    /// The comparison window: the same source again over the window before, recorded under
    /// `<section>/previous/`, replayed from `<replay>/previous/`. Nothing here can fail the run:
    /// an error, an incomplete or an empty answer makes that comparison "not available".
    private func comparePrevious<S: SectionSource>(_ source: S, _ ctx: SourceContext, into previous: inout PreviousWindow,
                                                   evidence: inout [EvidenceItem]) -> (reason: String?, notCovered: Bool) {
        guard let slots = S.previous else { return (nil, false) }
        let name = S.name, redactor = run.redactor, window = ctx.window
        var coverage: SourceCoverage?
        var notCovered = false
        func outcome() -> (S.Value?, String?) {
            if let replay = source.replayFolder, !FileManager.default.fileExists(atPath: replay + "/previous") {
                let why = "no recording of the previous window (\(replay)/previous is missing)"
                logger.info("\(env.name) \(name) previous window: not available: \(Sanitize.text(redactor.redact(why), max: 400))")
                return (nil, why)
            }
            let why: String
            if deadline.passed { return (nil, deadline.cause) }
            do {
                let out = try read(source, ctx, previousWindow: true)
                coverage = out.coverage
                for w in out.warnings { logger.debug("\(env.name) \(name) previous window: \(Sanitize.text(redactor.redact(w), max: 400))") }
                if !out.incomplete.isEmpty {
                    why = "the engine's answer may be incomplete: " + out.incomplete.joined(separator: "; ")
                } else if slots.isEmpty(out.value) {
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
        let (value, why) = outcome()
        previous[keyPath: slots.value] = value
        previous[keyPath: slots.unavailable] = why
        previous[keyPath: slots.coverage] = coverage
        return (why, notCovered)
    }
}
