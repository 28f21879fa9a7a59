import Foundation
import ThreatModel

/// Reads an environment's audit and access logs in three steps, in memory bounded by the audit
/// entries of the window (never by the size of the logs):
///
/// 1. the audit logs: each entry in the window becomes a compact `AuditRecord`;
/// 2. the access logs: the environment's lines in the window are counted into buckets, and every
///    line whose `$req_id` is an audit entry's id says whose that entry is;
/// 3. the records that are the environment's are aggregated (`WAFAggregation`).
///
/// In steps 1 and 2 the calling thread reads the files while worker threads parse the blocks it
/// hands over and a hasher thread computes the evidence digests (`LogBlocks`).
struct WAFLogScan {
    var auditFiles: [LogFileHandle]
    var accessFiles: [LogFileHandle]
    /// The report window first; more windows (the previous one, for the comparison) are counted
    /// in the same pass.
    var windows: [ScanWindow]
    var attribution: Attribution
    var zone: TimeZone
    /// Parse threads beside the reading thread. Audit lines cost about twice as much to parse as
    /// to read and hash, so the audit step uses every core; access lines cost about the same, so
    /// the access step leaves the reader a core of its own.
    var auditWorkers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    var accessWorkers = max(1, min(ProcessInfo.processInfo.activeProcessorCount - 1, 8))

    /// Sets both steps' worker counts (tests).
    var workers: Int {
        get { accessWorkers }
        set {
            auditWorkers = newValue
            accessWorkers = newValue
        }
    }

    /// Everything the scan learned, before aggregation.
    struct Outcome {
        var records: [AuditRecord]
        var ruleRefs: [RuleRef]
        var rules: Interner
        var messages: Interner
        var clients: Interner
        var uris: Interner
        var audit: [FileSummary]
        var access: [FileSummary]
        /// Per window.
        var accessBuckets: [[Int]]
        var skipped: Int
        var warnings: [String]
        /// What the audit and access logs held (docs/data-quality.md); the audit input's
        /// `attributed` is filled by the aggregation, which knows whose each entry is.
        var auditCoverage: InputCoverage
        var accessCoverage: InputCoverage
    }

    /// What one file contributed, for the evidence appendix.
    struct FileSummary {
        var path: String
        var sha256: String
        var description: String
    }

    /// What a step gives back: the workers' parts and block tallies, and per file its digest and
    /// a note when it ended early.
    struct StepResult<Part> {
        var parts: [Part]
        /// Each worker's block tallies, folded per file.
        var folds: [TallyFold]
        var digests: [String]
        var notes: [String?]
    }

