import Foundation
import ThreatModel

/// One request as its error-log lines describe it: several lines (one per matched rule, one
/// more per intervention) share a `unique_id`, or, when the engine writes none, the client, URI
/// and second.
struct ErrorTransaction {
    var time: Int
    var idHash: UInt64
    var hasID: Bool
    var client: UInt32
    var uri: UInt32
    var host: [UInt8]
    var rules: [RuleRef] = []
    var ruleNumbers: [UInt32] = []
    var blocked = false
    var critical = false
    /// The inbound evaluation rule (949110/949111) matched.
    var evaluated = false
    var unconfigured = false
    var score: Int32 = -1
    var file: Int
    /// The `unique_id` (tuning examples), at most `TuningExamples.uidMaxBytes`.
    var uid: [UInt8] = []
}

/// What the error-log worker gathered (error logs are read by one worker, in order: a
/// transaction's lines follow each other, and the grouping needs them in one place).
struct ErrorLogPart {
    var audit: AuditPart
    var zone: LocalTimeZone
    var scratch: [UInt8] = []
    var transactions: [ErrorTransaction] = []
    var byKey: [UInt64: Int] = [:]
    /// Rule-match lines per `ErrorLogEngine`.
    var engines = [Int](repeating: 0, count: ErrorLogEngine.allCases.count)
    /// `ver` values (`OWASP_CRS/4.7.0`), interned, with their line counts.
    var versionTable: Interner
    var versionCounts: [Int] = []
    var matchLines = 0
    var otherLines = 0

    init(zone: TimeZone, key: HashKey) {
        audit = AuditPart(zone: zone, key: key)
        self.zone = LocalTimeZone(zone)
        versionTable = Interner(cap: 256, byteCap: 16 << 10, key: key)
    }

