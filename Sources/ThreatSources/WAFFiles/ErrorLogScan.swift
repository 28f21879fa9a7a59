import Foundation
import ThreatModel

/// One rule-match line kept for a transaction: its rule reference, what it says of the
/// transaction, and for the inbound evaluation rules (949110/949111) the total score it gives.
struct ErrorRuleLine {
    static let critical: UInt8 = 1, evaluated: UInt8 = 2, unconfigured: UInt8 = 4
    var ref: RuleRef
    var flags: UInt8 = 0
    var score: Int32 = -1
}

/// One request as its error-log lines describe it: several lines (one per matched rule, one
/// more per intervention) share a `unique_id`, or, when the engine writes none, the client, URI
/// and second. A worker holds the lines of one block as a fragment; `ErrorLogPart.merged` joins
/// the fragments in file order into transactions.
struct ErrorTransaction {
    var time: Int
    var idHash: UInt64
    var hasID: Bool
    var client: UInt32
    var uri: UInt32
    var host: [UInt8]
    /// Its rule lines, the first of each rule only (a repeated rule line adds nothing).
    var lines: [ErrorRuleLine] = []
    var blocked = false
    var file: Int
    /// The `unique_id` (tuning examples), at most `TuningExamples.uidMaxBytes`.
    var uid: [UInt8] = []
    /// Where its first line is: the file, the block within the file, and the fragment's number
    /// within the block.
    var order: (file: UInt32, block: UInt32, seq: UInt32)

    var critical: Bool { lines.contains { $0.flags & ErrorRuleLine.critical != 0 } }
    /// The inbound evaluation rule (949110/949111) matched.
    var evaluated: Bool { lines.contains { $0.flags & ErrorRuleLine.evaluated != 0 } }
    var unconfigured: Bool { lines.contains { $0.flags & ErrorRuleLine.unconfigured != 0 } }
    /// The total score of its first evaluation line that gives one, or -1.
    var score: Int32 { lines.first { $0.score >= 0 }?.score ?? -1 }

    /// Moves a transaction out of `slot`, leaving an empty one, so its arrays are the caller's alone.
    static func take(_ slot: inout ErrorTransaction) -> ErrorTransaction {
        var t = ErrorTransaction(time: 0, idHash: 0, hasID: false, client: 0, uri: 0, host: [], file: 0, order: (0, 0, 0))
        swap(&t, &slot)
        return t
    }
}

/// What an error-log worker gathered from the blocks it took: per block, the fragments of the
/// transactions whose lines it holds (a transaction's lines follow each other, but may straddle
/// blocks that different workers take); `merged` joins them in file order.
struct ErrorLogPart {
    var audit: AuditPart
    var zone: LocalTimeZone
    var scratch: [UInt8] = []
    var transactions: [ErrorTransaction] = []
    /// The fragments of the block being read, by key (a worker's; the merged part's holds every
    /// transaction). Fragments never span blocks, so a worker's index is emptied at each block:
    /// it stays a few kilobytes, in cache, instead of growing with the log.
    var byKey = KeyedIndex()
    /// Rule-match lines per `ErrorLogEngine`.
    var engines = [Int](repeating: 0, count: ErrorLogEngine.allCases.count)
    /// `ver` values (`OWASP_CRS/4.7.0`), interned, with their line counts.
    var versionTable: Interner
    var versionCounts: [Int] = []
    /// The last line's version id (overflow: none yet, or past the table's cap).
    private var lastVersion = Interner.overflow
    var matchLines = 0
    var otherLines = 0
    /// The block being read, and the fragments begun in it.
    private var block: (file: UInt32, block: UInt32) = (UInt32.max, UInt32.max)
    private var seq: UInt32 = 0
    /// The fragment the last line went to, by key: a transaction's lines mostly follow each other.
    private var lastFragment: (key: UInt64, index: Int) = (0, -1)
    /// Per rule id, the message and target ids of its last line: tried before they are hashed.
    private var hints: [(message: UInt32, target: UInt32)] = []

    init(zone: TimeZone, key: HashKey) {
        audit = AuditPart(zone: zone, key: key)
        self.zone = LocalTimeZone(zone)
        versionTable = Interner(cap: 256, byteCap: 16 << 10, key: key)
    }

    /// The grouping key of a transaction without `unique_id`: its client, URI (as interned) and
    /// second, within its file.
    static func keyWithoutID(client: UInt32, uri: UInt32, time: Int, file: Int, key: HashKey) -> UInt64 {
        // The four values' bytes, in this order, on the stack.
        var v = (UInt64(client), UInt64(uri), UInt64(bitPattern: Int64(time)), UInt64(file))
        return withUnsafeBytes(of: &v) { byteHash($0.assumingMemoryBound(to: UInt8.self), key: key) } | 1
    }