    /// Reads `files` on this thread, parses their blocks on `workers` threads and hashes them on
    /// one more.
    func step<Part>(_ files: [LogFileHandle], workers: Int, makePart: @escaping () -> Part,
                    parse: @escaping (LineBlock, inout Part, inout BlockTally) -> Void) throws(SourceError) -> StepResult<Part> {
        let queue = BlockQueue(buffers: workers + 2)
        let hasher = BlockHasher(queue: queue)
        let box = StepBox<Part>(workers)
        let group = DispatchGroup()
        for w in 0..<workers {
            group.enter()
            nonisolated(unsafe) let make = makePart, work = parse
            let thread = Thread {
                var part = make()
                var fold = TallyFold()
                while let block = queue.pop() {
                    var tally = BlockTally(file: block.file, index: block.index)
                    work(block, &part, &tally)
                    if let b = block.buffer { queue.giveBack(b) }
                    fold.add(tally)
                }
                box.store(w, part, fold)
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var digests: [String?] = []
        var notes: [String?] = []
        var failure: SourceError?
        for (k, f) in files.enumerated() {
            do throws(SourceError) {
                let (digest, note) = try BlockReader.read(f, fileIndex: k, into: queue, hasher: hasher)
                digests.append(digest)
                notes.append(note)
            } catch {
                failure = error
                break
            }
        }
        queue.close()
        let hashed = hasher.finish()
        group.wait()
        if let failure { throw failure }
        return StepResult(parts: box.parts.map { $0! }, folds: box.folds,
                          digests: digests.enumerated().map { k, d in d ?? hashed[k] ?? "" }, notes: notes)
    }

    func scan() throws(SourceError) -> Outcome {
        // 1. Audit logs.
        let zone = self.zone
        var first = try step(auditFiles, workers: auditWorkers, makePart: { AuditPart(zone: zone) }, parse: parseAudit)
        var merged = AuditPart(zone: zone)
        var records: [AuditRecord] = []
        var refs: [RuleRef] = []
        records.reserveCapacity(first.parts.reduce(0) { $0 + $1.records.count })
        refs.reserveCapacity(first.parts.reduce(0) { $0 + $1.ruleRefs.count })
        for k in first.parts.indices {
            let part = first.parts[k]
            first.parts[k] = AuditPart(zone: zone)  // drop the part's arrays as soon as they are merged
            let ruleMap = merged.rules.absorb(part.rules)
            let messageMap = merged.messages.absorb(part.messages)
            let clientMap = merged.clients.absorb(part.clients)
            let uriMap = merged.uris.absorb(part.uris)
            func remap(_ map: [UInt32], _ v: UInt32) -> UInt32 { v == Interner.overflow ? v : map[Int(v)] }
            let refBase = UInt32(refs.count)
            for r in part.ruleRefs {
                refs.append(RuleRef(rule: remap(ruleMap, r.rule), message: remap(messageMap, r.message)))
            }
            for var rec in part.records {
                rec.client = remap(clientMap, rec.client)
                rec.uri = remap(uriMap, rec.uri)
                rec.rulesStart += refBase
                records.append(rec)
            }
        }
        var table = IDTable(capacity: records.count)
        for k in records.indices where records[k].idHash != 0 {
            if let previous = table.insert(records[k].idHash, Int32(k)) { records[k].next = previous }
        }

        // 2. Access logs: the join table and the records are only read while the workers run.
        let lookup = table.isEmpty ? nil : table
        let chain = records.map(\.next)
        let windows = self.windows
        let second = try step(accessFiles, workers: accessWorkers, makePart: { AccessPart(windows: windows) }) { block, part, tally in
            parseAccess(block, &part, &tally, table: lookup, chain: chain)
        }
        var totals = windows.map { [Int](repeating: 0, count: $0.bucketCount) }
        for part in second.parts {
            for w in totals.indices {
                for k in totals[w].indices { totals[w][k] += part.buckets[w][k] }
            }
            for (rec, owner) in part.hits {
                let k = Int(rec)
                if owner == 1 { records[k].owner = 1 } else if records[k].owner == 0 { records[k].owner = 2 }
            }
        }

        var (audit, access, skippedTotal, warnings) = summaries(audit: first, access: second)
        let (auditCoverage, accessCoverage) = coverage(audit: first, access: second)
        for (what, i) in [("client addresses", merged.clients), ("URIs", merged.uris), ("rule messages", merged.messages)]
        where i.overflowed > 0 {
            warnings.append("more than \(i.cap) distinct \(what) in the window: \(i.overflowed) entries beyond them are counted but not ranked")
        }
        return Outcome(records: records, ruleRefs: refs, rules: merged.rules, messages: merged.messages,
                       clients: merged.clients, uris: merged.uris, audit: audit, access: access,
                       accessBuckets: totals, skipped: skippedTotal, warnings: warnings,
                       auditCoverage: auditCoverage, accessCoverage: accessCoverage)
    }

    // MARK: Workers

    @inline(__always)
    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }

    func parseAudit(_ block: LineBlock, _ part: inout AuditPart, _ tally: inout BlockTally) {
        BlockReader.lines(of: block, tally: &tally) { line, number, tally in
            if Self.isBlank(line) { return }
            if let failure = part.reader.read(line) {
                tally.skipped.add(failure == .notJSON ? .notJSON : failure == .notAuditEntry ? .notAuditEntry : .badTime, line: number,
                                  value: line)
                return
            }
            let reader = part.reader
            tally.entries += 1
            tally.saw(reader.time)
            switch reader.flavor {
            case .modsecurityV3: tally.flavors[0] += 1
            case .modsecurityV2: tally.flavors[1] += 1
            case .coraza: tally.flavors[2] += 1
            }
            var found: (window: Int, bucket: Int)?
            for (k, w) in windows.enumerated() {
                if let b = w.bucket(reader.time) { found = (k, b); break }
            }
            if found?.window != 0 { tally.outsideWindow += 1 }
            guard let (windowIndex, bucket) = found else { return }
            let start = UInt32(part.ruleRefs.count)
            let rules = reader.rules.prefix(Int(UInt16.max))
            for r in rules {
                part.ruleRefs.append(RuleRef(rule: part.rules.id(reader.bytes(r.id)), message: part.messages.id(reader.bytes(r.message))))
            }
            let id = reader.bytes(reader.uniqueID)
            part.records.append(AuditRecord(
                idHash: id.isEmpty ? 0 : byteHash(id), window: UInt8(windowIndex), bucket: Int32(bucket),
                client: part.clients.id(reader.bytes(reader.client)), uri: part.uris.id(reader.bytes(reader.uri)),
                rulesStart: start, rulesCount: UInt16(rules.count), engine: reader.engine,
                hostMatch: attribution.matches(uniqueID: id, host: reader.bytes(reader.host)), blocked: reader.blocked,
                critical: reader.hasCriticalAttack, score: Int32(clamping: reader.anomalyScore ?? -1)))
        }
    }

    func parseAccess(_ block: LineBlock, _ part: inout AccessPart, _ tally: inout BlockTally, table: IDTable?, chain: [Int32]) {
        BlockReader.lines(of: block, tally: &tally) { p, number, tally in
            if Self.isBlank(p) { return }
            guard let line = AccessLogLine.parse(p, timeCache: &part.timeCache) else {
                tally.skipped.add(.notAccessLine, line: number, value: p)
                return
            }
            tally.saw(line.time)
            // 0 no environment ([] upstream), 1 this one, 2 another.
            let owner: UInt8
            switch line.format {
            case .combined:
                tally.combined += 1
                owner = 1
            case .ingress:
                tally.ingress += 1
                owner = line.upstream.isEmpty ? 0 : attribution.ownsUpstream(p, line.upstream) ? 1 : 2
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
                h = Array(AccessLogLine.text(p, line.requestID).utf8).withUnsafeBufferPointer { byteHash($0) }
            } else {
                h = byteHash(id)
            }
            var k = table.find(h) ?? -1
            while k >= 0 {
                part.hits.append((k, owner))
                k = chain[Int(k)]
            }
        }
    }
}

/// The workers' results of one step, stored as each worker finishes.
final class StepBox<Part>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var parts: [Part?]
    private(set) var folds: [TallyFold] = []

    init(_ workers: Int) { parts = Array(repeating: nil, count: workers) }

    func store(_ worker: Int, _ part: Part, _ fold: TallyFold) {
        lock.lock()
        parts[worker] = part
        folds.append(fold)
        lock.unlock()
    }
}
