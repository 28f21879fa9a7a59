/// The byte-level JSON pieces the validating scanners share (`AuditJSONScanner` for audit
/// entries, `HubbleFlowScanner` for flow lines): each reads the buffer `p[0..<n]` from `i` and
/// leaves `i` after what it read. Anything they refuse goes back to the caller, which hands the
/// line to the tree parser or skips it.
enum JSONBytes {
    /// Skips JSON whitespace.
    @inline(__always)
    static func skipWhitespace(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) {
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    /// Scans a string from its opening quote; leaves `i` after the closing quote. Whether it holds
    /// escapes, or nil when it is not a valid JSON string.
    @inline(__always)
    static func string(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> Bool? {
        i += 1
        var escaped = false
        while true {
            // Eight bytes at a time up to the first quote, backslash or control byte.
            while i + 8 <= n {
                let m = specialBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                if m != 0 {
                    i += m.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < n else { return nil }
            let c = p[i]
            if c == 0x22 { i += 1; return escaped }
            if c == 0x5C {
                escaped = true
                guard i + 1 < n else { return nil }
                switch p[i + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i += 2
                case 0x75:
                    guard i + 6 <= n, (2..<6).allSatisfy({ isHex(p[i + $0]) }) else { return nil }
                    i += 6
                default: return nil
                }
                continue
            }
            if c < 0x20 { return nil }
            i += 1
        }
    }

    /// Whether the `length` bytes at `i` spell `word` (`true`, `false`, `null`, big-endian).
    @inline(__always)
    static func isLiteral(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ word: UInt64, _ length: Int) -> Bool {
        guard i + length <= n else { return false }
        var w: UInt64 = 0
        for k in 0..<length { w = w << 8 | UInt64(p[i + k]) }
        return w == word
    }

    /// The high bit of each byte of `w` (loaded little-endian) that is `"` (0x22), `\` (0x5C) or
    /// below 0x20. Bytes above a match may be flagged too (borrows), never bytes below it, so the
    /// lowest set bit marks the first special byte.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let quote = zeroBytes(w ^ (ones &* 0x22))
        let slash = zeroBytes(w ^ (ones &* 0x5C))
        let control = (w &- ones &* 0x20) & ~w & highs
        return quote | slash | control
    }

    @inline(__always)
    static func isHex(_ c: UInt8) -> Bool { (c &- 0x30) < 10 || ((c | 0x20) &- 0x61) < 6 }

    /// A JSON string's content with its escapes decoded (`\uXXXX` as UTF-8; surrogate pairs joined,
    /// lone surrogates as U+FFFD). Tolerant: a `\u` without four hex digits becomes `?`, so it also
    /// serves strings no scanner validated.
    static func unescape(_ p: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = 0
        while i < p.count {
            let c = p[i]
            guard c == 0x5C, i + 1 < p.count else { out.append(c); i += 1; continue }
            let e = p[i + 1]
            i += 2
            switch e {
            case 0x6E: out.append(0x0A)
            case 0x74: out.append(0x09)
            case 0x72: out.append(0x0D)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x75:
                guard i + 4 <= p.count, var v = hex4(p, i) else { out.append(0x3F); continue }
                i += 4
                if (0xD800..<0xDC00).contains(v), i + 6 <= p.count, p[i] == 0x5C, p[i + 1] == 0x75, let lo = hex4(p, i + 2),
                   (0xDC00..<0xE000).contains(lo) {
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                    i += 6
                }
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: out.append(e)
            }
        }
    }

    static func hex4(_ p: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        var v: UInt32 = 0
        for k in at..<(at + 4) {
            guard let h = AccessLogLine.hex(p[k]) else { return nil }
            v = v << 4 | UInt32(h)
        }
        return v
    }

    /// `unescape(_:into:)` into a new array.
    static func unescaped(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(p.count)
        unescape(p, into: &out)
        return out
    }
}
