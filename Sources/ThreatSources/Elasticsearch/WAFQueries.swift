import Foundation
import ThreatConfig
import ThreatModel

/// The single `_msearch` the WAF statistics take per environment: the ingress access-log count and
/// the ModSecurity audit count, both `size: 0` with `track_total_hits: true` (without it ES 7+
/// stops counting at 10,000, a bug GitLab had) and a `date_histogram` at the report interval; the
/// audit search also carries the attack-detail aggregations. Every field name comes from
/// `resolution` (the `_field_caps` answer applied to `settings.fields`).
public struct WAFQueries: Sendable {
    public var settings: ElasticsearchSettings
    public var resolution: FieldResolution

    public init(settings: ElasticsearchSettings, resolution: FieldResolution? = nil) {
        self.settings = settings
        self.resolution = resolution ?? .unresolved(settings.fields)
    }

    var fields: ElasticsearchFields { resolution.fields }

    /// GitLab's defaults, for replayed recordings that carry no settings.
    public static var gitlabDefaults: WAFQueries {
        WAFQueries(settings: ElasticsearchSettings(transport: HTTPTransportSettings(url: "http://elasticsearch:9200")))
    }

    /// CRS's anomaly-evaluation rules: inbound (949110; 949111 in CRS 4) and outbound (959100), as
    /// the file source counts them (AuditVerdicts.blockingRules).
    static let blockingRules = ["949110", "949111", "959100"]
    /// The inbound score's message, one per document (980130's "Total Inbound Score" is another term).
    /// Severity values of critical or worse as ModSecurity (`"2"`), Coraza (`critical`) and
    /// shippers (`CRITICAL`) write them.
    static let criticalSeverities = ["0", "1", "2", "emergency", "alert", "critical", "EMERGENCY", "ALERT", "CRITICAL"]
    static let scoreMessage = #"Inbound Anomaly Score Exceeded \(Total Score: [0-9]+\)"#

    static func ms(_ d: Date) -> JSONValue { .number((d.timeIntervalSince1970 * 1000).rounded()) }

    func histogram(_ window: TimeWindow) -> JSONValue {
        let fixed: String
        switch window.interval {
        case .minute: fixed = "1m"
        case .hour: fixed = "1h"
        case .day: fixed = "1d"
        }
        return .object([("date_histogram", .object([
            ("field", .string(fields.time)), ("fixed_interval", .string(fixed)), ("min_doc_count", .number(0)),
            ("time_zone", .string("UTC")),
            ("extended_bounds", .object([("min", WAFQueries.ms(window.from)), ("max", WAFQueries.ms(window.to.addingTimeInterval(-1)))])),
        ]))])
    }

    func range(_ window: TimeWindow) -> JSONValue {
        .object([("range", .object([(fields.time, .object([
            ("gte", .string(RFC3339.format(window.from))), ("lt", .string(RFC3339.format(window.to))),
            ("format", .string("strict_date_optional_time")),
        ]))]))])
    }

    static func query(_ kind: String, _ field: String, _ value: JSONValue) -> JSONValue {
        .object([(kind, .object([(field, value)]))])
    }

    func terms(_ field: String, size: Int, include: String? = nil, sub: [(String, JSONValue)] = []) -> JSONValue {
        var params: [(String, JSONValue)] = [("field", .string(field)), ("size", .number(Double(size)))]
        if let include { params.append(("include", .string(include))) }
        var t: [(String, JSONValue)] = [("terms", .object(params))]
        if !sub.isEmpty { t.append(("aggs", .object(sub))) }
        return .object(t)
    }

