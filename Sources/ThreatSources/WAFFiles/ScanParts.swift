import Foundation
import ThreatModel

/// The report window in whole seconds, with the bucket arithmetic of `TimeWindow.bucketStarts`
/// (buckets aligned to the interval in UTC, as Elasticsearch's `date_histogram` aligns them).
struct ScanWindow: Sendable {
    let from: Int
    let to: Int
    let firstBucket: Int
    let step: Int
    let bucketCount: Int

    init(_ w: TimeWindow) {
        from = Int(w.from.timeIntervalSince1970.rounded(.down))
        to = Int(w.to.timeIntervalSince1970.rounded(.up))
        step = w.interval.seconds
        firstBucket = from - ((from % step) + step) % step
        bucketCount = max(0, (to - firstBucket + step - 1) / step)
    }

    /// The bucket of a time in [from, to), or nil outside the window.
    @inline(__always)
    func bucket(_ t: Int) -> Int? {
        t >= from && t < to ? (t - firstBucket) / step : nil
    }

    func series(_ counts: [Int]) -> [SeriesPoint<Int>] {
        counts.enumerated().map { SeriesPoint(Date(timeIntervalSince1970: Double(firstBucket + $0.offset * step)), $0.element) }
    }
}

/// How this environment claims lines and entries (docs/domain.md §1, docs/waf.md):
/// - an ingress-nginx access line is the environment's when `$proxy_upstream_name` starts with
///   `<namespace>-`; a `combined` line (no upstream) is the environment's that lists the file;
/// - an audit entry is the environment's when its id is the `$req_id` of one of the
///   environment's access lines; when no access line has its id, when its `unique_id` starts
///   with `<host>-` or its `Host` header is one of the environment's `hosts`.
struct Attribution: Sendable {
    let namespacePrefix: [UInt8]
    /// Lowercased, without port.
    let hosts: [[UInt8]]

    /// Other environments' hosts, lowercased, without port.
    let otherHosts: [[UInt8]]

    init(namespace: String, hosts: [String], otherHosts: [String] = []) {
        namespacePrefix = Array((namespace + "-").utf8)
        self.hosts = hosts.map { Array(AuditEntryReader.normalizedHost($0).utf8) }.filter { !$0.isEmpty }
        self.otherHosts = otherHosts.map { Array(AuditEntryReader.normalizedHost($0).utf8) }.filter { !$0.isEmpty }
    }

    /// The Host (already normalised) is another environment's.
    func isOtherEnvironments(host: UnsafeBufferPointer<UInt8>) -> Bool {
        !host.isEmpty && otherHosts.contains { $0.count == host.count && host.elementsEqual($0) }
    }

    @inline(__always)
    func ownsUpstream(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        let n = namespacePrefix.count
        guard r.count > n, let base = p.baseAddress else { return false }
        return namespacePrefix.withUnsafeBufferPointer { memcmp(base + r.lowerBound, $0.baseAddress!, n) == 0 }
    }

    /// An access line's `$host` (as logged: any case, maybe a port) is one of the hosts.
    func ownsHost(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        guard !r.isEmpty else { return false }
        if p[r.lowerBound] == 0x5B || p[r].contains(0x20) || p[r].contains(0x5C) {  // IPv6, spaces, escapes: the general way
            let h = AuditEntryReader.normalizedHost(bytes: UnsafeBufferPointer(rebasing: p[r]))
            return hosts.contains { $0 == h }
        }
        // Without a copy: drop `:port` and a trailing dot, compare without case.
        var end = r.upperBound
        var k = end
        while k > r.lowerBound, p[k - 1] &- 0x30 < 10 { k -= 1 }
        if k > r.lowerBound, k < end, p[k - 1] == 0x3A { end = k - 1 }
        if end > r.lowerBound, p[end - 1] == 0x2E { end -= 1 }
        let n = end - r.lowerBound
        outer: for h in hosts where h.count == n {
            for j in 0..<n {
                let c = p[r.lowerBound + j]
                if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != h[j] { continue outer }
            }
            return true
        }
        return false
    }

