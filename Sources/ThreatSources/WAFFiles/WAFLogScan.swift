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
    /// ModSecurity/Coraza error logs (`error_log`): their transactions join the audit records.
    var errorFiles: [LogFileHandle] = []
    /// The report window first; more windows (the previous one, for the comparison) are counted
    /// in the same pass.
    var windows: [ScanWindow]
    var attribution: Attribution
    var zone: TimeZone
    /// How access lines are read (detected among the presets unless configured).
    var accessFormat = AccessLogReader(nil)
    /// Access lines joined by request id say whose an entry is (the report); `waf tune` sets it
    /// off and takes only their answer codes (its `--hosts` decide).
    var accessOwnership = true
    /// Parse threads beside the reading thread. Audit lines cost about twice as much to parse as
    /// to read and hash, so the audit step uses every core; access lines cost about the same, so
    /// the access step leaves the reader a core of its own.
    var auditWorkers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    var accessWorkers = max(1, min(ProcessInfo.processInfo.activeProcessorCount - 1, 8))
    /// This scan's secret hash key (ids and interned strings), new for every scan.
    var hashKey = HashKey.random()

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
        /// Matched variables and the rows' example `unique_id`s (tuning input; empty tables where not scanned).
        var targets = Interner(cap: 0, byteCap: 0, key: HashKey(k0: 0, k1: 0))
        var examples: [TuningExamples.Key: [TuningExamples.Example]] = [:]
        var audit: [FileSummary]
        var access: [FileSummary]
        /// Per window.
        var accessBuckets: [[Int]]
        var skipped: Int
        var warnings: [String]
        /// Audit entries in the report window that no environment's access line, Host or file
        /// claims (counted, reported as a warning, never dropped silently).
        var unattributed = 0
        /// Audit entries per `AuditFlavor`, access lines per `AccessLogLine.Format`, all files.
        var auditFlavors: [Int] = []
        /// The engine and CRS version the audit entries' producer names, most frequent.
        var auditProducer: (engine: String?, crs: String?) = (nil, nil)
        var accessFormats: [Int] = []
        /// Audit entries read behind a proxy's log prefix, and that log's other lines passed over.
        var auditPrefixed = 0
        var auditPassedOver = 0
        /// What the audit and access logs held (docs/data-quality.md); the audit input's
        /// `attributed` is filled by the aggregation, which knows whose each entry is.
        var auditCoverage: InputCoverage
        var accessCoverage: InputCoverage
        /// What the error logs held (nil when none is configured), and what was seen in them.
        var errorLog: ErrorLogSummary?
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
        // The workers' results, stored as each worker finishes.
        let box = Locked<(parts: [Part?], folds: [TallyFold])>((Array(repeating: nil, count: workers), []))
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
                box.withLock { $0.parts[w] = part; $0.folds.append(fold) }
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
        let (parts, folds) = box.current
        return StepResult(parts: parts.map { $0! }, folds: folds,
                          digests: digests.enumerated().map { k, d in d ?? hashed[k] ?? "" }, notes: notes)
    }

    func scan() throws(SourceError) -> Outcome {
        // 1. Audit logs. Native entries span lines (and blocks): files holding them are read by
        // one worker, which sees the blocks in order.
        let zone = self.zone, key = hashKey
        let native = auditFiles.contains { Self.looksNative($0) }
        var first = try step(auditFiles, workers: native ? 1 : auditWorkers, makePart: { AuditPart(zone: zone, key: key) }, parse: parseAudit)
        let incomplete = first.parts.reduce(0) { $0 + $1.nativeIncomplete + ($1.native.open ? 1 : 0) }
        // 1b. Error logs: lines grouped into transactions (per block by the workers, then joined in
        // file order), which join the audit records.
        var errorStep: StepResult<ErrorLogPart>?
        var errorSummary: ErrorLogSummary?
        if !errorFiles.isEmpty {
            var third = try step(errorFiles, workers: auditWorkers, makePart: { ErrorLogPart(zone: zone, key: key) }, parse: parseErrorLog)
            var part = ErrorLogPart.merged(third.parts, zone: zone, key: key)
            third.parts = []
            var inWindow = 0
            var summary = ErrorLogSummary(part: part)
            first.parts.append(part.finish(windows: windows, attribution: attribution, fileBase: auditFiles.count, tally: &inWindow))
            summary.inWindow = inWindow
            errorStep = third
            errorSummary = summary
        }
        var merged = AuditPart(zone: zone, key: key)
        var records: [AuditRecord] = []
        var refs: [RuleRef] = []
        var examples: [TuningExamples.Key: [TuningExamples.Example]] = [:]
        let recordTotal = first.parts.reduce(0) { $0 + $1.records.count }, refTotal = first.parts.reduce(0) { $0 + $1.ruleRefs.count }
        for k in first.parts.indices {
            let part = first.parts[k]
            first.parts[k] = AuditPart(zone: zone, key: key)  // drop the part's arrays as soon as they are merged
            if merged.isEmpty {
                // The first part with anything in it (often the only one: an error log, or a
                // native audit log): its tables become the merged ones as they are.
                merged.rules = part.rules
                merged.messages = part.messages
                merged.clients = part.clients
                merged.uris = part.uris
                merged.targets = part.targets
                let same = { (n: Int) in (0..<n).map { UInt32($0) } }
                TuningExamples.merge(part.examples, into: &examples, rules: same(part.rules.count), targets: same(part.targets.count),
                                     recordBase: records.count)
                if records.isEmpty, refs.isEmpty {
                    // Its records and references as they are: moved, not copied.
                    records = part.records
                    refs = part.ruleRefs
                } else {
                    records.reserveCapacity(recordTotal)
                    refs.reserveCapacity(refTotal)
                    let refBase = UInt32(refs.count)
                    refs += part.ruleRefs
                    for var rec in part.records {
                        rec.rulesStart += refBase
                        records.append(rec)
                    }
                }
                continue
            }
            let ruleMap = merged.rules.absorb(part.rules)
            let messageMap = merged.messages.absorb(part.messages)
            let clientMap = merged.clients.absorb(part.clients)
            let uriMap = merged.uris.absorb(part.uris)
            let targetMap = merged.targets.absorb(part.targets)
            TuningExamples.merge(part.examples, into: &examples, rules: ruleMap, targets: targetMap, recordBase: records.count)
            records.reserveCapacity(recordTotal)
            refs.reserveCapacity(refTotal)
            func remap(_ map: [UInt32], _ v: UInt32) -> UInt32 { v == Interner.overflow || v == RuleRef.noTarget ? v : map[Int(v)] }
            let refBase = UInt32(refs.count)
            for r in part.ruleRefs {
                refs.append(RuleRef(rule: remap(ruleMap, r.rule), message: remap(messageMap, r.message), target: remap(targetMap, r.target),
                                    severity: r.severity))
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
        let second = try step(accessFiles, workers: accessWorkers, makePart: { [zone = accessFormat.zone] in AccessPart(windows: windows, zone: zone) }) { block, part, tally in
            parseAccess(block, &part, &tally, table: lookup, chain: chain)
        }
        var totals = windows.map { [Int](repeating: 0, count: $0.bucketCount) }
        for part in second.parts {
            for w in totals.indices {
                for k in totals[w].indices { totals[w][k] += part.buckets[w][k] }
            }
            for (rec, owner, status) in part.hits {
                let k = Int(rec)
                if accessOwnership {
                    if owner == 1 { records[k].owner = 1 } else if records[k].owner == 0 { records[k].owner = 2 }
                }
                // An entry that logged no answer (error-log lines never do) takes its access line's:
                // the tuning weighs the answer codes (docs/waf.md "Tuning candidates").
                if records[k].status < 0, status > 0 { records[k].status = status }
            }
        }

        var (audit, access, skippedTotal, warnings) = summaries(audit: first, access: second)
        var (auditCoverage, accessCoverage) = coverage(audit: first, access: second)
        if incomplete > 0 {
            skippedTotal += incomplete
            warnings.append("audit log: \(incomplete) native entr\(incomplete == 1 ? "y" : "ies") cut off at the end of a file (no Z boundary: the log was cut or is still being written)")
        }
        let unattributed = attributeByFile(&records, access: second)
        if unattributed > 0 {
            warnings.append("\(unattributed) audit entr\(unattributed == 1 ? "y" : "ies") in the window match no environment: no access line carries "
                + "their id, their Host is no environment's, and their file is not only this environment's; "
                + "list the hosts in `hosts:`, or give each environment its own audit log")
        }
        warnings += Self.otherWarnings(records: records, refs: refs, merged: merged)
        if incomplete > 0 { auditCoverage.skip("native entry cut off at the end of a file", count: incomplete) }
        if let errorStep, var summary = errorSummary {
            summary.fill(self, step: errorStep, records: records)
            warnings += summary.warnings
            audit += summary.files
            skippedTotal += summary.coverage.skippedTotal
            errorSummary = summary
        }
        return Outcome(records: records, ruleRefs: refs, rules: merged.rules, messages: merged.messages,
                       clients: merged.clients, uris: merged.uris, targets: merged.targets, examples: examples,
                       audit: audit, access: access,
                       accessBuckets: totals, skipped: skippedTotal, warnings: warnings, unattributed: unattributed,
                       auditFlavors: Self.sum(first.folds.map { $0.files.values.map(\.totals.flavors) }),
                       auditProducer: Self.producer(first.folds.flatMap { $0.files.values.map(\.totals) }),
                       accessFormats: Self.sum(second.folds.map { $0.files.values.map(\.totals.formats) }),
                       auditPrefixed: first.folds.reduce(0) { $0 + $1.files.values.reduce(0) { $0 + $1.totals.prefixed } },
                       auditPassedOver: first.folds.reduce(0) { $0 + $1.files.values.reduce(0) { $0 + $1.totals.passedOver } },
                       auditCoverage: auditCoverage, accessCoverage: accessCoverage, errorLog: errorSummary)
    }

    static func producer(_ totals: [BlockTally]) -> (engine: String?, crs: String?) {
        var names = ProducerTally(), components = ProducerTally()
        for t in totals {
            names.merge(t.producerNames)
            components.merge(t.producerComponents)
        }
        return ProducerTally.summary(names: names, components: components)
    }

    static func sum(_ rows: [[[Int]]]) -> [Int] {
        var out: [Int] = []
        for row in rows.joined() {
            if out.count < row.count { out += [Int](repeating: 0, count: row.count - out.count) }
            for k in row.indices { out[k] += row[k] }
        }
        return out
    }
}