    mutating func add(_ text: UnsafeBufferPointer<UInt8>, _ e: ErrorLogEvent, file: Int, block: Int, key: HashKey) {
        matchLines += 1
        engines[e.engine.rawValue] += 1
        func bytes(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: text[r]) }
        if !e.version.isEmpty {
            // Lines mostly repeat the last line's version: compared before it is looked up.
            let v = versionTable.id(UnsafeBufferPointer(rebasing: bytes(e.version).prefix(64)), hint: lastVersion)
            lastVersion = v
            if v != Interner.overflow {
                if Int(v) >= versionCounts.count { versionCounts += [Int](repeating: 0, count: Int(v) + 1 - versionCounts.count) }
                versionCounts[Int(v)] += 1
            }
        }
        let here = (file: UInt32(truncatingIfNeeded: file), block: UInt32(truncatingIfNeeded: block))
        if here != self.block {
            self.block = here
            seq = 0
            byKey.removeAll()
            lastFragment = (0, -1)
        }
        // The fragment of this block with the line's key (fragments never span blocks).
        func fragment(_ k: UInt64) -> Int? {
            let found = k == lastFragment.key ? lastFragment.index : byKey[k]
            guard let t = found, transactions[t].order.file == here.file, transactions[t].order.block == here.block else { return nil }
            return t
        }
        let hasID = !e.uniqueID.isEmpty
        // A fragment's client and URI are its first line's: the later lines of one with a
        // `unique_id` are not interned again.
        var client = Interner.overflow, uri = Interner.overflow
        let k: UInt64
        var existing: Int?
        if hasID {
            k = byteHash(bytes(e.uniqueID), key: key)
            existing = fragment(k)
            if existing == nil {
                client = audit.clients.id(bytes(e.client))
                uri = audit.uris.id(bytes(e.uri))
            }
        } else {
            client = audit.clients.id(bytes(e.client))
            uri = audit.uris.id(bytes(e.uri))
            k = Self.keyWithoutID(client: client, uri: uri, time: e.time, file: file, key: key)
            existing = fragment(k)
        }
        let t: Int
        if let existing {
            t = existing
        } else {
            t = transactions.count
            let host = e.host.isEmpty ? [] : AuditEntryReader.normalizedHost(bytes: bytes(e.host))
            var tx = ErrorTransaction(time: e.time, idHash: hasID ? k : 0, hasID: hasID, client: client, uri: uri, host: host, file: file,
                                      order: (here.file, here.block, seq))
            seq += 1
            tx.lines.reserveCapacity(4)
            if hasID, e.uniqueID.count <= TuningExamples.uidMaxBytes { tx.uid = Array(bytes(e.uniqueID)) }
            transactions.append(tx)
            byKey.set(k, t)
        }
        lastFragment = (k, t)
        if e.denied { transactions[t].blocked = true }
        if transactions[t].host.isEmpty, !e.host.isEmpty {
            transactions[t].host = AuditEntryReader.normalizedHost(bytes: bytes(e.host))
        }
        guard !e.id.isEmpty else { return }
        let rule = audit.rules.id(bytes(e.id))
        guard rule == Interner.overflow || !transactions[t].lines.contains(where: { $0.ref.rule == rule }) else { return }
        // The matched variable, from the data tag, else the text before the tags (`against variable `ARGS:q'`,
        // `… at ARGS:q.`): the tuning input.
        // A rule's lines mostly repeat its message and target: its last ones are compared first.
        var hint = (message: Interner.overflow, target: Interner.overflow)
        if rule != Interner.overflow {
            if Int(rule) >= hints.count { hints += repeatElement((message: Interner.overflow, target: Interner.overflow), count: Int(rule) + 1 - hints.count) }
            hint = hints[Int(rule)]
        }
        let target = MatchTarget.span(data: bytes(e.data), match: bytes(e.head), message: bytes(e.head))
            .map { audit.targets.id($0, hint: hint.target) } ?? RuleRef.noTarget
        let message = audit.messages.id(bytes(e.message), hint: hint.message)
        if rule != Interner.overflow { hints[Int(rule)] = (message, target == RuleRef.noTarget ? hint.target : target) }
        let severity = Self.severity(bytes(e.severity))
        var line = ErrorRuleLine(ref: RuleRef(rule: rule, message: message, target: target,
                                              severity: UInt8(clamping: severity ?? 255)))
        if let n = AuditEntryReader.ruleNumber(bytes(e.id)) {
            if let s = severity, s <= 2, CRSCategory(ruleNumber: n).isAttack { line.flags |= ErrorRuleLine.critical }
            if n == 949_110 || n == 949_111 {
                line.flags |= ErrorRuleLine.evaluated
                if let s = AuditEntryReader.totalScore(bytes(e.message)) { line.score = Int32(clamping: s) }
            }
            if n == AuditEntryReader.unconfiguredCRSRule { line.flags |= ErrorRuleLine.unconfigured }
        }
        transactions[t].lines.append(line)
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
        // Read here and by the examples' thread, then let go of on a thread of its own: freeing
        // the transactions' arrays (two or three each) need not hold up the records.
        let box = TransactionList(transactions)
        transactions = []
        byKey = KeyedIndex()
        lastFragment = (0, -1)
        // The window and bucket of a transaction's time, nil outside the scanned windows.
        @Sendable func place(_ time: Int) -> (window: Int, bucket: Int)? {
            for (k, w) in windows.enumerated() {
                if let b = w.bucket(time) { return (k, b) }
            }
            return nil
        }
        // The tuning examples on a thread of their own, offered in the same order and with the
        // same record numbers as the records made here.
        let recordBase = out.records.count
        let exampleThread = ParallelTask { [examples = out.examples, uris = out.uris] in
            var examples = examples
            var index = recordBase
            for tx in box.items {
                guard let (window, _) = place(tx.time) else { continue }
                defer { index += 1 }
                guard !tx.uid.isEmpty else { continue }
                tx.uid.withUnsafeBufferPointer { uid in
                    for l in tx.lines.prefix(Int(UInt16.max)) {
                        examples.offer(rule: l.ref.rule, uri: tx.uri, target: l.ref.target, window: UInt8(window), time: Int64(tx.time),
                                       record: index, uid: uid, uris: uris)
                    }
                }
            }
            return examples
        }
        out.records.reserveCapacity(out.records.count + box.items.count)
        out.ruleRefs.reserveCapacity(out.ruleRefs.count + box.items.reduce(0) { $0 + min($1.lines.count, Int(UInt16.max)) })
        for tx in box.items {
            guard let (window, bucket) = place(tx.time) else { continue }
            if window == 0 { tally += 1 }
            let start = UInt32(out.ruleRefs.count)
            let kept = min(tx.lines.count, Int(UInt16.max))
            for l in tx.lines.prefix(kept) { out.ruleRefs.append(l.ref) }
            let engine: EngineMode = tx.blocked ? .enabled : tx.evaluated ? .detectionOnly : .unknown
            let hostMatch = tx.host.withUnsafeBufferPointer { attribution.matches(uniqueID: UnsafeBufferPointer(start: nil, count: 0), host: $0) }
            var r = AuditRecord(idHash: tx.idHash, window: UInt8(window), bucket: Int32(bucket), client: tx.client, uri: tx.uri,
                                rulesStart: start, rulesCount: UInt16(kept), engine: engine,
                                hostMatch: hostMatch, blocked: tx.blocked || tx.unconfigured, critical: tx.critical, score: tx.score)
            r.crsUnconfigured = tx.unconfigured
            r.file = UInt16(clamping: fileBase + tx.file)
            r.hasHost = !tx.host.isEmpty
            r.otherHost = tx.host.withUnsafeBufferPointer { attribution.isOtherEnvironments(host: $0) }
            r.fromErrorLog = true
            r.time = Int64(tx.time)
            out.records.append(r)
        }
        out.examples = exampleThread.wait()
        // Both readers are done: the list's last reference goes on a thread of its own.
        Thread { box.items = [] }.start()
        return out
    }
}

