import Foundation
import ThreatConfig
import ThreatModel

/// WAF statistics from a live Elasticsearch (7.10+, 8.x) or OpenSearch (1, 2) holding ingress
/// access logs and ModSecurity audit logs: one `_field_caps` for the index pattern, then one
/// `_msearch` per environment, every count and aggregation computed by the engine. Retries
/// 429/500/502/503/504 and connection errors; never other 4xx (a 401 will not fix itself).
public struct ElasticsearchWAFSource: WAFSource {
    public var settings: ElasticsearchSettings
    public var environment: [String: String]

    public init(settings: ElasticsearchSettings, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.environment = environment
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        var engine = try EngineClient(transport: settings.transport, retryStatuses: [429, 500, 502, 503, 504], redactor: context.redactor,
                                      environment: environment)
        engine.client.deadline = context.deadline
        let run = ElasticsearchRun(settings: settings) { (request, name, contentType) throws(SourceError) in
            let response = try engine.send(request, contentType: contentType, record: context.recording("waf").map { ($0, name) })
            return ElasticsearchRun.Answer(status: response.status, body: response.body, place: engine.place(request), request: request)
        }
        var out = try run.run(context)
        // The guidance's `kubectl -n …` commands name the namespace of the ingress's logs.
        out.value.ingressNamespace = settings.ingressNamespace
        out.warnings = engine.warnings + out.warnings
        return out
    }
}
