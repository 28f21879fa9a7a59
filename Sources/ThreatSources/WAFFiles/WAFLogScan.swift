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
/// Large plain files are cut into byte ranges at line starts and read on all cores; `.gz` files
/// are read whole, one per core.
struct WAFLogScan {
    var auditFiles: [LogFileHandle]
    var accessFiles: [LogFileHandle]
    var window: ScanWindow
    var attribution: Attribution
    var zone: TimeZone
    var workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    /// Plain files above this size are cut into pieces of about this size (at least two per
    /// worker, so a worker that finishes early takes another piece).
    var pieceSize = 16 << 20

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
        var accessBuckets: [Int]
        var skipped: Int
        var warnings: [String]
    }

    /// What one file contributed, for the evidence appendix.
    struct FileSummary {
        var path: String
        var sha256: String
        var description: String
    }

    func items(_ files: [LogFileHandle]) -> [ScanItem] {
        var out: [ScanItem] = []
        for (k, f) in files.enumerated() {
            if f.isGzip || f.size <= pieceSize || workers == 1 {
                out.append(ScanItem(file: k, start: 0, stop: .max, gzip: f.isGzip))
                continue
            }
            let pieces = max(2 * workers, min(f.size / pieceSize, 64 * workers))
            var cuts = [0]
            for w in 1..<pieces { cuts.append(LineScanner.lineStart(in: f, atOrAfter: f.size * w / pieces)) }
            cuts.append(f.size)
            for w in 0..<pieces where cuts[w] < cuts[w + 1] {
                out.append(ScanItem(file: k, start: cuts[w], stop: w == pieces - 1 ? .max : cuts[w + 1], gzip: false))
            }
        }
        return out
    }

    enum Job {
        case audit(ScanItem)
        case access(ScanItem)
    }

    enum JobResult {
        case audit(AuditPart)
        case access(AccessPart)
        /// A merged audit part, dropped.
        case done
    }

    func run(_ jobs: [Job], table: IDTable?, records: [AuditRecord]) throws(SourceError) -> [JobResult] {
        let buffers = (0..<workers).map { _ in LineBuffer() }
        let results: [Result<JobResult, SourceError>] = parallelResults(jobs.count, width: workers) { i, worker in
            do throws(SourceError) {
                let buffer = buffers[worker]
                switch jobs[i] {
                case let .audit(item): return .success(.audit(try scanAudit(item, buffer: buffer)))
                case let .access(item): return .success(.access(try scanAccess(item, table: table, records: records, buffer: buffer)))
                }
            } catch {
                return .failure(error)
            }
        }
        return try results.map { r throws(SourceError) in try r.get() }
    }

    func scan() throws(SourceError) -> Outcome {
        // The evidence digests read every file once more, on a thread of their own that runs
        // beside both steps (it is one sequential stream per file, so it cannot be split).
        let digests = DigestThread(files: auditFiles + accessFiles)

        // 1. Audit logs.
        let auditItems = items(auditFiles)
        var first = try run(auditItems.map { .audit($0) }, table: nil, records: [])
        var merged = AuditPart()
        var auditParts: [AuditPart] = []
        var records: [AuditRecord] = []
        var refs: [RuleRef] = []
        var counts = (records: 0, refs: 0)
        for r in first { if case let .audit(p) = r { counts.records += p.records.count; counts.refs += p.ruleRefs.count } }
        records.reserveCapacity(counts.records)
        refs.reserveCapacity(counts.refs)
        for k in first.indices {
            guard case let .audit(part) = first[k] else { continue }
            first[k] = .done  // drop the part's arrays as soon as they are merged
            defer { auditParts.append(part.countsOnly) }
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

        // 2. Access logs.
        let accessItems = items(accessFiles)
        let second = try run(accessItems.map { .access($0) }, table: table.isEmpty ? nil : table, records: records)
        var accessParts: [AccessPart] = []
        for r in second { if case let .access(p) = r { accessParts.append(p) } }
        let allDigests = try digests.wait()
        var buckets = [Int](repeating: 0, count: window.bucketCount)
        for part in accessParts {
            for k in buckets.indices { buckets[k] += part.buckets[k] }
            for (rec, owner) in part.hits {
                let k = Int(rec)
                if owner == 1 { records[k].owner = 1 } else if records[k].owner == 0 { records[k].owner = 2 }
            }
        }

        var (audit, access, skippedTotal, warnings) = summaries(auditItems, auditParts, accessItems, accessParts, digests: allDigests)
        for (what, i) in [("client addresses", merged.clients), ("URIs", merged.uris), ("rule messages", merged.messages)]
        where i.overflowed > 0 {
            warnings.append("more than \(i.cap) distinct \(what) in the window: \(i.overflowed) entries beyond them are counted but not ranked")
        }
        return Outcome(records: records, ruleRefs: refs, rules: merged.rules, messages: merged.messages,
                       clients: merged.clients, uris: merged.uris, audit: audit, access: access,
                       accessBuckets: buckets, skipped: skippedTotal, warnings: warnings)
    }

    // MARK: Workers

    func withLines(_ item: ScanItem, _ files: [LogFileHandle], buffer: LineBuffer,
                   _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) throws(SourceError) -> (LineScanner.Counts, String?) {
        let file = files[item.file]
        if item.gzip {
            var source = try GzipSource(file: file)
            let counts = try LineScanner.scan(&source, buffer: buffer, body)
            return (counts, source.endNote)
        }
        var source = FileRegionSource(file: file, start: item.start)
        return (try LineScanner.scan(&source, startOffset: item.start, stopOffset: item.stop, buffer: buffer, body), nil)
    }

    @inline(__always)
    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }

    func scanAudit(_ item: ScanItem, buffer: LineBuffer) throws(SourceError) -> AuditPart {
        var part = AuditPart()
        var reader = AuditEntryReader(zone: zone)
        let (counts, note) = try withLines(item, auditFiles, buffer: buffer) { line, number in
            if Self.isBlank(line) { return }
            if let failure = reader.read(line) {
                part.skipped.add(failure == .notJSON ? .notJSON : failure == .notAuditEntry ? .notAuditEntry : .badTime, line: number)
                return
            }
            part.entries += 1
            part.flavors[reader.flavor, default: 0] += 1
            guard let bucket = window.bucket(reader.time) else { part.outsideWindow += 1; return }
            let start = UInt32(part.ruleRefs.count)
            let rules = reader.rules.prefix(Int(UInt16.max))
            for r in rules {
                part.ruleRefs.append(RuleRef(rule: part.rules.id(reader.bytes(r.id)), message: part.messages.id(reader.bytes(r.message))))
            }
            let id = reader.bytes(reader.uniqueID)
            part.records.append(AuditRecord(
                idHash: id.isEmpty ? 0 : byteHash(id), bucket: Int32(bucket),
                client: part.clients.id(reader.bytes(reader.client)), uri: part.uris.id(reader.bytes(reader.uri)),
                rulesStart: start, rulesCount: UInt16(rules.count), engine: reader.engine,
                hostMatch: attribution.matches(uniqueID: id, host: reader.bytes(reader.host)), blocked: reader.blocked,
                critical: reader.hasCriticalAttack, score: Int32(clamping: reader.anomalyScore ?? -1)))
        }
        part.lines = counts.lines
        part.skipped.addOversized(counts)
        part.endNote = note
        return part
    }

    func scanAccess(_ item: ScanItem, table: IDTable?, records: [AuditRecord], buffer: LineBuffer) throws(SourceError) -> AccessPart {
        var part = AccessPart(buckets: window.bucketCount)
        var cache = TimeCache()
        var idBuffer: [UInt8] = []
        let (counts, note) = try withLines(item, accessFiles, buffer: buffer) { p, number in
            if Self.isBlank(p) { return }
            guard let line = AccessLogLine.parse(p, timeCache: &cache) else {
                part.skipped.add(.notAccessLine, line: number)
                return
            }
            // 0 no environment ([] upstream), 1 this one, 2 another.
            let owner: UInt8
            switch line.format {
            case .combined:
                part.combined += 1
                owner = 1
            case .ingress:
                part.ingress += 1
                owner = line.upstream.isEmpty ? 0 : attribution.ownsUpstream(p, line.upstream) ? 1 : 2
            }
            if let b = window.bucket(line.time) {
                switch owner {
                case 1: part.buckets[b] += 1; part.own += 1
                case 2: part.otherEnvironments += 1
                default: part.noUpstream += 1
                }
            } else {
                part.outsideWindow += 1
            }
            guard owner != 0, let table, !line.requestID.isEmpty else { return }
            var h: UInt64
            let id = UnsafeBufferPointer(rebasing: p[line.requestID])
            if id.contains(0x5C) {  // \xHH escapes: hash the bytes the audit log has
                idBuffer = Array(AccessLogLine.text(p, line.requestID).utf8)
                h = idBuffer.withUnsafeBufferPointer { byteHash($0) }
            } else {
                h = byteHash(id)
            }
            var k = table.find(h) ?? -1
            while k >= 0 {
                part.hits.append((k, owner))
                k = records[Int(k)].next
            }
        }
        part.lines = counts.lines
        part.skipped.addOversized(counts)
        part.endNote = note
        return part
    }
}

/// Computes the SHA-256 of files on a thread of its own; `wait` returns them in order.
final class DigestThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<[String], SourceError> = .success([])

    init(files: [LogFileHandle]) {
        let thread = Thread { [self] in
            let buffer = LineBuffer()
            do throws(SourceError) {
                var out: [String] = []
                for f in files { out.append(try FileDigest.sha256(of: f, buffer: buffer)) }
                result = .success(out)
            } catch {
                result = .failure(error)
            }
            done.signal()
        }
        thread.start()
    }

    func wait() throws(SourceError) -> [String] {
        done.wait()
        return try result.get()
    }
}
