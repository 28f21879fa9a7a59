import Foundation
import ThreatModel

/// The JSON audit-log flavour of one line, detected per line (a folder of rotated logs may mix
/// them after an upgrade).
enum AuditFlavor: String, Sendable, CaseIterable {
    /// libmodsecurity 3 (NGINX connector), and Coraza's v3-compatible formatter.
    case modsecurityV3 = "ModSecurity v3"
    /// ModSecurity 2 for Apache (`SecAuditLogFormat JSON`).
    case modsecurityV2 = "ModSecurity v2"
    /// Coraza's native JSON formatter.
    case coraza = "Coraza"
    /// ModSecurity's native (serial or concurrent) format, v2 or v3 (`AuditNative.swift`).
    case native = "ModSecurity native"
}

/// `SecRuleEngine` as the entry reports it: v3 `Enabled|DetectionOnly|Disabled`, v2
/// `ENABLED|DETECTION_ONLY|DISABLED`, Coraza `On|DetectionOnly|Off`.
enum EngineMode: UInt8, Sendable {
    case unknown, enabled, detectionOnly, disabled

    var name: String {
        switch self {
        case .unknown: "unknown"
        case .enabled: "Enabled"
        case .detectionOnly: "DetectionOnly"
        case .disabled: "Disabled"
        }
    }

    init(bytes b: UnsafeBufferPointer<UInt8>) {
        // Case and "_" do not matter.
        func matches(_ word: StaticString) -> Bool {
            let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            var j = 0
            for c in b where c != 0x5F {
                guard j < w.count, c | 0x20 == w[j] else { return false }
                j += 1
            }
            return j == w.count
        }
        if matches("enabled") || matches("on") {
            self = .enabled
        } else if matches("detectiononly") {
            self = .detectionOnly
        } else if matches("disabled") || matches("off") {
            self = .disabled
        } else {
            self = .unknown
        }
    }
}

/// One rule match of an audit entry.
struct RuleMatch: Equatable {
    var id: String
    var message: String
    /// 0 EMERGENCY … 7 DEBUG, when the entry gives one.
    var severity: Int?
    /// The variable it matched (`ARGS:q`), when the log names it.
    var target: String? = nil
}

/// One audit entry with its fields as text (tests and diagnostics; the scan itself works on
/// the reader's byte views).
struct AuditEntry: Equatable {
    var flavor: AuditFlavor
    /// Unix seconds of the transaction's start (UTC).
    var time: Int
    /// `unique_id` (v3), `transaction_id` (v2), `id` (Coraza).
    var uniqueID: String
    var clientIP: String
    /// The raw request URI, query included.
    var uri: String
    /// The `Host` header, lowercased, without a port.
    var host: String?
    var httpCode: Int?
    var engine: EngineMode
    /// Rule matches in log order, each rule once.
    var rules: [RuleMatch]
    var blocked: Bool
    var anomalyScore: Int?
    var hasCriticalAttack: Bool
}

/// Reads audit-log lines. After a successful `read`, the reader's properties describe the entry
/// as byte views into the line (or into the reader's scratch space, for decoded escapes); they
/// stay valid until the next `read`.
struct AuditEntryReader {
    /// Where a field's bytes are: in the line, or in `scratch`.
    struct ByteRef {
        var inScratch = false
        var start = 0
        var end = 0
        var isEmpty: Bool { end <= start }
    }

    struct RuleView {
        var id: ByteRef
        var message: ByteRef
        var severity: Int?
        /// The variable matched (`ARGS:q`), empty when the log does not name it.
        var target = ByteRef()
    }

    enum Failure: Error {
        /// Not JSON (or JSON nested deeper than the cap).
        case notJSON
        /// JSON, but not a ModSecurity/Coraza audit entry.
        case notAuditEntry
        /// An audit entry whose time could not be read.
        case badTime
    }

    var zone: LocalTimeZone
    private var scanner = AuditJSONScanner()
    private var scratch = ScratchBytes()
    private var line: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!

