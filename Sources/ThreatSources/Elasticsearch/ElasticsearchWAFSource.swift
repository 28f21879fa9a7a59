import Foundation
import ThreatConfig
import ThreatModel

/// WAF statistics from a live Elasticsearch (7.10+, 8.x) or OpenSearch (1, 2) holding ingress
/// access logs and ModSecurity audit logs: one `_field_caps` per index pattern in a run (shared by
/// every environment and window through the run's cache), then one `_msearch` per environment and
/// window, every count and aggregation computed by the engine. Retries 429/500/502/503/504 and
/// connection errors; never other 4xx (a 401 will not fix itself).
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
        let folder = context.recording("waf")
        let run = ElasticsearchRun(settings: settings) { [engine] (request, name, contentType) throws(SourceError) in
            func ask() throws(SourceError) -> ElasticsearchRun.Answer {
                let response = try engine.send(request, contentType: contentType, record: folder.map { ($0, name) })
                return ElasticsearchRun.Answer(status: response.status, body: response.body, place: engine.place(request), request: request)
            }
            if name == "msearch" { return try ask() }
            // The mapping belongs to the index pattern, not to the environment or the window: one
            // ask per engine, credentials and request in the whole run, shared by the environments
            // and the previous window.
            let key = engine.identity + " " + name + " " + request.summary
            let (result, made) = context.caches.engineAnswers.value(key) { Result { () throws(SourceError) in try ask() } }
            let answer = try result.get()
            // Every recording folder keeps its own copy, so each environment and window replays alone.
            if !made, let folder {
                do {
                    try folder.write(name, answer: answer.body, request: request)
                } catch {
                    throw .unreadable(path: folder.path, reason: "--record: cannot write (\(error))")
                }
            }
            return answer
        }
        var out = try run.run(context)
        // The guidance's `kubectl -n …` commands name the namespace of the ingress's logs.
        out.value.ingressNamespace = settings.ingressNamespace
        out.warnings = engine.warnings + out.warnings
        return out
    }
}
