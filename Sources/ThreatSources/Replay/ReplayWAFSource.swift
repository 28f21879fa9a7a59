import Foundation
import ThreatConfig
import ThreatModel

/// WAF statistics from recorded Elasticsearch answers: `field_caps.json` (optional: recordings made
/// before it was asked use the field names as configured) and `msearch.json`, each with its request
/// in `NAME.request.json`. Decoded by the same code as a live answer.
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
        var mismatched: [String] = []
        let run = ElasticsearchRun(settings: queries.settings) { (expected, name, _) throws(SourceError) in
            if name != "msearch", !FileManager.default.fileExists(atPath: folder.answerPath(name)) { return nil }
            let (bytes, _) = try folder.answer(name, deadline: context.deadline)
            let recorded = folder.request(name, deadline: context.deadline)
            if let recorded, recorded != expected { mismatched.append(folder.requestPath(name)) }
            return ElasticsearchRun.Answer(status: 200, body: bytes, place: folder.answerPath(name), request: recorded ?? expected)
        }
        var out = try run.run(context, coverageSource: liveName ?? "replay")
        out.value.ingressNamespace = queries.settings.ingressNamespace
        out.warnings += mismatched.map { "\($0): recorded for another query or window than this report's; its numbers are shown as recorded" }
        if liveName == nil, var c = out.coverage {
            c.notes.append("recorded Elasticsearch _msearch answer \(folder.answerPath("msearch"))"
                + (FileManager.default.fileExists(atPath: folder.requestPath("msearch")) ? "" : " (no recorded request beside it)"))
            out.coverage = c
        }
        return out
    }
}
