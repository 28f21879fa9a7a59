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

    public init(path: String, queries: FlowQueries = FlowQueries(), liveName: String? = nil) {
        folder = RecordingFolder(path: path)
        self.queries = queries
        self.liveName = liveName
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
        let (stats, w) = FlowStatisticsBuilder.build(answers: answers, queries: queries, namespace: ns)
        return SourceOutput(value: stats, evidence: evidence, warnings: warnings + w,
                            incomplete: FlowStatisticsBuilder.engineWarnings(answers), coverage: coverage(answers, bytes: bytesRead))
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
