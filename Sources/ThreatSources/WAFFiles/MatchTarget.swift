import Foundation

/// The variable a rule matched, read from what the engine logged for the match (the tuning input,
/// docs/waf.md "Tuning candidates"):
/// - `Matched Data: union select found within ARGS:q: union select store` (the CRS's `logdata`, in
///   libmodsecurity's `details.data`, v2's and native `[data "…"]`, Coraza's `data.data`);
/// - ``Matched "Operator `Rx' … against variable `ARGS:q' (Value: `…' )`` (libmodsecurity's
///   `details.match`, the native v3 message);
/// - `Pattern match "…" at ARGS:q.` (ModSecurity 2's message, Coraza's error line).
///
/// The result is `COLLECTION` or `COLLECTION:key` (the collection in capitals, digits and `_`),
/// at most `maxBytes` long; anything else gives nothing.
enum MatchTarget {
    static let maxBytes = 256

    /// The target a match names: in its data (`found within`), else its match text (`against
    /// variable`), else its message (` at `).
    static func find(data: UnsafeBufferPointer<UInt8>, match: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        span(data: data, match: match, message: message).map { Array($0) }
    }

    /// The same target as `find(data:match:message:)`, as the bytes of whichever input names it
    /// (valid as long as that input is; nothing is copied).
    static func span(data: UnsafeBufferPointer<UInt8>, match: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        afterMarker(data, "found within ", stop: .colonSpace) ?? afterMarker(match, "against variable `", stop: .quote)
            ?? afterMarker(message, " at ", stop: .dotOrEnd)
    }

    /// A whole v2 or native message line: its `[data "…"]` tag, else its text.
    static func find(line: [UInt8]) -> [UInt8]? {
        if let data = AuditEntryReader.v2Tag("data", in: line),
           let t = data.withUnsafeBufferPointer({ afterMarker($0, "found within ", stop: .colonSpace).map { Array($0) } }) {
            return t
        }
        return line.withUnsafeBufferPointer { l in
            (afterMarker(l, "against variable `", stop: .quote) ?? afterMarker(l, " at ", stop: .dotOrEnd)).map { Array($0) }
        }
    }

    enum Stop { case colonSpace, quote, dotOrEnd }

    static func afterMarker(_ t: UnsafeBufferPointer<UInt8>, _ marker: StaticString, stop: Stop) -> UnsafeBufferPointer<UInt8>? {
        let m = UnsafeBufferPointer(start: marker.utf8Start, count: marker.utf8CodeUnitCount)
        // The marker ends before the text does.
        var k = 0
        while let at = ErrorLogParser.find(m, in: t, from: k, to: t.count - 1) {
            if let v = variable(t, from: at + m.count, stop: stop) { return v }
            k = at + 1
        }
        return nil
    }

    /// `COLLECTION[:key]` starting at `start`, ended as `stop` says.
    static func variable(_ t: UnsafeBufferPointer<UInt8>, from start: Int, stop: Stop) -> UnsafeBufferPointer<UInt8>? {
        var i = start
        while i < t.count, (t[i] >= 0x41 && t[i] <= 0x5A) || t[i] == 0x5F || (t[i] &- 0x30) < 10 { i += 1 }
        // A collection name: at least two characters, starting with a capital.
        guard i - start >= 2, t[start] >= 0x41, t[start] <= 0x5A else { return nil }
        var end = i
        if i < t.count, t[i] == 0x3A, !(i + 1 < t.count && t[i + 1] == 0x20) {
            // The key runs to the stop.
            var j = i + 1
            switch stop {
            case .colonSpace:
                // To `: value`, a line end, or the end of the text (Coraza may log no value).
                while j < t.count, !(t[j] == 0x3A && j + 1 < t.count && t[j + 1] == 0x20), t[j] != 0x0A { j += 1 }
            case .quote:
                while j < t.count, t[j] != 0x27 { j += 1 }
                guard j < t.count else { return nil }
            case .dotOrEnd:
                while j < t.count, t[j] != 0x20, t[j] != 0x0A { j += 1 }
                if j > i + 1, t[j - 1] == 0x2E { j -= 1 }
            }
            guard j > i + 1 else { return nil }
            end = j
        } else {
            switch stop {
            case .colonSpace: guard i == t.count || t[i] == 0x3A || t[i] == 0x0A else { return nil }
            case .quote: guard i < t.count, t[i] == 0x27 else { return nil }
            case .dotOrEnd: guard i == t.count || t[i] == 0x2E || t[i] == 0x20 else { return nil }
            }
        }
        guard end - start <= maxBytes else { return nil }
        return UnsafeBufferPointer(rebasing: t[start..<end])
    }
}