    mutating func add(_ text: UnsafeBufferPointer<UInt8>, _ e: ErrorLogEvent, file: Int, key: HashKey) {
        matchLines += 1
        engines[e.engine.rawValue] += 1
        func bytes(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: text[r]) }
        if !e.version.isEmpty {
            let v = versionTable.id(UnsafeBufferPointer(rebasing: bytes(e.version).prefix(64)))
            if v != Interner.overflow {
                if Int(v) >= versionCounts.count { versionCounts += [Int](repeating: 0, count: Int(v) + 1 - versionCounts.count) }
                versionCounts[Int(v)] += 1
            }
        }
        let hasID = !e.uniqueID.isEmpty
        // A transaction's client and URI are its first line's: the later lines of one with a
        // `unique_id` are not interned again.
        var client = Interner.overflow, uri = Interner.overflow
        let k: UInt64
        if hasID {
            k = byteHash(bytes(e.uniqueID), key: key)
            if byKey[k] == nil {
                client = audit.clients.id(bytes(e.client))
                uri = audit.uris.id(bytes(e.uri))
            }
        } else {
            client = audit.clients.id(bytes(e.client))
            uri = audit.uris.id(bytes(e.uri))
            // No unique_id: the client, the URI (as interned) and the second, within the file.
            var h = [UInt8]()
            for v in [UInt64(client), UInt64(uri), UInt64(bitPattern: Int64(e.time)), UInt64(file)] {
                withUnsafeBytes(of: v) { h += $0 }
            }
            k = h.withUnsafeBufferPointer { byteHash($0, key: key) } | 1
        }
        let t: Int
        if let existing = byKey[k] {
            t = existing
        } else {
            t = transactions.count
            let host = e.host.isEmpty ? [] : AuditEntryReader.normalizedHost(bytes: bytes(e.host))
            var tx = ErrorTransaction(time: e.time, idHash: hasID ? k : 0, hasID: hasID, client: client, uri: uri, host: host, file: file)
            if hasID, e.uniqueID.count <= TuningExamples.uidMaxBytes { tx.uid = Array(bytes(e.uniqueID)) }
            transactions.append(tx)
            byKey[k] = t
        }
        if e.denied { transactions[t].blocked = true }
        if transactions[t].host.isEmpty, !e.host.isEmpty {
            transactions[t].host = AuditEntryReader.normalizedHost(bytes: bytes(e.host))
        }
        guard !e.id.isEmpty else { return }
        let rule = audit.rules.id(bytes(e.id))
        guard !transactions[t].ruleNumbers.contains(rule) || rule == Interner.overflow else { return }
        transactions[t].ruleNumbers.append(rule)
        // The matched variable, from the data tag, else the text before the tags (`against variable `ARGS:q'`,
        // `… at ARGS:q.`): the tuning input.
        let target = MatchTarget.find(data: bytes(e.data), match: bytes(e.head), message: bytes(e.head))
            .map { t in t.withUnsafeBufferPointer { audit.targets.id($0) } } ?? RuleRef.noTarget
        let severity = Self.severity(bytes(e.severity))
        transactions[t].rules.append(RuleRef(rule: rule, message: audit.messages.id(bytes(e.message)), target: target,
                                             severity: UInt8(clamping: severity ?? 255)))
        guard let n = AuditEntryReader.ruleNumber(bytes(e.id)) else { return }
        if let s = severity, s <= 2, CRSCategory(ruleNumber: n).isAttack {
            transactions[t].critical = true
        }
        if n == 949_110 || n == 949_111 {
            transactions[t].evaluated = true
            if transactions[t].score < 0, let s = AuditEntryReader.totalScore(bytes(e.message)) { transactions[t].score = Int32(clamping: s) }
        }
        if n == AuditEntryReader.unconfiguredCRSRule { transactions[t].unconfigured = true }
    }

    /// `critical`, `CRITICAL`, `2`, … to 0…7 without making a String (Coraza writes lower-case
    /// words, ModSecurity v3 digits, v2 upper-case words).
    static func severity(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        if b.count == 1, b[0] &- 0x30 < 8 { return Int(b[0] &- 0x30) }
        guard b.count >= 4, b.count <= 9 else { return nil }
        let words: [(StaticString, Int)] = [("emergency", 0), ("alert", 1), ("critical", 2), ("error", 3), ("warning", 4),
                                            ("notice", 5), ("info", 6), ("debug", 7)]
        outer: for (w, v) in words where w.utf8CodeUnitCount == b.count {
            let p = w.utf8Start
            for k in 0..<b.count where b[k] | 0x20 != p[k] { continue outer }
            return v
        }
        return nil
    }

    /// The transactions as audit records of the scanned windows (`fileBase` numbers error files
    /// after the audit files). Engine mode: an intervention says `Enabled`; an evaluation rule
    /// that matched without one says `DetectionOnly`; otherwise unknown.
    mutating func finish(windows: [ScanWindow], attribution: Attribution, fileBase: Int, tally: inout Int) -> AuditPart {
        var out = audit
        out.records.reserveCapacity(transactions.count)
        for tx in transactions {
            var found: (Int, Int)?
            for (k, w) in windows.enumerated() {
                if let b = w.bucket(tx.time) { found = (k, b); break }
            }
            guard let (window, bucket) = found else { continue }
            if window == 0 { tally += 1 }
            let start = UInt32(out.ruleRefs.count)
            out.ruleRefs += tx.rules.prefix(Int(UInt16.max))
            let engine: EngineMode = tx.blocked ? .enabled : tx.evaluated ? .detectionOnly : .unknown
            let hostMatch = tx.host.withUnsafeBufferPointer { attribution.matches(uniqueID: UnsafeBufferPointer(start: nil, count: 0), host: $0) }
            var r = AuditRecord(idHash: tx.idHash, window: UInt8(window), bucket: Int32(bucket), client: tx.client, uri: tx.uri,
                                rulesStart: start, rulesCount: UInt16(min(tx.rules.count, Int(UInt16.max))), engine: engine,
                                hostMatch: hostMatch, blocked: tx.blocked || tx.unconfigured, critical: tx.critical, score: tx.score)
            r.crsUnconfigured = tx.unconfigured
            r.file = UInt16(clamping: fileBase + tx.file)
            r.hasHost = !tx.host.isEmpty
            r.otherHost = tx.host.withUnsafeBufferPointer { attribution.isOtherEnvironments(host: $0) }
            r.fromErrorLog = true
            r.time = Int64(tx.time)
            if !tx.uid.isEmpty {
                let index = out.records.count
                tx.uid.withUnsafeBufferPointer { uid in
                    for ref in tx.rules.prefix(Int(UInt16.max)) {
                        out.examples.offer(rule: ref.rule, uri: tx.uri, target: ref.target, window: UInt8(window), time: r.time,
                                           record: index, uid: uid, uris: out.uris)
                    }
                }
            }
            out.records.append(r)
        }
        transactions = []
        byKey = [:]
        return out
    }
}

extension WAFLogScan {
    func parseErrorLog(_ block: LineBlock, _ part: inout ErrorLogPart, _ tally: inout BlockTally) {
        let key = hashKey, windows = self.windows
        BlockReader.lines(of: block, tally: &tally) { line, number, tally in
            if Self.isBlank(line) { return }
            // The parser works on local copies (its scratch holds a JSON message's text), so the
            // events can go into the part as they come.
            var scratch = part.scratch, zone = part.zone
            var times: (Int, Int) = (Int.max, Int.min)
            let outcome = ErrorLogParser.parse(line, zone: &zone, scratch: &scratch) { text, e in
                times = (min(times.0, e.time), max(times.1, e.time))
                // Only transactions of the scanned windows are kept: memory follows the window,
                // not the log (as for audit entries).
                guard windows.contains(where: { $0.bucket(e.time) != nil }) else {
                    part.matchLines += 1
                    return
                }
                part.add(text, e, file: block.file, key: key)
            }
            part.scratch = scratch
            part.zone = zone
            switch outcome {
            case .noise: part.otherLines += 1
            case .badTime: tally.skipped.add(.badTime, line: number, value: line)
            case .events:
                tally.entries += 1
                tally.saw(times.0)
                tally.saw(times.1)
            }
        }
    }
}
