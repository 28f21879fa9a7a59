import Foundation
import ThreatConfig
import ThreatModel

/// The `_field_caps` answer for one index pattern: which indices matched, and for each asked field
/// its types and whether each type is aggregatable. Elasticsearch reference, "Field capabilities
/// API" (`GET /<target>/_field_caps?fields=…`): `{"indices": [...], "fields": {"name": {"<type>":
/// {"type", "searchable", "aggregatable", "indices"?}}}}`. A `text` field is not aggregatable; the
/// dynamic mapping of a string is `text` with a `keyword` multi-field (`name.keyword`,
/// `ignore_above: 256`) — reference, "Dynamic field mapping".
public struct FieldCaps: Sendable, Equatable {
    public var indices: [String]
    /// Field name → (type, aggregatable) per type the indices map it to.
    public var fields: [String: [FieldType]]

    public struct FieldType: Sendable, Equatable {
        public var type: String
        public var aggregatable: Bool
    }

    public static func request(index: String, fields: [String]) -> RecordedRequest {
        RecordedRequest(method: "GET", path: "/\(EngineClient.encode(index).replacingOccurrences(of: "%2A", with: "*").replacingOccurrences(of: "%2C", with: ","))/_field_caps",
                        params: [["fields", fields.joined(separator: ",")], ["ignore_unavailable", "true"]])
    }

    public static func decode(_ bytes: [UInt8], place: String) throws(SourceError) -> FieldCaps {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes: bytes) } catch { throw .malformed(place: place, detail: "not valid JSON at \(error)") }
        if let err = json["error"] {
            throw .engine(place: place, status: json["status"]?.intValue, message: MsearchAnswer.describeError(err))
        }
        guard case let .object(pairs)? = json["fields"] else {
            throw .malformed(place: place, detail: "not a _field_caps answer (no \"fields\" object)")
        }
        var fields: [String: [FieldType]] = [:]
        for (name, caps) in pairs {
            guard case let .object(types) = caps else { continue }
            fields[name] = types.map { FieldType(type: $1["type"]?.stringValue ?? $0, aggregatable: $1["aggregatable"]?.boolValue ?? false) }
        }
        return FieldCaps(indices: (json["indices"]?.arrayValue ?? []).compactMap(\.stringValue), fields: fields)
    }

    /// Every field name the searches may use, with its `.keyword` subfield, for both audit layouts
    /// and both access layouts when the config leaves them on `auto`.
    public static func askedFields(_ f: ElasticsearchFields) -> [String] {
        var names = [f.time, f.container, f.kubernetesNamespace, f.stream]
        if f.accessLayout == .auto || f.accessLayout == .ingressController { names.append(f.upstream) }
        if f.accessLayout == .auto || f.accessLayout == .raw { names.append(f.accessMessage) }
        if f.auditLayout != .message { names += f.auditFieldNames }
        if f.auditLayout != .root { names += f.auditFieldNames.map { "message." + $0 } }
        if let ns = f.auditNamespace { names.append(ns) }
        var seen = Set<String>(), out: [String] = []
        for n in names.flatMap({ [$0, $0 + ".keyword"] }) where seen.insert(n).inserted { out.append(n) }
        return out
    }

    func present(_ name: String) -> Bool { !(fields[name] ?? []).isEmpty }

    /// The name to search and aggregate on: the field when every index maps it aggregatable, else
    /// its `.keyword` subfield, else nil when the field is absent. A field that exists but is not
    /// aggregatable and has no keyword subfield is an error naming the field and the fix.
    func aggregatable(_ name: String, key: String, index: String) throws(SourceError) -> String? {
        let own = fields[name] ?? []
        if !own.isEmpty, own.allSatisfy(\.aggregatable) { return name }
        if let kw = fields[name + ".keyword"], !kw.isEmpty, kw.allSatisfy(\.aggregatable) { return name + ".keyword" }
        if own.isEmpty { return nil }
        let types = own.map { "\($0.type)\($0.aggregatable ? "" : " (not aggregatable)")" }.joined(separator: ", ")
        throw .unsupported("""
            Elasticsearch index pattern \(index): field \(name) is mapped as \(types) and has no aggregatable .keyword subfield, \
            so it can be neither counted exactly nor aggregated. Map it as keyword (an index template with \
            {"\(name)": {"type": "keyword"}}, Filebeat's strings_as_keyword, or a "keyword" multi-field) and reindex, \
            or point waf.elasticsearch.fields.\(key) at a keyword field
            """)
    }
}
