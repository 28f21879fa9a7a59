import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// A `_field_caps` answer (Field capabilities API shape) mapping each name to one type.
func fieldCapsAnswer(_ types: [String: String], indices: [String] = ["filebeat-7.17.0-2026.11.19"]) -> [UInt8] {
    let agg: Set<String> = ["keyword", "long", "ip", "date", "boolean", "integer"]
    let fields = types.sorted { $0.key < $1.key }.map { name, t in
        #""\#(name)":{"\#(t)":{"type":"\#(t)","metadata_field":false,"searchable":true,"aggregatable":\#(agg.contains(t))}}"#
    }
    return bytes(#"{"indices":[\#(indices.map { "\"\($0)\"" }.joined(separator: ","))],"fields":{\#(fields.joined(separator: ","))}}"#)
}

/// Dynamic mapping (no template): every string `text` with a `.keyword` subfield ("Dynamic field mapping").
func dynamicMapping(_ strings: [String], extra: [String: String] = [:]) -> [String: String] {
    var m = extra
    for s in strings { m[s] = "text"; m[s + ".keyword"] = "keyword" }
    return m
}

let auditStrings = ["kubernetes.container.name", "kubernetes.namespace", "stream", "message", "transaction.unique_id",
                    "transaction.request.headers.Host", "transaction.messages.details.ruleId", "transaction.messages.message",
                    "transaction.client_ip", "transaction.request.uri", "transaction.producer.secrules_engine"]

@Suite("Elasticsearch as deployed: mappings, layouts, flattened arrays")
struct ElasticsearchMappingTests {
    static let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)
    static var settings: ElasticsearchSettings { ElasticsearchSettings(transport: HTTPTransportSettings(url: "http://es:9200")) }

    func resolve(_ m: [String: String], settings: ElasticsearchSettings = Self.settings, hosts: Bool = true) throws -> FieldResolution {
        let caps = try FieldCaps.decode(fieldCapsAnswer(m), place: "caps")
        return try FieldResolution.resolve(settings.fields, caps: caps, index: settings.index, needsHostFields: hosts)
    }

    func searches(_ r: FieldResolution, settings: ElasticsearchSettings = Self.settings, hosts: [String] = ["shop.example.com"]) throws -> (JSONValue, JSONValue) {
        let body = WAFQueries(settings: settings, resolution: r).request(namespace: "shop-production", hosts: hosts, window: Self.window).body!
        let lines = body.split(separator: "\n").map(String.init)
        return (try JSONValue.parse(lines[1]), try JSONValue.parse(lines[3]))
    }

    @Test("Flattened messages: each rule is labelled from its own element of one document's messages array, not the array's most frequent message")
    func flattenedLabels() throws {
        // One document holds 913100 and 949110: under flattening a terms on the message under 949110
        // would answer the scanner message; the top_hits document pairs each id with its own message.
        let doc = #"{"_index":"filebeat-1","_id":"a","_score":0.0,"_source":{"transaction":{"messages":[{"message":"Found User-Agent associated with security scanner","details":{"ruleId":"913100"}},{"message":"Inbound Anomaly Score Exceeded (Total Score: 5)","details":{"ruleId":"949110"}}]}}}"#
        let extra = #","top_rules":{"buckets":[{"key":"913100","doc_count":2,"message":{"hits":{"total":{"value":2,"relation":"eq"},"hits":[\#(doc)]}}},{"key":"949110","doc_count":1,"message":{"hits":{"total":{"value":1,"relation":"eq"},"hits":[\#(doc)]}}}]}"#
        let (s, _) = try MsearchAnswer.decode(msearch("3", "2", extra: extra), place: "a")
        #expect(s.topRules.map { $0.label ?? "-" } == ["Found User-Agent associated with security scanner", "Inbound Anomaly Score Exceeded (Total Score: 5)"])
        // Dotted keys in _source (some shippers write them) and the message.transaction layout pair too.
        let dotted = try JSONValue.parse(#"{"message":{"transaction.messages":[{"message":"X","details.ruleId":"1"},{"message":"Y","details":{"ruleId":"2"}}]}}"#)
        let p = RulePairing(ruleIDField: "message.transaction.messages.details.ruleId.keyword", messageField: "message.transaction.messages.message.keyword")
        #expect(p.sourcePath == "message.transaction.messages")
        #expect(p.message(for: "2", source: dotted) == "Y" && p.message(for: "1", source: dotted) == "X" && p.message(for: "3", source: dotted) == nil)
    }

    @Test("The request asks top_hits for the messages array, not a terms on the flattened message")
    func flattenedRequest() throws {
        let (_, audit) = try searches(.unresolved(Self.settings.fields))
        #expect(audit.at("aggs.top_rules.aggs.message")?.serialized() == #"{"top_hits":{"size":1,"_source":{"includes":["transaction.messages"]}}}"#)
    }

    @Test("Sample generator under flattened semantics: every paired label is the rule's CRS message; the earlier terms request mislabels 4 of 10")
    func generatorFlattened() throws {
        let out = try runPython([repoRoot + "/scripts/lab/make-es-samples.py", "--flattening-report"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: [[String: String]]])
        let production = try #require(report["production"])
        #expect(production.count == 10)
        for row in production where row["rule"] != "949110" { #expect(row["paired"] == row["crs"], "\(row)") }
        #expect(production.first { $0["rule"] == "949110" }?["paired"]?.hasPrefix("Inbound Anomaly Score Exceeded (Total Score: ") == true)
        let wrong = production.filter { $0["flattened_terms"] != $0["crs"] && !($0["rule"] == "949110" && $0["flattened_terms"]!.hasPrefix("Inbound Anomaly")) }
        #expect(wrong.count == 4)
        #expect(production.first { $0["rule"] == "949110" }?["flattened_terms"] == "Found User-Agent associated with security scanner")
        // And the tool's own decoding of the regenerated sample gives the CRS messages.
        let sample = try [UInt8](Data(contentsOf: URL(fileURLWithPath: repoRoot + "/samples/production/waf/msearch.json")))
        let (s, _) = try MsearchAnswer.decode(sample, place: "sample")
        for r in s.topRules where r.key != "949110" {
            #expect(r.label == production.first { $0["rule"] == r.key }?["crs"], "\(r.key)")
        }
        #expect(s.topRules.first?.label == "Inbound Anomaly Score Exceeded (Total Score: 15)")
    }

    @Test("Access filter: prefix on the ingress_controller module's upstream field; wildcard on a keyword line; phrase on text only with a warning")
    func accessFilter() throws {
        var module = dynamicMapping(auditStrings); module["nginx.ingress_controller.upstream.name"] = "keyword"; module["@timestamp"] = "date"
        let (access, _) = try searches(try resolve(module))
        #expect(access.at("query.bool.filter")?.arrayValue?.last?.serialized() == #"{"prefix":{"nginx.ingress_controller.upstream.name":"shop-production-"}}"#)
        // Dynamic mapping: the line is text; its .keyword (ignore_above 256) misses long lines, so
        // only the phrase is possible, and it is said to be inexact.
        var raw = dynamicMapping(auditStrings); raw["@timestamp"] = "date"
        let rt = try resolve(raw)
        #expect(try searches(rt).0.at("query.bool.filter")?.arrayValue?.last?.serialized() == #"{"match_phrase":{"message":"[shop-production-"}}"#)
        // The line mapped as keyword (or wildcard): matched exactly.
        raw["message"] = "keyword"; raw["message.keyword"] = nil
        let rk = try resolve(raw)
        #expect(try searches(rk).0.at("query.bool.filter")?.arrayValue?.last?.serialized() == #"{"wildcard":{"message":{"value":"* [shop-production-*"}}}"#)
        #expect(!rk.warnings.contains { $0.contains("matched by phrase") })
        #expect(rt.warnings.contains { $0.contains("matched by phrase") && $0.contains("eu-<namespace>-web-80") })
    }

    @Test("Text vs keyword: dynamic mapping uses every .keyword subfield; a text field without one fails naming the field and the fix")
    func textVersusKeyword() throws {
        var m = dynamicMapping(auditStrings, extra: ["@timestamp": "date", "transaction.response.http_code": "long"])
        let r = try resolve(m)
        let (access, audit) = try searches(r)
        #expect(audit.at("aggs.engine_mode.terms.field")?.stringValue == "transaction.producer.secrules_engine.keyword")
        #expect(audit.serialized().contains(#"{"prefix":{"transaction.unique_id.keyword":"shop.example.com-"}}"#))
        #expect(audit.serialized().contains(#"{"term":{"transaction.request.headers.Host.keyword":"shop.example.com"}}"#))
        #expect(access.serialized().contains(#"{"term":{"kubernetes.namespace.keyword":"gitlab-managed-apps"}}"#))
        #expect(r.incomplete.isEmpty && r.missing.isEmpty)
        m["transaction.producer.secrules_engine.keyword"] = nil
        #expect {
            try resolve(m)
        } throws: { e in
            let d = "\(e)"
            return d.contains("field transaction.producer.secrules_engine is mapped as text (not aggregatable)") && d.contains(#"{"transaction.producer.secrules_engine": {"type": "keyword"}}"#)
                && d.contains("fields.engine_mode")
        }
    }

    @Test("The real field_caps example: a field long in some indices and keyword in others, and a text field, are refused by name")
    func realFieldCaps() throws {
        let caps = try FieldCaps.decode(try [UInt8](Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Tests/Fixtures/realworld/elasticsearch/field_caps-reference-7.2.json"))), place: "x")
        #expect(caps.indices.count == 5)
        #expect(caps.fields["rating"]?.map(\.type).sorted() == ["keyword", "long"])
        #expect(throws: SourceError.self) { try caps.aggregatable("rating", key: "status", index: "i") }
        do { _ = try caps.aggregatable("title", key: "uri", index: "i"); Issue.record("text accepted") } catch {
            #expect("\(error)".contains("field title is mapped as text (not aggregatable)"))
        }
        #expect(try caps.aggregatable("absent", key: "uri", index: "i") == nil)
    }

    @Test("decode_json_fields layout: message.transaction.* is detected from the mapping and used in every audit field")
    func messageLayout() throws {
        var m: [String: String] = ["@timestamp": "date", "kubernetes.container.name": "keyword", "kubernetes.namespace": "keyword", "stream": "keyword", "message": "text"]
        for f in auditStrings where f.hasPrefix("transaction.") { m["message." + f] = "keyword" }
        let r = try resolve(m)
        #expect(r.fields.auditLayout == .message)
        let (_, audit) = try searches(r)
        #expect(audit.at("aggs.top_rules.terms.field")?.stringValue == "message.transaction.messages.details.ruleId")
        #expect(audit.at("aggs.top_rules.aggs.message.top_hits._source.includes")?.serialized() == #"["message.transaction.messages"]"#)
    }

    @Test("No hosts: the audit side is narrowed by the configured namespace field, else the run says every document is counted")
    func unattributedAudit() throws {
        var s = Self.settings
        s.fields.auditNamespace = "kubernetes.labels.app_namespace"
        let (_, audit) = try searches(.unresolved(s.fields), settings: s, hosts: [])
        #expect(audit.at("query.bool.filter")?.arrayValue?.last?.serialized() == #"{"term":{"kubernetes.labels.app_namespace":"shop-production"}}"#)
        #expect(audit.at("query.bool.should") == nil)
        let out = try replay(caps: nil, msearch: String(decoding: msearch("3", "1"), as: UTF8.self), hosts: [])
        #expect(out.warnings.contains { $0.hasPrefix("unattributed: every modsecurity-log document of index pattern filebeat-* is counted") })
        // The data-quality contract: the same note under the section's coverage line.
        #expect(out.coverage?.notes.contains { $0.hasPrefix("unattributed: every modsecurity-log document") } == true, "\(String(describing: out.coverage))")
    }

    @Test("A wrong index: _shards.total 0 or no index in _field_caps is a partial section naming the pattern, never OK")
    func wrongIndex() throws {
        let empty = #"{"took":0,"responses":[{"_shards":{"total":0,"successful":0,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"}},"status":200},{"_shards":{"total":0,"successful":0,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"}},"status":200}]}"#
        let out = try replay(caps: nil, msearch: empty)
        #expect(out.incomplete == ["no data found for index pattern filebeat-*: the access-log search ran on no shard (_shards.total is 0)"])
        let out2 = try replay(caps: #"{"indices":[],"fields":{}}"#, msearch: empty)
        #expect(out2.incomplete == ["no data found for index pattern filebeat-*: no index matches it (_field_caps lists no index); every count is 0"])
    }

    @Test("All shards failed: the error shows the root cause with its index and max_buckets, and caused_by")
    func allShardsFailed() throws {
        let fixture = try [UInt8](Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Tests/Fixtures/realworld/elasticsearch/all-shards-failed-too-many-buckets.json")))
        let e = try #require(try JSONValue.parse(bytes: fixture)["error"])
        #expect(MsearchAnswer.describeError(e) == "search_phase_execution_exception: all shards failed; root cause: too_many_buckets_exception: Trying to create too many buckets. Must be less than or equal to: [10000] but was [10001]. This limit can be set by changing the [search.max_buckets] cluster level setting. (max_buckets 10000) (index f2_stg-100k_try1)")
        let fetch = try [UInt8](Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Tests/Fixtures/realworld/elasticsearch/fetch-phase-too-many-buckets.json")))
        let f = try #require(try JSONValue.parse(bytes: fetch)["error"])
        #expect(MsearchAnswer.describeError(f) == "search_phase_execution_exception; caused by: too_many_buckets_exception: Trying to create too many buckets. Must be less than or equal to: [65535] but was [65536] (max_buckets 65535)")
    }

    @Test("Blocked is the file source's definition: engine Enabled, 403 and an anomaly-evaluation rule")
    func blockedDefinition() throws {
        let (_, audit) = try searches(.unresolved(Self.settings.fields))
        #expect(audit.at("aggs.blocked")?.serialized() == #"{"filter":{"bool":{"filter":[{"term":{"transaction.producer.secrules_engine":"Enabled"}},{"term":{"transaction.response.http_code":403}},{"terms":{"transaction.messages.details.ruleId":["949110","949111","959100"]}}]}}}"#)
    }

    @Test("Buckets: a window over max_buckets gets a coarser interval with the arithmetic, or is refused")
    func bucketBudget() throws {
        var s = Self.settings
        s.maxBuckets = 10_000
        let thirtyDays = TimeWindow(from: RFC3339.parse("2026-10-21T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .minute)
        let (w, note) = try WAFQueries(settings: s).fitting(thirtyDays)
        #expect(w.interval == .hour)
        #expect(note == "the minute histogram would need 43200 buckets + 135 for the top lists = 43335, above max_buckets 10000; the Elasticsearch series are by hour instead (855 buckets)")
        s.maxBuckets = 65_535
        #expect(try WAFQueries(settings: s).fitting(thirtyDays).0.interval == .minute)
        s.maxBuckets = 100
        #expect(throws: SourceError.unsupported("the Elasticsearch search would need 30 daily buckets + 135 for the top lists = 165, above max_buckets 100 (the cluster's search.max_buckets): shorten the window or raise max_buckets with the cluster setting")) {
            try WAFQueries(settings: s).fitting(thirtyDays)
        }
    }

    @Test("anomaly_scores is requested live as score messages inside 949110's documents, and decoded to scores")
    func anomalyScores() throws {
        let (_, audit) = try searches(.unresolved(Self.settings.fields))
        #expect(audit.at("aggs.anomaly_scores")?.serialized() == #"{"filter":{"terms":{"transaction.messages.details.ruleId":["949110","949111"]}},"aggs":{"scores":{"terms":{"field":"transaction.messages.message","size":100,"include":"Inbound Anomaly Score Exceeded \\(Total Score: [0-9]+\\)"}}}}"#)
        let extra = #","anomaly_scores":{"doc_count":5,"scores":{"buckets":[{"key":"Inbound Anomaly Score Exceeded (Total Score: 15)","doc_count":3},{"key":"Inbound Anomaly Score Exceeded (Total Score: 5)","doc_count":2}]}}"#
        let (s, _) = try MsearchAnswer.decode(msearch("3", "1", extra: extra), place: "a")
        #expect(s.anomalyScores.map { "\($0.key)=\($0.count)" } == ["5=2", "15=3"])
    }

    @Test("API key: the id:api_key pair is base64-encoded; an encoded key is sent as is")
    func apiKeyForms() throws {
        var a = HTTPAuthSettings()
        a.apiKeyEnv = "K"
        #expect(try SecretReader.authorization(a, redactor: SecretRedactor(), environment: ["K": "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"]) == "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==")
        #expect(try SecretReader.authorization(a, redactor: SecretRedactor(), environment: ["K": "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="]) == "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==")
    }

    @Test("ignore_above of the URI field: the smallest over the indices is a coverage note; a refused mapping request is a note, not a failure")
    func uriIgnoreAbove() throws {
        let answer = #"{"filebeat-b":{"mappings":{"transaction.request.uri":{"full_name":"transaction.request.uri","mapping":{"uri":{"type":"keyword","ignore_above":1024}}}}},"filebeat-a":{"mappings":{"transaction.request.uri":{"full_name":"transaction.request.uri","mapping":{"uri":{"type":"keyword","ignore_above":512}}}}},"other":{"mappings":{}}}"#
        #expect(FieldMapping.ignoreAbove(bytes(answer), field: "transaction.request.uri")! == (512, "filebeat-a"))
        let req = FieldMapping.request(index: "filebeat-*", field: "transaction.request.uri")
        #expect(req.path == "/filebeat-*/_mapping/field/transaction.request.uri" && req.params == [["ignore_unavailable", "true"]])
        let ok = ElasticsearchRun.Answer(status: 200, body: bytes(answer), place: "p", request: req)
        #expect(FieldMapping.note(ok, field: "transaction.request.uri", index: "filebeat-*") == "URIs longer than 512 characters are not indexed in transaction.request.uri (ignore_above 512 in index filebeat-a): they are missing from top URIs, which the file source keeps")
        let refused = ElasticsearchRun.Answer(status: 403, body: bytes(#"{"error":{"type":"security_exception","reason":"action [indices:admin/mappings/fields/get] is unauthorized"},"status":403}"#), place: "p", request: req)
        #expect(FieldMapping.note(refused, field: "transaction.request.uri", index: "filebeat-*")?.contains("security_exception: action [indices:admin/mappings/fields/get] is unauthorized; GET _mapping needs the view_index_metadata privilege") == true)
        #expect(FieldMapping.note(ElasticsearchRun.Answer(status: 200, body: bytes(#"{"filebeat-a":{"mappings":{}}}"#), place: "p", request: req), field: "transaction.request.uri", index: "i") == nil)
    }

    // A replay folder holding these answers, fetched for environment "production" (namespace shop-production).
    func replay(caps: String?, msearch: String, hosts: [String] = ["shop.example.com"]) throws -> SourceOutput<WAFStatistics> {
        let dir = NSTemporaryDirectory() + "es-map-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try msearch.write(toFile: dir + "/msearch.json", atomically: true, encoding: .utf8)
        if let caps { try caps.write(toFile: dir + "/field_caps.json", atomically: true, encoding: .utf8) }
        let env = EnvironmentConfig(name: "production", namespace: "shop-production", hosts: hosts)
        return try ReplayWAFSource(path: dir).fetch(SourceContext(window: Self.window, environment: env, redactor: SecretRedactor()))
    }
}

func runPython(_ args: [String]) throws -> String {
    try runTool("/usr/bin/env", ["python3"] + args)
}