    private(set) var flavor = AuditFlavor.modsecurityV3
    private(set) var time = 0
    private(set) var httpCode: Int?
    private(set) var engine = EngineMode.unknown
    private(set) var uniqueID = ByteRef()
    private(set) var client = ByteRef()
    private(set) var uri = ByteRef()
    /// Lowercased, without port or trailing dot; empty when the entry has no Host header.
    private(set) var host = ByteRef()
    /// Each rule once, in log order.
    private(set) var rules: [RuleView] = []
    /// The disruptive action as the entry logs it (true: the WAF interrupted the request), nil
    /// when the entry does not say (libmodsecurity before 3.0.13).
    private(set) var disruptive: Bool?
    /// The producer's text and its rule-set component (empty when the entry has none).
    private(set) var producerName = ByteRef()
    private(set) var producerComponent = ByteRef()

    init(zone: TimeZone) {
        self.zone = LocalTimeZone(zone)
        rules.reserveCapacity(16)
    }

    // MARK: Reading

    mutating func read(_ text: UnsafeBufferPointer<UInt8>) -> Failure? {
        guard scanner.scan(text), let base = text.baseAddress else { return .notJSON }
        line = base
        scratch.count = 0
        rules.removeAll(keepingCapacity: true)
        let s = scanner
        let idSlot: AuditJSONScanner.Slot
        if s[.uniqueID].isPresent || s[.timeStamp].isPresent {
            flavor = .modsecurityV3
            idSlot = s[.uniqueID]
        } else if s[.transactionID].isPresent || s[.requestLine].isPresent {
            flavor = .modsecurityV2
            idSlot = s[.transactionID]
        } else if s[.id].isPresent && (s[.unixTimestamp].isPresent || s[.timestamp].isPresent) {
            flavor = .coraza
            idSlot = s[.id]
        } else {
            return .notAuditEntry
        }

        // Time: v3 is ctime in the configured zone; v2 and Coraza carry their zone.
        var t: Int?
        switch flavor {
        case .modsecurityV3:
            if s[.timeStamp].kind == .string, !s[.timeStamp].escaped, let wall = LogTime.parseCtimeWall(s.bytes(s[.timeStamp])) {
                t = zone.utc(fromWall: wall)
            }
        case .modsecurityV2:
            if s[.time].kind == .string { t = LogTime.parseCommonLog(s.bytes(s[.time])) }
        case .native:
            break
        case .coraza:
            if let raw = s.integer(s[.unixTimestamp]), raw > 0 {
                var v = raw  // nanoseconds in Coraza 3, seconds before
                while v > 100_000_000_000 { v /= 1000 }
                t = v
            } else if s[.timestamp].kind == .string, !s[.timestamp].escaped {
                // Coraza 3 writes `2026/04/01 09:48:44`, the server's wall time; Coraza 2 a
                // Common Log time with its zone.
                let b = s.bytes(s[.timestamp])
                if let wall = b.count == 19 ? ErrorLogParser.wallYMD(b, dateSep: 0x2F) : nil {
                    t = zone.utc(fromWall: wall)
                } else {
                    t = LogTime.parseCommonLog(b)
                }
            }
        }
        guard let t else { return .badTime }
        time = t

        uniqueID = field(idSlot)
        client = s[.clientIP].isPresent ? field(s[.clientIP]) : field(s[.remoteAddress])
        uri = field(s[.uri])
        if uri.isEmpty, s[.requestLine].isPresent {
            uri = requestTarget(field(s[.requestLine]))
        }
        host = normalizedHost(field(s[.host]))
        producerName = s[.producerName].kind == .string ? field(s[.producerName]) : ByteRef()
        producerComponent = s[.producerComponent].kind == .string ? field(s[.producerComponent]) : ByteRef()
        httpCode = s.integer(s[.httpCode]) ?? s.integer(s[.status])
        // Coraza writes `"status":0` when the answer is not known to it (the F part absent, or the
        // request interrupted before any answer; coraza-spoa before 0.x never fills it): not in
        // the log, never a status.
        if flavor == .coraza, httpCode == 0 { httpCode = nil }
        let engineSlot = s[.secrulesEngine].isPresent ? s[.secrulesEngine] : s[.ruleEngine].isPresent ? s[.ruleEngine] : s[.engineMode]
        engine = engineSlot.kind == .string ? EngineMode(bytes: bytes(field(engineSlot))) : .unknown
        disruptive = nil
        for f in [AuditJSONScanner.Field.isInterrupted, .intercepted] where s[f].kind == .trueValue || s[f].kind == .falseValue {
            disruptive = s[f].kind == .trueValue
        }
        if flavor == .modsecurityV2, disruptive == nil {
            // v2 writes `audit_data.action` only when it intercepted; a deny also shows as
            // "Access denied with code N (phase P)" in a message.
            disruptive = s.messages.contains { m in
                m.raw.isPresent && Self.startsWithAccessDenied(s.bytes(m.raw))
            }
        }

        for m in s.messages {
            var view: RuleView
            if m.raw.isPresent {
                guard let v = v2Rule(field(m.raw)) else { continue }
                view = v
            } else if !m.ruleID.isPresent, m.errorMessage.kind == .string {
                // Coraza with `"data":null`: the match is only in its error-log line.
                guard let v = v2Rule(field(m.errorMessage)) else { continue }
                view = v
            } else {
                let id = field(m.ruleID)
                guard !id.isEmpty else { continue }
                let msg = field(m.msg)
                let severity = s.integer(m.severity) ?? (m.severity.kind == .string ? Self.severity(bytes(field(m.severity))) : nil)
                view = RuleView(id: id, message: msg.isEmpty ? field(m.message) : msg, severity: severity)
                let data = field(m.data), match = field(m.match), message = field(m.message)
                if let t = MatchTarget.find(data: bytes(data), match: bytes(match), message: bytes(message)) {
                    view.target = copyToScratch(t)
                }
            }
            let idBytes = bytes(view.id)
            if rules.contains(where: { Self.equal(bytes($0.id), idBytes) }) { continue }
            rules.append(view)
        }
        return nil
    }

