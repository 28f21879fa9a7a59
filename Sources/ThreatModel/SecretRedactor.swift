import Foundation

/// The run's one list of secrets, and the filter every string that leaves the process goes
/// through (report fields, error causes, log lines, recordings, terminal output).
///
/// Each secret the run loads (API key, password, basic-auth pair, bearer and kubeconfig tokens,
/// client-key PEM) is registered when it is loaded. `redact` replaces every occurrence with
/// `SecretRedactor.marker`, in the forms a server, a proxy or a parser can echo it in:
/// - the raw bytes, and their base64 (standard and URL-safe, with and without padding, and the
///   secret's bytes at any alignment inside a longer base64 text);
/// - each of those forms with any of its bytes percent-encoded (`%2F` or `%2f`, `+` for a space)
///   or JSON-escaped (`\/`, `\"`, `\\`, `\n`…, `\u00XX`, `\uXXXX` and surrogate pairs), mixed freely.
///
/// Length rule: a value shorter than `minimumLength` (4) bytes is not registered (it would turn
/// every such substring of a report into the marker, and the marker's places would spell it out);
/// a value of 4 to 7 bytes is matched only as a whole token (no ASCII letter or digit right
/// before or after it); from `substringLength` (8) bytes on, it is matched anywhere.
///
/// One instance per run, passed explicitly; safe to use from the run's threads.
public final class SecretRedactor: Sendable {
    public static let marker = "[REDACTED]"
    public static let minimumLength = 4
    public static let substringLength = 8

    struct Needle: Hashable {
        var bytes: [UInt8]
        var tokenOnly: Bool
    }

    /// What `redact` matches with, behind the one lock box.
    struct Table {
        /// Longest first, so a padded base64 form wins over its unpadded prefix.
        var needles: [Needle] = []
        /// For each byte, the needles (indices, longest first) a match starting with it may be.
        var byFirstByte = [[Int]](repeating: [], count: 256)
        /// The byte pairs (first << 8 | second) a match can start with, to skip most bytes at once.
        var pairs = [Bool](repeating: false, count: 1 << 16)
    }
    private let table = Locked(Table())

    public init() {}

    /// True when nothing is registered (nothing can be redacted).
    public var isEmpty: Bool { table.withLock { $0.needles.isEmpty } }

    /// Registers a secret (and its base64 forms). Values shorter than `minimumLength` bytes are ignored.
    public func register(_ secret: String) { register(bytes: Array(secret.utf8)) }

    public func register(bytes secret: [UInt8]) {
        guard secret.count >= Self.minimumLength else { return }
        let tokenOnly = secret.count < Self.substringLength
        var forms: [[UInt8]] = [secret]
        for alphabet in [Base64Alphabet.standard, .urlSafe] {
            let full = alphabet.encode(secret)
            forms.append(full)
            forms.append(Array(full.prefix { $0 != UInt8(ascii: "=") }))
            // The secret inside a longer base64 text, at each of the three alignments: the
            // characters made of its bytes only.
            for skip in 0..<3 where secret.count - skip >= 6 {
                let rest = Array(secret[skip...])
                forms.append(Array(alphabet.encode(rest).prefix(rest.count / 3 * 4)))
            }
        }
        table.withLock { t in
            var known = Set(t.needles)
            for f in forms where f.count >= Self.minimumLength {
                let n = Needle(bytes: f, tokenOnly: tokenOnly || f.count < Self.substringLength)
                guard known.insert(n).inserted else { continue }
                t.needles.append(n)
            }
            t.needles.sort { $0.bytes.count > $1.bytes.count }
            t.byFirstByte = [[Int]](repeating: [], count: 256)
            for (i, n) in t.needles.enumerated() {
                for b in Self.firstBytes(of: n.bytes[0]) { t.byFirstByte[Int(b)].append(i) }
                // A literal first byte, then the second literal or starting an escape; an escaped first
                // byte ('%', '\', '+') is always a candidate.
                for second in Self.firstBytes(of: n.bytes[1]) { t.pairs[Int(n.bytes[0]) << 8 | Int(second)] = true }
            }
            for b in [UInt8(ascii: "%"), UInt8(ascii: "\\"), UInt8(ascii: "+")] where !t.byFirstByte[Int(b)].isEmpty {
                for second in 0..<256 { t.pairs[Int(b) << 8 | second] = true }
            }
        }
    }

