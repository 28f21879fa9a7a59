import Foundation
import ThreatModel

/// What the parse workers do with each line, and how entries no access line claims are
/// attributed by their file afterwards.
extension WAFLogScan {
    @inline(__always)
    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }

    /// Whether an audit file starts with a native boundary (its first non-blank bytes are `--`).
    static func looksNative(_ f: LogFileHandle) -> Bool {
        var head = [UInt8](repeating: 0, count: 4096)
        var n = 0
        if f.isGzip {
            guard let g = try? GzipSource(file: f) else { return false }
            let source = g
            n = (try? head.withUnsafeMutableBytes { try source.read(into: $0) }) ?? 0
        } else {
            n = head.withUnsafeMutableBytes { pread(f.fd, $0.baseAddress, 4096, 0) }
        }
        guard n > 0 else { return false }
        var i = 0
        while i < n, head[i] == 0x20 || head[i] == 0x0A || head[i] == 0x0D || head[i] == 0x09 { i += 1 }
        return i + 1 < n && head[i] == 0x2D && head[i + 1] == 0x2D
    }

    func parseAudit(_ block: LineBlock, _ part: inout AuditPart, _ tally: inout BlockTally) {
        if part.native.open, part.native.file != block.file {
            part.nativeIncomplete += 1
            part.native.reset()
        }
        if part.native.headless, part.native.file != block.file { part.native.reset() }
        BlockReader.lines(of: block, tally: &tally) { line, number, tally in
            if part.native.headless, line.first == 0x7B { part.native.reset() }
            if part.native.open || part.native.headless || (line.count >= 7 && line[0] == 0x2D && NativeAuditAssembler.boundary(line) != nil) {
                part.native.file = block.file
                switch part.native.feed(line) {
                case .entry?: recordNative(&part, &tally, line: number, file: block.file)
                case .incomplete?: tally.skipped.add(.incompleteEntry, line: number, value: line)
                case .headless?: tally.skipped.add(.headlessEntry, line: number, value: line)
                case nil: break
                }
                return
            }
            if Self.isBlank(line) { return }
            var text = line
            if let first = line.first(where: { $0 != 0x20 && $0 != 0x09 }), first != 0x7B {
                // A JSON entry behind a proxy's log prefix (coraza-proxy-wasm's `wasmSerial` writer:
                // `[2024-03-25 22:25:21.566289][40][info][wasm] [...] wasm log coraza-filter my_vm_id: {"transaction":…}`).
                if let at = Self.auditJSONStart(line) {
                    text = UnsafeBufferPointer(rebasing: line[at...])
                    tally.prefixed += 1
                } else if let (_, server) = ErrorLogParser.prefixTime(line), server == .envoy || server == .iso {
                    // The proxy's other output (access lines, Coraza error lines, debug lines).
                    tally.passedOver += 1
                    return
                }
            }
            if let failure = part.reader.read(text) {
                tally.skipped.add(failure == .notJSON ? .notJSON : failure == .notAuditEntry ? .notAuditEntry : .badTime, line: number, value: line)
                return
            }
            let reader = part.reader
            tally.entries += 1
            tally.flavors[AuditFlavor.allCases.firstIndex(of: reader.flavor) ?? 0] += 1
            if !reader.producerName.isEmpty {
                tally.producerNames.add(reader.bytes(reader.producerName))
            } else if reader.flavor == .coraza {
                // coraza-spoa and coraza-caddy leave `producer.connector` empty: the shape names Coraza.
                Self.corazaShape.withUnsafeBufferPointer { tally.producerNames.add($0) }
            }
            if !reader.producerComponent.isEmpty { tally.producerComponents.add(reader.bytes(reader.producerComponent)) }
            guard let (windowIndex, bucket) = place(reader.time, &tally) else { return }
            let start = UInt32(part.ruleRefs.count)
            let rules = reader.rules.prefix(Int(UInt16.max))
            var targeted = false
            for r in rules {
                let target = r.target.isEmpty ? RuleRef.noTarget : part.targets.id(reader.bytes(r.target))
                targeted = targeted || !r.target.isEmpty
                part.ruleRefs.append(RuleRef(rule: part.rules.id(reader.bytes(r.id)), message: part.messages.id(reader.bytes(r.message)),
                                             target: target, severity: UInt8(clamping: r.severity ?? 255)))
            }
            let id = reader.bytes(reader.uniqueID)
            let host = reader.bytes(reader.host)
            var record = AuditRecord(
                idHash: id.isEmpty ? 0 : byteHash(id, key: hashKey), window: UInt8(windowIndex), bucket: Int32(bucket),
                client: part.clients.id(reader.bytes(reader.client)), uri: part.uris.id(reader.bytes(reader.uri)),
                rulesStart: start, rulesCount: UInt16(rules.count), engine: reader.engine,
                hostMatch: attribution.matches(uniqueID: id, host: host), blocked: reader.blocked,
                critical: reader.hasCriticalAttack, score: Int32(clamping: reader.anomalyScore ?? -1))
            record.crsUnconfigured = reader.crsUnconfigured
            record.file = UInt16(clamping: block.file)
            record.hasHost = !host.isEmpty
            record.otherHost = attribution.isOtherEnvironments(host: host)
            record.time = Int64(reader.time)
            record.status = Int16(clamping: reader.httpCode ?? -1)
            if targeted, !id.isEmpty { offerExamples(&part, record, uid: id) }
            part.records.append(record)
        }
    }

    /// The producer text of a Coraza JSON entry whose `producer.connector` is empty.
    static let corazaShape = Array("Coraza JSON (no producer.connector)".utf8)

    /// Where `{"transaction":` starts in a line that holds more before it, or nil.
    static func auditJSONStart(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        let needle: StaticString = "{\"transaction\":"
        let n = needle.utf8CodeUnitCount
        guard line.count > n, let base = line.baseAddress else { return nil }
        var k = 0
        while k + n <= line.count {
            guard let hit = memchr(base + k, 0x7B, line.count - n + 1 - k) else { return nil }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, needle.utf8Start, n) == 0 { return at }
            k = at + 1
        }
        return nil
    }

    /// Offers the entry about to be appended as an example of each of its targeted matches.
    func offerExamples(_ part: inout AuditPart, _ record: AuditRecord, uid: UnsafeBufferPointer<UInt8>) {
        let index = part.records.count
        for ref in part.ruleRefs[Int(record.rulesStart)..<(Int(record.rulesStart) + Int(record.rulesCount))] where ref.target != RuleRef.noTarget {
            part.examples.offer(rule: ref.rule, uri: record.uri, target: ref.target, window: record.window, time: record.time,
                                record: index, uid: uid, uris: part.uris)
        }
    }

    /// The window and bucket of an entry's time (counting entries outside the report window).
    @inline(__always)
    func place(_ time: Int, _ tally: inout BlockTally) -> (Int, Int)? {
        tally.saw(time)
        var found: (window: Int, bucket: Int)?
        for (k, w) in windows.enumerated() {
            if let b = w.bucket(time) { found = (k, b); break }
        }
        if found?.window != 0 { tally.outsideWindow += 1 }
        return found
    }

    func recordNative(_ part: inout AuditPart, _ tally: inout BlockTally, line number: Int, file: Int) {
        let e = part.native
        let timeText = e.timeText
        guard let time = timeText.withUnsafeBufferPointer({ LogTime.parseCommonLog($0) }) else {
            tally.skipped.add(.badTime, line: number, value: timeText.isEmpty ? e.headerLine : timeText)
            return
        }
        tally.entries += 1
        tally.flavors[AuditFlavor.allCases.firstIndex(of: .native) ?? 0] += 1
        if !e.producer.isEmpty { e.producer.withUnsafeBufferPointer { tally.producerNames.add($0) } }
        guard let (windowIndex, bucket) = place(time, &tally) else { return }
        let start = UInt32(part.ruleRefs.count)
        var critical = false, score: Int32 = -1, unconfigured = false, targeted = false
        for r in e.rules.prefix(Int(UInt16.max)) {
            let ruleID = r.id.withUnsafeBufferPointer { part.rules.id($0) }
            let message = r.message.withUnsafeBufferPointer { part.messages.id($0) }
            let target = r.target.isEmpty ? RuleRef.noTarget : r.target.withUnsafeBufferPointer { part.targets.id($0) }
            targeted = targeted || !r.target.isEmpty
            part.ruleRefs.append(RuleRef(rule: ruleID, message: message, target: target, severity: UInt8(clamping: r.severity ?? 255)))
            guard let n = r.id.withUnsafeBufferPointer({ AuditEntryReader.ruleNumber($0) }) else { continue }
            if let s = r.severity, s <= 2, CRSCategory(ruleNumber: n).isAttack { critical = true }
            if score < 0, n == 949_110 || n == 949_111,
               let t = r.message.withUnsafeBufferPointer({ AuditEntryReader.totalScore($0) }) { score = Int32(clamping: t) }
            if n == AuditEntryReader.unconfiguredCRSRule { unconfigured = true }
        }
        let id = e.uniqueID
        let hostMatch = id.withUnsafeBufferPointer { i in e.host.withUnsafeBufferPointer { attribution.matches(uniqueID: i, host: $0) } }
        var record = AuditRecord(
            idHash: id.isEmpty ? 0 : id.withUnsafeBufferPointer { byteHash($0, key: hashKey) }, window: UInt8(windowIndex), bucket: Int32(bucket),
            client: e.client.withUnsafeBufferPointer { part.clients.id($0) }, uri: e.uri.withUnsafeBufferPointer { part.uris.id($0) },
            rulesStart: start, rulesCount: UInt16(min(e.rules.count, Int(UInt16.max))), engine: e.engine,
            hostMatch: hostMatch, blocked: e.blocked, critical: critical, score: score)
        record.crsUnconfigured = unconfigured
        record.file = UInt16(clamping: file)
        record.hasHost = !e.host.isEmpty
        record.otherHost = e.host.withUnsafeBufferPointer { attribution.isOtherEnvironments(host: $0) }
        record.time = Int64(time)
        record.status = Int16(clamping: e.status ?? -1)
        if targeted, !id.isEmpty { id.withUnsafeBufferPointer { offerExamples(&part, record, uid: $0) } }
        part.records.append(record)
    }

    func parseAccess(_ block: LineBlock, _ part: inout AccessPart, _ tally: inout BlockTally, table: IDTable?, chain: [Int32]) {
        func count(_ p: UnsafeBufferPointer<UInt8>, _ number: Int, _ tally: inout BlockTally, _ parsed: AccessLogLine?) {
            guard let line = parsed else {
                tally.skipped.add(.notAccessLine, line: number, value: p)
                return
            }
            tally.formats[line.format.rawValue] += 1
            tally.saw(line.time)
            // 0 no environment ([] upstream), 1 this one, 2 another.
            let owner: UInt8
            if !line.upstream.isEmpty {
                owner = attribution.ownsUpstream(p, line.upstream) ? 1 : 2
            } else if line.format == .ingress {
                owner = 0
            } else if !line.host.isEmpty, !attribution.hosts.isEmpty {
                owner = attribution.ownsHost(p, line.host) ? 1 : 2
            } else if !line.route.isEmpty, let own = attribution.ownsRoute(p, line.route) {
                owner = own ? 1 : 2
            } else {
                owner = 1  // the environment's own file
            }
            for (k, w) in windows.enumerated() {
                guard let b = w.bucket(line.time) else {
                    if k == 0 { tally.outsideWindow += 1 }
                    continue
                }
                switch owner {
                case 1:
                    part.buckets[k][b] += 1
                    if k == 0 { tally.own += 1 }
                case 2: break
                default: if k == 0 { tally.noUpstream += 1 }
                }
                break
            }
            guard owner != 0, let table, !line.requestID.isEmpty else { return }
            let h: UInt64
            let id = UnsafeBufferPointer(rebasing: p[line.requestID])
            if id.contains(0x5C) {  // \xHH escapes: hash the bytes the audit log has
                h = Array(AccessLogLine.text(p, line.requestID).utf8).withUnsafeBufferPointer { byteHash($0, key: hashKey) }
            } else {
                h = byteHash(id, key: hashKey)
            }
            var k = table.find(h) ?? -1
            while k >= 0 {
                part.hits.append((k, owner, Int16(clamping: line.status)))
                k = chain[Int(k)]
            }
        }
        // A compiled log_format is walked through pointers taken once per block.
        if case let .compiled(c) = accessFormat.mode {
            c.steps.withUnsafeBufferPointer { steps in
                c.bytes.withUnsafeBufferPointer { literals in
                    BlockReader.lines(of: block, tally: &tally) { p, number, tally in
                        if Self.isBlank(p) { return }
                        count(p, number, &tally, c.match(p, steps, literals, &part.timeCache))
                    }
                }
            }
            return
        }
        BlockReader.lines(of: block, tally: &tally) { p, number, tally in
            if Self.isBlank(p) { return }
            count(p, number, &tally, accessFormat.parse(p, timeCache: &part.timeCache))
        }
    }

    /// Marks the records no access line claimed that their file gives to the environment, and
    /// returns how many report-window records are left to no one.
    func attributeByFile<B>(_ records: inout [AuditRecord], access: StepResult<B>) -> Int {
        // A shared ingress log (lines carrying upstream names) means the files are not one
        // environment's own (unless the access lines only lend answer codes: `waf tune`).
        let sharedAccess = accessOwnership && access.folds.contains { f in f.files.values.contains { $0.totals.formats[AccessLogLine.Format.ingress.rawValue] > 0 } }
        let ownFiles = attribution.hosts.isEmpty && !sharedAccess
        // Per audit file: entries with a Host that is this environment's, and with another Host.
        var mine = [Int](repeating: 0, count: auditFiles.count + errorFiles.count), others = mine
        for r in records where r.hasHost && Int(r.file) < mine.count {
            if r.hostMatch { mine[Int(r.file)] += 1 } else { others[Int(r.file)] += 1 }
        }
        var unattributed = 0
        for k in records.indices where records[k].owner == 0 && !records[k].hostMatch {
            let f = Int(records[k].file)
            // An error log's lines often carry no Host (Coraza names the server's address): a
            // transaction without one is the environment's when no line of its file names
            // another environment's host (one error log per environment).
            let needsMine = !records[k].fromErrorLog
            if ownFiles || (!records[k].hasHost && f < mine.count && (mine[f] > 0 || !needsMine) && others[f] == 0) {
                records[k].byFile = true
            } else if records[k].window == 0 && !records[k].otherHost {
                unattributed += 1
            }
        }
        return unattributed
    }
}
