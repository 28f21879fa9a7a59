import Foundation
import ThreatConfig
import ThreatModel

/// Flow statistics from a live Prometheus (or Thanos/Mimir with a path prefix): GitLab's queries,
/// pushed down to the engine. Six round trips per environment, whatever the window's length.
public struct PrometheusFlowSource: FlowSource {
    public var settings: PrometheusSettings
    public var environment: [String: String]
    /// Ask for workload-level suggestions too (not for the comparison window).
    public var suggest: Bool

    public init(settings: PrometheusSettings, environment: [String: String] = ProcessInfo.processInfo.environment, suggest: Bool = true) {
        self.settings = settings
        self.environment = environment
        self.suggest = suggest
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> {
        // 5xx and 429 are retried: Prometheus answers 503 while it starts and 5xx on overload.
        var engine = try EngineClient(transport: settings.transport, retryStatuses: [429, 500, 502, 503, 504], redactor: context.redactor,
                                      environment: environment)
        engine.client.deadline = context.deadline
        let queries = FlowQueries(settings: settings)
        let ns = context.environment.namespace
        var answers: [FlowQueries.Name: PrometheusAnswer] = [:]
        var evidence: [EvidenceItem] = []
        var bytes = 0
        let folder = context.recording("flows")
        for name in FlowQueries.Name.allCases {
            let request = queries.request(name, namespace: ns, window: context.window)
            let response = try engine.send(request, record: folder.map { ($0, name.rawValue) })
            answers[name] = try PrometheusAnswer.decode(response.body, place: engine.place(request), httpStatus: response.status)
            bytes += response.body.count
            evidence.append(EvidenceItem(section: "flows", source: engine.place(request), query: request.summary,
                                         sha256: SHA256Digest.hex(response.body)))
        }
        var (stats, warnings) = FlowStatisticsBuilder.build(answers: answers, queries: queries, namespace: ns)
        var incomplete = FlowStatisticsBuilder.engineWarnings(answers)
        if suggest {
            // Workload-level suggestions: one aggregated query (two when the first names no workload).
            let wq = WorkloadFlowQueries(settings: settings)
            let fetched = Result { () throws(SourceError) -> WorkloadFlowFetch.Outcome? in try WorkloadFlowFetch.fetch(queries: wq) { (c: WorkloadFlowQueries.Context) throws(SourceError) -> PrometheusAnswer? in
                let request = wq.request(c, namespace: ns, window: context.window)
                let response = try engine.send(request, record: folder.map { ($0, c.rawValue) })
                evidence.append(EvidenceItem(section: "flows", source: engine.place(request), query: request.summary,
                                             sha256: SHA256Digest.hex(response.body)))
                return try PrometheusAnswer.decode(response.body, place: engine.place(request), httpStatus: response.status)
            } }
            incomplete += MetricPolicySuggester.apply(fetched, to: &stats, warnings: &warnings, namespace: ns, window: context.window,
                                                      queries: wq, workloadLabel: settings.workloadLabel)
        }
        return SourceOutput(value: stats, evidence: evidence, warnings: engine.warnings + warnings,
                            incomplete: incomplete,
                            coverage: FlowStatisticsBuilder.coverage(answers: answers, bytes: bytes, source: "prometheus"))
    }
}
