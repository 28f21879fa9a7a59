import Foundation
import ThreatConfig
import ThreatModel

/// WAF statistics from a recorded Elasticsearch `_msearch` answer (`msearch.json`, with the request
/// in `msearch.request.json`). Parsed by the same code as a live answer.
public struct ReplayWAFSource: WAFSource {
    public var folder: RecordingFolder
    public var queries: WAFQueries
    /// The live source a `--replay` of a recorded run stands in for (`elasticsearch`): its
    /// coverage is then the live source's, so the replayed report is the recorded one byte for byte.
    public var liveName: String?

    public init(path: String, queries: WAFQueries = .gitlabDefaults, liveName: String? = nil) {
        folder = RecordingFolder(path: path)
        self.queries = queries
        self.liveName = liveName
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        let (bytes, digest) = try folder.answer("msearch")
        var (stats, warnings) = try MsearchAnswer.decode(bytes, place: folder.answerPath("msearch"))
        let expected = queries.request(namespace: context.environment.namespace, hosts: context.environment.hosts,
                                       window: context.window)
        let recorded = folder.request("msearch")
        if let recorded, recorded != expected {
            warnings.append("\(folder.requestPath("msearch")): recorded for another query or window than this report's; its numbers are shown as recorded")
        }
        stats.totalHistory = stats.totalHistory.filter { $0.time >= context.window.from && $0.time < context.window.to }
        stats.anomalousHistory = stats.anomalousHistory.filter { $0.time >= context.window.from && $0.time < context.window.to }
        return SourceOutput(value: stats, evidence: [
            EvidenceItem(section: "waf", source: folder.answerPath("msearch"), query: (recorded ?? expected).summary, sha256: digest),
        ], warnings: warnings, coverage: coverage(stats, bytes: bytes.count, recorded: recorded != nil))
    }

    /// What the recording said: the recorded `_msearch` answer's documents and buckets.
    func coverage(_ stats: WAFStatistics, bytes: Int, recorded: Bool) -> SourceCoverage {
        var c = MsearchAnswer.coverage(stats, bytes: bytes, source: liveName ?? "replay")
        if liveName == nil { c.notes.append("recorded Elasticsearch _msearch answer \(folder.answerPath("msearch"))"
            + (recorded ? "" : " (no recorded request beside it)")) }
        return c
    }
}
