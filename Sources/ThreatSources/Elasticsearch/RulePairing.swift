import Foundation
import ThreatModel

/// Pairs a rule id with its own message inside one audit document's `_source`.
///
/// Elasticsearch stores an array of objects without a `nested` mapping flattened: the document
/// `{"messages": [{"message": "A", "details": {"ruleId": "1"}}, {"message": "B", "details":
/// {"ruleId": "2"}}]}` is indexed as `messages.message: ["A", "B"]`, `messages.details.ruleId:
/// ["1", "2"]`, and the association between A and 1 is lost to queries and aggregations
/// (Elasticsearch reference, "Nested field type", "How arrays of objects are flattened"). `_source`
/// keeps the document as sent, so the pairing is done here.
public struct RulePairing: Sendable, Equatable {
    /// The array both fields share (`transaction.messages`), empty when they share none.
    public var arrayPath: [String]
    public var rulePath: [String]
    public var messagePath: [String]

    public init(ruleIDField: String, messageField: String) {
        func parts(_ s: String) -> [String] {
            let p = s.split(separator: ".").map(String.init)
            return p.last == "keyword" ? Array(p.dropLast()) : p
        }
        let r = parts(ruleIDField), m = parts(messageField)
        var common = 0
        while common < min(r.count, m.count) - 1, r[common] == m[common] { common += 1 }
        arrayPath = Array(r.prefix(common))
        rulePath = Array(r.dropFirst(common))
        messagePath = Array(m.dropFirst(common))
    }

    /// What `top_hits` asks `_source` for.
    public var sourcePath: String { (arrayPath.isEmpty ? messagePath : arrayPath).joined(separator: ".") }
    /// Every path `top_hits` needs: the shared array, or (fields that share none, as in ECS
    /// `rule.id` and `message`) the message and the rule id both.
    public var sourcePaths: [String] {
        arrayPath.isEmpty ? [messagePath.joined(separator: "."), rulePath.joined(separator: ".")] : [sourcePath]
    }

    /// Every value at a dotted path, through arrays and through keys that themselves hold dots
    /// (`{"transaction.messages": …}` as some shippers write them).
    static func values(_ v: JSONValue, _ path: ArraySlice<String>) -> [JSONValue] {
        if case let .array(items) = v { return items.flatMap { values($0, path) } }
        guard let first = path.first else { return [v] }
        guard case .object = v else { return [] }
        var out: [JSONValue] = []
        var key = first
        var rest = path.dropFirst()
        while true {
            if let child = v[key] { out += values(child, rest) }
            guard let next = rest.first else { break }
            key += "." + next
            rest = rest.dropFirst()
        }
        return out
    }

    /// The message of the element whose rule id is `ruleID`, in a `top_hits` hit's `_source`.
    public func message(for ruleID: String, source: JSONValue) -> String? {
        let elements = arrayPath.isEmpty ? [source] : Self.values(source, arrayPath[...])
        for e in elements {
            let ids = Self.values(e, rulePath[...]).compactMap(\.scalarText)
            guard ids.contains(ruleID) else { continue }
            if let m = Self.values(e, messagePath[...]).compactMap(\.stringValue).first { return m }
        }
        return nil
    }

    /// The label of a `top_rules` bucket: from its `top_hits` document, or — in answers recorded
    /// before the pairing — the first term of a `message` terms sub-aggregation.
    public func label(bucket: JSONValue, ruleID: String) -> String? {
        if let hit = bucket.at("message.hits.hits")?.arrayValue?.first, let source = hit["_source"] {
            return message(for: ruleID, source: source)
        }
        return bucket.at("message.buckets")?.arrayValue?.first?["key"]?.scalarText
    }

    /// The score in 949110's message `Inbound Anomaly Score Exceeded (Total Score: N)`.
    public static func totalScore(_ message: String) -> Int? {
        guard let r = message.range(of: "(Total Score: ") else { return nil }
        let digits = message[r.upperBound...].prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 6, message[r.upperBound...].dropFirst(digits.count).first == ")" else { return nil }
        return Int(digits)
    }
}
