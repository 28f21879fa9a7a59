import Foundation
import ThreatModel

/// ModSecurity's native audit format (`SecAuditLogFormat Native`, the default), one entry over
/// many lines between boundaries: `--4a2bc1d0-A--` (ModSecurity 2) or `---Gx7Qw2Lr---A--`
/// (libmodsecurity 3). The parts read are
/// - A: `[07/Jun/2023:17:45:31 --0400] <unique id> <client ip> <client port> <server ip> <port>`
///   (ModSecurity 2.9 prints a negative zone with two signs; `LogTime` reads it);
/// - B: the request line (its target is the URI) and the `Host` header;
/// - F: the status line;
/// - H: `Message:` (v2) or `ModSecurity:` (v3) lines with `[id "…"] [msg "…"] [severity "…"]`,
///   `Action: Intercepted (phase N)`, `Engine-Mode: "ENABLED"`;
/// - K (only when H named no rule): the matched rules' text, one per line, as Coraza's native
///   formatter writes them (`SecRule ARGS "@rx …" "id:942100,phase:2,…,msg:'…',severity:'CRITICAL'"`);
/// - Z: the end. An entry is read once its Z boundary arrives.
///
/// Coraza's native formatter (`SecAuditLogFormat Native`, internal/auditlog/formats.go) writes
/// `--<10 letters>-B--` … `--<10 letters>-K--` without A and Z (its part list drops them,
/// corazawaf/coraza#1413): no time, id or client. Such an entry is counted once as skipped
/// (`headless`) and its lines are passed over. Its F holds headers only, its K the rule texts.
///
/// In concurrent mode (`SecAuditLogType Concurrent`) each entry is a file of its own under a date
/// tree; a glob (`audit/*/*/*/*`) names them all. Lines are fed in file order by one worker.
struct NativeAuditAssembler {
    enum Section: UInt8 { case none, a, b, f, h, k, other }

    struct Rule {
        var id: [UInt8]
        var message: [UInt8]
        var severity: Int?
        /// The variable matched (`ARGS:q`), empty when the line does not name it.
        var target: [UInt8] = []
    }

    enum Event {
        /// An entry is complete: read its fields from the assembler.
        case entry
        /// An entry ended without its Z boundary (a new A began, or the file ended).
        case incomplete
        /// An entry began without its A part (Coraza's native formatter drops A and Z,
        /// corazawaf/coraza#1413): it has no time, id or client; its lines are passed over up to
        /// the next entry's boundary.
        case headless
    }

    private(set) var open = false
    /// Inside an entry that began without A (its lines are passed over).
    private(set) var headless = false
    private var id: [UInt8] = []
    private var section = Section.none
    private var sectionLines = 0
    private(set) var headerLine: [UInt8] = []
    private(set) var requestLine: [UInt8] = []
    private(set) var host: [UInt8] = []
    private(set) var status: Int?
    private(set) var engine = EngineMode.unknown
    private(set) var rules: [Rule] = []
    private(set) var disruptive: Bool?
    /// The `H` section's `Producer:` text (engine and rule sets), empty when absent.
    private(set) var producer: [UInt8] = []
    /// Rules read from K (used only when H names none).
    private var kRules: [Rule] = []
    /// The file the open entry is in.
    var file = -1

