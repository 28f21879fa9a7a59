/// The caps every parser of untrusted input applies (docs/limits.md). Input past a cap is skipped
/// and counted (log lines) or rejected with an error naming its place (documents, answers); it is
/// never read into memory whole or recursed into without bound.
public enum InputLimits {
    /// Longest log line read: WAF audit and access lines, Hubble flow lines (1 MiB). A longer line
    /// is read through, skipped and counted as "longer than 1 MiB".
    public static let lineBytes = 1 << 20
    /// Deepest JSON nesting accepted: engine answers (Prometheus, Elasticsearch, Kubernetes),
    /// audit lines, Hubble lines, recorded answers.
    public static let jsonDepth = 128
    /// Deepest YAML nesting accepted: the config file and policy manifests.
    public static let yamlDepth = 128
    /// Most YAML nodes one document may stand for once its aliases are expanded (stops "billion
    /// laughs" alias bombs before anything walks the tree).
    public static let yamlNodes = 1_000_000
    /// Largest YAML/JSON document read whole: the config file, a policy manifest file or stream (16 MiB).
    public static let documentBytes = 16 << 20
    /// Largest engine answer (HTTP body or recorded answer file) read: 256 MiB; the HTTP client
    /// stops reading past it.
    public static let answerBytes = 256 << 20

    /// Longest key kept in a count table (a URI, client, rule message, drop reason, flow pair):
    /// 1 KiB, well above what a report shows (160 characters). Longer keys are cut at a UTF-8
    /// character boundary before they are kept, so keys that share their first KiB count together.
    public static let keyBytes = 1024

    /// `b` cut to `keyBytes` at a UTF-8 character boundary.
    @inline(__always)
    public static func keyPrefix(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard b.count > keyBytes else { return b }
        var n = keyBytes
        while n > 0, b[n] & 0xC0 == 0x80 { n -= 1 }  // b[n] is the first byte left out
        return UnsafeBufferPointer(rebasing: b[0..<n])
    }

    /// `s` cut to `keyBytes` of UTF-8 at a character boundary.
    public static func keyPrefix(_ s: String) -> String {
        guard s.utf8.count > keyBytes else { return s }
        var s = s
        return s.withUTF8 { String(decoding: keyPrefix($0), as: UTF8.self) }
    }

    /// "1 MiB", "16 MiB".
    public static func describe(bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes >= 1024 && bytes % 1024 == 0 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }
}

extension Int {
    /// The nearest integer to `value`, clamped to ±2^53 (the integers a Double holds exactly; NaN
    /// gives 0). Engine answers carry doubles (Prometheus `increase()`): `Int(_:)` traps on 1e300,
    /// and a count at Int.max would trap again when added to another.
    public init(saturating value: Double) {
        let limit = Double(1 << 53)
        let r = value.rounded()
        self = r.isNaN ? 0 : Int(Swift.min(Swift.max(r, -limit), limit))
    }
}
