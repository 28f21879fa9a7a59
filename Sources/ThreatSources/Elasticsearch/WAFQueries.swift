import Foundation
import ThreatConfig
import ThreatModel

/// The single `_msearch` GitLab-style WAF statistics take per environment: the ingress access-log
/// count and the ModSecurity audit count, both `size: 0` with `track_total_hits: true` (without it
/// ES 7+ stops counting at 10,000, a bug GitLab had) and a `date_histogram` at the report interval;
/// the audit search also carries the attack-detail aggregations.
public struct WAFQueries: Sendable {
    public var settings: ElasticsearchSettings

    public init(settings: ElasticsearchSettings) { self.settings = settings }

    /// GitLab's defaults, for replayed recordings that carry no settings.
    public static var gitlabDefaults: WAFQueries {
        WAFQueries(settings: ElasticsearchSettings(transport: HTTPTransportSettings(url: "http://elasticsearch:9200")))
    }

    static func ms(_ d: Date) -> JSONValue { .number((d.timeIntervalSince1970 * 1000).rounded()) }

    func histogram(_ window: TimeWindow) -> JSONValue {
        let fixed: String
        switch window.interval {
        case .minute: fixed = "1m"
        case .hour: fixed = "1h"
        case .day: fixed = "1d"
        }
        return .object([("date_histogram", .object([
            ("field", .string("@timestamp")), ("fixed_interval", .string(fixed)), ("min_doc_count", .number(0)),
            ("time_zone", .string("UTC")),
            ("extended_bounds", .object([("min", WAFQueries.ms(window.from)), ("max", WAFQueries.ms(window.to.addingTimeInterval(-1)))])),
        ]))])
    }

    func range(_ window: TimeWindow) -> JSONValue {
        .object([("range", .object([("@timestamp", .object([
            ("gte", .string(RFC3339.format(window.from))), ("lt", .string(RFC3339.format(window.to))),
            ("format", .string("strict_date_optional_time")),
        ]))]))])
    }

    func terms(_ field: String, size: Int, sub: [(String, JSONValue)] = []) -> JSONValue {
        var t: [(String, JSONValue)] = [("terms", .object([("field", .string(field)), ("size", .number(Double(size)))]))]
        if !sub.isEmpty { t.append(("aggs", .object(sub))) }
        return .object(t)
    }

    public func accessSearch(namespace: String, window: TimeWindow) -> JSONValue {
        .object([
            ("size", .number(0)), ("track_total_hits", .bool(true)),
            ("query", .object([("bool", .object([("filter", .array([
                range(window),
                .object([("terms", .object([("kubernetes.container.name", .array(settings.accessContainers.map { .string($0) }))]))]),
                .object([("term", .object([("kubernetes.namespace", .string(settings.ingressNamespace))]))]),
                .object([("term", .object([("stream", .string("stdout"))]))]),
                .object([("match_phrase", .object([("message", .string("[\(namespace)-"))]))]),
            ]))]))])),
            ("aggs", .object([("history", histogram(window))])),
        ])
    }

    public func auditSearch(hosts: [String], window: TimeWindow) -> JSONValue {
        var should: [JSONValue] = []
        for h in hosts {
            should.append(.object([("prefix", .object([("transaction.unique_id", .string(h + "-"))]))]))
            should.append(.object([("term", .object([("transaction.request.headers.Host", .string(h))]))]))
        }
        return .object([
            ("size", .number(0)), ("track_total_hits", .bool(true)),
            ("query", .object([("bool", .object([
                ("filter", .array([
                    range(window),
                    .object([("term", .object([("kubernetes.container.name", .string(settings.auditContainer))]))]),
                ])),
                ("should", .array(should)), ("minimum_should_match", .number(should.isEmpty ? 0 : 1)),
            ]))])),
            ("aggs", .object([
                ("history", histogram(window)),
                ("top_rules", terms(settings.ruleIDField, size: 10, sub: [("message", terms(settings.ruleMessageField, size: 1))])),
                ("top_clients", terms(settings.clientIPField, size: 10)),
                ("top_uris", terms(settings.uriField, size: 10)),
                ("engine_mode", terms("transaction.producer.secrules_engine", size: 3)),
                ("blocked", .object([("filter", .object([("bool", .object([("filter", .array([
                    .object([("term", .object([("transaction.response.http_code", .number(403))]))]),
                    .object([("terms", .object([(settings.ruleIDField, .array(["949110", "949111", "959100"].map { .string($0) }))]))]),
                ]))]))]))])),
            ])),
        ])
    }

    /// The `_msearch` request: NDJSON of header/body pairs, newline-terminated.
    public func request(namespace: String, hosts: [String], window: TimeWindow) -> RecordedRequest {
        let header = JSONValue.object([("index", .string(settings.index)), ("ignore_unavailable", .bool(true))]).serialized()
        let body = [header, accessSearch(namespace: namespace, window: window).serialized(),
                    header, auditSearch(hosts: hosts, window: window).serialized()].joined(separator: "\n") + "\n"
        return RecordedRequest(method: "POST", path: "/_msearch", params: [], body: body)
    }
}