    /// `--id-X--` or `---id---X--` → (id, X).
    static func boundary(_ p: UnsafeBufferPointer<UInt8>) -> (Range<Int>, UInt8)? {
        var n = p.count
        while n > 0, p[n - 1] == 0x20 || p[n - 1] == 0x09 { n -= 1 }
        guard n >= 7, p[0] == 0x2D, p[1] == 0x2D, p[n - 1] == 0x2D, p[n - 2] == 0x2D, p[n - 4] == 0x2D else { return nil }
        let letter = p[n - 3]
        guard letter >= 0x41, letter <= 0x5A else { return nil }
        var s = 0
        while s < n, p[s] == 0x2D { s += 1 }
        var e = n - 4
        while e > s, p[e - 1] == 0x2D { e -= 1 }
        guard e > s else { return nil }
        for k in s..<e {
            let c = p[k]
            guard (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x40 || c == 0x5F else { return nil }
        }
        return (s..<e, letter)
    }

    /// Whether a line can start a native entry (a part-A boundary).
    static func startsEntry(_ p: UnsafeBufferPointer<UInt8>) -> Bool { boundary(p)?.1 == 0x41 }

    mutating func reset() {
        open = false
        headless = false
        id.removeAll(keepingCapacity: true)
        section = .none
        headerLine.removeAll(keepingCapacity: true)
        requestLine.removeAll(keepingCapacity: true)
        host.removeAll(keepingCapacity: true)
        status = nil
        engine = .unknown
        rules.removeAll(keepingCapacity: true)
        disruptive = nil
        producer.removeAll(keepingCapacity: true)
        kRules.removeAll(keepingCapacity: true)
    }

    /// Feeds one line; returns an event when an entry ends.
    mutating func feed(_ p: UnsafeBufferPointer<UInt8>) -> Event? {
        if p.count >= 7, p[0] == 0x2D, p[1] == 0x2D, let (idRange, letter) = Self.boundary(p) {
            let lineID = UnsafeBufferPointer(rebasing: p[idRange])
            if letter == 0x41 {
                let wasOpen = open
                reset()
                open = true
                id.append(contentsOf: lineID)
                section = .a
                sectionLines = 0
                return wasOpen ? .incomplete : nil
            }
            if !open {
                // A boundary of another part with no entry open: a headless entry, once per id.
                if headless, lineID.elementsEqual(id) { return nil }
                reset()
                headless = true
                id.append(contentsOf: lineID)
                return .headless
            }
            if open, lineID.elementsEqual(id) {
                switch letter {
                case 0x42: section = .b
                case 0x46: section = .f
                case 0x48: section = .h
                case 0x4B: section = .k
                case 0x5A:
                    open = false
                    section = .none
                    if rules.isEmpty { rules = kRules }
                    return headerLine.isEmpty ? .incomplete : .entry
                default: section = .other
                }
                sectionLines = 0
                return nil
            }
        }
        guard open else { return nil }  // headless lines are passed over
        sectionLines += 1
        switch section {
        case .a:
            if sectionLines == 1 { headerLine = Array(p) }
        case .b:
            if sectionLines == 1 {
                requestLine = Array(p)
            } else if host.isEmpty, p.count > 5, p[4] == 0x3A, (p[0] | 0x20) == 0x68, (p[1] | 0x20) == 0x6F,
                      (p[2] | 0x20) == 0x73, (p[3] | 0x20) == 0x74 {
                host = AuditEntryReader.normalizedHost(bytes: UnsafeBufferPointer(rebasing: p[5...]))
            }
        case .f:
            // "HTTP/1.1 403 Forbidden" (Coraza's F holds headers only: no status then)
            if sectionLines == 1, p.count > 5, memcmp(p.baseAddress!, "HTTP/", 5) == 0, let sp = p.firstIndex(of: 0x20), let (code, _) = AccessLogLine.number(p, from: sp + 1) {
                status = code
            }
        case .h:
            trailer(p)
        case .k:
            if let rule = Self.ruleText(p), !kRules.contains(where: { $0.id == rule.id }) { kRules.append(rule) }
        case .none, .other:
            break
        }
        return nil
    }

    private mutating func trailer(_ p: UnsafeBufferPointer<UInt8>) {
        func has(_ prefix: StaticString) -> Bool {
            p.count >= prefix.utf8CodeUnitCount && memcmp(p.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
        }
        if has("Message: ") || has("ModSecurity: ") {
            let text = Array(p)
            let body = has("Message: ") ? 9 : 13
            if text.count > body, text[body...].starts(with: "Access denied".utf8) { disruptive = true }
            guard let ruleID = AuditEntryReader.v2Tag("id", in: text), !ruleID.isEmpty,
                  !rules.contains(where: { $0.id == ruleID }) else { return }
            let severity = AuditEntryReader.v2Tag("severity", in: text).flatMap { v in v.withUnsafeBufferPointer { AuditEntryReader.severity($0) } }
            rules.append(Rule(id: ruleID, message: AuditEntryReader.v2Tag("msg", in: text) ?? [], severity: severity,
                              target: MatchTarget.find(line: text) ?? []))
        } else if has("Action: Intercepted") {
            disruptive = true
        } else if has("Producer: ") {
            producer = Array(p[10...].prefix(200))
        } else if has("Engine-Mode: ") {
            engine = EngineMode(bytes: UnsafeBufferPointer(rebasing: p[13...]).filterQuotes())
        }
    }

    /// A rule's text as K lists it: its `id:N` action (after `"`, `,` or `'`), `msg:'…'` and
    /// `severity:'CRITICAL'` (or a digit); nil without an id.
    static func ruleText(_ p: UnsafeBufferPointer<UInt8>) -> Rule? {
        func action(_ name: String) -> Range<Int>? {
            let key = Array(name.utf8)
            var k = 1
            while k + key.count <= p.count {
                if p[k] == key[0], p[k - 1] == 0x22 || p[k - 1] == 0x2C || p[k - 1] == 0x27 || p[k - 1] == 0x20,
                   UnsafeBufferPointer(rebasing: p[k..<(k + key.count)]).elementsEqual(key) {
                    var s = k + key.count, e = s
                    if s < p.count, p[s] == 0x27 {
                        s += 1
                        e = s
                        while e < p.count, p[e] != 0x27 { e += 1 }
                    } else {
                        while e < p.count, p[e] != 0x2C, p[e] != 0x22 { e += 1 }
                    }
                    return s..<e
                }
                k += 1
            }
            return nil
        }
        // A rule that does not log (ModSecurity 2's K lists the setup SecActions too) is no match.
        let nolog = Array("nolog".utf8)
        for k in 1..<max(1, p.count - nolog.count) where p[k] == 0x6E && (p[k - 1] == 0x2C || p[k - 1] == 0x22) {
            let e = k + nolog.count
            if e < p.count, p[e] == 0x2C || p[e] == 0x22, UnsafeBufferPointer(rebasing: p[k..<e]).elementsEqual(nolog) { return nil }
        }
        guard let idRange = action("id:"), !idRange.isEmpty, idRange.count <= 10,
              p[idRange].allSatisfy({ $0 &- 0x30 < 10 }) else { return nil }
        let severity = action("severity:").flatMap { AuditEntryReader.severity(UnsafeBufferPointer(rebasing: p[$0])) }
        return Rule(id: Array(p[idRange]), message: action("msg:").map { Array(p[$0].prefix(512)) } ?? [], severity: severity)
    }

    // MARK: The entry's fields

    /// The A line's time text (between `[` and `]`).
    var timeText: [UInt8] {
        guard headerLine.first == 0x5B, let close = headerLine.firstIndex(of: 0x5D) else { return [] }
        return Array(headerLine[1..<close])
    }

    /// The A line's fields after the time: unique id, client address, ….
    var headerFields: [ArraySlice<UInt8>] {
        guard let close = headerLine.firstIndex(of: 0x5D) else { return [] }
        return headerLine[(close + 1)...].split(separator: 0x20)
    }

    var uniqueID: [UInt8] { headerFields.first.map(Array.init) ?? [] }
    var client: [UInt8] { headerFields.count > 1 ? Array(headerFields[1]) : [] }

    /// The request line's target.
    var uri: [UInt8] {
        let parts = requestLine.split(separator: 0x20, maxSplits: 2)
        return parts.count >= 2 ? Array(parts[1]) : []
    }

    /// Blocked: the disruptive action logged; when none is (a v3 native entry without it), the
    /// engine on, a denying rule matched and an error status.
    var blocked: Bool {
        if let disruptive { return disruptive }
        if engine == .detectionOnly || engine == .disabled { return false }
        guard let status, status >= 400, engine == .enabled else { return false }
        return rules.contains { r in
            r.id.withUnsafeBufferPointer { AuditEntryReader.ruleNumber($0) }.map {
                AuditEntryReader.blockingRules.contains($0) || $0 == AuditEntryReader.unconfiguredCRSRule
            } ?? false
        }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The bytes without `"` (Engine-Mode values are quoted).
    func filterQuotes() -> UnsafeBufferPointer<UInt8> {
        var s = 0, e = count
        while s < e, self[s] == 0x22 || self[s] == 0x20 { s += 1 }
        while e > s, self[e - 1] == 0x22 || self[e - 1] == 0x20 { e -= 1 }
        return UnsafeBufferPointer(rebasing: self[s..<e])
    }
}
