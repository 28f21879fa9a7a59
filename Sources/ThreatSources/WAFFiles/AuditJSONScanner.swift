import Foundation
import ThreatModel

/// A validating JSON scanner for one audit-log line that keeps only the fields the statistics
/// need, as byte ranges into the line. Everything else is checked for JSON syntax and skipped
/// without building values, which makes it several times faster than a tree parser on the
/// 1–3 KB entries ModSecurity writes. Like `JSONValue`, it lets the last of duplicate keys win
/// (`Last-Modified` twice in `response.headers`) and caps nesting depth; string contents are
/// not checked for UTF-8 (invalid bytes are replaced when a field is decoded).
///
/// It knows the three JSON shapes of the WAF audit log:
/// - ModSecurity v3 (libmodsecurity, and Coraza's `JSONv3`-style formatter): everything under
///   `transaction`, rule matches in `transaction.messages[].{message, details.{ruleId, severity}}`;
/// - ModSecurity v2 (Apache): `transaction.{time, transaction_id, remote_address}`,
///   `request.{request_line, headers}`, `response.status`, `audit_data.{messages[] (strings),
///   engine_mode}`;
/// - Coraza's native JSON: `transaction.{timestamp, unix_timestamp, id, client_ip, request,
///   response.status, producer.rule_engine}`, rule matches in the top-level
///   `messages[].{message, data.{id, msg, severity}}`.
struct AuditJSONScanner {
    /// Where a scalar sits in the line.
    struct Slot {
        var start = 0
        var end = -1
        var escaped = false
        var kind = Kind.absent
        var isPresent: Bool { kind != .absent }
    }

    enum Kind: UInt8 { case absent, string, number, trueValue, falseValue, null }

    enum Field: Int, CaseIterable {
        case clientIP, remoteAddress, timeStamp, time, timestamp, unixTimestamp, uniqueID, transactionID, id
        case uri, requestLine, host, httpCode, status, secrulesEngine, ruleEngine, engineMode
        /// The disruptive action: v3 (3.0.13+) and Coraza `transaction.is_interrupted`, v2
        /// `audit_data.action.intercepted`.
        case isInterrupted, intercepted
        /// The producer: v3 `producer.modsecurity`, Coraza `producer.connector`, v2
        /// `audit_data.producer` (a string or its list's first), and the rule set: v3
        /// `producer.components`, Coraza `producer.rulesets`, v2's list (the first `OWASP_CRS/…`
        /// element, else the first).
        case producerName, producerComponent
    }

    /// One rule match: v3 and Coraza give fields, v2 one raw string.
    struct Message {
        var message = Slot()
        var msg = Slot()
        var ruleID = Slot()
        var severity = Slot()
        var raw = Slot()
        /// `details.data` (v3), `data.data` (Coraza): `Matched Data: … found within ARGS:q: …`.
        var data = Slot()
        /// `details.match` (v3): ``Matched "Operator …' against variable `ARGS:q' …``.
        var match = Slot()
        /// Coraza's `error_message`: the error-log line of the match (`… [id "942100"] [msg "…"] …`),
        /// read when `data` names no rule (some connectors log `"data":null`).
        var errorMessage = Slot()
    }

    enum Context: UInt8 {
        case skip, root, transaction, request, headers, hostList, response, producer, producerList, auditData, action
        case v3Messages, v3Message, v3Details, v2Messages, corazaMessages, corazaMessage, corazaData
    }

    enum MessagePart: UInt8 { case message, msg, ruleID, severity, raw, data, match, errorMessage }

    enum Target {
        case none
        case field(Field)
        case message(MessagePart)
    }

    static let maxDepth = InputLimits.jsonDepth
    /// Rule matches kept per entry; more are validated but not kept.
    static let maxMessages = 512

    private(set) var slots = [Slot](repeating: Slot(), count: Field.allCases.count)
    private(set) var messages: [Message] = []
    private var currentMessage = -1
    private var p: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    private var n = 0
    private var i = 0

    init() { messages.reserveCapacity(16) }

    subscript(_ f: Field) -> Slot { slots[f.rawValue] }

