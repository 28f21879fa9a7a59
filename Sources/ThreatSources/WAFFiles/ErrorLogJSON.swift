import Foundation

/// Error-log lines wrapped in JSON (Envoy Gateway's and Caddy's loggers, coraza-spoa):
/// `{"level":"error","ts":1711882061.01,"msg":"[client \"1.2.3.4\"] Coraza: Warning. …"}`. The
/// message (`msg`, `message` or `log`) is unescaped, and each of its lines is read as a text line;
/// the record's time (`ts`, `time`, `timestamp`, `@timestamp`: ISO 8601 or epoch seconds) stands
/// for lines that carry none. The `level` follows the rule's severity, not blocking, and is not read.
extension ErrorLogParser {
    static func parseJSON(_ p: UnsafeBufferPointer<UInt8>, zone: inout LocalTimeZone, scratch: inout [UInt8],
                          _ body: (UnsafeBufferPointer<UInt8>, ErrorLogEvent) -> Void) -> Outcome {
        var message: Range<Int>?
        var time: Int?
        var i = 1
        let n = p.count
        func ws() { while i < n, p[i] == 0x20 || p[i] == 0x09 { i += 1 } }
        while i < n {
            ws()
            guard i < n, p[i] == 0x22, let keyEnd = AccessLogLine.quoteEnd(p, from: i + 1) else { break }
            let key = UnsafeBufferPointer(rebasing: p[(i + 1)..<keyEnd])
            i = keyEnd + 1
            ws()
            guard i < n, p[i] == 0x3A else { break }
            i += 1
            ws()
            guard i < n else { break }
            var value: Range<Int>
            if p[i] == 0x22 {
                guard let e = AccessLogLine.quoteEnd(p, from: i + 1) else { break }
                value = (i + 1)..<e
                i = e + 1
            } else if p[i] == 0x7B || p[i] == 0x5B {
                guard let e = JSONAccessLine.skipNested(p, from: i) else { break }
                value = i..<i
                i = e
            } else {
                let s = i
                while i < n, p[i] != 0x2C, p[i] != 0x7D, p[i] != 0x20 { i += 1 }
                value = s..<i
            }
            if JSONAccessLine.equal(key, "msg") || JSONAccessLine.equal(key, "message") || JSONAccessLine.equal(key, "log") {
                if message == nil || find(coraza, in: UnsafeBufferPointer(rebasing: p[value]), from: 0) != nil
                    || find(modsec, in: UnsafeBufferPointer(rebasing: p[value]), from: 0) != nil { message = value }
            } else if JSONAccessLine.equal(key, "ts") || JSONAccessLine.equal(key, "time") || JSONAccessLine.equal(key, "timestamp")
                        || JSONAccessLine.equal(key, "@timestamp") {
                let t = UnsafeBufferPointer(rebasing: p[value])
                time = LogTime.parseISO8601(t) ?? LogTime.parseEpoch(t) ?? time
            }
            ws()
            if i < n, p[i] == 0x2C { i += 1; continue }
            break
        }
        guard let message else { return .noise }
        JSONBytes.unescape(UnsafeBufferPointer(rebasing: p[message]), into: &scratch)
        var outcome = Outcome.noise
        scratch.withUnsafeBufferPointer { text in
            var start = 0
            while start < text.count {
                var end = start
                while end < text.count, text[end] != 0x0A { end += 1 }
                let line = UnsafeBufferPointer(rebasing: text[start..<end])
                if let e = parseText(line, zone: &zone, time: time) {
                    if e.time == Int.min {
                        if outcome == .noise { outcome = .badTime }
                    } else {
                        outcome = .events
                        body(line, e)
                    }
                }
                start = end + 1
            }
        }
        return outcome
    }
}
