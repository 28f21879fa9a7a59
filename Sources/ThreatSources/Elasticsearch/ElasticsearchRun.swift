import Foundation
import ThreatConfig
import ThreatModel

/// One environment's work against Elasticsearch, the same live and replayed: `_field_caps` for the
/// index pattern, the field names resolved, the bucket budget checked, then one `_msearch`.
struct ElasticsearchRun {
    /// An answer: HTTP status (200 for a recording), body, where it came from (for messages and
    /// evidence) and the request that the evidence lists.
    typealias Answer = EngineAnswer

    var settings: ElasticsearchSettings
    /// Sends (or looks up) a request saved under a recording name; nil when a recording lacks it.
    var exchange: (RecordedRequest, String, String?) throws(SourceError) -> Answer?

    static func checked(_ a: Answer) throws(SourceError) -> Answer {
        if a.status >= 400 {
            let detail = (try? JSONValue.parse(bytes: a.body)).flatMap { $0["error"] }.map(MsearchAnswer.describeError)
                ?? String(decoding: a.body.prefix(300), as: UTF8.self)
            throw .engine(place: a.place, status: a.status, message: detail)
        }
        return a
    }

    /// `coverageSource` names the source in the coverage line (the live source's name when a
    /// recording of it is replayed, so the replayed report is the recorded one byte for byte).
    func run(_ context: SourceContext, coverageSource: String = "elasticsearch") throws(SourceError) -> SourceOutput<WAFStatistics> {
        let env = context.environment
        var evidence: [EvidenceItem] = []
        var warnings: [String] = [], incomplete: [String] = []
        // 1. The mapping of the index pattern (a live run asks it once per run: RunCaches).
        let capsRequest = FieldCaps.request(index: settings.index, fields: FieldCaps.askedFields(settings.fields))
        var resolution = FieldResolution.unresolved(settings.fields)
        if let a = try exchange(capsRequest, "field_caps", nil) {
            let answer = try Self.checked(a)
            let caps = try FieldCaps.decode(answer.body, place: answer.place)
            resolution = try FieldResolution.resolve(settings.fields, caps: caps, index: settings.index, needsHostFields: !env.hosts.isEmpty)
            evidence.append(EvidenceItem(section: "waf", source: answer.place, query: answer.request.summary, sha256: SHA256Digest.hex(answer.body)))
        }
        warnings += resolution.warnings
        incomplete += resolution.incomplete
        // The URI field's ignore_above, when the mapping was read and has the field.
        if !evidence.isEmpty, !resolution.missing.contains("uri"), resolution.incomplete.isEmpty {
            let uri = resolution.fields.uri
            let a = try exchange(FieldMapping.request(index: settings.index, field: uri), "uri_mapping", nil)
            if let note = FieldMapping.note(a, field: uri, index: settings.index) { warnings.append(note) }
            if let a, a.status < 400 {
                evidence.append(EvidenceItem(section: "waf", source: a.place, query: a.request.summary, sha256: SHA256Digest.hex(a.body)))
            }
        }
        if env.hosts.isEmpty, resolution.fields.auditNamespace == nil {
            warnings.append("unattributed: every \(settings.auditContainer) document of index pattern \(settings.index) is counted as environment \(env.name)'s (it has no hosts, and waf.elasticsearch.fields.audit_namespace is not set)")
        }
        if env.hosts.isEmpty, resolution.accessMatch == .host {
            warnings.append("unattributed: every access document of containers \(settings.accessContainers.joined(separator: ", ")) in namespace \(settings.ingressNamespace) is counted as environment \(env.name)'s (the access lines are selected by host, and it has no hosts)")
        }
        // 2. The bucket budget, before sending.
        let (window, coarser) = try WAFQueries(settings: settings, resolution: resolution).fitting(context.window)
        if let coarser { warnings.append(coarser) }
        // 3. The searches.
        let queries = WAFQueries(settings: settings, resolution: resolution)
        let request = queries.request(namespace: env.namespace, hosts: env.hosts, window: window)
        guard let a = try exchange(request, "msearch", "application/x-ndjson") else {
            throw .unsupported("no msearch answer")
        }
        let answer = try Self.checked(a)
        let json = try MsearchAnswer.parse(answer.body, place: answer.place)
        var (stats, decodeWarnings) = try MsearchAnswer.decode(json: json, place: answer.place, pairing: queries.rulePairing)
        warnings += decodeWarnings
        for (i, r) in (json["responses"]?.arrayValue ?? []).prefix(2).enumerated() where r.at("_shards.total")?.intValue == 0 {
            let note = "no data found for index pattern \(settings.index): the \(i == 0 ? "access-log" : "audit") search ran on no shard (_shards.total is 0)"
            if !incomplete.contains(where: { $0.hasPrefix("no data found for index pattern") }) { incomplete.append(note) }
        }
        stats.totalHistory = stats.totalHistory.filter { $0.time >= context.window.from && $0.time < context.window.to }
        stats.anomalousHistory = stats.anomalousHistory.filter { $0.time >= context.window.from && $0.time < context.window.to }
        evidence.append(EvidenceItem(section: "waf", source: answer.place, query: answer.request.summary, sha256: SHA256Digest.hex(answer.body)))
        var coverage = MsearchAnswer.coverage(stats, bytes: answer.body.count, source: coverageSource)
        // Nothing narrowed the audit search to this environment: say so where the coverage is read.
        coverage.notes += warnings.filter { $0.hasPrefix("unattributed:") }
        return SourceOutput(value: stats, evidence: evidence, warnings: warnings, incomplete: incomplete, coverage: coverage)
    }
}