    /// Scans one line; false when it is not a JSON object.
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = line.baseAddress else { return false }
        for k in slots.indices { slots[k] = Slot() }
        messages.removeAll(keepingCapacity: true)
        currentMessage = -1
        p = base
        n = line.count
        i = 0
        skipWhitespace()
        guard i < n, p[i] == 0x7B, value(.root, .none, 0) else { return false }
        skipWhitespace()
        return i == n
    }

    // MARK: Structure

    @inline(__always)
    private mutating func skipWhitespace() { JSONBytes.skipWhitespace(p, n, &i) }

    private mutating func value(_ ctx: Context, _ target: Target, _ depth: Int) -> Bool {
        guard depth <= Self.maxDepth, i < n else { return false }
        switch p[i] {
        case 0x7B: return object(ctx, depth)
        case 0x5B: return array(ctx, target, depth)
        case 0x22:
            let s = i + 1
            guard let escaped = string() else { return false }
            record(target, Slot(start: s, end: i - 1, escaped: escaped, kind: .string))
            return true
        case 0x74: return literal(0x74_72_75_65, 4, target, .trueValue)        // true
        case 0x66: return literal(0x66_61_6C_73_65, 5, target, .falseValue)    // false
        case 0x6E: return literal(0x6E_75_6C_6C, 4, target, .null)             // null
        case 0x2D, 0x30...0x39:
            let s = i
            guard number() else { return false }
            record(target, Slot(start: s, end: i, escaped: false, kind: .number))
            return true
        default: return false
        }
    }

    private mutating func object(_ ctx: Context, _ depth: Int) -> Bool {
        i += 1
        skipWhitespace()
        if i < n, p[i] == 0x7D { i += 1; return true }
        while true {
            guard i < n, p[i] == 0x22 else { return false }
            let ks = i + 1
            guard let keyEscaped = string() else { return false }
            let ke = i - 1
            skipWhitespace()
            guard i < n, p[i] == 0x3A else { return false }
            i += 1
            skipWhitespace()
            let (childCtx, target) = (ctx == .skip || keyEscaped) ? (.skip, .none) : child(ctx, ks, ke)
            guard value(childCtx, target, depth + 1) else { return false }
            skipWhitespace()
            guard i < n else { return false }
            if p[i] == 0x2C { i += 1; skipWhitespace(); continue }
            if p[i] == 0x7D { i += 1; return true }
            return false
        }
    }

    private mutating func array(_ ctx: Context, _ target: Target, _ depth: Int) -> Bool {
        i += 1
        skipWhitespace()
        if i < n, p[i] == 0x5D { i += 1; return true }
        var first = true
        while true {
            var elementCtx = Context.skip
            var elementTarget = Target.none
            switch ctx {
            case .v3Messages: beginMessage(); elementCtx = .v3Message
            case .corazaMessages: beginMessage(); elementCtx = .corazaMessage
            case .v2Messages: beginMessage(); elementTarget = .message(.raw)
            case .hostList: if first { elementTarget = target }
            case .producerList: elementTarget = target
            default: break
            }
            guard value(elementCtx, elementTarget, depth + 1) else { return false }
            first = false
            skipWhitespace()
            guard i < n else { return false }
            if p[i] == 0x2C { i += 1; skipWhitespace(); continue }
            if p[i] == 0x5D { i += 1; return true }
            return false
        }
    }

    private func isCRS(_ slot: Slot) -> Bool {
        slot.kind == .string && slot.end - slot.start >= 10 && memcmp(p + slot.start, "OWASP_CRS/", 10) == 0
    }

    private mutating func beginMessage() {
        guard messages.count < Self.maxMessages else { currentMessage = -1; return }
        messages.append(Message())
        currentMessage = messages.count - 1
    }

    private mutating func record(_ target: Target, _ slot: Slot) {
        switch target {
        case .none: return
        case let .field(f):
            if f == .producerName || f == .producerComponent, slots[f.rawValue].isPresent {
                // The first name (v3 `modsecurity` before `connector`; v2's list: its first); the
                // first component, unless a later one is the Core Rule Set (also in v2's list).
                let c = Field.producerComponent.rawValue
                guard isCRS(slot), !isCRS(slots[c]) else { return }
                slots[c] = slot
                return
            }
            slots[f.rawValue] = slot
        case let .message(part):
            guard currentMessage >= 0 else { return }
            switch part {
            case .message: messages[currentMessage].message = slot
            case .msg: messages[currentMessage].msg = slot
            case .ruleID: messages[currentMessage].ruleID = slot
            case .severity: messages[currentMessage].severity = slot
            case .raw: messages[currentMessage].raw = slot
            case .data: messages[currentMessage].data = slot
            case .match: messages[currentMessage].match = slot
            case .errorMessage: messages[currentMessage].errorMessage = slot
            }
        }
    }

    // MARK: Which keys matter

    @inline(__always)
    private func key(_ s: Int, _ e: Int, _ name: StaticString) -> Bool {
        let len = name.utf8CodeUnitCount
        return e - s == len && memcmp(p + s, name.utf8Start, len) == 0
    }

    private func child(_ ctx: Context, _ s: Int, _ e: Int) -> (Context, Target) {
        switch ctx {
        case .root:
            if key(s, e, "transaction") { return (.transaction, .none) }
            if key(s, e, "request") { return (.request, .none) }
            if key(s, e, "response") { return (.response, .none) }
            if key(s, e, "audit_data") { return (.auditData, .none) }
            if key(s, e, "messages") { return (.corazaMessages, .none) }
        case .transaction:
            switch e - s {
            case 2: if key(s, e, "id") { return (.skip, .field(.id)) }
            case 4: if key(s, e, "time") { return (.skip, .field(.time)) }
            case 7: if key(s, e, "request") { return (.request, .none) }
            case 8:
                if key(s, e, "response") { return (.response, .none) }
                if key(s, e, "producer") { return (.producer, .none) }
                if key(s, e, "messages") { return (.v3Messages, .none) }
            case 9:
                if key(s, e, "client_ip") { return (.skip, .field(.clientIP)) }
                if key(s, e, "unique_id") { return (.skip, .field(.uniqueID)) }
                if key(s, e, "timestamp") { return (.skip, .field(.timestamp)) }
            case 10: if key(s, e, "time_stamp") { return (.skip, .field(.timeStamp)) }
            case 14:
                if key(s, e, "is_interrupted") { return (.skip, .field(.isInterrupted)) }
                if key(s, e, "remote_address") { return (.skip, .field(.remoteAddress)) }
                if key(s, e, "transaction_id") { return (.skip, .field(.transactionID)) }
                if key(s, e, "unix_timestamp") { return (.skip, .field(.unixTimestamp)) }
            default: break
            }
        case .request:
            if key(s, e, "uri") { return (.skip, .field(.uri)) }
            if key(s, e, "headers") { return (.headers, .none) }
            if key(s, e, "request_line") { return (.skip, .field(.requestLine)) }
        case .headers:
            // Header names are case-insensitive; Coraza writes values as lists. coraza-proxy-wasm
            // sees HTTP/2's `:authority` instead of `Host`.
            if e - s == 4, p[s] | 0x20 == 0x68, p[s + 1] | 0x20 == 0x6F, p[s + 2] | 0x20 == 0x73, p[s + 3] | 0x20 == 0x74 {
                return (.hostList, .field(.host))
            }
            if key(s, e, ":authority") { return (.hostList, .field(.host)) }
        case .response:
            if key(s, e, "http_code") { return (.skip, .field(.httpCode)) }
            if key(s, e, "status") { return (.skip, .field(.status)) }
        case .producer:
            if key(s, e, "secrules_engine") { return (.skip, .field(.secrulesEngine)) }
            if key(s, e, "rule_engine") { return (.skip, .field(.ruleEngine)) }
            if key(s, e, "modsecurity") || key(s, e, "connector") { return (.skip, .field(.producerName)) }
            if key(s, e, "components") || key(s, e, "rulesets") { return (.producerList, .field(.producerComponent)) }
        case .auditData:
            if key(s, e, "messages") { return (.v2Messages, .none) }
            if key(s, e, "engine_mode") { return (.skip, .field(.engineMode)) }
            if key(s, e, "producer") { return (.producerList, .field(.producerName)) }
            if key(s, e, "action") { return (.action, .none) }
        case .action:
            if key(s, e, "intercepted") { return (.skip, .field(.intercepted)) }
        case .v3Message:
            if key(s, e, "message") { return (.skip, .message(.message)) }
            if key(s, e, "details") { return (.v3Details, .none) }
        case .v3Details:
            if key(s, e, "ruleId") { return (.skip, .message(.ruleID)) }
            if key(s, e, "severity") { return (.skip, .message(.severity)) }
            if key(s, e, "data") { return (.skip, .message(.data)) }
            if key(s, e, "match") { return (.skip, .message(.match)) }
        case .corazaMessage:
            if key(s, e, "message") { return (.skip, .message(.message)) }
            if key(s, e, "data") { return (.corazaData, .none) }
            if key(s, e, "error_message") { return (.skip, .message(.errorMessage)) }
        case .corazaData:
            if key(s, e, "id") { return (.skip, .message(.ruleID)) }
            if key(s, e, "msg") { return (.skip, .message(.msg)) }
            if key(s, e, "severity") { return (.skip, .message(.severity)) }
            if key(s, e, "data") { return (.skip, .message(.data)) }
        case .skip, .hostList, .producerList, .v3Messages, .v2Messages, .corazaMessages:
            break
        }
        return (.skip, .none)
    }

    // MARK: Scalars

    /// Scans a string from its opening quote; leaves `i` after the closing quote. Whether it holds
    /// escapes, or nil when it is not a valid JSON string.
    @inline(__always)
    private mutating func string() -> Bool? { JSONBytes.string(p, n, &i) }



    private mutating func number() -> Bool {
        if p[i] == 0x2D { i += 1 }
        let intStart = i
        while i < n, p[i] &- 0x30 < 10 { i += 1 }
        guard i > intStart else { return false }
        if i < n, p[i] == 0x2E {
            i += 1
            let f = i
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            guard i > f else { return false }
        }
        if i < n, p[i] | 0x20 == 0x65 {
            i += 1
            if i < n, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
            let f = i
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            guard i > f else { return false }
        }
        return true
    }

    private mutating func literal(_ word: UInt64, _ length: Int, _ target: Target, _ kind: Kind) -> Bool {
        guard JSONBytes.isLiteral(p, n, i, word, length) else { return false }
        record(target, Slot(start: i, end: i + length, escaped: false, kind: kind))
        i += length
        return true
    }

    // MARK: Reading kept fields

    /// The text of a string slot (escapes decoded, invalid UTF-8 replaced), or of a number slot.
    func text(_ s: Slot) -> String? {
        guard s.kind == .string || s.kind == .number else { return nil }
        let raw = UnsafeBufferPointer(start: p + s.start, count: s.end - s.start)
        guard s.escaped else { return String(decoding: raw, as: UTF8.self) }
        return String(decoding: JSONBytes.unescaped(raw), as: UTF8.self)
    }

    func bytesEqual(_ s: Slot, _ word: StaticString) -> Bool {
        s.kind == .string && !s.escaped && s.end - s.start == word.utf8CodeUnitCount
            && memcmp(p + s.start, word.utf8Start, word.utf8CodeUnitCount) == 0
    }

    /// An integer from a number slot or a string of digits (`"severity":"2"`, `"http_code":403`).
    func integer(_ s: Slot) -> Int? {
        guard s.kind == .string || s.kind == .number, s.end > s.start, s.end - s.start <= 19 else { return nil }
        var v = 0
        for k in s.start..<s.end {
            let d = p[k] &- 0x30
            guard d < 10 else { return s.kind == .number && p[k] == 0x2E ? v : nil }
            // 19 digits hold Coraza's nanosecond timestamps, and 19 nines overflow Int: no number then.
            let (times10, o1) = v.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(d))
            if o1 || o2 { return nil }
            v = sum
        }
        return v
    }

    /// The raw bytes of a slot (for hashing and time parsing).
    func bytes(_ s: Slot) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: p + s.start, count: max(0, s.end - s.start))
    }
}