    /// Registers a PEM block: the whole text, its base64 body in one piece, and each body line.
    public func register(pem: String) {
        register(pem)
        let body = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("-----") && !$0.contains(":") }
        register(body.joined())
        body.forEach { register($0) }
    }

    public func redact(_ text: String) -> String {
        let (needles, index, pairs) = snapshot()
        guard !needles.isEmpty else { return text }
        let bytes = Array(text.utf8)
        guard let out = Self.replace(bytes, needles: needles, index: index, pairs: pairs) else { return text }
        return String(decoding: out, as: UTF8.self)
    }

    public func redact(bytes: [UInt8]) -> [UInt8] {
        let (needles, index, pairs) = snapshot()
        guard !needles.isEmpty else { return bytes }
        return Self.replace(bytes, needles: needles, index: index, pairs: pairs) ?? bytes
    }

    private func snapshot() -> ([Needle], [[Int]], [Bool]) {
        table.withLock { ($0.needles, $0.byFirstByte, $0.pairs) }
    }

    // MARK: Matching

    /// The bytes an encoded form of `b` can start with.
    static func firstBytes(of b: UInt8) -> [UInt8] {
        var out: [UInt8] = [b, UInt8(ascii: "%"), UInt8(ascii: "\\")]
        if b == UInt8(ascii: " ") { out.append(UInt8(ascii: "+")) }
        return out
    }

    /// `bytes` with every match replaced, or nil when nothing matched.
    static func replace(_ h: [UInt8], needles: [Needle], index: [[Int]], pairs: [Bool]) -> [UInt8]? {
        var out: [UInt8] = []
        var copied = 0
        var i = 0
        let marker = Array(Self.marker.utf8)
        let count = h.count
        while i < count {
            // Skip ahead to the next byte pair a match can start with.
            let next: Int = h.withUnsafeBufferPointer { hb in
                pairs.withUnsafeBufferPointer { pb in
                    var j = i
                    while j + 1 < count, !pb[Int(hb[j]) << 8 | Int(hb[j + 1])] { j += 1 }
                    return j + 1 < count ? j : count
                }
            }
            i = next
            guard i < count else { break }
            var matchedEnd: Int?
            for k in index[Int(h[i])] {
                let n = needles[k]
                if n.tokenOnly, i > 0, isWordByte(h[i - 1]) { continue }
                if let end = match(n.bytes, in: h, at: i), !(n.tokenOnly && end < h.count && isWordByte(h[end])) {
                    matchedEnd = end
                    break
                }
            }
            if let end = matchedEnd {
                if out.isEmpty { out.reserveCapacity(h.count) }
                out.append(contentsOf: h[copied..<i])
                out.append(contentsOf: marker)
                i = end
                copied = end
            } else {
                i += 1
            }
        }
        guard copied > 0 else { return nil }
        out.append(contentsOf: h[copied...])
        return out
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// The end of `needle` at `start` in `h`, each needle byte literal or encoded; nil if no match.
    static func match(_ needle: [UInt8], in h: [UInt8], at start: Int) -> Int? {
        var p = start
        var k = 0
        while k < needle.count {
            guard p < h.count else { return nil }
            let b = needle[k], c = h[p]
            // A backslash may start a JSON escape or stand for itself: try the escape first.
            if c == UInt8(ascii: "\\"), p + 1 < h.count, let (used, consumed) = jsonEscape(in: h, at: p, needle: needle, k) {
                if c != b { p += used; k += consumed; continue }
                if let end = match(Array(needle[(k + consumed)...]), in: h, at: p + used) { return end }
            }
            if c == b { p += 1; k += 1; continue }
            if c == UInt8(ascii: "%"), p + 2 < h.count, let v = hexByte(h[p + 1], h[p + 2]), v == b { p += 3; k += 1; continue }
            if c == UInt8(ascii: "+"), b == UInt8(ascii: " ") { p += 1; k += 1; continue }
            return nil
        }
        return p
    }

    /// A JSON escape at `h[p]` standing for the needle's next byte(s): (escape length, needle bytes).
    static func jsonEscape(in h: [UInt8], at p: Int, needle: [UInt8], _ k: Int) -> (Int, Int)? {
        let b = needle[k], e = h[p + 1]
        let short: UInt8? = switch e {
        case 0x22, 0x5C, 0x2F: e
        case 0x62: 0x08
        case 0x66: 0x0C
        case 0x6E: 0x0A
        case 0x72: 0x0D
        case 0x74: 0x09
        default: nil
        }
        if let short { return short == b ? (2, 1) : nil }
        guard e == UInt8(ascii: "u"), let u = hex4(h, p + 2) else { return nil }
        // The needle's next scalar, decoded from its UTF-8.
        guard let (scalar, length) = scalar(in: needle, at: k) else { return nil }
        if scalar < 0x10000 { return u == scalar ? (6, length) : nil }
        let v = scalar - 0x10000
        let high = 0xD800 + (v >> 10), low = 0xDC00 + (v & 0x3FF)
        guard u == high, p + 11 < h.count, h[p + 6] == UInt8(ascii: "\\"), h[p + 7] == UInt8(ascii: "u"),
              let u2 = hex4(h, p + 8), u2 == low else { return nil }
        return (12, length)
    }

    static func scalar(in s: [UInt8], at k: Int) -> (UInt32, Int)? {
        let b0 = UInt32(s[k])
        if b0 < 0x80 { return (b0, 1) }
        let length = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0
        guard length > 0, k + length <= s.count else { return nil }
        var v = b0 & (0xFF >> (length + 1))
        for j in 1..<length { v = (v << 6) | (UInt32(s[k + j]) & 0x3F) }
        return (v, length)
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    static func hexByte(_ a: UInt8, _ b: UInt8) -> UInt8? {
        guard let x = hexDigit(a), let y = hexDigit(b) else { return nil }
        return x << 4 | y
    }

    static func hex4(_ h: [UInt8], _ p: Int) -> UInt32? {
        guard p + 3 < h.count else { return nil }
        var v: UInt32 = 0
        for j in 0..<4 {
            guard let d = hexDigit(h[p + j]) else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}

/// Base64 (RFC 4648) with its two alphabets, padded.
enum Base64Alphabet {
    case standard, urlSafe

    func encode(_ bytes: [UInt8]) -> [UInt8] {
        let text = Data(bytes).base64EncodedString()
        switch self {
        case .standard: return Array(text.utf8)
        case .urlSafe:
            return text.utf8.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
        }
    }
}
