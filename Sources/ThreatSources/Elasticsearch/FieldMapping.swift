import Foundation
import ThreatConfig
import ThreatModel

/// `GET /<index>/_mapping/field/<uri field>`, for its `ignore_above`: keyword values longer
/// than it are not indexed, so such URIs are missing from top URIs on Elasticsearch while the file
/// source keeps them. Elasticsearch reference, "Get field mapping API" (answer:
/// `{"<index>": {"mappings": {"<field>": {"full_name", "mapping": {"<leaf>": {"type", "ignore_above"}}}}}}`)
/// and "ignore_above" (Filebeat's template: 1024; dynamic `.keyword`: 256).
public enum FieldMapping {
    public static func request(index: String, field: String) -> RecordedRequest {
        let target = EngineClient.encode(index).replacingOccurrences(of: "%2A", with: "*").replacingOccurrences(of: "%2C", with: ",")
        return RecordedRequest(method: "GET", path: "/\(target)/_mapping/field/\(EngineClient.encode(field))",
                               params: [["ignore_unavailable", "true"]])
    }

    /// The smallest `ignore_above` of `field` over the indices, with the index that has it.
    public static func ignoreAbove(_ bytes: [UInt8], field: String) -> (limit: Int, index: String)? {
        guard let json = try? JSONValue.parse(bytes: bytes), case let .object(indices) = json else { return nil }
        var best: (limit: Int, index: String)?
        for (index, v) in indices {
            guard case let .object(leaves)? = v.at("mappings")?[field]?["mapping"] else { continue }
            for (_, leaf) in leaves {
                if let n = leaf["ignore_above"]?.intValue, best == nil || n < best!.limit || (n == best!.limit && index < best!.index) {
                    best = (n, index)
                }
            }
        }
        return best
    }

    /// The coverage note for the answer (nil when no limit is mapped), or why it could not be read.
    static func note(_ answer: ElasticsearchRun.Answer?, field: String, index: String) -> String? {
        guard let answer else { return nil }
        if answer.status >= 400 || (try? JSONValue.parse(bytes: answer.body))?["error"] != nil {
            let detail = (try? JSONValue.parse(bytes: answer.body)).flatMap { $0["error"] }.map(MsearchAnswer.describeError) ?? "HTTP \(answer.status)"
            return "the mapping of \(field) could not be read (\(detail); GET _mapping needs the view_index_metadata privilege): URIs longer than its ignore_above, if any, are missing from top URIs"
        }
        guard let (limit, where_) = ignoreAbove(answer.body, field: field) else { return nil }
        return "URIs longer than \(limit) characters are not indexed in \(field) (ignore_above \(limit) in index \(where_)): they are missing from top URIs, which the file source keeps"
    }
}
