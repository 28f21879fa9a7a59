import Foundation
import ThreatConfig
import ThreatModel

/// Flow statistics from a recording of Prometheus answers (`totals`, `inbound`, `outbound`, `rate`,
/// and optionally `drop_reasons`, `drop_pairs`). Parsed by the same code as live answers.
public struct ReplayFlowSource: FlowSource {
    public var folder: RecordingFolder
    public var queries: FlowQueries
    /// The live source a `--replay` of a recorded run stands in for (`prometheus`), as for WAF.
    public var liveName: String?
    /// The workload queries and selector label of the recorded run's suggestions (read when the
    /// recording holds their answers).
    public var workloadQueries: WorkloadFlowQueries
    public var workloadLabel: String

    public init(path: String, queries: FlowQueries = FlowQueries(), liveName: String? = nil,
                workloadQueries: WorkloadFlowQueries = WorkloadFlowQueries(), workloadLabel: String = MetricPolicySuggester.defaultWorkloadLabel) {
        folder = RecordingFolder(path: path)
        self.queries = queries
        self.liveName = liveName
        self.workloadQueries = workloadQueries
        self.workloadLabel = workloadLabel
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> {
        var answers: [FlowQueries.Name: PrometheusAnswer] = [:]
        var evidence: [EvidenceItem] = []
        var warnings: [String] = []
        var bytesRead = 0
        let ns = context.environment.namespace
        for name in FlowQueries.Name.allCases {
            let optional = name == .dropReasons || name == .dropPairs
            if optional, !FileManager.default.fileExists(atPath: folder.answerPath(name.rawValue)) { continue }
            let (bytes, digest) = try folder.answer(name.rawValue, deadline: context.deadline)
            bytesRead += bytes.count
            answers[name] = try PrometheusAnswer.decode(bytes, place: folder.answerPath(name.rawValue))
            let expected = queries.request(name, namespace: ns, window: context.window)
            let recorded = folder.request(name.rawValue, deadline: context.deadline)
            if let recorded, recorded != expected {
                warnings.append("\(folder.requestPath(name.rawValue)): recorded for another query or window than this report's; its numbers are shown as recorded")
            }
            evidence.append(EvidenceItem(section: "flows", source: folder.answerPath(name.rawValue),
                                         query: (recorded ?? expected).summary, sha256: digest))
        }
        var (stats, w) = FlowStatisticsBuilder.build(answers: answers, queries: queries, namespace: ns)
        var incomplete = FlowStatisticsBuilder.engineWarnings(answers)
        // The workload queries, when the recording holds them (older recordings do not).
        let wq = workloadQueries
        let fetched = Result { () throws(SourceError) -> WorkloadFlowFetch.Outcome? in try WorkloadFlowFetch.fetch(queries: wq) { (c: WorkloadFlowQueries.Context) throws(SourceError) -> PrometheusAnswer? in
            guard FileManager.default.fileExists(atPath: folder.answerPath(c.rawValue)) else { return nil }
            let (bytes, digest) = try folder.answer(c.rawValue, deadline: context.deadline)
            let expected = wq.request(c, namespace: ns, window: context.window)
            let recorded = folder.request(c.rawValue, deadline: context.deadline)
            if let recorded, recorded != expected {
                warnings.append("\(folder.requestPath(c.rawValue)): recorded for another query or window than this report's; its numbers are shown as recorded")
            }
            evidence.append(EvidenceItem(section: "flows", source: folder.answerPath(c.rawValue), query: (recorded ?? expected).summary, sha256: digest))
            return try PrometheusAnswer.decode(bytes, place: folder.answerPath(c.rawValue))
        } }
        incomplete += MetricPolicySuggester.apply(fetched, to: &stats, warnings: &warnings, namespace: ns, window: context.window,
                                                  queries: wq, workloadLabel: workloadLabel)
        return SourceOutput(value: stats, evidence: evidence, warnings: warnings + w,
                            incomplete: incomplete, coverage: coverage(answers, bytes: bytesRead))
    }

    /// What the recording said: the recorded Prometheus answers' series and samples.
    func coverage(_ answers: [FlowQueries.Name: PrometheusAnswer], bytes: Int) -> SourceCoverage {
        var c = FlowStatisticsBuilder.coverage(answers: answers, bytes: bytes, source: liveName ?? "replay")
        if liveName == nil {
            c.notes.append("recorded Prometheus answers in \(folder.path) (\(answers.count) of \(FlowQueries.Name.allCases.count) queries)")
        }
        return c
    }
}
