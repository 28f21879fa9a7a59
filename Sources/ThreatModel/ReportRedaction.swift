import Foundation

extension SecretRedactor {
    /// `value` with every string in it (at any depth: causes, warnings, ranked keys, policy
    /// manifests, evidence…) passed through `redact`. Generic over the model's `Codable` shape, so a
    /// field added later is covered too: the value is encoded, each string value (never a key) is
    /// redacted, and the result decoded. Numbers and dates are copied as their exact text.
    public func redactStrings<T: Codable>(_ value: T) throws -> T {
        guard !isEmpty else { return value }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: Self.infinity, negativeInfinity: Self.minusInfinity, nan: Self.nan)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: Self.infinity, negativeInfinity: Self.minusInfinity, nan: Self.nan)
        let encoded = Array(try encoder.encode(value))
        guard let rewritten = rewriteStringValues(encoded) else { return value }
        return try decoder.decode(T.self, from: Data(rewritten))
    }

    static let infinity = "secret-redactor:+inf", minusInfinity = "secret-redactor:-inf", nan = "secret-redactor:nan"

    /// The JSON text with each string value redacted, or nil when none changed.
    func rewriteStringValues(_ json: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var copied = 0
        var i = 0
        var changed = false
        while i < json.count {
            guard json[i] == UInt8(ascii: "\"") else { i += 1; continue }
            var j = i + 1
            while j < json.count, json[j] != UInt8(ascii: "\"") { j += json[j] == UInt8(ascii: "\\") ? 2 : 1 }
            let end = min(j + 1, json.count)
            var k = end
            while k < json.count, [0x20, 0x0A, 0x0D, 0x09].contains(json[k]) { k += 1 }
            let isKey = k < json.count && json[k] == UInt8(ascii: ":")
            if !isKey, case let .string(s)? = try? JSONValue.parse(bytes: Array(json[i..<end])),
               ![Self.infinity, Self.minusInfinity, Self.nan].contains(s) {
                let r = redact(s)
                if r != s {
                    out.append(contentsOf: json[copied..<i])
                    out.append(contentsOf: Array(JSONValue.string(r).serialized().utf8))
                    copied = end
                    changed = true
                }
            }
            i = end
        }
        guard changed else { return nil }
        out.append(contentsOf: json[copied...])
        return out
    }
}
