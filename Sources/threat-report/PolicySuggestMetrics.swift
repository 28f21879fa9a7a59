import ArgumentParser
import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources

/// `policy suggest --prometheus URL`: the Prometheus connection and the selector label.
struct PolicySuggestMetricOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Prometheus (or Thanos/Mimir with its path prefix) holding Hubble's flow metrics with a workload context.", valueName: "url"))
    var prometheus: String?

    @Option(name: .long, help: ArgumentHelp("Pod label assumed to hold the workload's name in the selectors (metrics carry no pod labels).", valueName: "key"))
    var workloadLabel: String = MetricPolicySuggester.defaultWorkloadLabel

    @Option(name: .long, help: ArgumentHelp("File holding a bearer token for --prometheus (never printed or recorded).", valueName: "file"))
    var bearerTokenFile: String?

    @Option(name: .long, help: ArgumentHelp("CA bundle to verify --prometheus's certificate.", valueName: "file"))
    var caFile: String?

    @Option(name: .long, help: ArgumentHelp("Seconds for one request to --prometheus.", valueName: "seconds"))
    var timeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Save Prometheus's answers and the requests (without credentials) into DIR.", valueName: "dir"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp("Read the answers of a --record DIR instead of asking Prometheus.", valueName: "dir"))
    var replay: String?

    func validate() throws {
        if let why = RuleModeValues.labelKeyProblem(workloadLabel) {
            throw ValidationError("--workload-label: '\(workloadLabel)' is not a label key: \(why)")
        }
        if record != nil && prometheus == nil { throw ValidationError("--record needs --prometheus") }
        if let p = prometheus, !(p.hasPrefix("http://") || p.hasPrefix("https://")) {
            throw ValidationError("--prometheus: '\(Sanitize.text(p, max: 200))' is not an http:// or https:// URL")
        }
        if !(timeout > 0 && timeout <= 3600) { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }
}

extension PolicySuggestCommand {
    /// The window of the query: --from/--to, by default the 24 hours before --to or now.
    func metricWindow(from: Date?, to: Date?) -> TimeWindow {
        let end = to ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let start = from ?? end.addingTimeInterval(-86400)
        return TimeWindow(from: start, to: end, interval: .hour)
    }

    func runMetrics(from: Date?, to: Date?, kind: SuggestionKind) throws {
        let window = metricWindow(from: from, to: to)
        let queries = WorkloadFlowQueries()
        let outcome: WorkloadFlowFetch.Outcome?
        let place: String
        do {
            if let folder = metrics.replay {
                place = "--replay \(folder)"
                let rec = RecordingFolder(path: folder)
                outcome = try WorkloadFlowFetch.fetch(queries: queries) { (c: WorkloadFlowQueries.Context) throws(SourceError) -> PrometheusAnswer? in
                    guard FileManager.default.fileExists(atPath: rec.answerPath(c.rawValue)) else { return nil }
                    if let recorded = rec.request(c.rawValue), recorded != queries.request(c, namespace: namespace, window: window) {
                        PolicyInput.note("warning: \(rec.requestPath(c.rawValue)): recorded for another namespace, query or window; its answer is used as recorded")
                    }
                    return try PrometheusAnswer.decode(rec.answer(c.rawValue).bytes, place: rec.answerPath(c.rawValue))
                }
            } else {
                let url = metrics.prometheus ?? ""
                place = "--prometheus \(HTTPClient.redacted(url))"
                var transport = HTTPTransportSettings(url: url)
                transport.caFile = metrics.caFile
                transport.timeout = metrics.timeout
                transport.auth.bearerTokenFile = metrics.bearerTokenFile
                let redactor = SecretRedactor()
                let engine = try EngineClient(transport: transport, retryStatuses: [429, 500, 502, 503, 504], redactor: redactor)
                for w in engine.warnings { PolicyInput.note("warning: \(w)") }
                let rec = metrics.record.map { RecordingFolder(path: $0, redactor: redactor) }
                outcome = try WorkloadFlowFetch.fetch(queries: queries) { (c: WorkloadFlowQueries.Context) throws(SourceError) -> PrometheusAnswer? in
                    let request = queries.request(c, namespace: namespace, window: window)
                    let response = try engine.send(request, record: rec.map { ($0, c.rawValue) })
                    return try PrometheusAnswer.decode(response.body, place: engine.place(request), httpStatus: response.status)
                }
            }
        } catch {
            throw PolicyInput.fail("\(error.description)")
        }
        guard let outcome else { throw PolicyInput.fail("\(place): the recording holds no workload query answer (\(WorkloadFlowQueries.Context.labels.rawValue).json)") }
        for w in outcome.engineWarnings { PolicyInput.note("warning: \(w); the suggestions may miss peers") }
        guard let context = outcome.context else {
            throw PolicyInput.fail(MetricPolicySuggester.noContextMessage(metric: queries.metric, namespace: namespace, queries: queries) + " No file written.")
        }
        var suggester = MetricPolicySuggester(namespace: namespace, kind: kind, workloadLabel: metrics.workloadLabel, window: window,
                                              metric: queries.metric, context: context)
        for r in outcome.rows { suggester.add(r) }
        let (checked, rejected) = suggester.checked()
        for r in rejected { PolicyInput.note("error: \(r)") }
        var files: [(String, [UInt8])] = []
        var lines: [String] = []
        for c in checked {
            files.append((c.file, Array(c.yaml.utf8)))
            lines.append("\(Sanitize.text(output, max: 500))/\(c.file): workload \(Sanitize.text(c.policy.workloads.first ?? "?", max: 200))")
            lines += c.explanation.map { "  " + Sanitize.text($0, max: 2000) }
        }
        do { try SuggestionFolder.write(files, into: output) } catch { throw PolicyInput.fail("--output: \(error.description)") }
        let summary = "\(files.count) polic\(files.count == 1 ? "y" : "ies") for namespace \(namespace) from \(place) (\(RFC3339.format(window.from)) to \(RFC3339.format(window.to)))."
        let notes = suggester.notes.map { Sanitize.text($0, max: 2000) }
        PolicyInput.write(([summary] + notes + lines).joined(separator: "\n") + "\n")
    }
}