    /// The access lines of one namespace's upstreams (`<namespace>-<service>-<port>`): a `prefix`
    /// on the module's keyword field, a `wildcard` on a keyword copy of the raw line (the upstream
    /// is the bracketed field after the request time), or — only when the line is analysed text
    /// with no keyword copy — a phrase, which the resolution warns is inexact.
    /// With the `host` layout (ECS), the environment's `hosts` select its lines: `terms` on the
    /// host field, nothing when it has none (the run says the lines are unattributed).
    func upstreamFilter(_ namespace: String, hosts: [String]) -> JSONValue? {
        switch resolution.accessMatch {
        case .prefix: Self.query("prefix", fields.upstream, .string(namespace + "-"))
        case .wildcard: Self.query("wildcard", fields.accessMessage, .object([("value", .string("* [\(namespace)-*"))]))
        case .phrase: Self.query("match_phrase", fields.accessMessage, .string("[\(namespace)-"))
        case .host: hosts.isEmpty ? nil : Self.query("terms", fields.host, .array(hosts.map { .string($0) }))
        }
    }

    public func accessSearch(namespace: String, hosts: [String] = [], window: TimeWindow) -> JSONValue {
        .object([
            ("size", .number(0)), ("track_total_hits", .bool(true)),
            ("query", .object([("bool", .object([("filter", .array([
                range(window),
                Self.query("terms", fields.container, .array(settings.accessContainers.map { .string($0) })),
                Self.query("term", fields.kubernetesNamespace, .string(settings.ingressNamespace)),
                Self.query("term", fields.stream, .string("stdout")),
            ] + [upstreamFilter(namespace, hosts: hosts)].compactMap { $0 }))]))])),
            ("aggs", .object([("history", histogram(window))])),
        ])
    }

    /// Where the rule's messages live in `_source`: the array both field names share
    /// (`transaction.messages`), and each one's path inside an element.
    public var rulePairing: RulePairing { RulePairing(ruleIDField: fields.ruleID, messageField: fields.message) }

    public func auditSearch(namespace: String, hosts: [String], window: TimeWindow) -> JSONValue {
        var filter: [JSONValue] = [range(window), Self.query("term", fields.container, .string(settings.auditContainer))]
        let ecs = fields.fieldSet == .ecs
        // ECS: the container also writes lines that are not the WAF's; a WAF line has a rule id.
        if ecs { filter.append(.object([("exists", .object([("field", .string(fields.ruleID))]))])) }
        var should: [JSONValue] = []
        for h in hosts {
            // ingress-nginx's transaction id starts with the host; a request id (ECS) does not.
            if !ecs { should.append(Self.query("prefix", fields.uniqueID, .string(h + "-"))) }
            should.append(Self.query("term", fields.host, .string(h)))
        }
        if hosts.isEmpty, let ns = fields.auditNamespace { filter.append(Self.query("term", ns, .string(namespace))) }
        var boolQuery: [(String, JSONValue)] = [("filter", .array(filter))]
        if !should.isEmpty { boolQuery += [("should", .array(should)), ("minimum_should_match", .number(1))] }
        var aggs: [(String, JSONValue)] = [("history", histogram(window))]
        // Under dynamic mapping `transaction.messages` is a flattened array of objects (type
        // `object`, not `nested`): a terms on the message under a terms on the rule id would count
        // every message of every document holding the rule. The rule's own message is paired in
        // code from one document's array (MsearchAnswer, RulePairing).
        var rules: [(String, JSONValue)] = []
        if !resolution.missing.contains("message") {
            rules = [("message", .object([("top_hits", .object([
                ("size", .number(1)), ("_source", .object([("includes", .array(rulePairing.sourcePaths.map { .string($0) }))])),
            ]))]))]
        }
        aggs.append(("top_rules", terms(fields.ruleID, size: 10, sub: rules)))
        aggs.append(("top_clients", terms(fields.clientIP, size: 10)))
        aggs.append(("top_uris", terms(fields.uri, size: 10)))
        if !resolution.missing.contains("engine_mode") { aggs.append(("engine_mode", terms(fields.engineMode, size: 3))) }
        if resolution.canCountBlocked {
            // The file source's definition (AuditVerdicts.blocked): engine Enabled, a blocking
            // evaluation rule matched, answered 403.
            aggs.append(("blocked", .object([("filter", .object([("bool", .object([("filter", .array([
                Self.query("term", fields.engineMode, .string("Enabled")),
                Self.query("term", fields.status, .number(403)),
                Self.query("terms", fields.ruleID, .array(Self.blockingRules.map { .string($0) })),
            ]))]))]))])))
        }
        if let severity = fields.severity, !resolution.missing.contains("severity") {
            // Matches of critical severity or worse (syslog 0–2, by number or name) outside the
            // anomaly-evaluation rules, which CRS also marks critical.
            aggs.append(("critical_attacks", .object([("filter", .object([("bool", .object([
                ("filter", .array([Self.query("terms", severity, .array(Self.criticalSeverities.map { .string($0) }))])),
                ("must_not", .array([Self.query("terms", fields.ruleID, .array((Self.blockingRules + ["980130", "980170"]).map { .string($0) }))])),
            ]))]))])))
        }
        if !resolution.missing.contains("message") {
            // One "Total Score" message per scored document: counting those terms inside the
            // documents with 949110/949111 stays right when the array is flattened.
            aggs.append(("anomaly_scores", .object([
                ("filter", Self.query("terms", fields.ruleID, .array(["949110", "949111"].map { .string($0) }))),
                ("aggs", .object([("scores", terms(fields.message, size: 100, include: Self.scoreMessage))])),
            ])))
        }
        return .object([
            ("size", .number(0)), ("track_total_hits", .bool(true)),
            ("query", .object([("bool", .object(boolQuery))])),
            ("aggs", .object(aggs)),
        ])
    }