    /// The Host header (already lowercased) is one of the hosts, or the `unique_id` starts with
    /// `<host>-` (GitLab's `$server_name-$request_id`), compared without case.
    func matches(uniqueID id: UnsafeBufferPointer<UInt8>, host: UnsafeBufferPointer<UInt8>) -> Bool {
        for h in hosts {
            if host.count == h.count, host.elementsEqual(h) { return true }
            if id.count > h.count, id[h.count] == 0x2D,
               zip(id.prefix(h.count), h).allSatisfy({ a, b in (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == b }) {
                return true
            }
        }
        return false
    }
}

/// One audit entry in the window, reduced to numbers (strings are interned): what the
/// aggregation needs once the access logs have said whose it is.
struct AuditRecord {
    var idHash: UInt64
    /// Which of the scanned windows the entry falls in (0: the report's, 1: the previous one).
    var window: UInt8
    /// The previous record with the same id hash (ids can repeat: `$req_id` takes a client's
    /// `X-Request-ID`), or -1.
    var next: Int32 = -1
    var bucket: Int32
    var client: UInt32
    var uri: UInt32
    var rulesStart: UInt32
    var rulesCount: UInt16
    var engine: EngineMode
    var hostMatch: Bool
    var blocked: Bool
    var critical: Bool
    var score: Int32
    /// Rule 901001 matched (the CRS without its configuration).
    var crsUnconfigured = false
    /// The audit file it came from, and whether it had a Host header.
    var file: UInt16 = 0
    var hasHost = false
    /// Its Host is another environment's.
    var otherHost = false
    /// A transaction grouped from error-log lines (`waf: files: error_log:`), not an audit entry.
    var fromErrorLog = false
    /// Set from the access logs: 0 no access line has this id, 1 one of this environment's has,
    /// 2 only other environments' have.
    var owner: UInt8 = 0
    /// Set after the scan when no access line claims it but its file does: the environment has
    /// no `hosts` and reads no shared (ingress) access log, or the entry has no Host header and
    /// every entry of its file that has one is the environment's.
    var byFile = false

    /// Tuning input (WAFTuningAggregation): the entry's time in Unix seconds, its status (-1:
    /// none), and its interned `unique_id` (`Interner.overflow` when not kept: no target matched,
    /// or the table was full).
    var time: Int64 = 0
    var status: Int16 = -1

    var belongsToEnvironment: Bool { owner == 1 || (owner == 0 && (hostMatch || byFile)) }
}

/// A rule match of a record: interned rule id, message and target (`RuleRef.noTarget` when the
/// log names none), and its severity (0–7, 255 unknown).
struct RuleRef {
    static let noTarget = UInt32.max - 1
    var rule: UInt32
    var message: UInt32
    var target: UInt32 = RuleRef.noTarget
    var severity: UInt8 = 255
}

/// What one parse worker gathered from the audit blocks it took.
struct AuditPart {
    var reader: AuditEntryReader
    var records: [AuditRecord] = []
    var ruleRefs: [RuleRef] = []
    var rules: Interner
    var messages: Interner
    var clients: Interner
    var uris: Interner
    /// Matched variables (`ARGS:q`) and the rows' example `unique_id`s (tuning input).
    var targets: Interner
    var examples = TuningExamples()
    /// The native entry being assembled (native files are read by one worker, in order).
    var native = NativeAuditAssembler()
    /// Native entries cut off at the end of their file.
    var nativeIncomplete = 0

    /// No string, record or rule reference yet.
    var isEmpty: Bool {
        records.isEmpty && ruleRefs.isEmpty && rules.count == 0 && messages.count == 0 && clients.count == 0 && uris.count == 0
            && targets.count == 0 && rules.overflowed == 0 && messages.overflowed == 0 && clients.overflowed == 0
            && uris.overflowed == 0 && targets.overflowed == 0
    }

    init(zone: TimeZone, key: HashKey) {
        reader = AuditEntryReader(zone: zone)
        rules = Interner(cap: 20_000, byteCap: 1 << 20, key: key)
        messages = Interner(cap: 50_000, byteCap: 4 << 20, key: key)
        clients = Interner(cap: 100_000, byteCap: 2 << 20, key: key)
        uris = Interner(cap: 100_000, byteCap: 8 << 20, key: key)
        targets = Interner(cap: 50_000, byteCap: 4 << 20, key: key)
    }
}

/// What one parse worker gathered from the access blocks it took.
struct AccessPart {
    /// The environment's lines per bucket, per scanned window.
    var buckets: [[Int]]
    var timeCache: TimeCache
    /// (record, 1 = this environment's line, 2 = another's) for access lines whose `$req_id` is
    /// an audit entry's id.
    var hits: [(Int32, UInt8, Int16)] = []

    init(windows: [ScanWindow], zone: TimeZone = .gmt) {
        buckets = windows.map { [Int](repeating: 0, count: $0.bucketCount) }
        timeCache = TimeCache(zone: zone)
    }
}
