import Foundation
import ThreatConfig
import ThreatModel

/// WAF statistics from a live Elasticsearch holding Filebeat-shipped ingress and ModSecurity logs:
/// one `_msearch` per environment, every count and aggregation computed by the engine. Retries
/// 429/500/502/503/504 and connection errors; never other 4xx (a 401 will not fix itself).
public struct ElasticsearchWAFSource: WAFSource {
    public var settings: ElasticsearchSettings
    public var environment: [String: String]

    public init(settings: ElasticsearchSettings, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.environment = environment
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        let engine = try EngineClient(transport: settings.transport, retryStatuses: [429, 500, 502, 503, 504], environment: environment)
        let request = WAFQueries(settings: settings).request(namespace: context.environment.namespace,
                                                             hosts: context.environment.hosts, window: context.window)
        let response = try engine.send(request, contentType: "application/x-ndjson", record: context.recording("waf").map { ($0, "msearch") })
        let place = engine.place(request)
        if response.status >= 400 {
            let detail = (try? JSONValue.parse(bytes: response.body)).flatMap { $0["error"] }.map(MsearchAnswer.describeError)
                ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            throw .engine(place: place, status: response.status, message: detail)
        }
        var (stats, warnings) = try MsearchAnswer.decode(response.body, place: place)
        stats.totalHistory = stats.totalHistory.filter { $0.time >= context.window.from && $0.time < context.window.to }
        stats.anomalousHistory = stats.anomalousHistory.filter { $0.time >= context.window.from && $0.time < context.window.to }
        return SourceOutput(value: stats, evidence: [
            EvidenceItem(section: "waf", source: place, query: request.summary, sha256: SHA256Digest.hex(response.body)),
        ], warnings: engine.warnings + warnings,
        coverage: MsearchAnswer.coverage(stats, bytes: response.body.count, source: "elasticsearch"))
    }
}