    /// A scalar field's bytes: in place, or unescaped into scratch.
    private mutating func field(_ slot: AuditJSONScanner.Slot) -> ByteRef {
        guard slot.kind == .string || slot.kind == .number else { return ByteRef() }
        guard slot.escaped else { return ByteRef(inScratch: false, start: slot.start, end: slot.end) }
        return copyToScratch(JSONBytes.unescaped(scanner.bytes(slot)))
    }

    private mutating func copyToScratch(_ b: [UInt8]) -> ByteRef {
        let start = scratch.count
        scratch.append(contentsOf: b)
        return ByteRef(inScratch: true, start: start, end: scratch.count)
    }

    func bytes(_ r: ByteRef) -> UnsafeBufferPointer<UInt8> {
        guard !r.isEmpty else { return UnsafeBufferPointer(start: nil, count: 0) }
        if r.inScratch { return UnsafeBufferPointer(start: scratch.base + r.start, count: r.end - r.start) }
        return UnsafeBufferPointer(start: line + r.start, count: r.end - r.start)
    }

    func string(_ r: ByteRef) -> String { String(decoding: bytes(r), as: UTF8.self) }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// "GET /path?q HTTP/1.1" → "/path?q".
    private func requestTarget(_ r: ByteRef) -> ByteRef {
        let b = bytes(r)
        guard let sp1 = b.firstIndex(of: 0x20) else { return r }
        var start = sp1
        while start < b.count, b[start] == 0x20 { start += 1 }
        var end = start
        while end < b.count, b[end] != 0x20 { end += 1 }
        return ByteRef(inScratch: r.inScratch, start: r.start + start, end: r.start + end)
    }

    /// `Shop.Example.com:443` → `shop.example.com`; `[2001:db8::1]:80` → `[2001:db8::1]`.
    private mutating func normalizedHost(_ r: ByteRef) -> ByteRef {
        guard !r.isEmpty else { return r }
        let out = Self.normalizedHost(bytes: bytes(r))
        return out.isEmpty ? ByteRef() : copyToScratch(out)
    }