    /// The `_msearch` request: NDJSON of header/body pairs, newline-terminated.
    public func request(namespace: String, hosts: [String], window: TimeWindow) -> RecordedRequest {
        let header = JSONValue.object([("index", .string(settings.index)), ("ignore_unavailable", .bool(true))]).serialized()
        let body = [header, accessSearch(namespace: namespace, hosts: hosts, window: window).serialized(),
                    header, auditSearch(namespace: namespace, hosts: hosts, window: window).serialized()].joined(separator: "\n") + "\n"
        return RecordedRequest(method: "POST", path: "/_msearch", params: [], body: body)
    }

    /// Buckets the audit search makes beside its histogram: 10 rules, 10 clients, 10 URIs, 3 engine
    /// modes, the blocked and anomaly filters, 100 scores.
    static let fixedBuckets = 10 + 10 + 10 + 3 + 1 + 1 + 100

    /// The window at an interval whose buckets fit `max_buckets` (the finest that fits, from the
    /// configured one up), with a note when it had to be coarser; an error with the arithmetic when
    /// even days do not fit. Elasticsearch reference, "search.max_buckets" (Search settings):
    /// 65,535 since 7.9, 10,000 before; beyond it the search fails with too_many_buckets_exception.
    public func fitting(_ window: TimeWindow) throws(SourceError) -> (TimeWindow, String?) {
        let fixed = Self.fixedBuckets + (fields.severity == nil ? 0 : 1)
        func need(_ w: TimeWindow) -> Int { w.bucketStarts.count + fixed }
        let wanted = need(window)
        if wanted <= settings.maxBuckets { return (window, nil) }
        for i in Interval.allCases where i.seconds > window.interval.seconds {
            let w = TimeWindow(from: window.from, to: window.to, interval: i)
            if need(w) <= settings.maxBuckets {
                return (w, "the \(window.interval.rawValue) histogram would need \(window.bucketStarts.count) buckets + \(fixed) for the top lists = \(wanted), above max_buckets \(settings.maxBuckets); the Elasticsearch series are by \(i.rawValue) instead (\(need(w)) buckets)")
            }
        }
        let day = TimeWindow(from: window.from, to: window.to, interval: .day)
        throw .unsupported("the Elasticsearch search would need \(day.bucketStarts.count) daily buckets + \(fixed) for the top lists = \(need(day)), above max_buckets \(settings.maxBuckets) (the cluster's search.max_buckets): shorten the window or raise max_buckets with the cluster setting")
    }
}