/// The merged transactions while their records and examples are made: read by those two
/// threads only, then emptied once, by a third, after both are done.
final class TransactionList: @unchecked Sendable {
    var items: [ErrorTransaction]
    init(_ items: [ErrorTransaction]) { self.items = items }
}

extension WAFLogScan {
    func parseErrorLog(_ block: LineBlock, _ part: inout ErrorLogPart, _ tally: inout BlockTally) {
        let key = hashKey, windows = self.windows
        // The parser works on the block's own copies of the part's scratch (a JSON message's
        // text) and zone, so the events can go into the part as they come.
        var scratch = part.scratch, zone = part.zone
        defer {
            part.scratch = scratch
            part.zone = zone
        }
        BlockReader.lines(of: block, tally: &tally) { line, number, tally in
            if Self.isBlank(line) { return }
            var times: (Int, Int) = (Int.max, Int.min)
            let outcome = ErrorLogParser.parse(line, zone: &zone, scratch: &scratch) { text, e in
                times = (min(times.0, e.time), max(times.1, e.time))
                // Only transactions of the scanned windows are kept: memory follows the window,
                // not the log (as for audit entries).
                guard windows.contains(where: { $0.bucket(e.time) != nil }) else {
                    part.matchLines += 1
                    return
                }
                part.add(text, e, file: block.file, block: block.index, key: key)
            }
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