    static func normalizedHost(bytes b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(b.count)
        for c in b where c != 0x20 && c != 0x09 { out.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c) }
        if out.first == 0x5B {
            if let close = out.firstIndex(of: 0x5D) { out.removeSubrange((close + 1)...) }
        } else if let colon = out.lastIndex(of: 0x3A), out[(colon + 1)...].allSatisfy({ $0 &- 0x30 < 10 }) {
            out.removeSubrange(colon...)
        }
        if out.last == 0x2E { out.removeLast() }
        return out
    }

    static func normalizedHost(_ h: String) -> String {
        var h = h
        return String(decoding: h.withUTF8 { normalizedHost(bytes: $0) }, as: UTF8.self)
    }

    /// Severity names (v2 writes `CRITICAL`) and digits to 0…7.
    static func severity(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        if b.count == 1, b[0] &- 0x30 < 8 { return Int(b[0] &- 0x30) }
        switch String(decoding: b, as: UTF8.self).uppercased() {
        case "EMERGENCY": return 0
        case "ALERT": return 1
        case "CRITICAL": return 2
        case "ERROR": return 3
        case "WARNING": return 4
        case "NOTICE": return 5
        case "INFO": return 6
        case "DEBUG": return 7
        default: return nil
        }
    }

    /// A v2 message string: `Warning. … [file "…"] [line "…"] [id "942100"] [msg "SQL Injection
    /// Attack Detected via libinjection"] [data "…"] [severity "CRITICAL"] …`. Values escape `"`
    /// as `\"`.
    private mutating func v2Rule(_ raw: ByteRef) -> RuleView? {
        let text = Array(bytes(raw))
        guard let id = Self.v2Tag("id", in: text), !id.isEmpty else { return nil }
        let idRef = copyToScratch(id)
        let msgRef = Self.v2Tag("msg", in: text).map { copyToScratch($0) } ?? ByteRef()
        let severity = Self.v2Tag("severity", in: text).flatMap { v in v.withUnsafeBufferPointer { Self.severity($0) } }
        let target = MatchTarget.find(line: text).map { copyToScratch($0) } ?? ByteRef()
        return RuleView(id: idRef, message: msgRef, severity: severity, target: target)
    }

    static func v2Tag(_ name: String, in u: [UInt8]) -> [UInt8]? {
        let open = Array("[\(name) \"".utf8)
        var k = 0
        while k + open.count <= u.count {
            if u[k] == 0x5B, u[k..<(k + open.count)].elementsEqual(open) {
                var out: [UInt8] = []
                var j = k + open.count
                while j < u.count {
                    if u[j] == 0x5C, j + 1 < u.count { out.append(u[j + 1]); j += 2; continue }
                    if u[j] == 0x22, j + 1 < u.count, u[j + 1] == 0x5D { return out }
                    out.append(u[j])
                    j += 1
                }
                return nil
            }
            k += 1
        }
        return nil
    }

    /// The entry as text.
    var entry: AuditEntry {
        AuditEntry(flavor: flavor, time: time, uniqueID: string(uniqueID), clientIP: string(client), uri: string(uri),
                   host: host.isEmpty ? nil : string(host), httpCode: httpCode, engine: engine,
                   rules: rules.map { RuleMatch(id: string($0.id), message: string($0.message), severity: $0.severity,
                                                  target: $0.target.isEmpty ? nil : string($0.target)) },
                   blocked: blocked, anomalyScore: anomalyScore, hasCriticalAttack: hasCriticalAttack)
    }

    static func startsWithAccessDenied(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let needle = "Access denied".utf8
        return b.count >= needle.count && zip(b, needle).allSatisfy { $0 == $1 }
    }

    /// Reads one line into an `AuditEntry` (tests).
    mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> Result<AuditEntry, Failure> {
        if let f = read(line) { return .failure(f) }
        return .success(entry)
    }
}

/// Decoded bytes of the current entry (escaped fields, normalised host, v2 tags), reused from
/// line to line. Fields refer to it by offset, so growing it never invalidates them.
final class ScratchBytes {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int = 16 << 10) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    func append(contentsOf bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if count + bytes.count > capacity {
            var c = capacity
            while count + bytes.count > c { c *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
            grown.update(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = c
        }
        bytes.withUnsafeBufferPointer { (base + count).update(from: $0.baseAddress!, count: bytes.count) }
        count += bytes.count
    }
}
